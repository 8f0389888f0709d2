//! Shared state under concurrency: the tutorials' `AsyncCounter`, the bug it prevents, and
//! every Rust way to count from many tasks.
//!
//! | counter | protects with | `.await` inside? | use when |
//! |---|---|---|---|
//! | [`RacyCounter`] | nothing: read, await, write | yes | never: it loses updates |
//! | [`AsyncCounter`] | `tokio::sync::Mutex` | yes | the critical section must await |
//! | [`TokioMutexCounter`] | `tokio::sync::Mutex` | no | the lock is shared with code that awaits |
//! | [`StdMutexCounter`] | `std::sync::Mutex` | **cannot** | short sections, no await |
//! | [`AtomicCounter`] | `AtomicU64` | no | a number is all the state |
//! | [`ActorCounter`] | one task owns the value | no | state with behaviour, no locks at all |
//! | [`RwLockCounter`] | `tokio::sync::RwLock` | yes | many readers, few writers |
//!
//! A std guard held across an `.await` makes the future `!Send`, and `tokio::spawn` refuses
//! it at compile time:
//!
//! ```compile_fail
//! # async fn demo() {
//! let counter = std::sync::Arc::new(std::sync::Mutex::new(0u64));
//! tokio::spawn(async move {
//!     let mut value = counter.lock().unwrap();
//!     tokio::task::yield_now().await; // error: `MutexGuard` cannot be sent between threads
//!     *value += 1;
//! });
//! # }
//! ```
//!
//! Release it before the await, and the same task compiles:
//!
//! ```
//! # async fn demo() {
//! let counter = std::sync::Arc::new(std::sync::Mutex::new(0u64));
//! tokio::spawn(async move {
//!     *counter.lock().unwrap() += 1; // the guard is dropped at the end of the statement
//!     tokio::task::yield_now().await;
//! });
//! # }
//! ```
//!
//! Run the demo with `cargo run -p lock-counter`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};
use tokio::task::yield_now;

/// What every counter offers. Futures are `Send`, so counters work from spawned tasks.
pub trait Counter: Send + Sync + 'static {
    /// Adds one.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe for every counter here: dropped while it waits for its
    /// lock (or its actor), it has added nothing; dropped inside its critical section (only
    /// [`AsyncCounter`] and [`RacyCounter`] await there), it drops the guard and adds
    /// nothing either. An increment is done or not, never half done.
    fn increment(&self) -> impl Future<Output = ()> + Send;
    /// The current value.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only reads.
    fn get(&self) -> impl Future<Output = u64> + Send;
}

// ANCHOR: racy
/// The bug: read, await (other tasks run), write back. Two tasks that read the same value
/// both write value + 1, and one increment is lost.
#[derive(Debug, Default)]
pub struct RacyCounter(AtomicU64);

