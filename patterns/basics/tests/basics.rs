//! The semantics the chapter claims, under paused time: sequential awaits add up,
//! join_all and spawn overlap, results keep input order, runtimes behave as described.

use std::time::Duration;

use basics::{
    block_on_from_sync, current_thread_runtime, greet_in_tasks, greet_one_after_another,
    greet_with_join_all, multi_thread_runtime, spawn_and_await_each, spawn_and_join_all,
    spawn_with_join_set, threads_used,
};
use tokio::time::Instant;

fn names() -> Vec<String> {
    ["Ada", "Grace", "Alan"].map(String::from).to_vec()
}

const PAUSE: Duration = Duration::from_millis(500);

#[tokio::test(start_paused = true)]
async fn one_after_another_takes_the_sum_of_the_pauses() {
    let started = Instant::now();
    let greetings = greet_one_after_another(&names(), PAUSE).await;
    assert_eq!(started.elapsed(), PAUSE * 3);
    assert_eq!(greetings, ["Hello, Ada!", "Hello, Grace!", "Hello, Alan!"]);
}

#[tokio::test(start_paused = true)]
async fn join_all_overlaps_and_keeps_input_order() {
    let started = Instant::now();
    let greetings = greet_with_join_all(&names(), PAUSE).await;
    assert_eq!(started.elapsed(), PAUSE);
    assert_eq!(greetings, ["Hello, Ada!", "Hello, Grace!", "Hello, Alan!"]);
}

#[tokio::test(start_paused = true)]
async fn spawned_tasks_overlap_and_keep_input_order() {
    let started = Instant::now();
    let greetings = greet_in_tasks(&names(), PAUSE).await.unwrap();
    assert_eq!(started.elapsed(), PAUSE);
    assert_eq!(greetings, ["Hello, Ada!", "Hello, Grace!", "Hello, Alan!"]);
}

#[tokio::test(start_paused = true)]
async fn a_spawned_task_starts_without_being_awaited() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move { tx.send("ran").unwrap() });
    // Never awaiting `handle`, the task still runs: unlike a bare future.
    assert_eq!(rx.await.unwrap(), "ran");
    drop(handle);
}

#[test]
fn current_thread_runtime_uses_one_thread() {
    let threads = current_thread_runtime()
        .unwrap()
        .block_on(threads_used(100))
        .unwrap();
    assert_eq!(threads, 1);
}

#[test]
fn multi_thread_runtime_stays_within_its_workers() {
    let threads = multi_thread_runtime(2)
        .unwrap()
        .block_on(threads_used(100))
        .unwrap();
    assert!((1..=2).contains(&threads), "{threads}");
}

#[test]
fn block_on_works_from_sync_code_and_is_refused_inside_a_runtime() {
    assert_eq!(block_on_from_sync(async { 7 }).unwrap(), 7);
    let nested = current_thread_runtime()
        .unwrap()
        .block_on(async { block_on_from_sync(async {}) });
    assert!(
        nested
            .unwrap_err()
            .to_string()
            .contains("already inside a Tokio runtime")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_benchmarks_lose_no_task() {
    let n = 10_000;
    assert_eq!(spawn_and_join_all(n).await.unwrap(), n * (n - 1) / 2);
    assert_eq!(spawn_and_await_each(n).await.unwrap(), n * (n - 1) / 2);
    assert_eq!(spawn_with_join_set(n).await.unwrap(), n * (n - 1) / 2);
}
