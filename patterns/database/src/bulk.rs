//! Many rows into SQLite at once: SQLite's own loop, on tokio's blocking pool.
//!
//! sqlx runs each SQLite connection on a worker thread of its own and hands every
//! statement to it through a channel, so each row of a loop pays a hand-off both ways.
//! [rusqlite](https://docs.rs/rusqlite) calls SQLite on the calling thread instead. One
//! closure on the blocking pool then does the whole batch: one connection, one
//! transaction, the statement prepared once, each row bound and stepped. That is what
//! aiosqlite's `executemany` does in its thread, without a Python object per row.

use std::path::PathBuf;
use std::time::Duration;

use crate::DbError;

/// How long the bulk insert waits for another writer's lock, as the pool's connections do.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

// ANCHOR: bulk
/// Inserts `users` (name, email) into the `users` table of the SQLite file at `path`, in
/// one transaction, and returns how many rows it inserted. All rows land or none do: a
/// duplicate email anywhere is [`DbError::DuplicateEmail`] and leaves the table as it was.
///
/// The work runs on tokio's blocking pool, so the runtime's workers stay free meanwhile.
///
/// # Cancel safety
///
/// This function is not cancel safe. A dropped future cannot stop work already on the
/// blocking pool: a losing `select!` branch leaves the transaction running to its end,
/// and every row lands (or, on an error, none does) without the caller learning which.
/// Count the rows, or insert again and let the unique email refuse the copies.
pub async fn insert_users_sqlite(
    path: impl Into<PathBuf>,
    users: Vec<(String, String)>,
) -> Result<u64, DbError> {
    let path = path.into();
    let inserted = tokio::task::spawn_blocking(move || insert_all(&path, &users))
        .await
        .map_err(|joined| match joined.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_cancelled) => DbError::ShuttingDown,
        })??;
    Ok(inserted)
}
// ANCHOR_END: bulk

// ANCHOR: bulk_loop
/// The loop itself, on the thread that calls it.
fn insert_all(path: &std::path::Path, users: &[(String, String)]) -> Result<u64, DbError> {
    // Opening must not create a file: a mistyped path is an error, not a new database.
    let mut conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // As the pool's connections commit (see `connect`): to the WAL, the disk at checkpoints.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // IMMEDIATE takes the write lock now, so the rows never meet a writer half-way.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare("INSERT INTO users (name, email) VALUES (?1, ?2)")?;
        for (name, email) in users {
            insert.execute((name, email)).map_err(|error| match error {
                rusqlite::Error::SqliteFailure(code, _)
                    if code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
                {
                    DbError::DuplicateEmail {
                        email: email.clone(),
                    }
                }
                other => DbError::Sqlite(other),
            })?;
        }
    }
    // Dropped without a commit (the `?` above), the transaction rolls back.
    tx.commit()?;
    Ok(users.len() as u64)
}
// ANCHOR_END: bulk_loop
