//! Every safe counter ends exact under real parallelism; the racy one loses updates.

use std::sync::Arc;

use lock_counter::{
    ActorCounter, AsyncCounter, AtomicCounter, RacyCounter, RwLockCounter, StdMutexCounter,
    TokioMutexCounter, hammer,
};

const WORKERS: usize = 8;
const INCREMENTS: u64 = 10_000;
const TOTAL: u64 = WORKERS as u64 * INCREMENTS;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_safe_counter_is_exact_on_the_multi_thread_runtime() {
    assert_eq!(
        hammer(Arc::new(AsyncCounter::default()), WORKERS, INCREMENTS).await,
        TOTAL
    );
    assert_eq!(
        hammer(Arc::new(TokioMutexCounter::new(false)), WORKERS, INCREMENTS).await,
        TOTAL
    );
    assert_eq!(
        hammer(Arc::new(TokioMutexCounter::new(true)), WORKERS, INCREMENTS).await,
        TOTAL
    );
    assert_eq!(
        hammer(Arc::new(StdMutexCounter::default()), WORKERS, INCREMENTS).await,
        TOTAL
    );
    assert_eq!(
        hammer(Arc::new(AtomicCounter::default()), WORKERS, INCREMENTS).await,
        TOTAL
    );
    assert_eq!(
        hammer(Arc::new(ActorCounter::spawn()), WORKERS, INCREMENTS).await,
        TOTAL
    );
    assert_eq!(
        hammer(Arc::new(RwLockCounter::default()), WORKERS, INCREMENTS).await,
        TOTAL
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unlocked_read_await_write_loses_updates() {
    let racy = hammer(Arc::new(RacyCounter::default()), WORKERS, INCREMENTS).await;
    assert!(racy < TOTAL, "expected lost updates, got all {racy}");
}

#[tokio::test]
async fn even_on_one_thread_the_await_between_read_and_write_loses_updates() {
    // No parallelism at all: the loss comes from the await alone, as in asyncio.
    let racy = hammer(Arc::new(RacyCounter::default()), WORKERS, 1_000).await;
    assert!(racy < WORKERS as u64 * 1_000, "got {racy}");
    let safe = hammer(Arc::new(AsyncCounter::default()), WORKERS, 1_000).await;
    assert_eq!(safe, WORKERS as u64 * 1_000);
}
