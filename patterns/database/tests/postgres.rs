//! The database pattern on a real PostgreSQL, started from the machine's binaries for each
//! test (skipped with a message without them; a failure under CI=true). Besides what both
//! backends share, the server's own view, `pg_stat_activity`, proves what the pattern
//! claims: connections closed, queries run at once, cancelled transactions undone.

mod common;

use std::time::Duration;

use database::{PoolConfig, ScopedConnection, connect, place_order, user_by_id, user_details};
use external_tools::postgres::Postgres;
use external_tools::require;
use patterns_core::scoped;
use sqlx::PgPool;

fn server() -> Option<Postgres> {
    require("PostgreSQL", Postgres::start())
}

/// Polls the server until `sql` (one BIGINT) returns `expected`; panics after 20 s.
async fn until(monitor: &PgPool, sql: &'static str, expected: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now: i64 = sqlx::query_scalar(sql).fetch_one(monitor).await.unwrap();
        if now == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{sql}: {now}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(server) = server() else { return };
            common::$name(&server.url()).await;
        }
    )*};
}

both_backends!(
    round_trip_and_five_at_once,
    hostile_names_are_stored_as_data,
    a_duplicate_email_is_a_typed_error,
    a_transaction_commits_all_or_nothing,
    an_exhausted_pool_is_an_error_not_a_hang,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_writers_all_commit() {
    let Some(server) = server() else { return };
    common::concurrent_writers_all_commit(&server.url(), 8).await;
}

const SCOPED: &str = "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'scoped'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_connection_is_closed_on_success_error_panic_and_cancellation() {
    let Some(server) = server() else { return };
    let url = format!("{}?application_name=scoped", server.url());
    let monitor = PgPool::connect(&server.url()).await.unwrap();
    connect(&server.url(), PoolConfig::default()).await.unwrap(); // migrations

    // Success: open while the body runs, closed after.
    let seen = scoped(ScopedConnection::open(&url).await.unwrap(), async |conn| {
        let open: i64 = sqlx::query_scalar(SCOPED).fetch_one(&mut conn.0).await?;
        Ok::<_, sqlx::Error>(open)
    })
    .await
    .unwrap();
    assert_eq!(seen, 1);
    until(&monitor, SCOPED, 0).await;

    // Error: the body fails, the connection is closed all the same.
    let failed = scoped(ScopedConnection::open(&url).await.unwrap(), async |conn| {
        sqlx::query("SELECT * FROM no_such_table")
            .execute(&mut conn.0)
            .await
    })
    .await;
    assert!(failed.is_err());
    until(&monitor, SCOPED, 0).await;

    // Panic: the release runs before the panic goes on.
    let url_for_task = url.clone();
    let panicked = tokio::spawn(async move {
        let conn = ScopedConnection::open(&url_for_task).await.unwrap();
        let _: Result<(), patterns_core::ScopeError<()>> =
            scoped(conn, async |_conn| panic!("the body panicked")).await;
    })
    .await;
    assert!(panicked.unwrap_err().is_panic());
    until(&monitor, SCOPED, 0).await;

    // Cancellation: a timeout drops the scope mid-query; the release is spawned.
    let cancelled = tokio::time::timeout(
        Duration::from_millis(300),
        scoped(ScopedConnection::open(&url).await.unwrap(), async |conn| {
            sqlx::query("SELECT pg_sleep(30)")
                .execute(&mut conn.0)
                .await
        }),
    )
    .await;
    assert!(cancelled.is_err(), "the timeout fired first");
    until(&monitor, SCOPED, 0).await;
}

/// Sessions doing anything but waiting for their next query (the monitor's own aside).
const BUSY: &str = "SELECT COUNT(*) FROM pg_stat_activity \
    WHERE state <> 'idle' AND backend_type = 'client backend' \
    AND query NOT ILIKE '%pg_stat_activity%'";

