//! Inserts and point selects on a throwaway PostgreSQL (`postgres-insert`,
//! `postgres-select`) and on a SQLite file (`sqlite-insert`, `sqlite-select`), against
//! asyncpg and aiosqlite in the same run, and PostgreSQL's own `pgbench -S` as the bound
//! for point selects.
//!
//! The inserts are in `inserts.rs`, the selects in `selects.rs`, each written once for
//! any sqlx database and run on both.
//!
//! ```text
//! cargo bench -p database                      # 10,000 rows, 10,000 selects
//! cargo bench -p database -- --items 50000
//! ```
//!
//! - inserts: one statement per row (each its own transaction), the same rows in one
//!   transaction, and one batched statement (`UNNEST` of two arrays on PostgreSQL, a
//!   multi-row `VALUES` on SQLite); the table is emptied before every run;
//! - selects: 10 tasks over a pool of 10, each selecting its share of the rows by id.
//!
//! The concrete pools (`PgPool`, `SqlitePool`) are measured, as a service on one database
//! would use them, and the `AnyPool` of the pattern's library once, to show what `Any`
//! costs.

mod bound;
mod bulk;
mod inserts;
mod selects;

use std::process::ExitCode;

use bench_harness::{Bench, CpuTime, Options, PythonLoop, python_script};
use database::PoolConfig;
use external_tools::postgres::Postgres;
use sqlx::{PgPool, SqlitePool};

fn main() -> ExitCode {
    bench_harness::main::<Options>(run)
}

/// Tasks, and pool connections, for the point selects (and pgbench's clients).
pub(crate) const TASKS: usize = 10;

fn run(options: Options) -> anyhow::Result<()> {
    let postgres = external_tools::require("PostgreSQL", Postgres::start());
    let scratch = tempfile::tempdir()?;
    let sqlite_url = format!(
        "sqlite:{}?mode=rwc",
        scratch.path().join("bench.db").display()
    );
    let (runtime_name, runtime) = bench_harness::runtime(2)?;
    let pools = runtime.block_on(Pools::open(postgres.as_ref(), &sqlite_url))?;
    inserts::inserts(&options, &runtime, runtime_name, &pools, postgres.as_ref())?;
    bulk::bulk_inserts(&options, &runtime, runtime_name)?;
    selects::selects(&options, &runtime, runtime_name, &pools, postgres.as_ref())?;
    Ok(())
}

/// The databases under test, migrated by the pattern's own `connect`.
pub(crate) struct Pools {
    pub(crate) pg: Option<PgPool>,
    pub(crate) pg_any: Option<sqlx::AnyPool>,
    pub(crate) pg_url: Option<String>,
    /// Commits to the write-ahead log, the disk at checkpoints, as the pattern's pool.
    pub(crate) sqlite: SqlitePool,
    /// The same file, each commit waiting for the disk.
    pub(crate) sqlite_full: SqlitePool,
    pub(crate) sqlite_path: String,
}

impl Pools {
    pub(crate) async fn open(
        postgres: Option<&Postgres>,
        sqlite_url: &str,
    ) -> anyhow::Result<Self> {
        let config = PoolConfig {
            max_connections: TASKS as u32,
            ..PoolConfig::default()
        };
        database::connect(sqlite_url, config).await?.close().await;
        let sqlite = sqlite_pool(sqlite_url, "PRAGMA synchronous = NORMAL").await?;
        let sqlite_full = sqlite_pool(sqlite_url, "PRAGMA synchronous = FULL").await?;
        let (pg, pg_any, pg_url) = match postgres {
            Some(server) => {
                let any = database::connect(&server.url(), config).await?;
                let pg = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(TASKS as u32)
                    .connect(&server.url())
                    .await?;
                (Some(pg), Some(any), Some(server.url()))
            }
            None => (None, None, None),
        };
        let sqlite_path = sqlite_url
            .trim_start_matches("sqlite:")
            .trim_end_matches("?mode=rwc")
            .to_owned();
        Ok(Self {
            pg,
            pg_any,
            pg_url,
            sqlite,
            sqlite_full,
            sqlite_path,
        })
    }
}

/// A pool on the SQLite file (in WAL mode, set by the pattern's `connect`) whose
/// connections run `synchronous` first: `PRAGMA synchronous = FULL`, the default, waits
/// for the disk at every commit; `NORMAL` only at checkpoints.
async fn sqlite_pool(url: &str, synchronous: &'static str) -> sqlx::Result<SqlitePool> {
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(TASKS as u32)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                sqlx::query("PRAGMA busy_timeout = 5000")
                    .execute(&mut *conn)
                    .await?;
                sqlx::query(synchronous).execute(&mut *conn).await?;
                Ok(())
            })
        })
        .connect(url)
        .await
}

/// `n` distinct users: names and emails as two columns.
pub(crate) fn rows(n: usize) -> (Vec<String>, Vec<String>) {
    (0..n)
        .map(|i| (format!("user {i}"), format!("u{i}@example.com")))
        .unzip()
}

/// CPU time per item since `before`: this process's own, or (`children`) that of the
/// child processes it waited for, such as pgbench.
pub(crate) fn cpu_per_item(before: Option<CpuTime>, items: u64, children: bool) -> Option<f64> {
    let (before, after) = (before?, bench_harness::cpu_time()?);
    let spent = if children {
        after.children.saturating_sub(before.children)
    } else {
        after.own.saturating_sub(before.own)
    };
    Some(spent.as_secs_f64() * 1e6 / items.max(1) as f64)
}

/// The Python side of `workload` on `backend`: asyncpg on PostgreSQL, aiosqlite on the
/// same SQLite file, on both event loops.
pub(crate) fn python(
    bench: &mut Bench,
    backend: &str,
    workload: &str,
    items: u64,
    pools: &Pools,
) -> anyhow::Result<()> {
    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_database.py");
    let target = match (backend, &pools.pg_url) {
        ("postgres", Some(url)) => ["--postgres-url".to_owned(), url.clone()],
        _ => ["--sqlite-path".to_owned(), pools.sqlite_path.clone()],
    };
    let mut extra = vec!["--workload".to_owned(), workload.to_owned()];
    extra.extend(target);
    bench.python_records(&script, items, &extra, &PythonLoop::BOTH)
}
