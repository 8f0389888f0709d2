//! Bad input is a clear, typed error, fast: an unknown scheme, a server that never answers
//! (within the connect timeout, naming host and port, under paused time), a refused
//! connection, and a NULL read where a value was expected.

use std::time::Duration;

use database::{DbError, PoolConfig, connect};
use fixture_server::Blackhole;

#[tokio::test]
async fn an_unknown_scheme_is_refused_before_any_io() {
    let error = connect("mysql://root@localhost/db", PoolConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(error, DbError::UnknownScheme { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "mysql://root@localhost/db: only sqlite: and postgres: URLs are supported"
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_fails_at_the_connect_timeout_naming_host_and_port() {
    let hole = Blackhole::start().await.unwrap();
    let url = format!("postgres://postgres:secret@{}/postgres", hole.addr());
    let started = tokio::time::Instant::now();
    let error = connect(&url, PoolConfig::default()).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    let expected = format!("{}: no answer within 5s", hole.addr());
    assert_eq!(error.to_string(), expected);
    assert!(
        !format!("{error:?}").contains("secret"),
        "the password leaked: {error:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_reported_as_such_at_once() {
    let error = connect(
        "postgres://postgres:secret@127.0.0.1:1/postgres",
        PoolConfig::default(),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("Connection refused"), "{error}");
}

#[tokio::test]
async fn a_null_where_a_value_was_expected_is_a_decode_error_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("t.db").display());
    let pool = connect(&url, PoolConfig::default()).await.unwrap();
    let read: Result<String, _> = sqlx::query_scalar("SELECT NULL").fetch_one(&pool).await;
    let error = read.unwrap_err();
    assert!(
        matches!(error, sqlx::Error::ColumnDecode { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("got Null"), "{error}");
    let as_option: Option<String> = sqlx::query_scalar("SELECT NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(as_option, None, "an Option reads the NULL");
}

/// The demo's exit code and what it wrote to stderr, run with `--database-url url`.
fn demo_with(url: &str) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_database"))
        .args(["--database-url", url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    (output.status.code(), stderr)
}

#[test]
fn the_demo_exits_1_with_one_line_for_an_unknown_scheme() {
    let (code, stderr) = demo_with("mysql://root:secret@localhost/db");
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        stderr,
        "error: mysql://root:***@localhost/db: only sqlite: and postgres: URLs are supported"
    );
}

#[tokio::test(start_paused = true)]
async fn opening_a_connection_dropped_while_the_server_never_answers_returns_at_once() {
    let hole = Blackhole::start().await.unwrap();
    let url = format!("postgres://postgres:secret@{}/postgres", hole.addr());
    let started = tokio::time::Instant::now();
    let cut = tokio::time::timeout(
        Duration::from_secs(1),
        database::ScopedConnection::open(&url),
    )
    .await;
    assert!(cut.is_err(), "the open was still waiting, and was dropped");
    assert_eq!(started.elapsed(), Duration::from_secs(1));
}

#[test]
fn the_demo_refuses_an_in_memory_sqlite_database_with_one_line() {
    for url in ["sqlite::memory:", "sqlite:demo?mode=memory"] {
        let (code, stderr) = demo_with(url);
        assert_eq!(code, Some(1), "{url}: {stderr}");
        assert_eq!(
            stderr,
            format!(
                "error: {url}: an in-memory SQLite database lives in one connection, and the \
                 demo opens several; give a file, such as sqlite:demo.db?mode=rwc"
            )
        );
    }
}
