//! The body of `async with asyncio.TaskGroup() as tg:` is cancelled when a task fails. In
//! Rust, code written before `join()` is not part of the group: a body that waits for the
//! tasks' work (a queue's `join()`, here a channel) waits forever when a task fails,
//! because the group reacts to failures only inside `join()`. Spawned as one more member,
//! the body is cancelled with the rest.

use std::time::Duration;

use coordination::TaskGroup;
use tokio::sync::mpsc;

#[tokio::test(start_paused = true)]
async fn a_body_written_before_join_waits_forever_when_a_task_fails() {
    let mut group: TaskGroup<u32, String> = TaskGroup::new();
    // `results` stays open here, as a queue stays open while its owner holds it.
    let (results, mut waiting) = mpsc::channel::<u32>(8);
    group.spawn(async { Err("a worker failed".to_owned()) });
    let body = async { waiting.recv().await };
    let outcome = tokio::time::timeout(Duration::from_secs(60), body).await;
    assert!(
        outcome.is_err(),
        "the body was still waiting after a minute"
    );
    assert!(group.join().await.is_err());
    drop(results);
}

// ANCHOR: body_as_member
#[tokio::test(start_paused = true)]
async fn a_body_spawned_as_a_member_is_cancelled_when_a_task_fails() {
    let mut group: TaskGroup<u32, String> = TaskGroup::new();
    let (results, mut waiting) = mpsc::channel::<u32>(8);
    group.spawn(async { Err("a worker failed".to_owned()) });
    // The body, as one more member: the worker's failure cancels it too.
    group.spawn(async move {
        let mut total = 0;
        while let Some(n) = waiting.recv().await {
            total += n;
        }
        Ok(total)
    });
    let ended = tokio::time::timeout(Duration::from_secs(60), group.join()).await;
    let error = ended.expect("the group ended at the failure").unwrap_err();
    assert_eq!(error.failures.len(), 1);
    assert_eq!(error.cancelled, vec![1], "the body was cancelled");
    drop(results);
}
// ANCHOR_END: body_as_member

// ANCHOR: plain_joinset
/// The plain idiom: a `JoinSet`, and a loop that stops at the first failure. Returning
/// drops the set, which aborts the tasks still running.
async fn all_or_nothing<F>(jobs: Vec<F>) -> Result<Vec<u32>, String>
where
    F: std::future::Future<Output = Result<u32, String>> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for job in jobs {
        set.spawn(job);
    }
    let mut values = Vec::new(); // in the order they finish, not the order spawned
    while let Some(done) = set.join_next().await {
        match done {
            Ok(Ok(value)) => values.push(value),
            Ok(Err(error)) => return Err(error), // the rest: aborted, not awaited
            Err(panicked) => return Err(panicked.to_string()),
        }
    }
    Ok(values)
}
// ANCHOR_END: plain_joinset

#[tokio::test(start_paused = true)]
async fn the_plain_loop_returns_the_first_failure_and_drops_the_rest() {
    let (dropped_tx, dropped) = tokio::sync::oneshot::channel::<()>();
    let slow = async move {
        let _told_when_dropped = dropped_tx;
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(1)
    };
    let failing = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Err("a failure".to_owned())
    };
    let jobs: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>> =
        vec![Box::pin(slow), Box::pin(failing)];
    assert_eq!(all_or_nothing(jobs).await, Err("a failure".to_owned()));
    // The slow task was aborted; its future, and the sender it held, are dropped soon after.
    assert!(dropped.await.is_err());
}
