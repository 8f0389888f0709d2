//! Each time limit dropped from outside, mid-await: the work inside is dropped with it
//! and, for `retry`, no later try starts. Paused time: every wait is exact.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cancel_check::DropCounter;
use timeout::{Backoff, Deadline, all_within, each_within, race, retry, wait_for};
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;

const HOUR: Duration = Duration::from_secs(3600);
const SOON: Duration = Duration::from_secs(1);

/// Work that never finishes in time, and says when it is dropped.
fn endless(dropped: &DropCounter) -> impl Future<Output = ()> + use<> {
    let guard = dropped.guard();
    async move {
        let _guard = guard;
        sleep(HOUR).await;
    }
}

#[tokio::test(start_paused = true)]
async fn every_limit_dropped_from_outside_drops_its_work() {
    let dropped = DropCounter::new();
    cancel_check::drop_pending_after(wait_for(HOUR, endless(&dropped)), tokio::time::sleep(SOON))
        .await;
    let deadline = Deadline::after(HOUR);
    cancel_check::drop_pending_after(deadline.run(endless(&dropped)), tokio::time::sleep(SOON))
        .await;
    let token = CancellationToken::new();
    cancel_check::drop_pending_after(
        race(endless(&dropped), Instant::now() + HOUR, &token),
        tokio::time::sleep(SOON),
    )
    .await;
    assert!(!token.is_cancelled(), "the token is left as it was");
    let group = || (0..3).map(|_| endless(&dropped)).collect::<Vec<_>>();
    cancel_check::drop_pending_after(all_within(HOUR, group()), tokio::time::sleep(SOON)).await;
    cancel_check::drop_pending_after(each_within(HOUR, group()), tokio::time::sleep(SOON)).await;
    assert_eq!(dropped.dropped(), 1 + 1 + 1 + 3 + 3);
    assert!(
        deadline.remaining() < HOUR - SOON,
        "the deadline kept counting"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_dropped_during_its_wait_starts_no_other_try() {
    let tries = Arc::new(AtomicU32::new(0));
    let policy = Backoff {
        retries: 4,
        first_delay: Duration::from_secs(10),
        max_delay: Duration::from_secs(10),
        budget: HOUR,
        jitter: false,
    };
    let counted = tries.clone();
    let failing = move |_try_number| {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), &str>("down") }
    };
    // The first try fails at once; the drop comes 5 s into the 10 s wait.
    cancel_check::drop_pending_after(
        retry(&policy, failing, |_| true),
        tokio::time::sleep(Duration::from_secs(5)),
    )
    .await;
    sleep(HOUR).await;
    assert_eq!(tries.load(Ordering::SeqCst), 1);
}
