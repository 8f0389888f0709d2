//! The two runtime flavours of `#[tokio::test]`. The default, `current_thread`, runs every
//! task on the test's one thread: interleavings happen only at `.await`s, in the same order
//! on every run, which makes it the right default. `multi_thread` runs tasks in parallel on
//! several workers: the flavour that can find a race between threads, and the one code
//! that needs `block_in_place` requires.

mod common;

use std::time::Duration;

use common::{ScriptedOrigin, calls};
use futures::future::join_all;
use testing::{Policy, UserCache};

// ANCHOR: current_thread
#[tokio::test]
async fn on_one_thread_a_hundred_concurrent_misses_share_one_fetch() {
    let origin = ScriptedOrigin::answering(Duration::from_millis(1));
    let fetched = origin.calls();
    let cache = UserCache::new(origin, Policy::default());
    let users = join_all((0..100).map(|_| cache.get(7))).await;
    assert!(users.iter().all(|u| u.as_ref().is_ok_and(|u| u.id == 7)));
    assert_eq!(calls(&fetched), 1);
    assert_eq!(cache.stats().joined, 99);
}
// ANCHOR_END: current_thread

// ANCHOR: multi_thread
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_four_workers_racing_misses_still_share_one_fetch() {
    // Many rounds: each is a fresh race between tasks on different threads.
    for round in 0..200 {
        let origin = ScriptedOrigin::answering(Duration::ZERO);
        let fetched = origin.calls();
        let cache = UserCache::new(origin, Policy::default());
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get(3).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().id, 3);
        }
        assert_eq!(calls(&fetched), 1, "round {round}");
        let stats = cache.stats();
        assert_eq!(stats.misses, 1, "round {round}: {stats:?}");
        assert_eq!(stats.hits + stats.joined, 7, "round {round}: {stats:?}");
    }
}
// ANCHOR_END: multi_thread

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_is_usable_from_any_thread_because_its_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let cache = UserCache::new(ScriptedOrigin::answering(Duration::ZERO), Policy::default());
    let lookup = async move { cache.get(1).await };
    assert_send(&lookup);
    let on_another_worker = tokio::spawn(lookup).await.unwrap();
    assert_eq!(on_another_worker.unwrap().id, 1);
}
