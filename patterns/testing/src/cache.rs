//! The TTL cache: concurrent misses for one id share one fetch, which runs in a task of
//! its own and retries what may succeed next time.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use patterns_core::error::panic_message;
use tokio::time::Instant;

use crate::{LookupError, Origin, User};

/// How long answers stay fresh and how hard the cache tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long a fetched user is served from the cache.
    pub ttl: Duration,
    /// Tries per fetch after the first: at most `retries + 1` calls to the origin.
    pub retries: u32,
    /// The wait before the first retry; each later wait doubles.
    pub first_delay: Duration,
    /// The longest one call to the origin may take: a hung origin would otherwise hold
    /// its id's lookups for good (they all wait on the one fetch in flight).
    pub attempt_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(30),
            retries: 2,
            first_delay: Duration::from_millis(100),
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
            .with_min_delay(self.policy.first_delay)
            .with_max_times(self.policy.retries as usize);
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
