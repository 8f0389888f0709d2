//! Bounding concurrency versus bounding rate.
//!
//! The tutorials call `asyncio.Semaphore(n)` "rate limiting", but a semaphore bounds how
//! many requests are **in flight**, not how many **start per second**: with fast responses,
//! five permits can still start thousands of requests a second. This crate shows both:
//!
//! - [`fetch_with_semaphore`]: at most `n` in flight, owned permits moved into tasks;
//! - [`HostLimits`]: a global bound plus one per host (aiohttp's `limit`, `limit_per_host`);
//! - [`RateLimit`]: at most `r` starts per second with bursts of `b`, the `governor`
//!   crate's GCRA running on Tokio's clock (so paused-time tests see it).
//!
//! A permit is released when it is dropped, on success, on error, on panic and on
//! cancellation alike. Run the demo with `cargo run -p rate-limit`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::ops::Add;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::{StreamExt, stream};
use governor::clock::{Clock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use reqwest::Client;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// GETs `url` and returns the body's length; a non-2xx status is an error too.
async fn fetch(client: &Client, url: &str) -> reqwest::Result<usize> {
    let response = client.get(url).send().await?.error_for_status()?;
    Ok(response.bytes().await?.len())
}

// ANCHOR: semaphore
/// At most `limit` requests in flight. The permit is taken *before* spawning, so no more
/// than `limit` tasks even exist at once, and it is moved into the task, which releases it
/// when it ends, however it ends.
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops the `JoinSet`, which aborts
/// the tasks; each releases its permit and closes its connection as it goes. No task is
/// left running.
pub async fn fetch_with_semaphore(
    client: &Client,
    urls: &[String],
    limit: usize,
) -> Vec<reqwest::Result<usize>> {
    let semaphore = Arc::new(Semaphore::new(limit));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, url) in urls.iter().enumerate() {
        let permit = semaphore
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let (client, url) = (client.clone(), url.clone());
        tasks.spawn(async move {
            let _permit = permit;
            (index, fetch(&client, &url).await)
        });
    }
    let mut results: Vec<_> = tasks.join_all().await;
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}
// ANCHOR_END: semaphore

/// A global bound and a bound per host, like aiohttp's `TCPConnector(limit, limit_per_host)`.
#[derive(Debug)]
pub struct HostLimits {
    global: Arc<Semaphore>,
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Both permits of one request; dropping it releases both.
#[derive(Debug)]
pub struct HostPermit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

/// The URL has no host to limit by.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not an absolute URL with a host")]
pub struct NoHost(pub String);

impl HostLimits {
    /// At most `global` requests in flight in all, and `per_host` to any one host.
    pub fn new(global: usize, per_host: usize) -> Self {
        Self {
            global: Arc::new(Semaphore::new(global)),
            per_host,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Global slots free right now: all of them once every request is over.
    pub fn available(&self) -> usize {
        self.global.available_permits()
    }

    // ANCHOR: host_limits
    /// Waits for a slot for `url`. The host's permit comes first: a request waiting for a
    /// busy host must not sit on a global slot another host could use.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe, as tokio's semaphores are. Dropped while it waits for
    /// the global slot, the host permit it already holds is released with it.
    pub async fn acquire(&self, url: &str) -> Result<HostPermit, NoHost> {
        let host = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
            .ok_or_else(|| NoHost(url.to_owned()))?;
        let semaphore = {
            let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
            hosts
                .entry(host)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
                .clone()
        };
        let host = semaphore.acquire_owned().await.expect("never closed");
        let global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        Ok(HostPermit {
            _host: host,
            _global: global,
        })
    }
    // ANCHOR_END: host_limits
}

// ANCHOR: fetch_within
/// Fetches every URL at once, within `limits`.
///
/// # Cancel safety
///
/// This method is cancel safe: every request and its permits live in this future, so a
/// losing `select!` branch closes the connections and gives every slot back
/// (`limits.available()` is full again).
pub async fn fetch_within(
    client: &Client,
    urls: &[String],
    limits: &HostLimits,
) -> Vec<Result<usize, anyhow::Error>> {
    let requests = urls.iter().map(|url| async move {
        let _permit = limits.acquire(url).await?;
        Ok(fetch(client, url).await?)
    });
    futures::future::join_all(requests).await
}
// ANCHOR_END: fetch_within

/// `tokio::time::Instant` as governor's clock, so the rate limiter follows paused time in
/// tests (governor's default clock reads the system's monotonic time directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TokioInstant(tokio::time::Instant);

impl Add<Nanos> for TokioInstant {
    type Output = Self;
    fn add(self, nanos: Nanos) -> Self {
        Self(self.0 + Duration::from_nanos(nanos.as_u64()))
    }
}

impl Reference for TokioInstant {
    fn duration_since(&self, earlier: Self) -> Nanos {
        Nanos::from(self.0.saturating_duration_since(earlier.0))
    }
    fn saturating_sub(&self, nanos: Nanos) -> Self {
        Self(
            self.0
                .checked_sub(Duration::from_nanos(nanos.as_u64()))
                .unwrap_or(self.0),
        )
    }
}

/// The clock that reads [`TokioInstant`]s.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    type Instant = TokioInstant;
    fn now(&self) -> TokioInstant {
        TokioInstant(tokio::time::Instant::now())
    }
}

// ANCHOR: rate_limit
/// At most `per_second` starts a second on average, `burst` of them back to back.
#[derive(Debug)]
pub struct RateLimit {
    limiter: RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<TokioInstant>>,
}

impl RateLimit {
    /// `per_second` on average, in bursts of at most `burst`.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            limiter: RateLimiter::direct_with_clock(quota, TokioClock),
        }
    }

    /// Waits until one more start is allowed.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a start is taken only by the check that succeeds, and
    /// then this returns at once. Dropped while it waits, it has taken nothing.
    pub async fn until_ready(&self) {
        while let Err(not_until) = self.limiter.check() {
            tokio::time::sleep(not_until.wait_time_from(TokioClock.now())).await;
        }
    }
}
// ANCHOR_END: rate_limit

// ANCHOR: rate
/// Fetches every URL, starting at most what `rate` allows, with `concurrency` in flight.
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops the requests in flight
/// (their connections close) and starts no other. The starts already taken from `rate` stay
/// spent.
pub async fn fetch_at_rate(
    client: &Client,
    urls: &[String],
    rate: &RateLimit,
    concurrency: usize,
) -> Vec<reqwest::Result<usize>> {
    stream::iter(urls)
        .map(|url| async move {
            rate.until_ready().await;
            fetch(client, url).await
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}
// ANCHOR_END: rate
