//! Keeping blocking and CPU-heavy work off the runtime: Python's "don't block the event
//! loop" and `run_in_executor`, in Tokio.
//!
//! - [`busy_for`]: CPU work that never yields: inside an async task it stalls every other
//!   task on that thread ([`Ticker`] measures by how much);
//! - `tokio::task::spawn_blocking`: run it on Tokio's blocking thread pool;
//! - `tokio::task::block_in_place`: block this worker, after handing its other tasks to
//!   another worker (multi-thread runtime only);
//! - [`on_rayon`]: CPU-bound work on a dedicated rayon pool, the result back through a
//!   oneshot channel;
//! - [`in_fixed_batches`] versus [`in_sliding_window`]: `join_all` per batch waits for the
//!   slowest item of every batch; a window of `n` starts the next item as soon as one ends.
//!
//! Run the demo with `cargo run -p blocking`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use futures::{StreamExt, stream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

// ANCHOR: busy
/// CPU work that never reaches an `.await`: spins for `duration` of wall time.
pub fn busy_for(duration: Duration) -> u64 {
    let started = Instant::now();
    let mut spins = 0u64;
    while started.elapsed() < duration {
        spins = std::hint::black_box(spins + 1);
    }
    spins
}
// ANCHOR_END: busy

// ANCHOR: ticker
/// A task that wakes every `period` and records how late each wake-up was: the symptom a
/// blocked runtime shows every other task (a heartbeat, a timeout, a web request).
#[derive(Debug)]
pub struct Ticker {
    ticks: Arc<AtomicU64>,
    worst_late_micros: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Ticker {
    /// Starts ticking on the current runtime.
    pub fn start(period: Duration) -> Self {
        let (ticks, worst) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (t, w) = (ticks.clone(), worst.clone());
        let task = tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let scheduled = interval.tick().await;
                let late = tokio::time::Instant::now().saturating_duration_since(scheduled);
                w.fetch_max(late.as_micros() as u64, Ordering::Relaxed);
                t.fetch_add(1, Ordering::Release);
            }
        });
        Self {
            ticks,
            worst_late_micros: worst,
            task,
        }
    }
    // ANCHOR_END: ticker

    /// Ticks so far.
    pub fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Acquire)
    }

    /// A handle blocking code can read the tick count through.
    pub fn tick_counter(&self) -> Arc<AtomicU64> {
        self.ticks.clone()
    }

    /// The latest any tick has been so far.
    pub fn worst_lateness(&self) -> Duration {
        Duration::from_micros(self.worst_late_micros.load(Ordering::Relaxed))
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ANCHOR: rayon
/// The work was dropped without a result: it panicked on the rayon pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkPanicked;

impl std::fmt::Display for WorkPanicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the work panicked on the rayon pool")
    }
}

impl std::error::Error for WorkPanicked {}

/// Runs CPU-bound `work` on rayon's global pool and awaits its result. The runtime's
/// threads stay free for I/O; rayon's threads do the computing. A panic in `work` comes
/// back as [`WorkPanicked`]: `rayon::spawn` would otherwise abort the whole process.
///
/// # Cancel safety
///
/// This method is not cancel safe: a drop stops the waiting, not the work. A thread cannot
/// be interrupted, so the job runs to the end on rayon's pool and its result is thrown
/// away. (Python's `run_in_executor`, cancelled, leaves its thread running the same way.)
/// Work that should stop early must check a flag or a token itself.
pub async fn on_rayon<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, WorkPanicked> {
    let (done, result) = oneshot::channel();
    rayon::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        let _ = done.send(outcome); // the awaiting side may have been cancelled
    });
    match result.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) | Err(_) => Err(WorkPanicked),
    }
}
// ANCHOR_END: rayon

// ANCHOR: batches
/// `join_all` per batch of `size`: each batch waits for its slowest item. A panic in an
/// item's future is the caller's code failing: it propagates, and the items in flight are
/// dropped on the way (none is silently skipped).
///
/// # Cancel safety
///
/// This method is cancel safe: the items in flight live inside this future, so a losing
/// `select!` branch drops them, and no later batch starts. What they had half done is
/// theirs to answer for.
pub async fn in_fixed_batches<T, F, Fut>(items: Vec<T>, size: usize, work: F) -> Vec<Fut::Output>
where
    F: Fn(T) -> Fut,
    Fut: Future,
{
    let mut results = Vec::with_capacity(items.len());
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let batch: Vec<_> = items.by_ref().take(size.max(1)).map(&work).collect();
        results.extend(join_all(batch).await);
    }
    results
}
// ANCHOR_END: batches

// ANCHOR: window
/// A sliding window: always `size` items in flight, the next starting as soon as any one
/// ends. `buffer_unordered` refills at once; `buffered` would not, because finished items
/// behind a slow first one keep their slots until they can be yielded in order. Input order
/// is restored at the end from the indices. A panic in an item propagates, as in
/// [`in_fixed_batches`].
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops the `size` items in flight
/// and starts no other.
pub async fn in_sliding_window<T, F, Fut>(items: Vec<T>, size: usize, work: F) -> Vec<Fut::Output>
where
    F: Fn(T) -> Fut,
    Fut: Future,
{
    let mut indexed: Vec<(usize, Fut::Output)> = stream::iter(items.into_iter().enumerate())
        .map(|(index, item)| {
            let running = work(item);
            async move { (index, running.await) }
        })
        .buffer_unordered(size.max(1))
        .collect()
        .await;
    indexed.sort_unstable_by_key(|(index, _)| *index);
    indexed.into_iter().map(|(_, output)| output).collect()
}
// ANCHOR_END: window
