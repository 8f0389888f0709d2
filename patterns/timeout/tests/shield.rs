//! `await asyncio.wait_for(asyncio.shield(task), 1)`, then, after the `TimeoutError`,
//! `await task`: a timeout that gives up waiting without giving up the work. Time is
//! paused: the clock moves only when every task waits.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout};

// ANCHOR: shield_task
/// A task awaited by reference: the timeout drops the `&mut`, not the task, which runs
/// on and is awaited again.
async fn wait_a_second_then_for_the_rest(mut task: JoinHandle<u32>) -> (bool, u32) {
    let in_time = timeout(Duration::from_secs(1), &mut task).await.is_ok();
    let value = task.await.expect("the task panicked");
    (in_time, value)
}
// ANCHOR_END: shield_task

// ANCHOR: shield_future
/// A plain future, pinned once so it can be polled by reference: the same resumption
/// without a task of its own. The future makes progress only while it is being awaited.
async fn resume_after_a_timeout() -> (bool, &'static str) {
    let work = async {
        sleep(Duration::from_secs(3)).await;
        "done"
    };
    tokio::pin!(work);
    let in_time = timeout(Duration::from_secs(1), &mut work).await.is_ok();
    (in_time, work.await)
}
// ANCHOR_END: shield_future

#[tokio::test(start_paused = true)]
async fn a_task_outlives_the_timeout_and_is_awaited_again() {
    let started = Instant::now();
    let task = tokio::spawn(async {
        sleep(Duration::from_secs(3)).await;
        42
    });
    assert_eq!(wait_a_second_then_for_the_rest(task).await, (false, 42));
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(3),
        "the work was not restarted"
    );
}

#[tokio::test(start_paused = true)]
async fn a_pinned_future_resumes_where_the_timeout_left_it() {
    let started = Instant::now();
    assert_eq!(resume_after_a_timeout().await, (false, "done"));
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(3),
        "its sleep went on, not again"
    );
}
