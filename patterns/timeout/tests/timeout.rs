//! Time limits under paused time: the exact virtual instant each one fires, what happens
//! to the work it cuts off, and how retries spend a budget.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cancel_check::DropCounter;
use fixture_server::{Blackhole, FixtureServer};
use timeout::{
    Backoff, Deadline, Raced, RetryError, TimedOut, all_within, each_within, race, retry, wait_for,
};
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;

const MS: fn(u64) -> Duration = Duration::from_millis;

#[tokio::test(start_paused = true)]
async fn wait_for_fires_at_the_limit_and_drops_the_work() {
    let dropped = DropCounter::new();
    let guard = dropped.guard();
    let started = Instant::now();
    let result = wait_for(MS(1500), async move {
        let _guard = guard;
        sleep(Duration::from_secs(10)).await;
    })
    .await;
    assert_eq!(result, Err(TimedOut(MS(1500))));
    assert_eq!(started.elapsed(), MS(1500));
    assert_eq!(dropped.dropped(), 1, "the timed-out future was dropped");
    assert_eq!(wait_for(MS(100), async { 7 }).await, Ok(7));
}

#[tokio::test(start_paused = true)]
async fn a_shared_deadline_leaves_later_steps_what_is_left() {
    let started = Instant::now();
    let deadline = Deadline::after(Duration::from_secs(1));
    deadline.run(sleep(MS(300))).await.unwrap();
    assert_eq!(deadline.remaining(), MS(700));
    deadline.run(sleep(MS(500))).await.unwrap();
    assert_eq!(deadline.remaining(), MS(200));
    // The third step would fit a per-step limit of 500 ms, but not the shared budget.
    assert!(deadline.run(sleep(MS(500))).await.is_err());
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert_eq!(deadline.remaining(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn race_reports_which_came_first() {
    let token = CancellationToken::new();
    let soon = Instant::now() + MS(100);
    assert_eq!(race(async { 1 }, soon, &token).await, Raced::Done(1));
    assert_eq!(race(sleep(MS(500)), soon, &token).await, Raced::TimedOut);
    token.cancel();
    let later = Instant::now() + Duration::from_secs(60);
    assert_eq!(race(sleep(MS(500)), later, &token).await, Raced::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn one_limit_on_a_group_is_all_or_nothing_a_limit_per_item_keeps_the_fast_ones() {
    let work = || vec![sleep(MS(100)), sleep(MS(900)), sleep(MS(200))];
    let started = Instant::now();
    assert!(all_within(MS(500), work()).await.is_err());
    assert_eq!(started.elapsed(), MS(500));
    let each = each_within(MS(500), work()).await;
    assert_eq!(each, [Ok(()), Err(TimedOut(MS(500))), Ok(())]);
}

/// reqwest's three limits, as the demo sets them, in milliseconds.
fn client_with(connect: u64, read: u64, total: u64) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(MS(connect))
        .read_timeout(MS(read))
        .timeout(MS(total))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn total_timeout_cuts_a_slow_response() {
    let server = FixtureServer::start().await.unwrap();
    let client = client_with(1000, 5000, 300);
    let started = Instant::now();
    let err = client
        .get(server.url("/delay/1000"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(started.elapsed(), MS(300));
}

#[tokio::test(start_paused = true)]
async fn a_read_timeout_lets_a_steady_trickle_through_a_total_timeout_does_not() {
    let server = FixtureServer::start().await.unwrap();
    let trickle = server.url("/fault/trickle?chunks=5&interval_ms=200"); // 1 s in all
    let read_only = client_with(1000, 300, 60_000);
    let body = read_only
        .get(&trickle)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body.lines().count(), 5);
    let total = client_with(1000, 300, 500);
    let started = Instant::now();
    let response = total.get(&trickle).send().await.unwrap();
    assert!(response.text().await.unwrap_err().is_timeout());
    assert_eq!(started.elapsed(), MS(500));
}

#[tokio::test(start_paused = true)]
async fn a_connect_timeout_fires_when_the_server_never_accepts() {
    let hole = Blackhole::start().await.unwrap();
    let client = client_with(250, 5000, 10_000);
    let started = Instant::now();
    let err = client.get(hole.url()).send().await.unwrap_err();
    assert!(err.is_connect() && err.is_timeout(), "{err:?}");
    assert_eq!(started.elapsed(), MS(250));
}

fn policy(retries: u32, budget_ms: u64) -> Backoff {
    Backoff {
        retries,
        first_delay: MS(100),
        max_delay: MS(1000),
        budget: MS(budget_ms),
        jitter: false,
    }
}

/// A try that fails after 100 ms; counts its calls.
async fn failing(calls: &AtomicU32) -> Result<(), &'static str> {
    calls.fetch_add(1, Ordering::SeqCst);
    sleep(MS(100)).await;
    Err("timed out")
}

#[tokio::test(start_paused = true)]
async fn retries_back_off_exponentially_and_stop_after_the_last_retry() {
    let calls = AtomicU32::new(0);
    let started = Instant::now();
    let result = retry(&policy(3, 60_000), |_| failing(&calls), |_| true).await;
    assert_eq!(
        result,
        Err(RetryError::Exhausted {
            attempts: 4,
            last: "timed out"
        })
    );
    // Four 100 ms tries with 100, 200 and 400 ms between them.
    assert_eq!(started.elapsed(), MS(400 + 100 + 200 + 400));
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_budget_instead_of_sleeping_past_it() {
    let calls = AtomicU32::new(0);
    let started = Instant::now();
    let result = retry(&policy(9, 1000), |_| failing(&calls), |_| true).await;
    // Tries end at 100, 300 and 600 ms; the next wait (400 ms) would pass 1 s: stop at 600.
    assert_eq!(
        result,
        Err(RetryError::OutOfTime {
            attempts: 3,
            last: Some("timed out")
        })
    );
    assert_eq!(started.elapsed(), MS(600));
}

#[tokio::test(start_paused = true)]
async fn a_try_running_at_the_budget_end_is_cut_off() {
    let started = Instant::now();
    let slow = |_| async {
        sleep(Duration::from_secs(10)).await;
        Ok::<(), &str>(())
    };
    let result = retry(&policy(2, 1000), slow, |_| true).await;
    assert_eq!(
        result,
        Err(RetryError::OutOfTime {
            attempts: 1,
            last: None
        })
    );
    assert_eq!(started.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn success_after_failures_and_fatal_errors_are_not_retried() {
    let calls = AtomicU32::new(0);
    let flaky = |try_number| {
        calls.fetch_add(1, Ordering::SeqCst);
        async move {
            if try_number < 3 {
                Err("busy")
            } else {
                Ok(try_number)
            }
        }
    };
    assert_eq!(retry(&policy(4, 60_000), flaky, |_| true).await, Ok(3));
    let fatal = retry(
        &policy(4, 60_000),
        |_| async { Err::<(), _>("404") },
        |e| *e != "404",
    )
    .await;
    assert_eq!(
        fatal,
        Err(RetryError::Fatal {
            attempts: 1,
            error: "404"
        })
    );
}

#[tokio::test(start_paused = true)]
async fn jitter_never_waits_longer_than_the_backoff() {
    let jittered = Backoff {
        jitter: true,
        ..policy(5, 60_000)
    };
    for _ in 0..20 {
        let calls = AtomicU32::new(0);
        let started = Instant::now();
        let _ = retry(&jittered, |_| failing(&calls), |_| true).await;
        let without_jitter = MS(6 * 100 + 100 + 200 + 400 + 800 + 1000);
        assert!(
            started.elapsed() <= without_jitter,
            "{:?}",
            started.elapsed()
        );
        assert!(
            started.elapsed() >= MS(600),
            "the tries themselves take 600 ms"
        );
    }
    assert_eq!(jittered.delay(1), MS(100));
    assert_eq!(jittered.delay(10), MS(1000), "capped at max_delay");
}
