//! The inserts, each way written once for any sqlx database: one statement per row, all
//! rows in one transaction, and one batched statement (the only part each database
//! writes its own way).

use bench_harness::{Bench, Options, Record, measure};
use external_tools::postgres::Postgres;
use sqlx::{
    Database, Encode, Executor, IntoArguments, PgPool, Pool, QueryBuilder, Sqlite, SqlitePool, Type,
};
use tokio::runtime::Runtime;

use crate::bound::{Commits, insert_rows, pairs};
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

// ANCHOR: copy
/// `COPY ... FROM STDIN` in PostgreSQL's binary format: its bulk load, in the format
/// asyncpg's `copy_records_to_table` sends. Each field goes as its length and its bytes,
/// so the server parses no text and nothing needs escaping. The server reads a whole
/// message before it parses any of it, so the rows go in messages of `COPY_CHUNK` bytes:
/// it parses one while the next is encoded and on its way.
pub(crate) async fn pg_copy(
    pool: &PgPool,
    names: &[String],
    emails: &[String],
) -> sqlx::Result<()> {
    use sqlx::postgres::PgPoolCopyExt as _;
    let mut copy = pool
        .copy_in_raw("COPY users (name, email) FROM STDIN (FORMAT binary)")
        .await?;
    let mut chunk = Vec::with_capacity(COPY_CHUNK + 1024);
    chunk.extend_from_slice(COPY_HEADER);
    for (name, email) in names.iter().zip(emails) {
        push_copy_row(&mut chunk, name, email);
        if chunk.len() >= COPY_CHUNK {
            copy.send(chunk.as_slice()).await?;
            chunk.clear();
        }
    }
    chunk.extend_from_slice(COPY_TRAILER);
    copy.send(chunk.as_slice()).await?;
    copy.finish().await?;
    Ok(())
}

/// One row: its field count, then each field's length and bytes.
fn push_copy_row(data: &mut Vec<u8>, name: &str, email: &str) {
    data.extend_from_slice(&2_i16.to_be_bytes());
    for field in [name, email] {
        let len = i32::try_from(field.len()).expect("a field under 2 GiB");
        data.extend_from_slice(&len.to_be_bytes());
        data.extend_from_slice(field.as_bytes());
    }
}
// ANCHOR_END: copy

/// The size of one `COPY` message: large enough that a message costs little, small
/// enough that the server starts parsing early.
const COPY_CHUNK: usize = 64 * 1024;
/// The binary format's signature, then two empty header fields (flags, extension length).
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end of the rows: a field count of -1.
const COPY_TRAILER: &[u8] = &(-1_i16).to_be_bytes();

/// Every row in `COPY`'s binary format, as one buffer: the bound's file.
fn copy_binary(names: &[String], emails: &[String]) -> Vec<u8> {
    let mut data = Vec::with_capacity(COPY_HEADER.len() + names.len() * 48 + 2);
    data.extend_from_slice(COPY_HEADER);
    for (name, email) in names.iter().zip(emails) {
        push_copy_row(&mut data, name, email);
    }
    data.extend_from_slice(COPY_TRAILER);
    data
}

/// The bound: the server reads the same rows from a file of its own (`COPY ... FROM
/// '<file>'`), so no client sends anything and no protocol carries them.
async fn pg_server_copy(pool: &PgPool, file: &str) -> sqlx::Result<()> {
    let sql = format!("COPY users (name, email) FROM '{file}' (FORMAT binary)");
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
    Ok(())
}

// ANCHOR: sqlite_values
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
// ANCHOR_END: sqlite_values

/// The three ways of one database as a workload's variants: `backend` names them, `empty`
/// empties the table before each run, `begin` opens the transaction, `batched` is the
/// database's one-statement insert.
struct Ways<'a, DB: Database> {
    backend: &'static str,
    pool: &'a Pool<DB>,
    empty: &'static [&'static str],
    begin: &'static str,
    batched: fn(&'a Pool<DB>, &'a [String], &'a [String]) -> Insert<'a>,
}

impl<'a, DB> Ways<'a, DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'r> (i64,): sqlx::FromRow<'r, DB::Row>,
{
    fn variants(&self, names: &'a [String], emails: &'a [String]) -> [(String, MakeInsert<'a>); 3] {
        let (pool, begin, batched) = (self.pool, self.begin, self.batched);
        let name = |way: &str| format!("sqlx-{}-{way}", self.backend);
        [
            (
                name("one-by-one"),
                Box::new(move || {
                    Box::pin(async move { Ok(one_by_one(pool, names, emails).await?) })
                }),
            ),
            (
                name("one-transaction"),
                Box::new(move || {
                    Box::pin(
                        async move { Ok(in_one_transaction(pool, begin, names, emails).await?) },
                    )
                }),
            ),
            (
                name("batched"),
                Box::new(move || batched(pool, names, emails)),
            ),
        ]
    }
}

/// Measures one way to insert on an emptied table of `pool` (emptied by the statements of
/// `empty` before the clock starts), checks that every row arrived, and records it under
/// the bench's workload.
pub(crate) fn record_insert<DB>(
    bench: &Bench,
    runtime: (&Runtime, &str),
    items: u64,
    (pool, empty): (&Pool<DB>, &'static [&'static str]),
    variant: &str,
    insert: &MakeInsert<'_>,
) -> anyhow::Result<Record>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'r> (i64,): sqlx::FromRow<'r, DB::Row>,
{
    let make = || {
        runtime.0.block_on(async {
            for statement in empty {
                sqlx::query(*statement)
                    .execute(pool)
                    .await
                    .expect("empty the table");
            }
        });
        insert()
    };
    // The rows are counted after the clock stops, as the Python side counts them: the
    // count is the check, not part of the insert.
    let check = |inserted: anyhow::Result<()>| {
        inserted?;
        let rows: i64 = runtime
            .0
            .block_on(sqlx::query_scalar(COUNT).fetch_one(pool))?;
        anyhow::ensure!(rows == items as i64, "rows lost");
        Ok(())
    };
    let mut durations = measure(runtime.0, bench.runs(), make, check)?;
    let workload = bench.workload().to_owned();
    Ok(Record::from_runs(&workload, variant, items, &mut durations).on(runtime.1))
}

