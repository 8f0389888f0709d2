//! Paused time: `start_paused` freezes the clock; `time::advance` moves it by hand, and when
//! every task waits on a timer the runtime jumps to the next one (auto-advance). A TTL of
//! 30 s and retries with backoff take no real time at all. What breaks it is shown last.

mod common;

use std::time::Duration;

use common::{ScriptedOrigin, Step, calls};
use testing::{LookupError, Policy, UserCache};
use tokio::time::{Instant, advance};

const TTL: Duration = Duration::from_secs(30);

fn policy() -> Policy {
    Policy {
        ttl: TTL,
        retries: 2,
        first_delay: Duration::from_millis(100),
        ..Policy::default()
    }
}

// ANCHOR: advance
#[tokio::test(start_paused = true)]
async fn an_entry_is_fresh_until_its_ttl_and_fetched_again_after() {
    let origin = ScriptedOrigin::answering(Duration::ZERO);
    let fetched = origin.calls();
    let cache = UserCache::new(origin, policy());

    cache.get(1).await.unwrap();
    advance(TTL - Duration::from_millis(1)).await;
    cache.get(1).await.unwrap();
    assert_eq!(
        calls(&fetched),
        1,
        "still fresh a millisecond before the TTL"
    );

    advance(Duration::from_millis(1)).await;
    cache.get(1).await.unwrap();
    assert_eq!(calls(&fetched), 2, "expired at the TTL");
}
// ANCHOR_END: advance

// ANCHOR: auto_advance
#[tokio::test(start_paused = true)]
async fn retries_wait_their_backoff_in_virtual_time() {
    let origin = ScriptedOrigin::new(Duration::from_millis(10), |_, call| match call {
        1 | 2 => Step::Fail(LookupError::Transient("HTTP 503".into())),
        _ => Step::Answer,
    });
    let fetched = origin.calls();
    let cache = UserCache::new(origin, policy());
    let started = Instant::now();

    cache.get(1).await.unwrap();

    assert_eq!(calls(&fetched), 3);
    // three calls of 10 ms, waits of 100 ms and 200 ms, and no real time at all; the timer
    // rounds each deadline up to its next millisecond tick, hence a few ms more
    let elapsed = started.elapsed();
    assert!(
        (Duration::from_millis(330)..=Duration::from_millis(335)).contains(&elapsed),
        "{elapsed:?}"
    );
}
// ANCHOR_END: auto_advance

#[tokio::test(start_paused = true)]
async fn the_last_attempt_fails_and_nothing_is_cached() {
    let origin = ScriptedOrigin::new(Duration::ZERO, |_, _| {
        Step::Fail(LookupError::Transient("timed out".into()))
    });
    let fetched = origin.calls();
    let cache = UserCache::new(origin, policy());
    let error = cache.get(1).await.unwrap_err();
    assert_eq!(error, LookupError::Transient("timed out".into()));
    assert_eq!(calls(&fetched), 3);
    cache.get(1).await.unwrap_err();
    assert_eq!(calls(&fetched), 6, "a failure is not cached");
}

#[tokio::test(start_paused = true)]
async fn a_permanent_failure_and_not_found_are_not_retried() {
    let origin = ScriptedOrigin::new(Duration::ZERO, |id, _| match id {
        1 => Step::Fail(LookupError::NotFound(1)),
        _ => Step::Fail(LookupError::Permanent("HTTP 400".into())),
    });
    let fetched = origin.calls();
    let cache = UserCache::new(origin, policy());
    assert_eq!(cache.get(1).await, Err(LookupError::NotFound(1)));
    assert!(matches!(cache.get(2).await, Err(LookupError::Permanent(_))));
    assert_eq!(calls(&fetched), 2);
}

// ANCHOR: breaks
/// Real I/O in paused time: nothing happens on the socket, every task waits, so the
/// runtime jumps the clock to the deadline. A 10 s timeout fires at once, in virtual time,
/// whatever the peer would have done: paused time cannot test a real peer's speed.
#[tokio::test(start_paused = true)]
async fn with_real_io_a_deadline_fires_in_virtual_time() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap(); // accepts, never writes
    let mut stream = tokio::net::TcpStream::connect(silent.local_addr().unwrap())
        .await
        .unwrap();
    let started = Instant::now();
    let mut byte = [0u8; 1];
    let read = tokio::io::AsyncReadExt::read(&mut stream, &mut byte);
    let outcome = tokio::time::timeout(Duration::from_secs(10), read).await;
    assert!(outcome.is_err(), "the silent peer cannot have answered");
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(10),
        "virtual seconds"
    );
}

/// `spawn_blocking` in paused time: while a blocking task runs, Tokio does not auto-advance,
/// so a deadline waits for the real thread. A blocking task that never ends therefore hangs
/// the test: the timeout meant to catch it cannot fire.
#[tokio::test(start_paused = true)]
async fn a_blocking_task_holds_the_virtual_clock_still() {
    let started = Instant::now();
    let blocking = tokio::task::spawn_blocking(|| {
        // blocking work: millions of steps on another thread, while the runtime is idle
        (0..20_000_000_u64).fold(0, |sum, n| std::hint::black_box(sum ^ n))
    });
    let outcome = tokio::time::timeout(Duration::from_secs(10), blocking).await;
    assert!(
        outcome.is_ok(),
        "the clock did not jump past the blocking task"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}
// ANCHOR_END: breaks
