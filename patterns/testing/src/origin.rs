//! Where users come from: the [`Origin`] trait a test replaces (what `AsyncMock` is to
//! Python), and the real one over HTTP.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The part of the origin's user this service keeps and answers with.
///
/// The client's model is its own, not the origin's: serde ignores the fields it does not
/// name (the origin's `username`, and any it adds later), so the origin can grow without
/// breaking this service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The id it was asked for by.
    pub id: u32,
    /// Full name.
    pub name: String,
    /// Address.
    pub email: String,
}

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The origin has no such user (HTTP 404): an answer, not a failure; never retried.
    #[error("no user {0}")]
    NotFound(u32),
    /// A failure that may pass (a timeout, a refused connection, HTTP 5xx): retried.
    #[error("the origin failed: {0}")]
    Transient(String),
    /// A failure that will not pass by retrying (HTTP 4xx, a body that is not a user).
    #[error("the origin refused: {0}")]
    Permanent(String),
    /// The origin's code panicked; the next lookup of the id tries again.
    #[error("the origin panicked: {0}")]
    Panicked(String),
}

impl LookupError {
    /// Whether trying again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

// ANCHOR: origin
/// Where users come from. The cache calls `fetch` on a miss, in a task of its own.
pub trait Origin: Send + Sync + 'static {
    /// Fetches user `id` once (the cache does the retrying).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe in the origins here, and must be in yours: the cache
    /// drops a fetch that outlives its attempt timeout, then tries again. A dropped fetch
    /// may have reached the origin, so it must only read.
    fn fetch(&self, id: u32) -> impl Future<Output = Result<User, LookupError>> + Send;
}
// ANCHOR_END: origin

/// The real origin: `GET {base}users/{id}` with a shared reqwest client.
#[derive(Debug, Clone)]
pub struct HttpOrigin {
    client: reqwest::Client,
    base: reqwest::Url,
}

impl HttpOrigin {
    /// An origin at `base` (for example `http://127.0.0.1:8080/`), each request limited
    /// to `timeout`.
    pub fn new(base: reqwest::Url, timeout: Duration) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Self { client, base })
    }
}

impl Origin for HttpOrigin {
    async fn fetch(&self, id: u32) -> Result<User, LookupError> {
        let url = self
            .base
            .join(&format!("users/{id}"))
            .map_err(|e| LookupError::Permanent(e.to_string()))?;
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| LookupError::Transient(patterns_core::error::reason(&e)))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(LookupError::NotFound(id));
        }
        if status.is_server_error() {
            return Err(LookupError::Transient(format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err(LookupError::Permanent(format!("HTTP {status}")));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| LookupError::Transient(patterns_core::error::reason(&e)))?;
        serde_json::from_slice(&body)
            .map_err(|e| LookupError::Permanent(format!("not a user: {e}")))
    }
}
