//! Rows and queries: parameters bound, never pasted into the SQL, and several queries at
//! once over the pool.

use futures::future::try_join_all;
use sqlx::{Any, AnyPool, Executor};

use crate::DbError;

/// A user row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    /// Assigned by the database.
    pub id: i64,
    /// Any text at all: it is bound, never pasted into SQL.
    pub name: String,
    /// Unique.
    pub email: String,
}

/// An order row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Order {
    /// Assigned by the database.
    pub id: i64,
    /// Whose order.
    pub user_id: i64,
    /// What was ordered.
    pub item: String,
    /// Its price, in cents (money is never a float).
    pub cents: i64,
}

/// A user with their orders and profile, fetched at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetails {
    /// The user.
    pub user: User,
    /// Their orders, oldest first.
    pub orders: Vec<Order>,
    /// Their profile's text, if they wrote one.
    pub bio: Option<String>,
}

// ANCHOR: insert
/// `INSERT ... RETURNING id`: the new user's id. `executor` is a pool, a connection or a
/// transaction. A duplicate email is [`DbError::DuplicateEmail`].
///
/// # Cancel safety
///
/// This function is not cancel safe: once sent, the insert may still be applied after the
/// future is dropped, and its id is then lost to the caller. Retrying is safe all the same:
/// the unique email turns a second insert into [`DbError::DuplicateEmail`], never a second
/// row. Inside a transaction ([`place_order`](crate::place_order)) it is all or nothing.
pub async fn insert_user<'e>(
    executor: impl Executor<'e, Database = Any>,
    name: &str,
    email: &str,
) -> Result<i64, DbError> {
    sqlx::query_scalar("INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id")
        .bind(name)
        .bind(email)
        .fetch_one(executor)
        .await
        .map_err(|error| match error {
            sqlx::Error::Database(db) if db.is_unique_violation() => DbError::DuplicateEmail {
                email: email.to_owned(),
            },
            other => DbError::Sqlx(other),
        })
}
// ANCHOR_END: insert

// ANCHOR: user_by_id
/// `SELECT ... WHERE id = $1`, or `None`.
///
/// # Cancel safety
///
/// This function is cancel safe: it only reads. A connection dropped mid-query is closed,
/// not reused.
pub async fn user_by_id<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Option<User>, DbError> {
    let user = sqlx::query_as("SELECT id, name, email FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(executor)
        .await?;
    Ok(user)
}
// ANCHOR_END: user_by_id

// ANCHOR: at_once
/// Inserts every `(name, email)` at once, one pooled connection each (`gather` of five
/// `pool.acquire()` blocks). Returns the ids in input order; the first error cancels the
/// inserts still waiting.
///
/// # Cancel safety
///
/// This function is not cancel safe, as [`insert_user`] is not: a sent insert may land
/// after the drop; retrying is safe.
pub async fn insert_users_at_once(
    pool: &AnyPool,
    users: &[(&str, &str)],
) -> Result<Vec<i64>, DbError> {
    try_join_all(
        users
            .iter()
            .map(|(name, email)| insert_user(pool, name, email)),
    )
    .await
}

/// A user, their orders and their profile: three queries at once over the pool.
///
/// # Cancel safety
///
/// This function is cancel safe: a drop drops all three reads.
pub async fn user_details(pool: &AnyPool, id: i64) -> Result<UserDetails, DbError> {
    let user = user_by_id(pool, id);
    let orders = sqlx::query_as(
        "SELECT id, user_id, item, cents FROM orders WHERE user_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool);
    let bio = sqlx::query_scalar("SELECT bio FROM profiles WHERE user_id = $1")
        .bind(id)
        .fetch_optional(pool);
    let (user, orders, bio) =
        tokio::try_join!(user, async { Ok(orders.await?) }, async { Ok(bio.await?) })?;
    let user = user.ok_or(DbError::NoSuchUser(id))?;
    Ok(UserDetails { user, orders, bio })
}
// ANCHOR_END: at_once