pub(crate) fn inserts(
    options: &Options,
    runtime: &Runtime,
    runtime_name: &str,
    pools: &Pools,
    postgres: Option<&Postgres>,
) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "postgres-insert", options)?;
    let items = bench.items(10_000, 200, 1_000_000)?;
    let (names, emails) = rows(usize::try_from(items)?);
    let (names, emails) = (names.as_slice(), emails.as_slice());
    if let Some(pg) = &pools.pg {
        let ways = Ways {
            backend: "postgres",
            pool: pg,
            empty: &["TRUNCATE users, orders, profiles RESTART IDENTITY"],
            begin: "BEGIN",
            batched: |pool: &PgPool, names, emails| {
                Box::pin(async move { Ok(pg_batched(pool, names, emails).await?) })
            },
        };
        let table = (pg, ways.empty);
        for (variant, insert) in ways.variants(names, emails) {
            let record = record_insert(
                &bench,
                (runtime, runtime_name),
                items,
                table,
                &variant,
                &insert,
            )?;
            bench.record(record)?;
        }
        let at = (runtime, runtime_name);
        let copy: MakeInsert<'_> =
            Box::new(move || Box::pin(async move { Ok(pg_copy(pg, names, emails).await?) }));
        bench.record(record_insert(
            &bench,
            at,
            items,
            table,
            "sqlx-postgres-copy",
            &copy,
        )?)?;
        if let Some(server) = postgres {
            // The file sits in the server's data directory, which the server can read.
            let file = server.data_dir().join("bench-users.copy");
            std::fs::write(&file, copy_binary(names, emails))?;
            let file = file.display().to_string();
            anyhow::ensure!(!file.contains('\''), "{file}: a quote in the path");
            let file = file.as_str();
            let server_copy: MakeInsert<'_> =
                Box::new(move || Box::pin(async move { Ok(pg_server_copy(pg, file).await?) }));
            let variant = "bound-server-copy-from-file";
            let record = record_insert(
                &bench,
                (runtime, "server"),
                items,
                table,
                variant,
                &server_copy,
            )?;
            bench.record(record.as_bound())?;
        }
        python(&mut bench, "postgres", "insert", items, pools)?;
        bench.finish()?;
    }
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "sqlite-insert", options)?;
    let sqlite = Ways {
        backend: "sqlite",
        pool: &pools.sqlite,
        // Every run starts from an empty write-ahead log, so no run pays for the
        // checkpoint of the rows an earlier one wrote.
        empty: &["DELETE FROM users", "PRAGMA wal_checkpoint(TRUNCATE)"],
        begin: "BEGIN IMMEDIATE",
        batched: |pool: &SqlitePool, names, emails| {
            Box::pin(async move { Ok(sqlite_batched(pool, names, emails).await?) })
        },
    };
    let table = (&pools.sqlite, sqlite.empty);
    let at = (runtime, runtime_name);
    // The batched way is measured on many more rows, in `sqlite-bulk-insert`.
    for (variant, insert) in sqlite.variants(names, emails).into_iter().take(2) {
        bench.record(record_insert(&bench, at, items, table, &variant, &insert)?)?;
    }
    // One by one again, each commit waiting for the disk (`synchronous = FULL`, SQLite's
    // default) where the pattern's pool commits to the WAL: what a durable commit costs.
    let full = &pools.sqlite_full;
    let one_by_one_full: MakeInsert<'_> =
        Box::new(move || Box::pin(async move { Ok(one_by_one(full, names, emails).await?) }));
    let variant = "sqlx-sqlite-one-by-one-synchronous-full";
    let record = record_insert(&bench, at, items, table, variant, &one_by_one_full)?;
    bench.record(record)?;
    // The bound: the same commits, one per row, from SQLite's C library in a loop.
    let (path, owned) = (pools.sqlite_path.as_str(), &pairs(names, emails));
    let each_row: MakeInsert<'_> =
        Box::new(move || Box::pin(async move { insert_rows(path, owned, Commits::EachRow) }));
    let at = (runtime, "calling-thread");
    let variant = "bound-rusqlite-row-per-commit";
    bench.record(record_insert(&bench, at, items, table, variant, &each_row)?)?;
    python(&mut bench, "sqlite", "insert", items, pools)?;
    bench.finish()
}

pub(crate) const COUNT: &str = "SELECT COUNT(*) FROM users";

/// One way to insert the rows.
pub(crate) type Insert<'a> = std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>;
/// Makes one run's insert; called once per run, before the clock starts.
pub(crate) type MakeInsert<'a> = Box<dyn Fn() -> Insert<'a> + 'a>;
