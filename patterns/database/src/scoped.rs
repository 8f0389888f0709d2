//! One connection outside the pool, as a scoped resource (`async with conn:`).

use sqlx::{AnyConnection, Connection as _};

use crate::DbError;
use crate::pool::Backend;

// ANCHOR: scoped
/// One connection outside the pool, as a scoped resource: open it with
/// [`ScopedConnection::open`], use it inside [`patterns_core::scoped`], and it is closed after
/// the body, on success, error or panic (Python: `async with await connect(url) as conn`).
#[derive(Debug)]
pub struct ScopedConnection(pub AnyConnection);

impl ScopedConnection {
    /// Connects to `url` (the `__aenter__` half).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a connection half-opened when the future is dropped is
    /// dropped with it, which closes its socket.
    pub async fn open(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        Backend::of(url)?;
        Ok(Self(AnyConnection::connect(url).await?))
    }
}

impl patterns_core::AsyncResource for ScopedConnection {
    /// The `__aexit__` half: tells the server goodbye and closes the socket.
    async fn release(self) -> anyhow::Result<()> {
        self.0.close().await?;
        Ok(())
    }
}
// ANCHOR_END: scoped
