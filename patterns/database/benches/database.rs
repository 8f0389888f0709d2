//! Inserts and point selects on a throwaway PostgreSQL (`postgres-insert`,
//! `postgres-select`) and on a SQLite file (`sqlite-insert`, `sqlite-select`), against
//! asyncpg and aiosqlite in the same run, and PostgreSQL's own `pgbench -S` as the bound
//! for point selects.
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

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use bench_harness::{Bench, CpuTime, Options, PythonLoop, Record, measure, python_script};
use database::PoolConfig;
use external_tools::postgres::Postgres;
use sqlx::{PgPool, QueryBuilder, Sqlite, SqlitePool};
use tokio::runtime::Runtime;

fn main() -> ExitCode {
    bench_harness::main::<Options>(run)
}

/// Tasks, and pool connections, for the point selects (and pgbench's clients).
const TASKS: usize = 10;

fn run(options: Options) -> anyhow::Result<()> {
    let postgres = external_tools::require("PostgreSQL", Postgres::start());
    let scratch = tempfile::tempdir()?;
    let sqlite_url = format!(
        "sqlite:{}?mode=rwc",
        scratch.path().join("bench.db").display()
    );
    let (runtime_name, runtime) = bench_harness::runtime(2)?;
    let pools = runtime.block_on(Pools::open(postgres.as_ref(), &sqlite_url))?;
    inserts(&options, &runtime, runtime_name, &pools)?;
    selects(&options, &runtime, runtime_name, &pools, postgres.as_ref())?;
    Ok(())
}

/// The databases under test, migrated by the pattern's own `connect`.
struct Pools {
    pg: Option<PgPool>,
    pg_any: Option<sqlx::AnyPool>,
    pg_url: Option<String>,
    sqlite: SqlitePool,
    sqlite_path: String,
}

impl Pools {
    async fn open(postgres: Option<&Postgres>, sqlite_url: &str) -> anyhow::Result<Self> {
        let config = PoolConfig {
            max_connections: TASKS as u32,
            ..PoolConfig::default()
        };
        database::connect(sqlite_url, config).await?.close().await;
        let sqlite = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(TASKS as u32)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA busy_timeout = 5000")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .connect(sqlite_url)
            .await?;
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
            sqlite_path,
        })
    }
}

/// `n` distinct users: names and emails as two columns.
fn rows(n: usize) -> (Vec<String>, Vec<String>) {
    (0..n)
        .map(|i| (format!("user {i}"), format!("u{i}@example.com")))
        .unzip()
}

// ANCHOR: inserts
async fn pg_one_by_one(pool: &PgPool, names: &[String], emails: &[String]) -> sqlx::Result<()> {
    for (name, email) in names.iter().zip(emails) {
        sqlx::query("INSERT INTO users (name, email) VALUES ($1, $2)")
            .bind(name)
            .bind(email)
            .execute(pool)
            .await?;
    }
    Ok(())
}

