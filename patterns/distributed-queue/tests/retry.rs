//! The backoff between retries, on tokio's paused clock: the waits are exact, and no test
//! waits for them in real time.

use std::cell::Cell;
use std::time::Duration;

use distributed_queue::{RetryPolicy, is_transient, with_retry};
use redis::{ErrorKind, RedisError, ServerErrorKind};
use tokio::time::Instant;

fn refused() -> RedisError {
    std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into()
}

fn policy(first_ms: u64, max_ms: u64, retries: u32) -> RetryPolicy {
    RetryPolicy {
        first_delay: Duration::from_millis(first_ms),
        max_delay: Duration::from_millis(max_ms),
        retries,
        jitter: false,
    }
}

#[tokio::test(start_paused = true)]
async fn a_transient_failure_is_retried_after_doubling_waits() {
    let tries = std::cell::RefCell::new(Vec::new());
    let result = with_retry(&policy(50, 2_000, 5), || {
        tries.borrow_mut().push(Instant::now());
        let n = tries.borrow().len();
        async move { if n <= 3 { Err(refused()) } else { Ok(n) } }
    })
    .await;
    assert_eq!(result.unwrap(), 4);
    let tries = tries.into_inner();
    let waits: Vec<u128> = tries
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    // tokio's timer counts whole milliseconds and rounds a deadline up to the next one.
    assert!(
        waits
            .iter()
            .zip([50, 100, 200])
            .all(|(&w, want)| w == want || w == want + 1),
        "{waits:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_waits_stop_growing_at_the_maximum_and_the_retries_run_out() {
    let tries = Cell::new(0);
    let started = Instant::now();
    let result: Result<(), _> = with_retry(&policy(1_000, 2_000, 4), || {
        tries.set(tries.get() + 1);
        async { Err(refused()) }
    })
    .await;
    assert!(is_transient(&result.unwrap_err()));
    assert_eq!(tries.get(), 5, "the first try and 4 retries");
    assert_eq!(started.elapsed(), Duration::from_secs(1 + 2 + 2 + 2));
}

#[tokio::test(start_paused = true)]
async fn an_error_that_is_not_transient_is_returned_at_once() {
    let tries = Cell::new(0);
    let started = Instant::now();
    let result: Result<(), _> = with_retry(&RetryPolicy::default(), || {
        tries.set(tries.get() + 1);
        async {
            Err(RedisError::from((
                ErrorKind::AuthenticationFailed,
                "WRONGPASS",
            )))
        }
    })
    .await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::AuthenticationFailed);
    assert_eq!((tries.get(), started.elapsed()), (1, Duration::ZERO));
}

#[tokio::test(start_paused = true)]
async fn jitter_keeps_each_wait_between_itself_and_twice_itself() {
    let started = Instant::now();
    let result: Result<(), _> = with_retry(
        &RetryPolicy {
            jitter: true,
            ..policy(100, 10_000, 3)
        },
        || async { Err(refused()) },
    )
    .await;
    assert!(result.is_err());
    let waited = started.elapsed();
    let plain = Duration::from_millis(100 + 200 + 400);
    assert!(waited >= plain && waited < plain * 2, "{waited:?}");
}

/// Cancel safety: dropped during a wait, no further try is made.
#[tokio::test(start_paused = true)]
async fn a_retry_dropped_during_its_wait_tries_no_more() {
    let tries = Cell::new(0);
    let every_second = policy(1_000, 1_000, 10);
    // 2.5 s: the first try, and the second after 1 s; dropped in the second wait.
    cancel_check::drop_pending_after(
        with_retry(&every_second, || {
            tries.set(tries.get() + 1);
            async { Err::<(), _>(refused()) }
        }),
        tokio::time::sleep(Duration::from_millis(2_500)),
    )
    .await;
    assert_eq!(tries.get(), 3);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(tries.get(), 3, "nothing runs after the drop");
}

#[test]
fn every_io_error_and_a_loading_redis_are_transient_and_nothing_else() {
    use std::io::ErrorKind::*;
    for kind in [
        ConnectionRefused,
        ConnectionReset,
        TimedOut,
        UnexpectedEof,
        Other,
    ] {
        let error: RedisError = std::io::Error::from(kind).into();
        assert!(is_transient(&error), "{kind:?}");
    }
    let loading = ErrorKind::Server(ServerErrorKind::BusyLoading);
    assert!(is_transient(&RedisError::from((loading, "LOADING"))));
    for kind in [
        ErrorKind::AuthenticationFailed,
        ErrorKind::Server(ServerErrorKind::NoScript),
        ErrorKind::Parse,
    ] {
        assert!(!is_transient(&RedisError::from((kind, "no"))), "{kind:?}");
    }
}
