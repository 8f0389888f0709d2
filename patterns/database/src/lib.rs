//! A database the async way: what the tutorials do with asyncpg's pool and aiosqlite, in
//! [sqlx](https://docs.rs/sqlx).
//!
//! - [`connect`]: one [`AnyPool`] over SQLite or PostgreSQL, chosen by the URL, with the
//!   migrations of `migrations/<backend>/` applied;
//! - [`insert_user`], [`user_by_id`]: parameters are *bound*, never pasted into the SQL, so
//!   a name like `'; DROP TABLE users; --` is stored as data;
//! - [`insert_users_at_once`] and [`user_details`]: queries run concurrently over the pool,
//!   one connection each (one connection runs one query at a time);
//! - [`place_order`]: a transaction that commits all its rows or none: on an error, and
//!   when it is dropped half-way (a cancelled task), it rolls back; [`begin_write`] keeps
//!   concurrent SQLite writers from failing with "database is locked";
//! - [`Connection`]: one connection as a scoped resource (`async with conn:`), closed on
//!   every path by [`patterns_core::scoped`];
//! - [`DbError`]: what a caller can act on (a duplicate email, no such user) apart from
//!   the rest.
//!
//! Why `Any` and not code generic over the backend: the same SQL runs on both here (`$1`
//! placeholders are valid SQLite too), and one concrete pool type keeps every signature
//! readable. What `Any` gives up is sqlx's compile-time checked queries, which need one
//! concrete database. Run the demo with `cargo run -p database`.
//!
//! # What the compiler refuses
//!
//! A query built with `format!` does not compile: sqlx 0.9's `query()` takes a
//! `&'static str`, or a string wrapped in `AssertSqlSafe` after an audit.
//!
//! ```compile_fail
//! # async fn f(pool: &sqlx::AnyPool, name: &str) -> Result<(), sqlx::Error> {
//! let sql = format!("SELECT id FROM users WHERE name = '{name}'"); // the f-string
//! sqlx::query(&sql).fetch_all(pool).await?;
//! # Ok(()) }
//! ```
//!
//! The same query with the value bound compiles:
//!
//! ```
//! # async fn f(pool: &sqlx::AnyPool, name: &str) -> Result<(), sqlx::Error> {
//! sqlx::query("SELECT id FROM users WHERE name = $1").bind(name).fetch_all(pool).await?;
//! # Ok(()) }
//! ```
//!
//! One connection cannot run two queries at once: each needs `&mut` the connection, so
//! joining them is a borrow error (asyncpg raises `InterfaceError` at run time instead).
//!
//! ```compile_fail
//! # async fn f(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
//! let a = sqlx::query("SELECT 1").execute(&mut *conn);
//! let b = sqlx::query("SELECT 2").execute(&mut *conn);
//! tokio::try_join!(a, b)?;
//! # Ok(()) }
//! ```
//!
//! One after the other, it compiles; at once, use the pool ([`user_details`]):
//!
//! ```
//! # async fn f(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
//! sqlx::query("SELECT 1").execute(&mut *conn).await?;
//! sqlx::query("SELECT 2").execute(&mut *conn).await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use futures::future::try_join_all;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection as _, Executor};

pub use sqlx::Any;

/// The two databases this crate speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, in-process: a file, nothing to install.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a URL names, from its scheme.
    pub fn of(url: &str) -> Result<Self, DbError> {
        match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            _ => Err(DbError::UnknownScheme { url: redact(url) }),
        }
    }
}

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

/// How big the pool is and how long a caller waits for one of its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Connections open at most (asyncpg's `max_size`).
    pub max_connections: u32,
    /// How long `acquire` waits for a free connection before failing with
    /// `sqlx::Error::PoolTimedOut`, instead of hanging.
    pub acquire_timeout: Duration,
    /// How long [`connect`] waits for the server to answer at all.
    pub connect_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 5,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

// ANCHOR: connect_probe
/// Opens a pool to `url` and applies the migrations.
///
/// SQLite connections get a `busy_timeout` (a writer waits for the lock instead of failing
/// with "database is locked"), WAL journaling (readers do not block the writer) and
/// foreign keys switched on.
///
/// # Cancel safety
///
/// This function is cancel safe: a drop closes the connections opened so far; a migration
/// interrupted half-way is rolled back by its database, and applied again on the next
/// start.
pub async fn connect(url: &str, config: PoolConfig) -> Result<AnyPool, DbError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of(url)?;
    let options: AnyConnectOptions = url
        .parse::<AnyConnectOptions>()?
        .disable_statement_logging();
    // One connection first: a refused connection, a wrong password or a missing database
    // is reported as itself, at once, not as a pool that timed out waiting; a server that
    // never answers, within the connect timeout.
    let probe = tokio::time::timeout(
        config.connect_timeout,
        AnyConnection::connect_with(&options),
    )
    .await
    .map_err(|_elapsed| DbError::Unreachable {
        address: address(&options),
        after: config.connect_timeout,
    })??;
    probe.close().await?;
    // ANCHOR_END: connect_probe
    // ANCHOR: connect
    let pool = AnyPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    match backend {
        Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await,
        Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await,
    }
    .map_err(sqlx::Error::from)?;
    Ok(pool)
}
// ANCHOR_END: connect

/// `host:port` of a server URL (PostgreSQL's port 5432 when the URL names none).
fn address(options: &AnyConnectOptions) -> String {
    let url = &options.database_url;
    format!(
        "{}:{}",
        url.host_str().unwrap_or("localhost"),
        url.port().unwrap_or(5432)
    )
}

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
/// row. Inside a transaction ([`place_order`]) it is all or nothing.
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
/// This method is not cancel safe. Dropped before the commit is sent, nothing is written:
/// the transaction rolls back. Dropped while the commit is on its way, the order is
/// written whole or not at all, but the caller cannot tell which, and a retry of an order
/// that was written fails on the profile's primary key ([`DbError::Sqlx`]). Read the
/// user's details ([`user_details`]) before retrying, as after [`insert_user`].
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

// ANCHOR: scoped
/// One connection outside the pool, as a scoped resource: open it with
/// [`Connection::open`], use it inside [`patterns_core::scoped`], and it is closed after
/// the body, on success, error or panic (Python: `async with await connect(url) as conn`).
#[derive(Debug)]
pub struct Connection(pub AnyConnection);

impl Connection {
    /// Connects to `url` (the `__aenter__` half).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a connection half-opened when the future is dropped is
    /// dropped with it, which closes its socket.
    pub async fn open(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        Backend::of(url)?;
        Ok(Self(AnyConnection::connect(url).await?))
    }
}

impl patterns_core::AsyncResource for Connection {
    /// The `__aexit__` half: tells the server goodbye and closes the socket.
    async fn release(self) -> anyhow::Result<()> {
        self.0.close().await?;
        Ok(())
    }
}
// ANCHOR_END: scoped

// ANCHOR: checked
/// Queries the compiler checks, for one backend: SQLite. `query_as!` reads the query's
/// columns and parameters from the database at build time (or from the offline data in
/// `.sqlx/`, committed, so a build needs no database), and a typo in a column name or a
/// type that does not match is a compile error. It needs a concrete pool type, which is
/// why the rest of this crate, written once for two backends over `Any`, cannot use it.
pub mod checked {
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
    pub async fn spending(
        pool: &SqlitePool,
        user_id: i64,
    ) -> Result<Option<Spending>, sqlx::Error> {
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
}
// ANCHOR_END: checked