async fn pg_in_one_transaction(
    pool: &PgPool,
    names: &[String],
    emails: &[String],
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    for (name, email) in names.iter().zip(emails) {
        sqlx::query("INSERT INTO users (name, email) VALUES ($1, $2)")
            .bind(name)
            .bind(email)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Every row in one statement: two arrays bound as two parameters, unnested by the server.
async fn pg_batched(pool: &PgPool, names: &[String], emails: &[String]) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO users (name, email) SELECT * FROM UNNEST($1::text[], $2::text[])")
        .bind(names)
        .bind(emails)
        .execute(pool)
        .await?;
    Ok(())
}
// ANCHOR_END: inserts

async fn sqlite_one_by_one(
    pool: &SqlitePool,
    names: &[String],
    emails: &[String],
) -> sqlx::Result<()> {
    for (name, email) in names.iter().zip(emails) {
        sqlx::query("INSERT INTO users (name, email) VALUES ($1, $2)")
            .bind(name)
            .bind(email)
            .execute(pool)
            .await?;
    }
    Ok(())
}

async fn sqlite_in_one_transaction(
    pool: &SqlitePool,
    names: &[String],
    emails: &[String],
) -> sqlx::Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for (name, email) in names.iter().zip(emails) {
        sqlx::query("INSERT INTO users (name, email) VALUES ($1, $2)")
            .bind(name)
            .bind(email)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// A multi-row `VALUES`, built by sqlx's `QueryBuilder` (placeholders, never pasted
/// values), in chunks under SQLite's limit of 32,766 parameters.
async fn sqlite_batched(
    pool: &SqlitePool,
    names: &[String],
    emails: &[String],
) -> sqlx::Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let rows: Vec<(&String, &String)> = names.iter().zip(emails).collect();
    for chunk in rows.chunks(10_000) {
        let mut insert = QueryBuilder::<Sqlite>::new("INSERT INTO users (name, email) ");
        insert.push_values(chunk, |mut row, (name, email)| {
            row.push_bind(*name).push_bind(*email);
        });
        insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await
}

fn inserts(
    options: &Options,
    runtime: &Runtime,
    runtime_name: &str,
    pools: &Pools,
) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "postgres-insert", options)?;
    let items = bench.items(10_000, 200, 1_000_000)?;
    let (names, emails) = rows(usize::try_from(items)?);
    let (names, emails) = (&names, &emails);
    if let Some(pg) = &pools.pg {
        let table = Table {
            empty: Box::new(|| {
                Box::pin(async {
                    let sql = "TRUNCATE users, orders, profiles RESTART IDENTITY";
                    sqlx::query(sql).execute(pg).await.map(drop)
                })
            }),
            count: Box::new(|| Box::pin(sqlx::query_scalar(COUNT).fetch_one(pg))),
        };
        let variants: [(&str, MakeInsert<'_>); 3] = [
            (
                "sqlx-postgres-one-by-one",
                Box::new(|| Box::pin(pg_one_by_one(pg, names, emails))),
            ),
            (
                "sqlx-postgres-one-transaction",
                Box::new(|| Box::pin(pg_in_one_transaction(pg, names, emails))),
            ),
            (
                "sqlx-postgres-batched",
                Box::new(|| Box::pin(pg_batched(pg, names, emails))),
            ),
        ];
        table.record(&mut bench, runtime, runtime_name, items, variants)?;
        python(&mut bench, "postgres", "insert", items, pools)?;
        bench.finish()?;
    }
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "sqlite-insert", options)?;
    let sqlite = &pools.sqlite;
    let table = Table {
        empty: Box::new(|| {
            Box::pin(async {
                let sql = "DELETE FROM users";
                sqlx::query(sql).execute(sqlite).await.map(drop)
            })
        }),
        count: Box::new(|| Box::pin(sqlx::query_scalar(COUNT).fetch_one(sqlite))),
    };
    let variants: [(&str, MakeInsert<'_>); 3] = [
        (
            "sqlx-sqlite-one-by-one",
            Box::new(|| Box::pin(sqlite_one_by_one(sqlite, names, emails))),
        ),
        (
            "sqlx-sqlite-one-transaction",
            Box::new(|| Box::pin(sqlite_in_one_transaction(sqlite, names, emails))),
        ),
        (
            "sqlx-sqlite-batched",
            Box::new(|| Box::pin(sqlite_batched(sqlite, names, emails))),
        ),
    ];
    table.record(&mut bench, runtime, runtime_name, items, variants)?;
    python(&mut bench, "sqlite", "insert", items, pools)?;
    bench.finish()
}

const COUNT: &str = "SELECT COUNT(*) FROM users";

/// How to empty the users table before a run and count its rows after, on one database.
struct Table<'a> {
    empty: MakeInsert<'a>,
    count: Box<dyn Fn() -> Count<'a> + 'a>,
}

