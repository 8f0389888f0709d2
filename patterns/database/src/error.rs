//! What a caller can act on (a duplicate email, no such user) apart from the rest, and
//! URLs in messages with their password hidden.

use std::time::Duration;

// ANCHOR: errors
/// Why a database call failed, sorted into what a caller may handle.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names no database this crate speaks to.
    #[error("{url}: only sqlite: and postgres: URLs are supported")]
    UnknownScheme {
        /// The URL, its password hidden.
        url: String,
    },
    /// A row with this email exists already (the `UNIQUE` constraint refused it).
    #[error("a user with email {email} exists already")]
    DuplicateEmail {
        /// The email refused.
        email: String,
    },
    /// The server did not answer within the connect timeout (a firewall dropping packets,
    /// a host that is down).
    #[error("{address}: no answer within {after:?}")]
    Unreachable {
        /// `host:port`.
        address: String,
        /// The connect timeout that passed.
        after: Duration,
    },
    /// No row has this id.
    #[error("no user with id {0}")]
    NoSuchUser(i64),
    /// Anything else the driver reports: connection refused, wrong password, timeouts...
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// What SQLite reported to a bulk insert ([`insert_users_sqlite`](crate::insert_users_sqlite)):
    /// no such file, no such table, a lock held past the busy timeout...
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The runtime shut down before the blocking pool ran the work.
    #[error("the runtime is shutting down")]
    ShuttingDown,
}
// ANCHOR_END: errors

/// `postgres://user:secret@host/db` with the password replaced, for error messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}
