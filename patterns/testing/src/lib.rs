//! A caching sidecar, the service the testing chapter tests in every way Tokio offers.
//!
//! Programs ask it for users over TCP, one line each (`GET 7` → `OK {json}`); it answers
//! from a cache with a time to live, and on a miss asks the origin (the fixture server's
//! JSON API, or any API with `/users/{id}`), retrying what may succeed next time:
//!
//! - [`UserCache`]: the TTL cache; concurrent misses for one id share one fetch, which runs
//!   in a task of its own, so a caller that goes away never wastes it;
//! - [`Origin`]: where users come from; [`HttpOrigin`] is the real one, and a test writes
//!   its own (what `AsyncMock` is to Python);
//! - [`serve_connection`] and [`serve`]: the line protocol, generic over any
//!   `AsyncRead + AsyncWrite`, so `tokio_test::io::Builder` can stand in for a socket;
//! - [`Client`]: the other end of the line.
//!
//! Run the demo with `cargo run -p testing`; the tests are the lesson: `cargo test -p testing`.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};
use futures::future::{BoxFuture, Shared};
use futures::{FutureExt, SinkExt, StreamExt};
use patterns_core::error::panic_message;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A user as the origin's JSON gives it (other fields are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The id it was asked for by.
    pub id: u32,
    /// Full name.
    pub name: String,
    /// Login.
    pub username: String,
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

/// How long answers stay fresh and how hard the cache tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long a fetched user is served from the cache.
    pub ttl: Duration,
    /// Tries per fetch, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the first retry; each later wait doubles.
    pub first_backoff: Duration,
    /// The longest one call to the origin may take: a hung origin would otherwise hold
    /// its id's lookups for good (they all wait on the one fetch in flight).
    pub attempt_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(30),
            attempts: 3,
            first_backoff: Duration::from_millis(100),
            attempt_timeout: Duration::from_secs(5),
        }
    }
}

/// What the cache has done, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered from a fresh entry.
    pub hits: u64,
    /// Lookups that started a fetch.
    pub misses: u64,
    /// Lookups that joined a fetch already in flight.
    pub joined: u64,
    /// Calls to the origin, retries included.
    pub fetches: u64,
}

type Pending = Shared<BoxFuture<'static, Result<User, LookupError>>>;

enum Entry {
    Fresh { user: User, expires: Instant },
    Loading(Pending),
}

/// A TTL cache in front of an [`Origin`], cheap to clone (clones share the entries).
pub struct UserCache<O> {
    inner: Arc<Inner<O>>,
}

struct Inner<O> {
    origin: O,
    policy: Policy,
    entries: Mutex<HashMap<u32, Entry>>,
    hits: AtomicU64,
    misses: AtomicU64,
    joined: AtomicU64,
    fetches: AtomicU64,
}

impl<O: Origin> UserCache<O> {
    /// A cache in front of `origin`.
    pub fn new(origin: O, policy: Policy) -> Self {
        Self {
            inner: Arc::new(Inner {
                origin,
                policy,
                entries: Mutex::new(HashMap::new()),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                joined: AtomicU64::new(0),
                fetches: AtomicU64::new(0),
            }),
        }
    }

    // ANCHOR: cache_get
    /// User `id`: from the cache while fresh, else from the origin (one fetch per id in
    /// flight, however many callers wait for it). A failed fetch is not cached.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: the fetch runs in a task of its own, so a losing
    /// `select!` branch drops only the wait; the fetch finishes and fills the cache for the
    /// next caller.
    pub async fn get(&self, id: u32) -> Result<User, LookupError> {
        let pending = {
            let mut entries = self.inner.lock();
            match entries.get(&id) {
                Some(Entry::Fresh { user, expires }) if Instant::now() < *expires => {
                    self.inner.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(user.clone());
                }
                Some(Entry::Loading(pending)) => {
                    self.inner.joined.fetch_add(1, Ordering::Relaxed);
                    pending.clone()
                }
                _ => {
                    self.inner.misses.fetch_add(1, Ordering::Relaxed);
                    let pending = self.start_fetch(id);
                    entries.insert(id, Entry::Loading(pending.clone()));
                    pending
                }
            }
        };
        pending.await
    }
    // ANCHOR_END: cache_get

    // ANCHOR: cache_fetch
    /// Spawns the fetch; the task stores its result, so no waiter is needed to finish it.
    fn start_fetch(&self, id: u32) -> Pending {
        let inner = self.inner.clone();
        let task = tokio::spawn(async move {
            // A panic in the origin's code becomes an error for every waiter, and the
            // entry is removed so that the next lookup tries again.
            let result = AssertUnwindSafe(inner.fetch_with_retries(id))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| Err(LookupError::Panicked(panic_message(&*panic))));
            inner.store(id, &result);
            result
        });
        async move {
            task.await
                .unwrap_or_else(|e| Err(LookupError::Panicked(e.to_string())))
        }
        .boxed()
        .shared()
    }
    // ANCHOR_END: cache_fetch

    /// What the cache has done so far.
    pub fn stats(&self) -> CacheStats {
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        CacheStats {
            hits: load(&self.inner.hits),
            misses: load(&self.inner.misses),
            joined: load(&self.inner.joined),
            fetches: load(&self.inner.fetches),
        }
    }
}

