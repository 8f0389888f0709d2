//! Queries the compiler checks, for one backend: SQLite. `query_as!` reads the query's
//! columns and parameters from the database at build time (or from the offline data in
//! `.sqlx/`, committed, so a build needs no database), and a typo in a column name or a
//! type that does not match is a compile error. It needs a concrete pool type, which is
//! why the rest of this crate, written once for two backends over `Any`, cannot use it.

// ANCHOR: checked
use sqlx::SqlitePool;

/// What one user has spent, checked against the schema at compile time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spending {
    /// The user's id.
    pub id: i64,
    /// Their name.
    pub name: String,
    /// The sum of their orders, in cents (0 without orders).
    pub total_cents: i64,
}

/// One user's spending, or `None` for an unknown id.
///
/// # Cancel safety
///
/// This function is cancel safe: it only reads.
pub async fn spending(pool: &SqlitePool, user_id: i64) -> Result<Option<Spending>, sqlx::Error> {
    sqlx::query_as!(
        Spending,
        r#"SELECT u.id AS "id!", u.name, COALESCE(SUM(o.cents), 0) AS "total_cents!: i64"
               FROM users u LEFT JOIN orders o ON o.user_id = u.id
               WHERE u.id = ?1
               GROUP BY u.id, u.name"#,
        user_id
    )
    .fetch_optional(pool)
    .await
}
// ANCHOR_END: checked
