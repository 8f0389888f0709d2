//! The database pattern on SQLite: a fresh file per test, nothing to install.

mod common;

/// A new SQLite file in its own temporary directory (kept alive by the returned guard).
fn fresh() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("test.db").display());
    (dir, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_and_five_at_once() {
    let (_dir, url) = fresh();
    common::round_trip_and_five_at_once(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_are_stored_as_data() {
    let (_dir, url) = fresh();
    common::hostile_names_are_stored_as_data(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_email_is_a_typed_error() {
    let (_dir, url) = fresh();
    common::a_duplicate_email_is_a_typed_error(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_commits_all_or_nothing() {
    let (_dir, url) = fresh();
    common::a_transaction_commits_all_or_nothing(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_is_an_error_not_a_hang() {
    let (_dir, url) = fresh();
    common::an_exhausted_pool_is_an_error_not_a_hang(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_writers_all_commit_without_database_is_locked() {
    let (_dir, url) = fresh();
    common::concurrent_writers_all_commit(&url, 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compile_checked_query_reads_what_the_any_pool_wrote() {
    let (_dir, url) = fresh();
    let pool = database::connect(&url, database::PoolConfig::default())
        .await
        .unwrap();
    let id = database::insert_user(&pool, "Ada", "ada@example.com")
        .await
        .unwrap();
    let idle = database::insert_user(&pool, "Idle", "idle@example.com")
        .await
        .unwrap();
    database::place_order(&pool, id, "bio", &[("a", 250), ("b", 10)])
        .await
        .unwrap();
    let sqlite = sqlx::SqlitePool::connect(&url).await.unwrap();
    let spent = database::checked::spending(&sqlite, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((spent.name.as_str(), spent.total_cents), ("Ada", 260));
    let nothing = database::checked::spending(&sqlite, idle)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        nothing.total_cents, 0,
        "no orders: COALESCE gives 0, not NULL"
    );
    assert_eq!(
        database::checked::spending(&sqlite, 999).await.unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn begin_write_dropped_while_waiting_for_the_lock_leaves_the_pool_usable() {
    let (_dir, url) = fresh();
    let pool = database::connect(&url, database::PoolConfig::default())
        .await
        .unwrap();
    // Another connection holds SQLite's write lock.
    let holder = sqlx::SqlitePool::connect(&url).await.unwrap();
    let mut held = holder.begin_with("BEGIN IMMEDIATE").await.unwrap();
    let waiting = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        database::begin_write(&pool),
    )
    .await;
    assert!(
        waiting.is_err(),
        "begin_write must wait for the lock, and was dropped waiting"
    );
    sqlx::query("INSERT INTO users (name, email) VALUES ('held', 'held@example.com')")
        .execute(&mut *held)
        .await
        .unwrap();
    held.commit().await.unwrap();
    // Nothing of the dropped transaction lingers: a writer gets the lock and commits.
    let mut tx = database::begin_write(&pool).await.unwrap();
    database::insert_user(&mut *tx, "Ada", "ada@example.com")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(common::count(&pool, "users").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_dropped_at_any_point_leaves_a_database_the_next_connect_opens() {
    let (_dir, url) = fresh();
    // Cut connect short at several points (before, during and after migrating); each
    // time, the next connect must find or finish the schema, never a broken one.
    for micros in [0, 200, 1_000, 5_000, 20_000] {
        let cut = tokio::time::timeout(
            std::time::Duration::from_micros(micros),
            database::connect(&url, database::PoolConfig::default()),
        )
        .await;
        drop(cut);
        let pool = database::connect(&url, database::PoolConfig::default())
            .await
            .unwrap();
        assert_eq!(
            common::count(&pool, "users").await,
            0,
            "after a cut at {micros} µs"
        );
        pool.close().await;
    }
}

/// Only a unique violation is a duplicate email. Any other refusal from the database (here
/// a read-only file) stays the driver's error, with its own message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_database_error_is_not_called_a_duplicate() {
    use sqlx::Connection as _;
    let (_dir, url) = fresh();
    let pool = database::connect(&url, database::PoolConfig::default())
        .await
        .unwrap();
    pool.close().await;
    sqlx::any::install_default_drivers();
    let read_only = url.replace("mode=rwc", "mode=ro");
    let mut conn = sqlx::AnyConnection::connect(&read_only).await.unwrap();
    let refused = database::insert_user(&mut conn, "ada", "ada@example.com").await;
    match refused {
        Err(database::DbError::Sqlx(sqlx::Error::Database(error))) => {
            assert!(error.message().contains("readonly"), "{error}");
        }
        other => panic!("expected the driver's read-only error, got {other:?}"),
    }
}
