//! The inserts, each way written once for any sqlx database: one statement per row, all
//! rows in one transaction, and one batched statement (the only part each database
//! writes its own way).

use bench_harness::{Bench, Options, Record, measure};
use sqlx::{
    Database, Encode, Executor, IntoArguments, PgPool, Pool, QueryBuilder, Sqlite, SqlitePool, Type,
};
use tokio::runtime::Runtime;

use crate::{Pools, python, rows};

// ANCHOR: inserts
/// One statement per row, each its own transaction.
async fn one_by_one<DB>(pool: &Pool<DB>, names: &[String], emails: &[String]) -> sqlx::Result<()>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    for (name, email) in names.iter().zip(emails) {
        sqlx::query("INSERT INTO users (name, email) VALUES ($1, $2)")
            .bind(name)
            .bind(email)
            .execute(pool)
            .await?;
    }
    Ok(())
}

// ANCHOR_END: inserts

// ANCHOR: inserts_together
/// The same statements in one transaction, opened by `begin` (SQLite's `BEGIN IMMEDIATE`
/// takes the write lock at once, instead of at the first insert).
async fn in_one_transaction<DB>(
    pool: &Pool<DB>,
    begin: &'static str,
    names: &[String],
    emails: &[String],
) -> sqlx::Result<()>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    let mut tx = pool.begin_with(begin).await?;
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
pub(crate) async fn pg_batched(
    pool: &PgPool,
    names: &[String],
    emails: &[String],
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO users (name, email) SELECT * FROM UNNEST($1::text[], $2::text[])")
        .bind(names)
        .bind(emails)
        .execute(pool)
        .await?;
    Ok(())
}
// ANCHOR_END: inserts_together

/// A multi-row `VALUES`, built by sqlx's `QueryBuilder` (placeholders, never pasted
/// values), in chunks under SQLite's limit of 32,766 parameters.
pub(crate) async fn sqlite_batched(
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

/// The three ways of one database as a workload's variants: `backend` names them, `empty`
/// empties the table before each run, `begin` opens the transaction, `batched` is the
/// database's one-statement insert.
struct Ways<'a, DB: Database> {
    backend: &'static str,
    pool: &'a Pool<DB>,
    empty: &'static str,
    begin: &'static str,
    batched: fn(&'a Pool<DB>, &'a [String], &'a [String]) -> Insert<'a>,
}

impl<'a, DB> Ways<'a, DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    /// Measures each way on an emptied table (emptied before the clock starts), checks
    /// that every row arrived, and records it under the bench's workload.
    fn record(
        &self,
        bench: &mut Bench,
        runtime: &Runtime,
        runtime_name: &str,
        items: u64,
        (names, emails): (&'a [String], &'a [String]),
    ) -> anyhow::Result<()>
    where
        for<'r> (i64,): sqlx::FromRow<'r, DB::Row>,
    {
        let (pool, empty) = (self.pool, self.empty);
        let check = |rows: sqlx::Result<i64>| {
            anyhow::ensure!(rows? == items as i64, "rows lost");
            Ok(())
        };
        for (variant, insert) in self.variants(names, emails) {
            let make = || {
                let emptied = sqlx::query(empty).execute(pool);
                runtime.block_on(emptied).expect("empty the table");
                let insert = insert();
                async move {
                    insert.await?;
                    sqlx::query_scalar(COUNT).fetch_one(pool).await
                }
            };
            let mut durations = measure(runtime, bench.runs(), make, check)?;
            let workload = bench.workload().to_owned();
            let record = Record::from_runs(&workload, &variant, items, &mut durations);
            bench.record(record.on(runtime_name))?;
        }
        Ok(())
    }

    fn variants(&self, names: &'a [String], emails: &'a [String]) -> [(String, MakeInsert<'a>); 3] {
        let (pool, begin, batched) = (self.pool, self.begin, self.batched);
        let name = |way: &str| format!("sqlx-{}-{way}", self.backend);
        [
            (
                name("one-by-one"),
                Box::new(move || Box::pin(one_by_one(pool, names, emails))),
            ),
            (
                name("one-transaction"),
                Box::new(move || Box::pin(in_one_transaction(pool, begin, names, emails))),
            ),
            (
                name("batched"),
                Box::new(move || batched(pool, names, emails)),
            ),
        ]
    }
}

pub(crate) fn inserts(
    options: &Options,
    runtime: &Runtime,
    runtime_name: &str,
    pools: &Pools,
) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "postgres-insert", options)?;
    let items = bench.items(10_000, 200, 1_000_000)?;
    let (names, emails) = rows(usize::try_from(items)?);
    let (names, emails) = (names.as_slice(), emails.as_slice());
    if let Some(pg) = &pools.pg {
        let postgres = Ways {
            backend: "postgres",
            pool: pg,
            empty: "TRUNCATE users, orders, profiles RESTART IDENTITY",
            begin: "BEGIN",
            batched: |pool: &PgPool, names, emails| Box::pin(pg_batched(pool, names, emails)),
        };
        postgres.record(&mut bench, runtime, runtime_name, items, (names, emails))?;
        python(&mut bench, "postgres", "insert", items, pools)?;
        bench.finish()?;
    }
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "sqlite-insert", options)?;
    let sqlite = Ways {
        backend: "sqlite",
        pool: &pools.sqlite,
        empty: "DELETE FROM users",
        begin: "BEGIN IMMEDIATE",
        batched: |pool: &SqlitePool, names, emails| Box::pin(sqlite_batched(pool, names, emails)),
    };
    sqlite.record(&mut bench, runtime, runtime_name, items, (names, emails))?;
    python(&mut bench, "sqlite", "insert", items, pools)?;
    bench.finish()
}

const COUNT: &str = "SELECT COUNT(*) FROM users";

/// One way to insert the rows.
type Insert<'a> = std::pin::Pin<Box<dyn Future<Output = sqlx::Result<()>> + 'a>>;
/// Makes one run's insert; called once per run, before the clock starts.
type MakeInsert<'a> = Box<dyn Fn() -> Insert<'a> + 'a>;
