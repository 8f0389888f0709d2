//! `sqlite-bulk-insert`: many rows into SQLite in one call, the way each language does it
//! in bulk. sqlx's multi-row `VALUES`, the pattern's `insert_users_sqlite` (rusqlite on
//! the blocking pool), and SQLite's own loop on this thread as the bound, against
//! aiosqlite's `executemany`. Each run inserts 200,000 rows, so a run lasts long enough
//! for its time to be the insert's and not the scheduler's. The file is in memory
//! (`/dev/shm`) where the system has one: the write-ahead log's checkpoints then cost no
//! disk, which would otherwise land inside some runs and not others.

use bench_harness::{Bench, Options};
use sqlx::SqlitePool;
use tokio::runtime::Runtime;

use crate::bound::{self, Commits};
use crate::inserts::{MakeInsert, record_insert, sqlite_batched};
use crate::{Pools, python, rows};

pub(crate) fn bulk_inserts(
    options: &Options,
    runtime: &Runtime,
    runtime_name: &str,
) -> anyhow::Result<()> {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)?
    } else {
        tempfile::tempdir()?
    };
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("bulk.db").display());
    let pools = &runtime.block_on(Pools::open(None, &url))?;
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "sqlite-bulk-insert", options)?;
    let items = bench.items(200_000, 200, 2_000_000)?;
    let (names, emails) = rows(usize::try_from(items)?);
    let (names, emails) = (names.as_slice(), emails.as_slice());
    let pool: &SqlitePool = &pools.sqlite;
    // Every run starts from an empty table and write-ahead log.
    let table = (
        pool,
        &["DELETE FROM users", "PRAGMA wal_checkpoint(TRUNCATE)"][..],
    );
    let at = (runtime, runtime_name);
    let batched: MakeInsert<'_> =
        Box::new(move || Box::pin(async move { Ok(sqlite_batched(pool, names, emails).await?) }));
    let record = record_insert(&bench, at, items, table, "sqlx-sqlite-batched", &batched)?;
    bench.record(record)?;
    let path = pools.sqlite_path.clone();
    let owned = bound::pairs(names, emails);
    let blocking: MakeInsert<'_> = Box::new(|| {
        let (path, rows) = (path.clone(), owned.clone());
        Box::pin(async move { Ok(database::insert_users_sqlite(path, rows).await.map(drop)?) })
    });
    let variant = "rusqlite-spawn_blocking";
    bench.record(record_insert(&bench, at, items, table, variant, &blocking)?)?;
    let in_place: MakeInsert<'_> = Box::new(|| {
        let (path, rows) = (path.clone(), owned.clone());
        Box::pin(async move { bound::insert_rows(&path, &rows, Commits::Once) })
    });
    let variant = "bound-rusqlite-loop";
    let record = record_insert(
        &bench,
        (runtime, "calling-thread"),
        items,
        table,
        variant,
        &in_place,
    )?;
    bench.record(record.as_bound())?;
    python(&mut bench, "sqlite", "bulk-insert", items, pools)?;
    bench.finish()
}
