//! Task semantics, proved with the fixture's counters, journals and paused time.

use std::time::Duration;

use fixture_server::FixtureServer;
use patterns_core::Shutdown;
use reqwest::Client;
use tasks::{
    Cleanup, Journal, TaskFailure, fetch_in_background, fetch_until_cancelled, run_workers,
    sum_until_cancelled,
};
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

#[tokio::test(start_paused = true)]
async fn background_tasks_run_while_the_caller_does_other_work() {
    let server = FixtureServer::start().await.unwrap();
    let urls = vec![server.url("/delay/1000"); 3];
    let started = Instant::now();
    let (other, results) = fetch_in_background(&Client::new(), &urls, async {
        sleep(Duration::from_millis(1000)).await;
        "done"
    })
    .await;
    // One second of requests overlapped one second of other work.
    assert_eq!(started.elapsed(), Duration::from_millis(1000));
    assert_eq!(other, "done");
    assert!(results.iter().all(|r| matches!(r, Ok(Ok(_)))));
    assert_eq!(server.stats().max_in_flight, 3);
}

#[tokio::test(start_paused = true)]
async fn dropping_a_join_handle_detaches_the_task_it_does_not_cancel_it() {
    let (done, finished) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move {
        sleep(Duration::from_secs(1)).await;
        done.send("finished anyway").unwrap();
    });
    drop(handle);
    assert_eq!(finished.await.unwrap(), "finished anyway");
}

#[tokio::test]
async fn abort_cancels_at_the_next_await_and_runs_destructors() {
    let journal = Journal::default();
    let cleanup = Cleanup::new("task", &journal);
    let handle = tokio::spawn(async move {
        let _cleanup = cleanup;
        std::future::pending::<()>().await;
    });
    handle.abort();
    let failure = TaskFailure::from(handle.await.unwrap_err());
    assert_eq!(failure, TaskFailure::Cancelled);
    assert_eq!(journal.events(), ["task cleaned up"]);
}

#[tokio::test]
async fn an_abort_on_drop_handle_aborts_its_task_when_dropped() {
    let (alive, gone) = tokio::sync::oneshot::channel::<()>();
    let handle = AbortOnDropHandle::new(tokio::spawn(async move {
        let _alive = alive; // dropped with the task
        std::future::pending::<()>().await;
    }));
    drop(handle);
    assert!(
        gone.await.is_err(),
        "the task, and the sender it owned, were dropped"
    );
}

#[tokio::test]
async fn a_panicking_task_is_a_join_error_not_a_crash() {
    let handle = tokio::spawn(async { panic!("boom") });
    let error = handle.await.unwrap_err();
    assert!(error.is_panic());
    assert_eq!(
        TaskFailure::from(error),
        TaskFailure::Panicked("boom".into())
    );
}

#[tokio::test(start_paused = true)]
async fn token_cancellation_drops_the_request_in_flight_and_runs_the_async_cleanup() {
    let server = FixtureServer::start().await.unwrap();
    let token = CancellationToken::new();
    let canceller = token.clone();
    tokio::spawn(async move {
        sleep(Duration::from_millis(2500)).await;
        canceller.cancel();
    });
    let started = Instant::now();
    let report = fetch_until_cancelled(
        "w",
        &Client::new(),
        &server.url("/delay/1000"),
        &server.url("/status/200"),
        &token,
    )
    .await;
    // Two requests completed; the third was dropped half-way at 2.5 s; then the checkpoint.
    assert_eq!((report.completed, report.checkpointed), (2, true));
    assert_eq!(started.elapsed(), Duration::from_millis(2500));
    assert_eq!(
        server.stats().requests,
        4,
        "2 done + 1 cancelled + 1 checkpoint"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_cooperative_workers_and_aborts_the_stubborn_one() {
    let server = FixtureServer::start().await.unwrap();
    let shutdown = Shutdown::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        sleep(Duration::from_millis(1500)).await;
        trigger.trigger();
    });
    let client = Client::new();
    let (url, checkpoint) = (server.url("/delay/1000"), server.url("/status/200"));
    let started = Instant::now();
    let summary = run_workers(
        &client,
        &url,
        &checkpoint,
        2,
        1,
        &shutdown,
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(summary.finished.len(), 2);
    assert!(
        summary
            .finished
            .iter()
            .all(|w| w.completed == 1 && w.checkpointed),
        "{summary:?}"
    );
    assert_eq!(summary.shutdown.aborted, 1);
    assert_eq!(
        summary.shutdown.elapsed,
        Duration::from_secs(2),
        "the whole grace period"
    );
    assert_eq!(started.elapsed(), Duration::from_millis(3500));
}

#[tokio::test]
async fn abort_cannot_stop_spawn_blocking_work_that_has_started() {
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let handle = tokio::task::spawn_blocking(move || {
        started_tx.send(()).unwrap();
        wait.recv().unwrap(); // a blocking wait no abort can interrupt
        "ran to the end"
    });
    started_rx.await.unwrap();
    handle.abort();
    go.send(()).unwrap();
    assert_eq!(handle.await.unwrap(), "ran to the end");
}

#[tokio::test]
async fn blocking_work_that_checks_a_token_stops_early() {
    let token = CancellationToken::new();
    token.cancel();
    let check = token.clone();
    let result = tokio::task::spawn_blocking(move || sum_until_cancelled(u64::MAX, 1024, &check))
        .await
        .unwrap();
    let stopped = result.unwrap_err();
    assert!(stopped.done < stopped.limit);
    let never_cancelled = CancellationToken::new();
    assert_eq!(sum_until_cancelled(10, 4, &never_cancelled), Ok(45));
}
