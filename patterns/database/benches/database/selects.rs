//! The point selects: `TASKS` tasks over a pool, each selecting its share of the rows by
//! id, written once for any sqlx database; and PostgreSQL's own `pgbench -S` as the bound,
//! SQLite's C library in a loop for SQLite.

use std::time::Duration;

use anyhow::Context as _;
use bench_harness::{Bench, Options, Record, measure};
use external_tools::postgres::Postgres;
use sqlx::{Database, Encode, Executor, IntoArguments, PgPool, Pool, Type};
use tokio::runtime::Runtime;

use crate::bound;
use crate::inserts::{pg_batched, sqlite_batched};
use crate::{Pools, TASKS, cpu_per_item, python, rows};

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

// ANCHOR: selects_holding
/// The same selects, each task holding one connection of the pool for its whole share:
/// no acquire and release per query, as each `pgbench` client keeps its connection.
async fn select_all_holding(n: i64, pool: PgPool) -> anyhow::Result<usize> {
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS as i64 {
        let pool = pool.clone();
        tasks.spawn(async move {
            let mut conn = pool.acquire().await?;
            let (mut found, mut id) = (0, task + 1);
            while id <= n {
                let row: Option<(i64, String, String)> =
                    sqlx::query_as("SELECT id, name, email FROM users WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?;
                found += usize::from(row.is_some());
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
// ANCHOR_END: selects_holding

/// A select of one user by id on `pool`: whether the row was there.
fn select_by_id<DB>(
    pool: Pool<DB>,
) -> impl Fn(i64) -> std::pin::Pin<Box<dyn Future<Output = anyhow::Result<bool>> + Send>> + Clone
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'r> (i64, String, String): sqlx::FromRow<'r, DB::Row>,
{
    move |id: i64| {
        let pool = pool.clone();
        Box::pin(async move {
            let row: Option<(i64, String, String)> =
                sqlx::query_as("SELECT id, name, email FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&pool)
                    .await?;
            Ok(row.is_some())
        })
    }
}

pub(crate) fn selects(
    options: &Options,
    runtime: &Runtime,
    runtime_name: &str,
    pools: &Pools,
    postgres: Option<&Postgres>,
) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "postgres-select", options)?;
    let items = bench.items(10_000, 200, 1_000_000)?;
    let (names, emails) = rows(usize::try_from(items)?);
    if let (Some(pg), Some(any)) = (&pools.pg, &pools.pg_any) {
        runtime.block_on(async {
            sqlx::query("TRUNCATE users, orders, profiles RESTART IDENTITY")
                .execute(pg)
                .await?;
            pg_batched(pg, &names, &emails).await
        })?;
        let plain = select_by_id(pg.clone());
        let n = i64::try_from(items)?;
        record_selects(
            &mut bench,
            (runtime, runtime_name),
            items,
            "sqlx-postgres-10-tasks",
            || select_all(n, plain.clone()),
        )?;
        record_selects(
            &mut bench,
            (runtime, runtime_name),
            items,
            "sqlx-postgres-10-tasks-holding-a-connection",
            || select_all_holding(n, pg.clone()),
        )?;
        // The pattern's own `AnyPool` and `user_by_id`, to show what `Any` costs.
        let any = any.clone();
        let pattern = move |id: i64| {
            let any = any.clone();
            async move { Ok(database::user_by_id(&any, id).await?.is_some()) }
        };
        record_selects(
            &mut bench,
            (runtime, runtime_name),
            items,
            "sqlx-any-postgres-10-tasks",
            || select_all(n, pattern.clone()),
        )?;
        if let Some(server) = postgres {
            let (runs, quick) = (bench.runs(), bench.is_quick());
            bench.record(pgbench_select_only(server, runs, quick)?)?;
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
    // SQLite runs inside this process: its CPU is the engine's and the client's together.
    let plain = select_by_id(sqlite);
    let n = i64::try_from(items)?;
    record_selects(
        &mut bench,
        (runtime, runtime_name),
        items,
        "sqlx-sqlite-10-tasks",
        || select_all(n, plain.clone()),
    )?;
    let path = pools.sqlite_path.as_str();
    record_selects(
        &mut bench,
        (runtime, "calling-thread"),
        items,
        "bound-rusqlite-loop",
        || async move { bound::select_rows(path, n) },
    )?;
    python(&mut bench, "sqlite", "select", items, pools)?;
    bench.finish()
}

/// Measures the selects `make` starts (of ids `1..=items`), checks that each row was
/// found, and records them with this process's CPU time per select; a variant whose name
/// starts with `bound-` is recorded as the workload's bound.
fn record_selects<Fut>(
    bench: &mut Bench,
    (runtime, runtime_name): (&Runtime, &str),
    items: u64,
    variant: &str,
    make: impl FnMut() -> Fut,
) -> anyhow::Result<()>
where
    Fut: Future<Output = anyhow::Result<usize>>,
{
    let runs = bench.runs();
    let check = |found: anyhow::Result<usize>| {
        anyhow::ensure!(found? == items as usize, "rows not found");
        Ok(())
    };
    let before = bench_harness::cpu_time();
    let mut durations = measure(runtime, runs, make, check)?;
    let cpu = cpu_per_item(before, items * u64::from(runs + 1), false);
    let workload = bench.workload().to_owned();
    let record = Record::from_runs(&workload, variant, items, &mut durations);
    let record = record.on(runtime_name).with_cpu(cpu);
    bench.record(record)
}

/// PostgreSQL's own select-only benchmark on the same server: 10 clients, 2 threads,
/// prepared statements (`-M prepared`, its fastest protocol), point selects by primary
/// key on its own table. The median transactions per second of
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
            "-M",
            "prepared",
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
        "pgbench-S-prepared-10-clients",
        processed,
        &mut [secs],
    );
    record.runs = runs;
    // The spread, as the time `processed` selects take at the slowest and fastest run's rate.
    let at_rate =
        |(took, done): &(Duration, u64)| processed as f64 * took.as_secs_f64() / *done as f64;
    record.slowest_secs = counted.first().map(at_rate);
    record.fastest_secs = counted.last().map(at_rate);
    record.allocator = None;
    Ok(record.on("pgbench").with_cpu(cpu).as_bound())
}
