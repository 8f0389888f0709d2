//! What both backends must do, written once; `sqlite.rs` and `postgres.rs` run it on their
//! database. Each function takes a fresh database's URL.

#![allow(dead_code, unreachable_pub)] // each test file uses its own share

use std::time::Duration;

use database::{
    DbError, PoolConfig, connect, insert_user, insert_users_at_once, place_order, user_by_id,
    user_details,
};

pub async fn count(pool: &sqlx::AnyPool, table: &str) -> i64 {
    let sql = match table {
        "users" => "SELECT COUNT(*) FROM users",
        "orders" => "SELECT COUNT(*) FROM orders",
        "profiles" => "SELECT COUNT(*) FROM profiles",
        _ => panic!("no table {table}"),
    };
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

pub async fn round_trip_and_five_at_once(url: &str) {
    let pool = connect(url, PoolConfig::default()).await.unwrap();
    let id = insert_user(&pool, "Ada", "ada@example.com").await.unwrap();
    let ada = user_by_id(&pool, id).await.unwrap().unwrap();
    assert_eq!(
        (ada.name.as_str(), ada.email.as_str()),
        ("Ada", "ada@example.com")
    );
    assert_eq!(user_by_id(&pool, id + 100).await.unwrap(), None);
    let five: Vec<(String, String)> = (0..5)
        .map(|i| (format!("u{i}"), format!("u{i}@example.com")))
        .collect();
    let pairs: Vec<(&str, &str)> = five.iter().map(|(n, e)| (n.as_str(), e.as_str())).collect();
    let mut ids = insert_users_at_once(&pool, &pairs).await.unwrap();
    // In input order: the id of u0 belongs to u0, whatever order the inserts landed in.
    for (id, (name, _)) in ids.iter().zip(&five) {
        assert_eq!(&user_by_id(&pool, *id).await.unwrap().unwrap().name, name);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    assert_eq!(count(&pool, "users").await, 6);
}

pub async fn hostile_names_are_stored_as_data(url: &str) {
    let pool = connect(url, PoolConfig::default()).await.unwrap();
    for (i, hostile) in [
        "'; DROP TABLE users; --",
        "' OR '1'='1",
        "Robert'); DROP TABLE orders;--",
    ]
    .into_iter()
    .enumerate()
    {
        let id = insert_user(&pool, hostile, &format!("h{i}@example.com"))
            .await
            .unwrap();
        assert_eq!(user_by_id(&pool, id).await.unwrap().unwrap().name, hostile);
    }
    // The tables are intact, and `' OR '1'='1` as a bound id matches nothing.
    assert_eq!(count(&pool, "users").await, 3);
    assert_eq!(count(&pool, "orders").await, 0);
    let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind("' OR '1'='1")
        .fetch_optional(&pool)
        .await
        .unwrap();
    assert_eq!(found, None);
}

pub async fn a_duplicate_email_is_a_typed_error(url: &str) {
    let pool = connect(url, PoolConfig::default()).await.unwrap();
    insert_user(&pool, "Ada", "ada@example.com").await.unwrap();
    let again = insert_user(&pool, "Imposter", "ada@example.com").await;
    assert!(
        matches!(&again, Err(DbError::DuplicateEmail { email }) if email == "ada@example.com"),
        "{again:?}"
    );
    assert_eq!(count(&pool, "users").await, 1);
}

pub async fn a_transaction_commits_all_or_nothing(url: &str) {
    let pool = connect(url, PoolConfig::default()).await.unwrap();
    let id = insert_user(&pool, "Ada", "ada@example.com").await.unwrap();
    place_order(&pool, id, "bio", &[("a", 1), ("b", 2)])
        .await
        .unwrap();
    let details = user_details(&pool, id).await.unwrap();
    assert_eq!(
        (details.orders.len(), details.bio.as_deref()),
        (2, Some("bio"))
    );
    // A second profile for the same user violates its primary key after the first order
    // row would be written: nothing of this call stays.
    let failed = place_order(&pool, id, "again", &[("c", 3)]).await;
    assert!(failed.is_err(), "{failed:?}");
    let unknown = place_order(&pool, 999, "nobody", &[("d", 4)]).await;
    assert!(
        matches!(unknown, Err(DbError::NoSuchUser(999))),
        "{unknown:?}"
    );
    assert_eq!(
        (count(&pool, "orders").await, count(&pool, "profiles").await),
        (2, 1)
    );
}

pub async fn an_exhausted_pool_is_an_error_not_a_hang(url: &str) {
    let config = PoolConfig {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(300),
        ..PoolConfig::default()
    };
    let pool = connect(url, config).await.unwrap();
    let held = pool.acquire().await.unwrap();
    let waited = pool.acquire().await;
    assert!(
        matches!(waited, Err(sqlx::Error::PoolTimedOut)),
        "{waited:?}"
    );
    drop(held);
    assert!(
        pool.acquire().await.is_ok(),
        "the connection came back to the pool"
    );
}

/// `writers` users, each getting a profile and orders in their own transaction, all at
/// once on a pool of that many connections: every transaction must commit.
pub async fn concurrent_writers_all_commit(url: &str, writers: usize) {
    let config = PoolConfig {
        max_connections: u32::try_from(writers).unwrap(),
        ..PoolConfig::default()
    };
    let pool = connect(url, config).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..writers {
        ids.push(
            insert_user(&pool, "w", &format!("w{i}@example.com"))
                .await
                .unwrap(),
        );
    }
    let results = futures::future::join_all(
        ids.iter()
            .map(|id| place_order(&pool, *id, "writer", &[("x", 1), ("y", 2), ("z", 3)])),
    )
    .await;
    let failures: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| e.to_string())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {writers} failed: {failures:?}",
        failures.len()
    );
    assert_eq!(count(&pool, "orders").await, 3 * writers as i64);
}