impl<'a> Table<'a> {
    /// Measures each variant on an emptied table (emptied before the clock starts),
    /// checks that every row arrived, and records it under the bench's workload.
    fn record(
        &self,
        bench: &mut Bench,
        runtime: &Runtime,
        runtime_name: &str,
        items: u64,
        variants: [(&str, MakeInsert<'a>); 3],
    ) -> anyhow::Result<()> {
        let check = |rows: sqlx::Result<i64>| {
            anyhow::ensure!(rows? == items as i64, "rows lost");
            Ok(())
        };
        for (variant, insert) in variants {
            let make = || {
                runtime.block_on((self.empty)()).expect("empty the table");
                let insert = insert();
                async move {
                    insert.await?;
                    (self.count)().await
                }
            };
            let mut durations = measure(runtime, bench.runs(), make, check)?;
            let workload = bench.workload().to_owned();
            let record = Record::from_runs(&workload, variant, items, &mut durations);
            bench.record(record.on(runtime_name))?;
        }
        Ok(())
    }
}

/// Counts the rows.
type Count<'a> = std::pin::Pin<Box<dyn Future<Output = sqlx::Result<i64>> + 'a>>;

/// One way to insert the rows.
type Insert<'a> = std::pin::Pin<Box<dyn Future<Output = sqlx::Result<()>> + 'a>>;
/// Makes one run's insert; called once per run, before the clock starts.
type MakeInsert<'a> = Box<dyn Fn() -> Insert<'a> + 'a>;

// ANCHOR: selects
/// `TASKS` tasks, each selecting its share of ids `1..=n` one by one over the pool.
async fn select_all<F, Fut>(n: i64, select: F) -> anyhow::Result<usize>
where
    F: Fn(i64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<bool>> + Send,
{
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS as i64 {
        let select = select.clone();
        tasks.spawn(async move {
            let mut found = 0;
            let mut id = task + 1;
            while id <= n {
                found += usize::from(select(id).await?);
                id += TASKS as i64;
            }
            anyhow::Ok(found)
        });
    }
    let mut found = 0;
    for joined in tasks.join_all().await {
        found += joined?;
    }
    Ok(found)
}
// ANCHOR_END: selects

fn selects(
    options: &Options,
    runtime: &Runtime,
    runtime_name: &str,
    pools: &Pools,
    postgres: Option<&Postgres>,
) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "postgres-select", options)?;
    let items = bench.items(10_000, 200, 1_000_000)?;
    let n = i64::try_from(items)?;
    let (names, emails) = rows(usize::try_from(items)?);
    let runs = bench.runs();
    let check = |found: anyhow::Result<usize>| {
        anyhow::ensure!(found? == items as usize, "rows not found");
        Ok(())
    };
    if let (Some(pg), Some(any)) = (&pools.pg, &pools.pg_any) {
        runtime.block_on(async {
            sqlx::query("TRUNCATE users, orders, profiles RESTART IDENTITY")
                .execute(pg)
                .await?;
            pg_batched(pg, &names, &emails).await
        })?;
        let pg = pg.clone();
        let select = move |id: i64| {
            let pg = pg.clone();
            async move {
                let row: Option<(i64, String, String)> =
                    sqlx::query_as("SELECT id, name, email FROM users WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&pg)
                        .await?;
                Ok(row.is_some())
            }
        };
        let before = bench_harness::cpu_time();
        let mut durations = measure(runtime, runs, || select_all(n, select.clone()), check)?;
        let cpu = cpu_per_item(before, items * u64::from(runs + 1), false);
        bench.record(
            Record::from_runs(
                "postgres-select",
                "sqlx-postgres-10-tasks",
                items,
                &mut durations,
            )
            .on(runtime_name)
            .with_cpu(cpu),
        )?;
        let any = any.clone();
        let pattern = move |id: i64| {
            let any = any.clone();
            async move { Ok(database::user_by_id(&any, id).await?.is_some()) }
        };
        let before = bench_harness::cpu_time();
        let mut durations = measure(runtime, runs, || select_all(n, pattern.clone()), check)?;
        let cpu = cpu_per_item(before, items * u64::from(runs + 1), false);
        bench.record(
            Record::from_runs(
                "postgres-select",
                "sqlx-any-postgres-10-tasks",
                items,
                &mut durations,
            )
            .on(runtime_name)
            .with_cpu(cpu),
        )?;
        if let Some(server) = postgres {
            bench.record(pgbench_select_only(server, runs, bench.is_quick())?)?;
        }
        python(&mut bench, "postgres", "select", items, pools)?;
        bench.finish()?;
    }
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "sqlite-select", options)?;
    let sqlite = pools.sqlite.clone();
    runtime.block_on(async {
        sqlx::query("DELETE FROM users").execute(&sqlite).await?;
        sqlite_batched(&sqlite, &names, &emails).await
    })?;
    let select = move |id: i64| {
        let sqlite = sqlite.clone();
        async move {
            let row: Option<(i64, String, String)> =
                sqlx::query_as("SELECT id, name, email FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&sqlite)
                    .await?;
            Ok(row.is_some())
        }
    };
    let before = bench_harness::cpu_time();
    let mut durations = measure(runtime, runs, || select_all(n, select.clone()), check)?;
    // SQLite runs inside this process: its CPU is the engine's and the client's together.
    let cpu = cpu_per_item(before, items * u64::from(runs + 1), false);
    bench.record(
        Record::from_runs(
            "sqlite-select",
            "sqlx-sqlite-10-tasks",
            items,
            &mut durations,
        )
        .on(runtime_name)
        .with_cpu(cpu),
    )?;
    python(&mut bench, "sqlite", "select", items, pools)?;
    bench.finish()
}

/// PostgreSQL's own select-only benchmark on the same server: 10 clients, 2 threads,
/// point selects by primary key on its own table. The median transactions per second of
/// `runs` runs.
fn pgbench_select_only(server: &Postgres, runs: u32, quick: bool) -> anyhow::Result<Record> {
    let pgbench = ["pgbench"]
        .iter()
        .map(|tool| server.bin_dir().join(tool))
        .find(|path| path.is_file())
        .unwrap_or_else(|| "pgbench".into());
    let port = server.port().to_string();
    let common = [
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-U",
        external_tools::postgres::USER,
    ];
    let pgbench_run = |args: &[&str]| {
        std::process::Command::new(&pgbench)
            .args(common)
            .args(args)
            .arg("postgres")
            .env("PGPASSWORD", external_tools::postgres::PASSWORD)
            .output()
            .with_context(|| format!("cannot run {}", pgbench.display()))
    };
    let init = pgbench_run(&["-i", "-s", "1", "-q"])?;
    anyhow::ensure!(
        init.status.success(),
        "pgbench -i: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let before = bench_harness::cpu_time();
    let seconds = if quick { 1 } else { 3 };
    let mut durations = Vec::new();
    let mut transactions = Vec::new();
    for _ in 0..=runs {
        let out = pgbench_run(&[
            "-S",
            "-n",
            "-c",
            "10",
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
        ])?;
        anyhow::ensure!(
            out.status.success(),
            "pgbench -S: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let processed: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
            .and_then(|n| n.split('/').next()?.trim().parse().ok())
            .context("pgbench printed no transaction count")?;
        let tps: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|t| t.split_whitespace().next()?.parse().ok())
            .context("pgbench printed no tps")?;
        transactions.push(processed);
        durations.push(Duration::from_secs_f64(processed as f64 / tps));
    }
    let cpu = cpu_per_item(before, transactions.iter().sum(), true);
    // The first run warms up, as everywhere else.
    let mut counted: Vec<(Duration, u64)> =
        durations.into_iter().zip(transactions).skip(1).collect();
    counted.sort_by(|a, b| {
        (a.1 as f64 / a.0.as_secs_f64()).total_cmp(&(b.1 as f64 / b.0.as_secs_f64()))
    });
    let (secs, processed) = counted[(counted.len() - 1) / 2];
    let mut record = Record::from_runs(
        "postgres-select",
        "pgbench-S-10-clients",
        processed,
        &mut [secs],
    );
    record.runs = runs;
    record.allocator = None;
    Ok(record.on("pgbench").with_cpu(cpu))
}

/// CPU time per item since `before`: this process's own, or (`children`) that of the
/// child processes it waited for, such as pgbench.
fn cpu_per_item(before: Option<CpuTime>, items: u64, children: bool) -> Option<f64> {
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
fn python(
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
