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
