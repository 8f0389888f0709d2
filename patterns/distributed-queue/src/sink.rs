//! Where processed items go: deduplicated on the item's id, so that at-least-once
//! delivery has an exactly-once effect.

use redis::aio::ConnectionManager;

use crate::retry::run_cmd;
use crate::{QueueError, RetryPolicy};

// ANCHOR: sink
/// Where processed items go, deduplicated on [`Item::id`](crate::Item::id): a hash field per item,
/// written with `HSETNX`, so a redelivered item is recorded once. This is what turns
/// at-least-once delivery into an exactly-once effect; a SQL sink does the same with a
/// unique key and `INSERT … ON CONFLICT DO NOTHING`.
#[derive(Debug, Clone)]
pub struct IdempotentSink {
    pub(crate) commands: ConnectionManager,
    pub(crate) key: String,
    pub(crate) retry: RetryPolicy,
}

impl IdempotentSink {
    /// Records `value` for `item_id`; `true` the first time, `false` for a duplicate.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped, the record may or may not be written, and
    /// the caller cannot tell. Writing it again is harmless (`HSETNX` keeps the first), so
    /// call it again.
    pub async fn record(&mut self, item_id: &str, value: &str) -> Result<bool, QueueError> {
        let set = redis::cmd("HSETNX")
            .arg(&[self.key.as_str(), item_id, value])
            .to_owned();
        Ok(run_cmd(&self.commands, &self.retry, &set).await?)
    }
    // ANCHOR_END: sink

    /// How many distinct items it holds.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only reads.
    pub async fn count(&mut self) -> Result<u64, QueueError> {
        let count = redis::cmd("HLEN").arg(&self.key).to_owned();
        Ok(run_cmd(&self.commands, &self.retry, &count).await?)
    }
}
