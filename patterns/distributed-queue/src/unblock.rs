//! Ending a consumer's blocked read from outside it: `CLIENT UNBLOCK`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use redis::aio::ConnectionManager;

use crate::QueueError;

/// Ends a consumer's blocked read from outside it.
#[derive(Debug, Clone)]
pub struct Unblocker {
    pub(crate) commands: ConnectionManager,
    /// The reader's current client id: it changes when the reader reconnects.
    pub(crate) client_id: Arc<AtomicI64>,
}

impl Unblocker {
    // ANCHOR: unblock
    /// `CLIENT UNBLOCK <id>`: the consumer's blocked `XREADGROUP` returns now, as if its
    /// block had run out, with whatever it had been given. Dropping the read instead
    /// would leave anything Redis delivered to it pending until it is claimed.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropped, the read is unblocked or goes on to its block's
    /// end.
    pub async fn unblock(&self) -> Result<(), QueueError> {
        let mut conn = self.commands.clone();
        redis::cmd("CLIENT")
            .arg("UNBLOCK")
            .arg(self.client_id.load(Ordering::Relaxed))
            .query_async::<u8>(&mut conn)
            .await?;
        Ok(())
    }
    // ANCHOR_END: unblock
}
