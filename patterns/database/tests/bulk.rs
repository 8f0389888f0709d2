//! The bulk insert on SQLite: every row or none, a duplicate named, a missing file or
//! table refused without creating anything, the runtime free while SQLite works, and a
//! dropped call that still runs to its end on the blocking pool.

mod common;

use std::time::Duration;

use database::{DbError, PoolConfig, begin_write, connect, insert_users_sqlite, user_by_id};

const SOON: Duration = Duration::from_millis(300);

/// A migrated SQLite file in a fresh directory: the directory, the file, its URL.
fn fresh() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    let url = format!("sqlite:{}?mode=rwc", path.display());
    (dir, path, url)
}

fn users(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("user {i}"), format!("u{i}@example.com")))
        .collect()
}

#[tokio::test]
async fn every_row_lands_in_order_and_is_counted() {
    let (_dir, path, url) = fresh();
    let pool = connect(&url, PoolConfig::default()).await.unwrap();
    assert_eq!(insert_users_sqlite(&path, users(1000)).await.unwrap(), 1000);
    assert_eq!(common::count(&pool, "users").await, 1000);
    // Ids follow the input's order.
    let last = user_by_id(&pool, 1000).await.unwrap().unwrap();
    assert_eq!(
        (last.name.as_str(), last.email.as_str()),
        ("user 999", "u999@example.com")
    );
    assert_eq!(insert_users_sqlite(&path, Vec::new()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_duplicate_email_is_named_and_leaves_the_table_as_it_was() {
    let (_dir, path, url) = fresh();
    let pool = connect(&url, PoolConfig::default()).await.unwrap();
    insert_users_sqlite(&path, users(3)).await.unwrap();
    // The 500th row repeats an email already stored: the 499 before it roll back too.
    let mut batch: Vec<(String, String)> = users(1000).split_off(3);
    batch.insert(499, ("again".to_owned(), "u1@example.com".to_owned()));
    match insert_users_sqlite(&path, batch).await {
        Err(DbError::DuplicateEmail { email }) => assert_eq!(email, "u1@example.com"),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert_eq!(common::count(&pool, "users").await, 3);
}

#[tokio::test]
async fn a_missing_file_or_table_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.db");
    let error = insert_users_sqlite(&missing, users(1)).await.unwrap_err();
    assert!(matches!(error, DbError::Sqlite(_)), "{error:?}");
    assert!(error.to_string().starts_with("sqlite: "), "{error}");
    assert!(
        !missing.exists(),
        "a mistyped path must not become a database"
    );

    let empty = dir.path().join("empty.db");
    std::fs::File::create(&empty).unwrap();
    let error = insert_users_sqlite(&empty, users(1)).await.unwrap_err();
    assert!(
        error.to_string().contains("no such table: users"),
        "{error}"
    );
}

/// On a runtime of one thread, a query runs while the bulk insert waits for a lock:
/// SQLite's loop is on the blocking pool, not on the runtime's thread.
#[tokio::test(flavor = "current_thread")]
async fn the_runtime_serves_other_tasks_while_the_insert_waits() {
    let (_dir, path, url) = fresh();
    let pool = connect(&url, PoolConfig::default()).await.unwrap();
    let lock = begin_write(&pool).await.unwrap();
    let insert = tokio::spawn(insert_users_sqlite(path, users(10)));
    let seen = tokio::time::timeout(Duration::from_secs(2), user_by_id(&pool, 1))
        .await
        .expect("a read on the runtime's only thread while the insert waits")
        .unwrap();
    assert_eq!(seen, None);
    assert!(!insert.is_finished(), "the insert waits for the lock");
    lock.rollback().await.unwrap();
    assert_eq!(insert.await.unwrap().unwrap(), 10);
}

/// Dropped while it waits for a lock, the insert goes on: once the lock is free, every
/// row lands. The runtime's drop waits for its blocking pool, so the count is final.
#[test]
fn a_dropped_insert_still_runs_to_its_end() {
    let (_dir, path, url) = fresh();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pool = connect(&url, PoolConfig::default()).await.unwrap();
        let lock = begin_write(&pool).await.unwrap();
        cancel_check::drop_pending_after(
            insert_users_sqlite(&path, users(100)),
            tokio::time::sleep(SOON),
        )
        .await;
        lock.rollback().await.unwrap();
        pool.close().await;
    });
    drop(runtime);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pool = connect(&url, PoolConfig::default()).await.unwrap();
        assert_eq!(common::count(&pool, "users").await, 100);
    });
}

/// Only the unique email becomes `DuplicateEmail`: another constraint's refusal (here a
/// CHECK on a table made by hand) is SQLite's own error, and rolls back all the same.
#[tokio::test]
async fn another_constraint_is_reported_as_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checked.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, \
         name TEXT NOT NULL CHECK (length(name) < 8), email TEXT NOT NULL UNIQUE)",
    )
    .unwrap();
    let rows = vec![
        ("Ada".to_owned(), "ada@example.com".to_owned()),
        ("far too long".to_owned(), "long@example.com".to_owned()),
    ];
    let error = insert_users_sqlite(&path, rows).await.unwrap_err();
    assert!(matches!(error, DbError::Sqlite(_)), "{error:?}");
    assert!(
        error.to_string().contains("CHECK constraint failed"),
        "{error}"
    );
    let count: i64 = conn
        .query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count, 0, "Ada's row rolled back with the batch");
}