impl<O: Origin> Inner<O> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ANCHOR: cache_retries
    async fn fetch_with_retries(&self, id: u32) -> Result<User, LookupError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.policy.first_backoff)
            .with_max_times(self.policy.attempts.saturating_sub(1) as usize);
        let limit = self.policy.attempt_timeout;
        let attempt = || {
            self.fetches.fetch_add(1, Ordering::Relaxed);
            let fetch = tokio::time::timeout(limit, self.origin.fetch(id));
            async move {
                fetch.await.unwrap_or_else(|_| {
                    let ms = limit.as_millis();
                    Err(LookupError::Transient(format!("no answer within {ms} ms")))
                })
            }
        };
        attempt
            .retry(backoff)
            .when(LookupError::is_transient)
            .notify(|error, wait| tracing::debug!(id, %error, ?wait, "retrying"))
            .await
    }
    // ANCHOR_END: cache_retries

    fn store(&self, id: u32, result: &Result<User, LookupError>) {
        let mut entries = self.lock();
        match result {
            Ok(user) => {
                let expires = Instant::now() + self.policy.ttl;
                let user = user.clone();
                entries.insert(id, Entry::Fresh { user, expires });
            }
            Err(_) => {
                entries.remove(&id);
            }
        }
    }
}

impl<O> Clone for UserCache<O> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<O> std::fmt::Debug for UserCache<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCache")
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

/// The longest request line the server reads; a longer one is refused.
pub const MAX_LINE: usize = 64;

/// The reply to one request line.
pub fn reply_line(result: Result<User, LookupError>) -> String {
    match result {
        Ok(user) => match serde_json::to_string(&user) {
            Ok(json) => format!("OK {json}"),
            Err(e) => format!("ERR {e}"),
        },
        Err(LookupError::NotFound(id)) => format!("NOT_FOUND {id}"),
        Err(error) => format!("ERR {error}"),
    }
}

// ANCHOR: protocol
/// Answers `GET <id>` lines on `io` until the client closes it: one reply line each,
/// `OK {json}`, `NOT_FOUND <id>` or `ERR <reason>`. A malformed request gets `ERR` and the
/// connection goes on; a line longer than [`MAX_LINE`] gets `ERR` and the connection is
/// closed (the codec stops there rather than buffer a line without end).
///
/// # Cancel safety
///
/// This function is not cancel safe: a drop closes the connection, and the reply in the
/// making is never sent. A lookup in flight is not wasted (see [`UserCache::get`]); its
/// reply is never sent.
pub async fn serve_connection<IO, O>(io: IO, cache: UserCache<O>) -> Result<(), LinesCodecError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    O: Origin,
{
    let mut lines = Framed::new(io, LinesCodec::new_with_max_length(MAX_LINE));
    while let Some(line) = lines.next().await {
        let reply = match line {
            Ok(line) => match parse_request(&line) {
                Ok(id) => reply_line(cache.get(id).await),
                Err(why) => format!("ERR {why}"),
            },
            Err(LinesCodecError::MaxLineLengthExceeded) => {
                // the reply is sent; then the stream ends, as a Framed does after an error
                format!("ERR a request is at most {MAX_LINE} bytes")
            }
            Err(error) => return Err(error),
        };
        lines.send(reply).await?;
    }
    Ok(())
}
// ANCHOR_END: protocol

fn parse_request(line: &str) -> Result<u32, String> {
    let usage = || format!("bad request {line:?}: expected GET <id>");
    match line.trim().split_once(' ') {
        Some(("GET", id)) => id.trim().parse().map_err(|_| usage()),
        _ => Err(usage()),
    }
}

/// Accepts connections on `listener` and serves each in its own task until `shutdown` is
/// cancelled; then stops accepting and waits for the open connections to close.
///
/// # Cancel safety
///
/// This function is cancel safe: a losing `select!` branch stops accepting and drops the
/// waiting; connections already accepted run on in their tasks until their clients close
/// them.
pub async fn serve<O: Origin>(
    listener: TcpListener,
    cache: UserCache<O>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let connections = TaskTracker::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => {
                let (stream, peer) = accepted?;
                let cache = cache.clone();
                connections.spawn(async move {
                    if let Err(error) = serve_connection(stream, cache).await {
                        tracing::warn!(%peer, %error, "connection ended");
                    }
                });
            }
        }
    }
    connections.close();
    connections.wait().await;
    Ok(())
}

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `OK {json}`.
    Found(User),
    /// `NOT_FOUND <id>`.
    NotFound(u32),
    /// `ERR <reason>`.
    Error(String),
}

/// Why a request got no reply.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection failed.
    #[error(transparent)]
    Io(#[from] LinesCodecError),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// The server said something this client does not understand.
    #[error("an unexpected reply: {0:?}")]
    Unexpected(String),
}

/// A client of the line protocol: one request at a time on one connection.
#[derive(Debug)]
pub struct Client {
    lines: Framed<TcpStream, LinesCodec>,
}

impl Client {
    /// Connects to the server at `addr`.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropped, the half-open connection is closed.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        let lines = Framed::new(stream, LinesCodec::new_with_max_length(64 * 1024));
        Ok(Self { lines })
    }

    /// Sends `line` as a request and reads the reply.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped after sending, the reply is left on the
    /// connection and the next request would read it. Drop the client too (a timeout around
    /// both).
    pub async fn request(&mut self, line: &str) -> Result<Reply, ClientError> {
        self.lines.send(line).await?;
        let reply = self.lines.next().await.ok_or(ClientError::Closed)??;
        parse_reply(&reply)
    }
}

fn parse_reply(reply: &str) -> Result<Reply, ClientError> {
    let unexpected = || ClientError::Unexpected(reply.to_owned());
    match reply.split_once(' ') {
        Some(("OK", json)) => serde_json::from_str(json)
            .map(Reply::Found)
            .map_err(|_| unexpected()),
        Some(("NOT_FOUND", id)) => id.parse().map(Reply::NotFound).map_err(|_| unexpected()),
        Some(("ERR", reason)) => Ok(Reply::Error(reason.to_owned())),
        _ => Err(unexpected()),
    }
}
