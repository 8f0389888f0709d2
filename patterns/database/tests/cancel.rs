//! The database functions dropped mid-await on SQLite (nothing to install): a held write
//! lock makes the writers wait, so each is dropped while it waits; the readers are dropped
//! after their first poll. Afterwards the pool still serves, no lock is left held, and
//! what was written is all or nothing, as each `# Cancel safety` section says. (PostgreSQL
//! drops, cancelled transactions among them, are in `postgres.rs`.)

mod common;

use std::time::Duration;

use database::{
    PoolConfig, ScopedConnection, begin_write, checked, connect, insert_user, insert_users_at_once,
    place_order, user_by_id, user_details,
};
use tokio::time::timeout;

const SOON: Duration = Duration::from_millis(300);

fn fresh() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("test.db").display());
    (dir, url)
}

/// A pool of one connection, so a connection lost by a drop would starve the next query.
fn one_connection() -> PoolConfig {
    PoolConfig {
        max_connections: 1,
        ..PoolConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_dropped_while_waiting_for_the_lock_write_all_or_nothing() {
    let (_dir, url) = fresh();
    let pool = connect(&url, PoolConfig::default()).await.unwrap();
    let ada = insert_user(&pool, "Ada", "ada@example.com").await.unwrap();
    let lock = begin_write(&pool).await.unwrap(); // every other writer waits for this
    cancel_check::drop_pending_after(begin_write(&pool), tokio::time::sleep(SOON)).await;
    cancel_check::drop_pending_after(
        place_order(&pool, ada, "bio", &[("a", 1)]),
        tokio::time::sleep(SOON),
    )
    .await;
    cancel_check::drop_pending_after(
        insert_user(&pool, "Bob", "bob@example.com"),
        tokio::time::sleep(SOON),
    )
    .await;
    let pairs = [("Cy", "cy@example.com"), ("Di", "di@example.com")];
    cancel_check::drop_pending_after(
        insert_users_at_once(&pool, &pairs),
        tokio::time::sleep(SOON),
    )
    .await;
    lock.rollback().await.unwrap();
    // Closing waits for every connection in use: anything still running behind a dropped
    // future has finished by then, so the counts below are final.
    pool.close().await;
    let pool = connect(&url, PoolConfig::default()).await.unwrap();
    // No dropped begin kept the lock: a writer gets it at once.
    timeout(Duration::from_secs(5), begin_write(&pool))
        .await
        .expect("the lock is free")
        .unwrap()
        .rollback()
        .await
        .unwrap();
    assert_eq!(
        common::count(&pool, "profiles").await,
        0,
        "the order: nothing"
    );
    assert_eq!(common::count(&pool, "orders").await, 0);
    // A dropped insert may or may not have landed; retrying leaves exactly one row.
    for (name, email) in [("Bob", "bob@example.com"), pairs[0], pairs[1]] {
        match insert_user(&pool, name, email).await {
            Ok(_) | Err(database::DbError::DuplicateEmail { .. }) => {}
            Err(other) => panic!("{other}"),
        }
    }
    let emails: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT email) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((common::count(&pool, "users").await, emails), (4, 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_dropped_while_waiting_leave_the_pool_serving() {
    let (_dir, url) = fresh();
    let pool = connect(&url, one_connection()).await.unwrap();
    let ada = insert_user(&pool, "Ada", "ada@example.com").await.unwrap();
    // The pool's one connection is taken, so each read waits for it when it is dropped.
    // (A read on a free connection may finish at its first poll: SQLite answers from a
    // thread of its own, and nothing would be left to drop.)
    let held = pool.acquire().await.unwrap();
    for _ in 0..3 {
        cancel_check::drop_pending(user_by_id(&pool, ada)).await;
        cancel_check::drop_pending(user_details(&pool, ada)).await;
    }
    drop(held);
    let user = timeout(Duration::from_secs(5), user_by_id(&pool, ada))
        .await
        .expect("the one connection came back")
        .unwrap();
    assert_eq!(user.map(|u| u.name).as_deref(), Some("Ada"));
    let sqlite = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let held = sqlite.acquire().await.unwrap();
    cancel_check::drop_pending(checked::spending(&sqlite, ada)).await;
    drop(held);
    let spent = timeout(Duration::from_secs(5), checked::spending(&sqlite, ada))
        .await
        .expect("the one connection came back")
        .unwrap()
        .unwrap();
    assert_eq!(spent.total_cents, 0);
}

/// A server that accepts connections and never answers: a connect to it waits in the
/// handshake. Returns its URL and the listener.
async fn silent_server() -> (String, tokio::net::TcpListener) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "postgres://user:secret@{}/db",
        listener.local_addr().unwrap()
    );
    (url, listener)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_dropped_half_way_closes_the_socket_and_can_be_tried_again() {
    use tokio::io::AsyncReadExt;
    let (silent, listener) = silent_server().await;
    cancel_check::drop_pending(connect(&silent, PoolConfig::default())).await;
    cancel_check::drop_pending(ScopedConnection::open(&silent)).await;
    // Each half-open connection was closed by the drop: the server reads to its end.
    for _ in 0..2 {
        let (mut accepted, _) = timeout(Duration::from_secs(5), listener.accept())
            .await
            .expect("the connect reached the server")
            .unwrap();
        let mut rest = Vec::new();
        let closed = timeout(Duration::from_secs(5), accepted.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "the socket was closed with the future");
    }
    let (_dir, url) = fresh();
    let pool = connect(&url, PoolConfig::default()).await.unwrap();
    insert_user(&pool, "Ada", "ada@example.com").await.unwrap();
    ScopedConnection::open(&url).await.unwrap();
}

/// What a `place_order` dropped during its commit leaves the caller: no way to know
/// whether the order was written. Retried blindly after it was, the retry fails on the
/// profile's primary key and writes nothing more, so the caller must read before retrying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_place_order_retried_after_its_commit_fails_and_writes_nothing_more() {
    let (_dir, url) = fresh();
    let pool = connect(&url, PoolConfig::default()).await.unwrap();
    let ada = insert_user(&pool, "Ada", "ada@example.com").await.unwrap();
    let items = [("lamp", 1200), ("desk", 9900)];
    place_order(&pool, ada, "bio", &items).await.unwrap();
    let retry = place_order(&pool, ada, "bio", &items).await;
    let error = retry.expect_err("the profile exists already").to_string();
    assert!(error.to_lowercase().contains("unique"), "{error}");
    assert_eq!(
        common::count(&pool, "orders").await,
        2,
        "the retry wrote nothing"
    );
    let details = user_details(&pool, ada).await.unwrap();
    assert_eq!(details.orders.len(), 2, "what to read before retrying");
}
