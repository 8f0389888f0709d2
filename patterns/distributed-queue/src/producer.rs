//! Putting items on the stream: `XADD`, one or a pipeline of them.

use redis::aio::ConnectionManager;

use crate::retry::run_pipe;
use crate::{Item, QueueConfig, QueueError};

/// Puts items on the stream. Clones share the connection.
#[derive(Debug, Clone)]
pub struct Producer {
    pub(crate) commands: ConnectionManager,
    pub(crate) config: QueueConfig,
}

impl Producer {
    // ANCHOR: put
    /// `XADD`s one item and returns its entry id. A connection failure is retried with
    /// backoff, so after a lost reply the item may be on the stream twice: the sink's
    /// deduplication on [`Item::id`] is what makes that harmless.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped after the command was sent, the item may or
    /// may not be on the stream. Put it again; a second copy is deduplicated by its id.
    pub async fn put(&mut self, item: &Item) -> Result<String, QueueError> {
        let mut ids = self.put_many(std::slice::from_ref(item)).await?;
        Ok(ids.pop().unwrap_or_default())
    }

    /// `XADD`s every item in one pipeline: one round trip for the lot.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe, as [`Producer::put`] is not: dropped, any prefix of
    /// the items may be on the stream.
    pub async fn put_many(&mut self, items: &[Item]) -> Result<Vec<String>, QueueError> {
        let stream = &self.config.stream;
        let mut pipe = redis::pipe();
        for item in items {
            let fields: [(&str, &[u8]); 2] = [("id", item.id.as_bytes()), ("body", &item.body)];
            pipe.cmd("XADD").arg(stream).arg("*").arg(&fields[..]);
        }
        Ok(run_pipe(&self.commands, &self.config.retry, &pipe).await?)
    }
    // ANCHOR_END: put
}
