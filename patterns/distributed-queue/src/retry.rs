//! Retrying a command whose connection failed: backon's exponential backoff with jitter,
//! for transient errors only.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};
use redis::aio::ConnectionManager;
use redis::{Cmd, ErrorKind, FromRedisValue, Pipeline, RedisError, ServerErrorKind};

// ANCHOR: retry_policy
/// How a command whose connection failed is retried: exponential backoff from
/// `first_delay` up to `max_delay`, `retries` times, with jitter so that many clients
/// reconnecting to a restarted Redis do not all arrive in the same millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first wait.
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// Retries after the first try.
    pub retries: u32,
    /// Each wait is drawn between itself and twice itself.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    /// 50 ms doubling to 2 s, 15 retries: about 20 s, long enough for a restart.
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(2),
            retries: 15,
            jitter: true,
        }
    }
}

// ANCHOR_END: retry_policy

// ANCHOR: retry
/// Runs `attempt` until it succeeds, fails with an error that is not transient
/// ([`is_transient`]), or has been retried `policy.retries` times.
///
/// # Cancel safety
///
/// This function is cancel safe when `attempt` is: dropped during a wait, nothing is in
/// flight and no further try is made; dropped during a try, that try is dropped with it.
pub async fn with_retry<T, F, Fut>(policy: &RetryPolicy, attempt: F) -> Result<T, RedisError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RedisError>>,
{
    let mut backoff = ExponentialBuilder::default()
        .with_min_delay(policy.first_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.retries as usize);
    if policy.jitter {
        backoff = backoff.with_jitter();
    }
    attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(is_transient)
        .notify(|e, wait| tracing::warn!("redis: {e}; retrying in {wait:?}"))
        .await
}

/// An error worth a retry: the connection failed or timed out, or Redis is still loading
/// its data after a restart.
///
/// redis-rs gives every `io::Error` the kind `Io`, so `is_io_error` covers a refused, a
/// dropped and a timed-out connection alike (its `is_timeout` and `is_connection_dropped`
/// only look closer at the same errors).
pub fn is_transient(error: &RedisError) -> bool {
    error.is_io_error()
        || matches!(
            error.kind(),
            ErrorKind::Server(ServerErrorKind::BusyLoading | ServerErrorKind::TryAgain)
        )
}
// ANCHOR_END: retry

/// One command, retried by [`with_retry`] on a clone of the shared connection.
pub(crate) async fn run_cmd<T: FromRedisValue>(
    conn: &ConnectionManager,
    policy: &RetryPolicy,
    cmd: &Cmd,
) -> Result<T, RedisError> {
    with_retry(policy, || {
        let mut conn = conn.clone();
        async move { cmd.query_async(&mut conn).await }
    })
    .await
}

/// [`run_cmd`] for a pipeline: its replies come back together.
pub(crate) async fn run_pipe<T: FromRedisValue>(
    conn: &ConnectionManager,
    policy: &RetryPolicy,
    pipe: &Pipeline,
) -> Result<T, RedisError> {
    with_retry(policy, || {
        let mut conn = conn.clone();
        async move { pipe.query_async(&mut conn).await }
    })
    .await
}
