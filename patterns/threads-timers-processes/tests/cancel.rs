//! Each public async fn dropped mid-await, proving what its `# Cancel safety` section says.

mod common;

use std::time::Duration;

use cancel_check::DropCounter;
use common::{PidPipe, exited};
use futures::StreamExt;
use threads_timers_processes::{Deadlines, lines, output_within, request_id, with_request_id};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn a_dropped_next_expired_loses_no_key() {
    let started = Instant::now();
    let mut deadlines = Deadlines::new();
    deadlines.set("a", Duration::from_secs(1));
    deadlines.set("b", Duration::from_secs(2));
    // Nothing is due at 0.5 s, when the drop comes.
    cancel_check::drop_pending_after(
        deadlines.next_expired(),
        tokio::time::sleep(Duration::from_millis(500)),
    )
    .await;
    assert_eq!(deadlines.next_expired().await, Some("a"));
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert_eq!(deadlines.next_expired().await, Some("b"));
    assert_eq!(deadlines.next_expired().await, None);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_with_request_id_drops_its_future_and_the_id() {
    let dropped = DropCounter::new();
    let guard = dropped.guard();
    cancel_check::drop_pending_after(
        with_request_id(9, async move {
            let _guard = guard;
            assert_eq!(request_id(), Some(9));
            std::future::pending::<()>().await
        }),
        tokio::time::sleep(Duration::from_secs(1)),
    )
    .await;
    assert_eq!(dropped.dropped(), 1);
    assert_eq!(request_id(), None);
}

#[tokio::test]
async fn a_dropped_output_within_kills_its_child() {
    let pipe = PidPipe::new();
    // Dropped when the child's pid comes: the child must die with it.
    let pid = cancel_check::drop_pending_after(
        output_within(pipe.command("sleep 3600"), Duration::from_secs(3600)),
        pipe.pid(),
    )
    .await;
    assert!(
        exited(pid).await,
        "child {pid} still running after its future was dropped"
    );
}

#[tokio::test]
async fn a_dropped_lines_stream_kills_its_child() {
    let pipe = PidPipe::new();
    let mut stream = Box::pin(lines(pipe.command("sh -c 'echo one; exec sleep 3600'")).unwrap());
    let pid = pipe.pid().await;
    assert_eq!(stream.next().await.unwrap().unwrap(), "one");
    drop(stream);
    assert!(
        exited(pid).await,
        "child {pid} still running after its stream was dropped"
    );
}
