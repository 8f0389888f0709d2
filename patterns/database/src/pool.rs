//! The pool: one [`AnyPool`] over SQLite or PostgreSQL, chosen by the URL, with the
//! migrations applied before the first query.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection as _, Executor};

use crate::error::{DbError, redact};

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

// ANCHOR: connect
/// Opens a pool to `url` and applies the migrations.
///
/// SQLite connections get a `busy_timeout` (a writer waits for the lock instead of failing
/// with "database is locked"), WAL journaling (readers do not block the writer),
/// `synchronous = NORMAL` and foreign keys switched on.
///
/// `NORMAL` writes each commit to the WAL without waiting for the disk; the disk is
/// synced at checkpoints. A crash of the process loses nothing committed. A power loss or
/// an OS crash may roll back the last commits before the checkpoint, and the database stays
/// consistent. Where that is not acceptable, run `PRAGMA synchronous = FULL` after
/// connecting, and every commit waits for the disk.
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
    probe(&options, config.connect_timeout).await?;
    let pool = open_pool(options, backend, config).await?;
    migrate(backend, &pool).await?;
    Ok(pool)
}
// ANCHOR_END: connect

// ANCHOR: connect_pool
/// A bounded pool; on SQLite, each connection it opens runs the PRAGMAs first.
async fn open_pool(
    options: AnyConnectOptions,
    backend: Backend,
    config: PoolConfig,
) -> Result<AnyPool, DbError> {
    let pool = AnyPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Applies `migrations/<backend>/`, which the binary embeds at build time.
async fn migrate(backend: Backend, pool: &AnyPool) -> Result<(), DbError> {
    match backend {
        Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(pool).await,
        Backend::Postgres => sqlx::migrate!("migrations/postgres").run(pool).await,
    }
    .map_err(sqlx::Error::from)?;
    Ok(())
}
// ANCHOR_END: connect_pool

// ANCHOR: connect_probe
/// One connection before the pool: a refused connection, a wrong password or a missing
/// database is reported as itself, at once, not as a pool that timed out waiting; a
/// server that never answers, within the connect timeout.
async fn probe(options: &AnyConnectOptions, timeout: Duration) -> Result<(), DbError> {
    let probe = tokio::time::timeout(timeout, AnyConnection::connect_with(options))
        .await
        .map_err(|_elapsed| DbError::Unreachable {
            address: address(options),
            after: timeout,
        })??;
    probe.close().await?;
    Ok(())
}
// ANCHOR_END: connect_probe

/// `host:port` of a server URL (PostgreSQL's port 5432 when the URL names none).
fn address(options: &AnyConnectOptions) -> String {
    let url = &options.database_url;
    format!(
        "{}:{}",
        url.host_str().unwrap_or("localhost"),
        url.port().unwrap_or(5432)
    )
}