/// The pattern's pool on `server` (migrated), a monitoring pool of our own, and the id of
/// a first user, Ada.
async fn with_ada(server: &Postgres) -> (sqlx::AnyPool, PgPool, i64) {
    let pool = connect(&server.url(), PoolConfig::default()).await.unwrap();
    let monitor = PgPool::connect(&server.url()).await.unwrap();
    let ada = database::insert_user(&pool, "Ada", "ada@example.com")
        .await
        .unwrap();
    (pool, monitor, ada)
}

/// Starts `user_details` while the monitor locks its three tables, and returns once all
/// three of its queries are seen waiting for that lock: they were sent at once. Commit
/// the returned transaction to let them through.
async fn user_details_held_by_a_lock(
    pool: &sqlx::AnyPool,
    monitor: &PgPool,
    id: i64,
) -> (
    sqlx::Transaction<'static, sqlx::Postgres>,
    tokio::task::JoinHandle<Result<database::UserDetails, database::DbError>>,
) {
    let blocker = lock(
        monitor,
        "LOCK TABLE users, orders, profiles IN ACCESS EXCLUSIVE MODE",
    )
    .await;
    let details = tokio::spawn({
        let pool = pool.clone();
        async move { user_details(&pool, id).await }
    });
    until(monitor, WAITING, 3).await;
    (blocker, details)
}

/// Holds `lock` (a `LOCK TABLE ...` statement) in a transaction of the monitor's, until
/// the returned transaction is committed or dropped.
async fn lock(monitor: &PgPool, lock: &'static str) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut blocker = monitor.begin().await.unwrap();
    sqlx::query(lock).execute(&mut *blocker).await.unwrap();
    blocker
}

