//! A transaction that commits all its rows or none, and SQLite writers that wait for the
//! lock instead of failing.

use sqlx::{Any, AnyPool};

use crate::DbError;
use crate::users::user_by_id;

// ANCHOR: begin_write
/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`, which takes
/// the write lock at once, waiting up to `busy_timeout` for it. A plain (deferred) `BEGIN`
/// that reads first and writes later must upgrade its lock, and SQLite refuses that
/// upgrade at once with "database is locked", `busy_timeout` or not: waiting could
/// deadlock two readers that both want to write. PostgreSQL locks rows, so a plain `BEGIN`.
///
/// # Cancel safety
///
/// This function is cancel safe: a transaction begun when the future is dropped is rolled
/// back.
pub async fn begin_write(pool: &AnyPool) -> Result<sqlx::Transaction<'static, Any>, DbError> {
    let tx = if pool.connect_options().database_url.scheme() == "sqlite" {
        pool.begin_with("BEGIN IMMEDIATE").await?
    } else {
        pool.begin().await?
    };
    Ok(tx)
}
// ANCHOR_END: begin_write

// ANCHOR: transaction
/// Writes a user's profile and orders in one transaction: all of them, or none.
/// A failure (an unknown user, say) rolls everything back; so does dropping the future
/// before it commits, because an uncommitted `Transaction` rolls back when dropped.
///
/// # Cancel safety
///
/// This function is not cancel safe. Dropped before the commit is sent, nothing is written:
/// the transaction rolls back. Dropped while the commit is on its way, the order is
/// written whole or not at all, but the caller cannot tell which, and a retry of an order
/// that was written fails on the profile's primary key ([`DbError::Sqlx`]). Read the
/// user's details ([`user_details`](crate::user_details)) before retrying, as after [`insert_user`](crate::insert_user).
pub async fn place_order(
    pool: &AnyPool,
    user_id: i64,
    bio: &str,
    items: &[(&str, i64)],
) -> Result<(), DbError> {
    let mut tx = begin_write(pool).await?;
    user_by_id(&mut *tx, user_id)
        .await?
        .ok_or(DbError::NoSuchUser(user_id))?;
    sqlx::query("INSERT INTO profiles (user_id, bio) VALUES ($1, $2)")
        .bind(user_id)
        .bind(bio)
        .execute(&mut *tx)
        .await?;
    for (item, cents) in items {
        sqlx::query("INSERT INTO orders (user_id, item, cents) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(*item)
            .bind(*cents)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
// ANCHOR_END: transaction
