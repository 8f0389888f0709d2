//! The errors a user sees, each naming its cause.

use redis::{ErrorKind, RedisError};

/// What went wrong, said so that the one line a user sees names the cause.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The URL is not a Redis URL.
    #[error("not a Redis URL ({0})")]
    BadUrl(RedisError),
    /// Nothing answered there.
    #[error("cannot reach Redis at {addr}: {source}")]
    Unreachable { addr: String, source: RedisError },
    /// Redis refused the credentials, or asked for some.
    #[error("Redis at {addr} refused the credentials: {source}")]
    Auth { addr: String, source: RedisError },
    /// The stream's key holds something else.
    #[error("key {key:?} holds a {found}, not a stream")]
    WrongType { key: String, found: String },
    /// Any other error from Redis, after the retries transient ones get.
    #[error(transparent)]
    Redis(#[from] RedisError),
}

/// Names the cause of a connection's first error.
pub(crate) fn classify(error: RedisError, addr: &str) -> QueueError {
    let addr = addr.to_owned();
    let refused = matches!(error.code(), Some("NOAUTH" | "WRONGPASS"));
    if refused || error.kind() == ErrorKind::AuthenticationFailed {
        QueueError::Auth {
            addr,
            source: error,
        }
    } else if error.is_io_error() {
        // A refused connection, a timeout, a reset: every `io::Error` has the kind `Io`.
        QueueError::Unreachable {
            addr,
            source: error,
        }
    } else {
        QueueError::Redis(error)
    }
}
