//! What each piece promises: timers at their deadlines and in order, results handed
//! across threads with every failure named, children that end when asked, context that
//! stays with its task.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{PidPipe, exited};
use futures::StreamExt;
use threads_timers_processes::{
    Deadlines, ProcessError, WaitError, call_at, call_later, lines, output_within, request_id,
    run_coroutine_threadsafe, spawn_with_request_id, with_request_id,
};
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test(start_paused = true)]
async fn callbacks_run_at_their_deadlines_in_order_and_an_aborted_one_never_runs() {
    let started = Instant::now();
    let ran = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for delay in [300, 100, 200, 400] {
        let ran = ran.clone();
        handles.push(call_later(ms(delay), move || {
            ran.lock().unwrap().push((delay, started.elapsed()));
        }));
    }
    handles.remove(3).abort();
    for handle in handles {
        handle.await.unwrap();
    }
    sleep(ms(1_000)).await; // well past the aborted call's 400 ms
    let ran = ran.lock().unwrap().clone();
    assert_eq!(ran, [(100, ms(100)), (200, ms(200)), (300, ms(300))]);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_callback_is_reported_by_its_handle() {
    let handle = call_at(Instant::now() + ms(5), || panic!("callback failed"));
    let error = handle.await.unwrap_err();
    assert!(error.is_panic());
}

// ANCHOR: deadlines_test
#[tokio::test(start_paused = true)]
async fn a_touched_deadline_moves_and_a_cancelled_one_never_fires() {
    let started = Instant::now();
    let mut sessions = Deadlines::new();
    for name in ["a", "b", "c"] {
        sessions.set(name, ms(300));
    }
    sleep(ms(100)).await;
    sessions.set("b", ms(500)); // touched at 100 ms: now due at 600 ms
    assert!(sessions.cancel(&"c"));
    assert!(!sessions.cancel(&"c"), "already gone");
    let mut expired = Vec::new();
    while let Some(name) = sessions.next_expired().await {
        expired.push((name, started.elapsed()));
    }
    assert_eq!(expired, [("a", ms(300)), ("b", ms(600))]);
    assert!(sessions.is_empty());
}
// ANCHOR_END: deadlines_test

#[tokio::test]
async fn events_sent_from_a_plain_thread_arrive_in_order() {
    let (events, mut received) = mpsc::unbounded_channel();
    let thread = std::thread::spawn(move || {
        for n in 0..1_000 {
            events.send(n).unwrap();
        }
    });
    let mut got = Vec::new();
    while let Some(n) = received.recv().await {
        got.push(n);
    }
    thread.join().unwrap();
    assert_eq!(got, (0..1_000).collect::<Vec<_>>());
}

#[test]
fn a_thread_gets_the_result_a_timeout_a_panic_or_a_cancellation_by_name() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    let (release, released) = tokio::sync::oneshot::channel::<()>();

    let waiting = run_coroutine_threadsafe(&handle, async move {
        released.await.unwrap();
        "done"
    });
    assert_eq!(waiting.wait(ms(20)), Err(WaitError::TimedOut(ms(20))));
    release.send(()).unwrap(); // the timed-out wait did not cancel it: it can still finish
    assert_eq!(waiting.wait(ms(5_000)), Ok("done"));

    let panics = run_coroutine_threadsafe(&handle, async { panic!("in the task") });
    assert_eq!(
        panics.wait(ms(5_000)),
        Err::<(), _>(WaitError::Panicked("in the task".into()))
    );

    let cancelled = run_coroutine_threadsafe(&handle, std::future::pending::<()>());
    cancelled.cancel();
    assert_eq!(cancelled.wait(ms(5_000)), Err(WaitError::Cancelled));

    let orphaned = run_coroutine_threadsafe(&handle, std::future::pending::<()>());
    drop(runtime); // shutting the runtime down drops its tasks
    assert_eq!(orphaned.wait(ms(5_000)), Err(WaitError::Cancelled));
}

#[tokio::test]
async fn a_child_s_output_comes_back_and_a_failure_carries_its_stderr() {
    let mut echo = Command::new("echo");
    echo.arg("hello");
    let output = output_within(echo, ms(10_000)).await.unwrap();
    assert_eq!(output.stdout, b"hello\n");

    let mut failing = Command::new("sh");
    failing.args(["-c", "echo broken >&2; exit 3"]);
    match output_within(failing, ms(10_000)).await {
        Err(ProcessError::Failed { status, stderr, .. }) => {
            assert_eq!((status.code(), stderr.as_str()), (Some(3), "broken"));
        }
        other => panic!("{other:?}"),
    }

    let missing = output_within(Command::new("no-such-program-here"), ms(10_000)).await;
    let message = missing.unwrap_err().to_string();
    assert!(
        message.starts_with("cannot run no-such-program-here: "),
        "{message}"
    );
}

#[tokio::test]
async fn a_child_past_its_limit_is_killed_not_left_running() {
    let pipe = PidPipe::new();
    let run = tokio::spawn(output_within(pipe.command("sleep 3600"), ms(200)));
    let pid = pipe.pid().await;
    let error = run.await.unwrap().unwrap_err();
    assert!(matches!(error, ProcessError::TimedOut { .. }), "{error}");
    assert!(exited(pid).await, "child {pid} outlived its limit");
}

#[tokio::test]
async fn lines_come_as_the_child_writes_them() {
    let mut command = Command::new("sh");
    command.args(["-c", "for n in 1 2 3; do echo line $n; done"]);
    let got: Vec<String> = lines(command).unwrap().map(Result::unwrap).collect().await;
    assert_eq!(got, ["line 1", "line 2", "line 3"]);
}

// ANCHOR: context_test
#[tokio::test]
async fn a_request_id_stays_with_its_task_and_spawn_must_carry_it() {
    assert_eq!(request_id(), None);
    let (first, second) = tokio::join!(
        with_request_id(1, async {
            tokio::task::yield_now().await; // interleaved with the other request
            request_id()
        }),
        with_request_id(2, async { request_id() }),
    );
    assert_eq!((first, second), (Some(1), Some(2)));
    let (plain, carried) = with_request_id(3, async {
        let plain = tokio::spawn(async { request_id() }).await.unwrap();
        let carried = spawn_with_request_id(async { request_id() }).await.unwrap();
        (plain, carried)
    })
    .await;
    assert_eq!((plain, carried), (None, Some(3)));
}
// ANCHOR_END: context_test