const WAITING: &str = "SELECT COUNT(*) FROM pg_stat_activity \
    WHERE wait_event_type = 'Lock' AND query NOT ILIKE '%pg_stat_activity%'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_details_runs_its_three_queries_at_once() {
    let Some(server) = server() else { return };
    let (pool, monitor, id) = with_ada(&server).await;
    place_order(&pool, id, "bio", &[("a", 1)]).await.unwrap();
    let (blocker, details) = user_details_held_by_a_lock(&pool, &monitor, id).await;
    blocker.commit().await.unwrap();
    let details = details.await.unwrap().unwrap();
    assert_eq!(
        (details.orders.len(), details.bio.as_deref()),
        (1, Some("bio"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_cancelled_half_way_leaves_nothing() {
    let Some(server) = server() else { return };
    let (pool, monitor, id) = with_ada(&server).await;
    // Lock `orders` only: place_order writes the profile, then waits at its first order.
    let blocker = lock(&monitor, "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE").await;
    let task = tokio::spawn({
        let pool = pool.clone();
        async move { place_order(&pool, id, "half", &[("a", 1), ("b", 2)]).await }
    });
    until(
        &monitor,
        "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO orders%'",
        1,
    )
    .await;
    task.abort(); // cancelled with its profile written, inside the transaction
    assert!(task.await.unwrap_err().is_cancelled());
    blocker.commit().await.unwrap();
    // Once no session is inside a transaction any more, nothing of the order remains.
    until(
        &monitor,
        "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE state IN ('active', 'idle in transaction') AND query NOT ILIKE '%pg_stat_activity%'",
        0,
    )
    .await;
    let profiles: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM profiles")
        .fetch_one(&monitor)
        .await
        .unwrap();
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(&monitor)
        .await
        .unwrap();
    assert_eq!((profiles, orders), (0, 0));
    assert!(
        user_by_id(&pool, id).await.unwrap().is_some(),
        "the pool still works"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_reference_runs_on_the_same_postgres() {
    let Some(python) = require("Python", external_tools::Python::find()) else {
        return;
    };
    let Some(server) = server() else { return };
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/database.py");
    let output = tokio::process::Command::from(python.script(&script))
        .args(["--database-url", &server.url()])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in [
        "connected to postgres and migrated",
        "inserted user id 1",
        "five at once: ids [2, 3, 4, 5, 6]",
        "3 orders and profile 'Wrote the first program'",
        "users still there: 8",
        "duplicate email refused: UniqueViolationError",
        "wrote nothing: 3 orders",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from:\n{stdout}");
    }
}

/// Runs the demo binary with `--database-url url`; its exit code and stderr.
async fn demo_with(url: &str) -> (Option<i32>, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_database"))
        .args(["--database-url", url])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_exits_1_with_one_clear_line_for_a_wrong_password_a_missing_database_or_a_rerun() {
    let Some(server) = server() else { return };
    let wrong_password = server.url().replace(":postgres@", ":not-the-password@");
    let missing_database = server.url_for("no_such_database");
    let cases = [
        (wrong_password.as_str(), "password authentication failed"),
        (
            missing_database.as_str(),
            "database \"no_such_database\" does not exist",
        ),
    ];
    for (url, reason) in cases {
        let (code, stderr) = demo_with(url).await;
        assert_eq!(code, Some(1), "{url}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{url}: one line, not {stderr}");
        assert!(
            stderr.starts_with("error: cannot open postgres://postgres:***@"),
            "{stderr}"
        );
        assert!(stderr.contains(reason), "{reason:?} missing from {stderr}");
        assert!(
            !stderr.contains("not-the-password"),
            "the password leaked: {stderr}"
        );
    }
    // A first run fills a fresh database; a second refuses, says why, and writes nothing.
    assert_eq!(demo_with(&server.url()).await.0, Some(0));
    let (code, stderr) = demo_with(&server.url()).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("point --database-url at a fresh one"),
        "{stderr}"
    );
    let monitor = PgPool::connect(&server.url()).await.unwrap();
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&monitor)
        .await
        .unwrap();
    assert_eq!(users, 8, "the second run wrote nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_details_dropped_mid_await_leaves_no_session_and_a_working_pool() {
    let Some(server) = server() else { return };
    let (pool, monitor, id) = with_ada(&server).await;
    let (blocker, details) = user_details_held_by_a_lock(&pool, &monitor, id).await;
    details.abort(); // dropped while all three queries wait
    assert!(details.await.unwrap_err().is_cancelled());
    blocker.commit().await.unwrap();
    until(&monitor, BUSY, 0).await;
    let again = user_details(&pool, id).await.unwrap();
    assert_eq!(again.user.name, "Ada", "the pool still answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_by_id_dropped_mid_await_leaves_the_pool_working() {
    let Some(server) = server() else { return };
    let (pool, monitor, id) = with_ada(&server).await;
    let blocker = lock(&monitor, "LOCK TABLE users IN ACCESS EXCLUSIVE MODE").await;
    let read = tokio::spawn({
        let pool = pool.clone();
        async move { user_by_id(&pool, id).await }
    });
    until(&monitor, WAITING, 1).await;
    read.abort();
    assert!(read.await.unwrap_err().is_cancelled());
    blocker.commit().await.unwrap();
    assert_eq!(user_by_id(&pool, id).await.unwrap().unwrap().name, "Ada");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inserts_dropped_mid_await_may_land_but_a_retry_never_doubles_them() {
    let Some(server) = server() else { return };
    let pool = connect(&server.url(), PoolConfig::default()).await.unwrap();
    let monitor = PgPool::connect(&server.url()).await.unwrap();
    let five: Vec<(String, String)> = (0..5)
        .map(|i| (format!("u{i}"), format!("u{i}@example.com")))
        .collect();
    let blocker = lock(&monitor, "LOCK TABLE users IN ACCESS EXCLUSIVE MODE").await;
    let inserts = tokio::spawn({
        let (pool, five) = (pool.clone(), five.clone());
        async move {
            let pairs: Vec<(&str, &str)> =
                five.iter().map(|(n, e)| (n.as_str(), e.as_str())).collect();
            database::insert_users_at_once(&pool, &pairs).await
        }
    });
    until(&monitor, WAITING, 5).await;
    inserts.abort(); // all five sent, none answered
    assert!(inserts.await.unwrap_err().is_cancelled());
    blocker.commit().await.unwrap();
    until(&monitor, BUSY, 0).await;
    // Whatever landed, retrying each insert leaves exactly one row per email.
    for (name, email) in &five {
        match database::insert_user(&pool, name, email).await {
            Ok(_) | Err(database::DbError::DuplicateEmail { .. }) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(common::count(&pool, "users").await, 5);
}
