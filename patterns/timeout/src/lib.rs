//! Deadlines and time limits: `asyncio.wait_for`, `asyncio.timeout` and retries, in Tokio.
//!
//! - [`wait_for`]: one future, one limit; on expiry the future is dropped (cancelled);
//! - [`Deadline`]: one budget shared by several steps (`async with asyncio.timeout(...)`);
//! - [`race`]: `select!` between the work, a deadline and a cancellation token;
//! - [`all_within`] / [`each_within`]: one limit on a whole `join_all`, or one per item;
//! - [`retry`]: bounded attempts, exponential backoff, jitter, and a total budget, written
//!   out to show how; in a service, the [backon](https://docs.rs/backon) crate does the same.
//!
//! reqwest's own connect, read and total timeouts are shown by the demo (`src/main.rs`).
//!
//! Run the demo with `cargo run -p timeout`.

use std::future::Future;
use std::time::Duration;

use futures::future::join_all;
use tokio::time::{Instant, sleep, timeout, timeout_at};
use tokio_util::sync::CancellationToken;

// ANCHOR: wait_for
/// The limit passed before the work finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("timed out after {0:?}")]
pub struct TimedOut(pub Duration);

/// `asyncio.wait_for(work, limit)`. When the limit passes, `work` is dropped, which
/// cancels it at its current `.await` and runs its destructors: nothing keeps running.
///
/// # Cancel safety
///
/// This function is cancel safe when `work` is: it adds nothing a drop could lose. A losing
/// `select!` branch drops `work` wherever it waits.
pub async fn wait_for<F: Future>(limit: Duration, work: F) -> Result<F::Output, TimedOut> {
    timeout(limit, work).await.map_err(|_| TimedOut(limit))
}
// ANCHOR_END: wait_for

// ANCHOR: deadline
/// One point in time that several steps share: each step gets whatever is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
    budget: Duration,
}

impl Deadline {
    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self {
            at: Instant::now() + budget,
            budget,
        }
    }

    /// What is left of the budget (zero once it has passed).
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Runs one step, cut off at the shared deadline.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe when `step` is: `step` is dropped with it, and the
    /// deadline is a value, so the next step still gets only what is left.
    pub async fn run<F: Future>(&self, step: F) -> Result<F::Output, TimedOut> {
        timeout_at(self.at, step)
            .await
            .map_err(|_| TimedOut(self.budget))
    }
}
// ANCHOR_END: deadline

// ANCHOR: race
/// How a raced piece of work ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raced<T> {
    /// It finished first.
    Done(T),
    /// The deadline passed first.
    TimedOut,
    /// Somebody cancelled it first.
    Cancelled,
}

/// `select!` over the work, a timer and a token: what `timeout` does, plus a third way out.
/// The losers are dropped when `select!` returns.
///
/// # Cancel safety
///
/// This function is cancel safe when `work` is: a losing `select!` branch drops `work`, the
/// timer and the wait on the token; the token itself is untouched.
pub async fn race<F: Future>(
    work: F,
    deadline: Instant,
    token: &CancellationToken,
) -> Raced<F::Output> {
    tokio::select! {
        output = work => Raced::Done(output),
        () = tokio::time::sleep_until(deadline) => Raced::TimedOut,
        () = token.cancelled() => Raced::Cancelled,
    }
}
// ANCHOR_END: race

// ANCHOR: all_within
/// One limit on the whole group (`wait_for(gather(...))`): all results, or none and every
/// future dropped.
///
/// # Cancel safety
///
/// This function is cancel safe when the futures are: a losing `select!` branch drops every
/// future of the group at once.
pub async fn all_within<F: Future>(
    limit: Duration,
    work: Vec<F>,
) -> Result<Vec<F::Output>, TimedOut> {
    wait_for(limit, join_all(work)).await
}

/// One limit per item: the fast ones keep their results, the slow ones become `TimedOut`.
///
/// # Cancel safety
///
/// This function is cancel safe when the futures are: a losing `select!` branch drops every
/// future still running, and the results already in are lost with it.
pub async fn each_within<F: Future>(
    limit: Duration,
    work: Vec<F>,
) -> Vec<Result<F::Output, TimedOut>> {
    join_all(work.into_iter().map(|w| wait_for(limit, w))).await
}
// ANCHOR_END: all_within