impl Counter for RacyCounter {
    async fn increment(&self) {
        let current = self.0.load(Ordering::SeqCst);
        yield_now().await; // the tutorial's `await asyncio.sleep(...)`: others run here
        self.0.store(current + 1, Ordering::SeqCst);
    }
    async fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
// ANCHOR_END: racy

// ANCHOR: async_counter
/// The tutorials' `AsyncCounter`: the same read, await, write, inside a lock that may be
/// held across the await. That is what `tokio::sync::Mutex` is for.
#[derive(Debug, Default)]
pub struct AsyncCounter(tokio::sync::Mutex<u64>);

impl Counter for AsyncCounter {
    async fn increment(&self) {
        let mut value = self.0.lock().await;
        let current = *value;
        yield_now().await; // other tasks run, but none can enter: the guard is held
        *value = current + 1;
    }
    async fn get(&self) -> u64 {
        *self.0.lock().await
    }
}
// ANCHOR_END: async_counter

// ANCHOR: tokio_mutex
/// A tokio Mutex with no await inside the critical section. `try_lock` first skips the
/// `lock()` future when the mutex is free, the common case; it waits only when it must.
#[derive(Debug, Default)]
pub struct TokioMutexCounter {
    value: tokio::sync::Mutex<u64>,
    /// Whether to try `try_lock()` before awaiting `lock()`.
    pub fast_path: bool,
}

impl TokioMutexCounter {
    /// A counter at zero; `fast_path` as described on the type.
    pub fn new(fast_path: bool) -> Self {
        Self {
            value: tokio::sync::Mutex::new(0),
            fast_path,
        }
    }
}

impl Counter for TokioMutexCounter {
    async fn increment(&self) {
        if self.fast_path
            && let Ok(mut value) = self.value.try_lock()
        {
            *value += 1;
            return;
        }
        *self.value.lock().await += 1;
    }
    async fn get(&self) -> u64 {
        *self.value.lock().await
    }
}
// ANCHOR_END: tokio_mutex

// ANCHOR: std_mutex
/// A std Mutex: cheaper than tokio's, and correct in async code as long as the guard never
/// lives across an `.await` (the compiler enforces it for spawned tasks).
#[derive(Debug, Default)]
pub struct StdMutexCounter(std::sync::Mutex<u64>);

impl Counter for StdMutexCounter {
    async fn increment(&self) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
    }
    async fn get(&self) -> u64 {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
// ANCHOR_END: std_mutex

// ANCHOR: atomic
/// When the whole state is one number, the hardware does the locking.
#[derive(Debug, Default)]
pub struct AtomicCounter(AtomicU64);

impl Counter for AtomicCounter {
    async fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    async fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
// ANCHOR_END: atomic

// ANCHOR: actor
enum Message {
    Increment,
    Get(oneshot::Sender<u64>),
}

/// One task owns the value; everyone else sends it messages. No lock anywhere: the
/// channel serialises the updates. The task ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct ActorCounter(mpsc::Sender<Message>);

impl ActorCounter {
    /// Spawns the owning task on the current runtime.
    pub fn spawn() -> Self {
        let (sender, mut inbox) = mpsc::channel(1024);
        tokio::spawn(async move {
            let mut value = 0u64;
            let mut batch = Vec::with_capacity(256);
            while inbox.recv_many(&mut batch, 256).await > 0 {
                for message in batch.drain(..) {
                    match message {
                        Message::Increment => value += 1,
                        Message::Get(reply) => {
                            let _ = reply.send(value); // the asker may have gone
                        }
                    }
                }
            }
        });
        Self(sender)
    }
}
// ANCHOR_END: actor

// ANCHOR: actor_handle
impl Counter for ActorCounter {
    async fn increment(&self) {
        // Fails only if the actor is gone, which cannot happen while `self` exists.
        let _ = self.0.send(Message::Increment).await;
    }
    async fn get(&self) -> u64 {
        let (reply, answer) = oneshot::channel();
        if self.0.send(Message::Get(reply)).await.is_err() {
            return 0;
        }
        answer.await.unwrap_or(0)
    }
}
// ANCHOR_END: actor_handle

// ANCHOR: rwlock
/// Many readers at once, one writer at a time: for state read far more than written.
#[derive(Debug, Default)]
pub struct RwLockCounter(tokio::sync::RwLock<u64>);

impl Counter for RwLockCounter {
    async fn increment(&self) {
        *self.0.write().await += 1;
    }
    async fn get(&self) -> u64 {
        *self.0.read().await
    }
}
// ANCHOR_END: rwlock

// ANCHOR: hammer
/// Spawns `workers` tasks that each increment `increments` times, waits for them, and
/// returns the final value. A correct counter returns `workers * increments`.
///
/// # Cancel safety
///
/// This method is not cancel safe: a drop aborts the workers (they live in a `JoinSet`),
/// and the counter keeps whatever was counted so far, so calling it again counts those
/// again. Each increment is done or not, never half done with the lock still held: an
/// aborted task drops its guard.
pub async fn hammer<C: Counter>(counter: Arc<C>, workers: usize, increments: u64) -> u64 {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let counter = counter.clone();
        tasks.spawn(async move {
            for _ in 0..increments {
                counter.increment().await;
            }
        });
    }
    tasks.join_all().await;
    counter.get().await
}
// ANCHOR_END: hammer
