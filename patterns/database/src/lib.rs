//! A database the async way: what the tutorials do with asyncpg's pool and aiosqlite, in
//! [sqlx](https://docs.rs/sqlx).
//!
//! - [`connect`]: one [`AnyPool`](sqlx::AnyPool) over SQLite or PostgreSQL, chosen by the URL, with the
//!   migrations of `migrations/<backend>/` applied;
//! - [`insert_user`], [`user_by_id`]: parameters are *bound*, never pasted into the SQL, so
//!   a name like `'; DROP TABLE users; --` is stored as data;
//! - [`insert_users_at_once`] and [`user_details`]: queries run concurrently over the pool,
//!   one connection each (one connection runs one query at a time);
//! - [`insert_users_sqlite`]: thousands of rows into SQLite at once, SQLite's own loop on
//!   tokio's blocking pool (rusqlite), where sqlx would hand each row to its worker;
//! - [`place_order`]: a transaction that commits all its rows or none: on an error, and
//!   when it is dropped half-way (a cancelled task), it rolls back; [`begin_write`] keeps
//!   concurrent SQLite writers from failing with "database is locked";
//! - [`ScopedConnection`]: one connection as a scoped resource (`async with conn:`), closed on
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

//!
//! | asyncpg / aiosqlite | here |
//! |---|---|
//! | `await asyncpg.create_pool(url)` | [`connect`] |
//! | `await conn.execute("INSERT ... $1", name)` | [`insert_user`]: `query(...).bind(name)` |
//! | `await conn.fetchrow("SELECT ... $1", id)` | [`user_by_id`]: `query_as(...).bind(id)` |
//! | `asyncio.gather` of queries over the pool | [`user_details`]: `try_join!` |
//! | `await db.executemany("INSERT ...", rows)` (aiosqlite) | [`insert_users_sqlite`]: rusqlite in `spawn_blocking` |
//! | `async with conn.transaction():` | [`place_order`]: `begin()`, then `commit()` |
//! | `async with await asyncpg.connect(url) as conn:` | [`ScopedConnection`] in `patterns_core::scoped` |
//! | `except asyncpg.UniqueViolationError:` | [`DbError::DuplicateEmail`] |
//!
//! # Layout
//!
//! - [`pool`](mod@pool): [`connect`], [`PoolConfig`], [`Backend`];
//! - [`users`](mod@users): rows ([`User`], [`Order`], [`UserDetails`]) and queries: [`insert_user`],
//!   [`user_by_id`], [`insert_users_at_once`], [`user_details`];
//! - [`bulk`](mod@bulk): [`insert_users_sqlite`];
//! - [`transaction`](mod@transaction): [`place_order`] and [`begin_write`];
//! - [`scoped`](mod@scoped): [`ScopedConnection`];
//! - [`checked`](mod@checked): queries the compiler checks, for SQLite;
//! - [`error`](mod@error): [`DbError`] and [`redact`].
//!
//! To copy it, take `migrations/` with `src/`: [`connect`] embeds them at build time. And
//! take `.sqlx/`, the saved answers that let [`checked`] build without a database.

pub mod bulk;
pub mod checked;
pub mod error;
pub mod pool;
pub mod scoped;
pub mod transaction;
pub mod users;

pub use bulk::insert_users_sqlite;
pub use error::{DbError, redact};
pub use pool::{Backend, PoolConfig, connect};
pub use scoped::ScopedConnection;
pub use sqlx::Any;
pub use transaction::{begin_write, place_order};
pub use users::{
    Order, User, UserDetails, insert_user, insert_users_at_once, user_by_id, user_details,
};