// ANCHOR: backoff
/// How to retry: the first try and up to `retries` more, waiting `first_delay`, then twice
/// as long each time (capped at `max_delay`), never past `budget` from the first try. The
/// names are backon's and the catalogue's other retry policies'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Tries after the first: at most `retries + 1` tries in all.
    pub retries: u32,
    /// The wait after the first failure.
    pub first_delay: Duration,
    /// The longest wait between two tries.
    pub max_delay: Duration,
    /// Time allowed for everything, waits included.
    pub budget: Duration,
    /// Randomise each wait in `[0, delay]` ("full jitter"), so clients that failed
    /// together do not retry together.
    pub jitter: bool,
}

impl Backoff {
    /// The wait after failed try number `try_number` (1-based), before jitter.
    pub fn delay(&self, try_number: u32) -> Duration {
        let doubled = self
            .first_delay
            .saturating_mul(1u32.checked_shl(try_number - 1).unwrap_or(u32::MAX));
        doubled.min(self.max_delay)
    }

    fn wait(&self, try_number: u32) -> Duration {
        let delay = self.delay(try_number);
        if self.jitter {
            let nanos = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
            Duration::from_nanos(fastrand::u64(0..=nanos))
        } else {
            delay
        }
    }
}
// ANCHOR_END: backoff

/// Why [`retry`] gave up. Each variant keeps the number of tries made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetryError<E> {
    /// Every try failed.
    #[error("gave up after {attempts} tries: {last}")]
    Exhausted {
        /// Tries made.
        attempts: u32,
        /// The last failure.
        last: E,
    },
    /// The budget ran out, during a try or before the next one.
    #[error("out of time after {attempts} tries")]
    OutOfTime {
        /// Tries made (started).
        attempts: u32,
        /// The last failure, if a try had finished.
        last: Option<E>,
    },
    /// A failure retrying cannot fix (a 404, bad input): no more tries.
    #[error("not retryable: {error}")]
    Fatal {
        /// Tries made.
        attempts: u32,
        /// The failure.
        error: E,
    },
}

// ANCHOR: retry
/// Runs `attempt` until it succeeds, fails in a way `retryable` rejects, or runs out of
/// tries or of budget (a try running at its end is cut off); a panic propagates.
///
/// # Cancel safety
///
/// This function is cancel safe when each try is: a losing `select!` branch drops the try
/// in flight or the wait, and no later try starts; a try with effects may have had them.
pub async fn retry<T, E, F, Fut>(
    policy: &Backoff,
    mut attempt: F,
    retryable: impl Fn(&E) -> bool,
) -> Result<T, RetryError<E>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + policy.budget;
    let mut last = None;
    let attempts = policy.retries.saturating_add(1);
    for try_number in 1..=attempts {
        let error = match timeout_at(deadline, attempt(try_number)).await {
            Err(_elapsed) => {
                return Err(RetryError::OutOfTime {
                    attempts: try_number,
                    last,
                });
            }
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) if !retryable(&error) => {
                return Err(RetryError::Fatal {
                    attempts: try_number,
                    error,
                });
            }
            Ok(Err(error)) => error,
        };
        last = Some(wait_before_next(policy, deadline, try_number, attempts, error).await?);
    }
    unreachable!("the loop returns on its last try")
}
// ANCHOR_END: retry

// ANCHOR: retry_wait
/// After try `try_number` failed with a retryable `error`: gives up if that was the last
/// try, or if the wait would end past `deadline`. Otherwise waits, and hands the error
/// back, to be reported if the next try runs out of time.
async fn wait_before_next<E>(
    policy: &Backoff,
    deadline: Instant,
    try_number: u32,
    attempts: u32,
    error: E,
) -> Result<E, RetryError<E>> {
    if try_number == attempts {
        return Err(RetryError::Exhausted {
            attempts: try_number,
            last: error,
        });
    }
    let wait = policy.wait(try_number);
    if Instant::now() + wait >= deadline {
        // Sleeping past the budget only to fail then: give up now.
        return Err(RetryError::OutOfTime {
            attempts: try_number,
            last: Some(error),
        });
    }
    tracing::debug!(try_number, ?wait, "retrying");
    sleep(wait).await;
    Ok(error)
}
// ANCHOR_END: retry_wait
