//! Each time limit dropped from outside, mid-await: the work inside is dropped with it
//! and, for `retry`, no later try starts. Paused time: every wait is exact.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use patterns_core::DropCounter;
use timeout::{Backoff, Deadline, all_within, each_within, race, retry, wait_for};
use tokio::time::{Instant, sleep, timeout};
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
    assert!(
        timeout(SOON, wait_for(HOUR, endless(&dropped)))
            .await
            .is_err()
    );
    let deadline = Deadline::after(HOUR);
    assert!(
        timeout(SOON, deadline.run(endless(&dropped)))
            .await
            .is_err()
    );
    let token = CancellationToken::new();
    let raced = race(endless(&dropped), Instant::now() + HOUR, &token);
    assert!(timeout(SOON, raced).await.is_err());
    assert!(!token.is_cancelled(), "the token is left as it was");
    let group = || (0..3).map(|_| endless(&dropped)).collect::<Vec<_>>();
    assert!(timeout(SOON, all_within(HOUR, group())).await.is_err());
    assert!(timeout(SOON, each_within(HOUR, group())).await.is_err());
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
        attempts: 5,
        first: Duration::from_secs(10),
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
    assert!(
        timeout(Duration::from_secs(5), retry(&policy, failing, |_| true))
            .await
            .is_err()
    );
    sleep(HOUR).await;
    assert_eq!(tries.load(Ordering::SeqCst), 1);
}
