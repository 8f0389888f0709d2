//! Demo: the tutorials' database examples on SQLite (a file in a temporary directory, so it
//! runs anywhere with nothing installed), or on PostgreSQL by URL.
//!
//! ```text
//! cargo run -p database
//! just postgres   # prints a URL for a local server
//! cargo run -p database -- --database-url postgres://postgres:postgres@127.0.0.1:54329/postgres
//! ```

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use database::{
    Backend, DbError, PoolConfig, ScopedConnection, connect, insert_user, insert_users_at_once,
    insert_users_sqlite, place_order, user_by_id, user_details,
};
use patterns_core::{app, scoped};
use sqlx::AnyPool;

/// Connect, migrate, insert, select, insert five at once, fetch a user's details at once,
/// bind what an attacker typed, refuse a duplicate, use a scoped connection.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// A sqlite: or postgres: URL (default: a new SQLite file in a temporary directory).
    /// PostgreSQL: the demo's tables must not exist yet (use a fresh database).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Connections in the pool.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pool_size: u32,
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    // The temporary directory lives until the end of the demo, then goes with its file.
    let scratch = tempfile::tempdir()?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!(
            "sqlite:{}?mode=rwc",
            scratch.path().join("demo.db").display()
        ),
    };
    let backend = Backend::of(&url)?;
    // Each connection to `sqlite::memory:` opens a database of its own, so the pool's
    // connections, the scoped one and the checked one would each see an empty one.
    anyhow::ensure!(
        backend != Backend::Sqlite || sqlite_file(&url).is_some(),
        "{}: an in-memory SQLite database lives in one connection, and the demo opens \
         several; give a file, such as sqlite:demo.db?mode=rwc",
        database::redact(&url)
    );
    let config = PoolConfig {
        max_connections: args.pool_size,
        ..PoolConfig::default()
    };
    let pool = connect(&url, config)
        .await
        .with_context(|| format!("cannot open {}", database::redact(&url)))?;
    println!("1. connected to {backend:?} and migrated");

    let id = insert_and_fetch(&pool).await?;

    let items = [
        ("Analytical Engine", 100_000),
        ("punched cards", 250),
        ("notes", 10),
    ];
    place_order(&pool, id, "Wrote the first program", &items).await?;
    let details = user_details(&pool, id).await?;
    println!(
        "5. user {} with {} orders and profile {:?}, fetched at once",
        details.user.id,
        details.orders.len(),
        details.bio.unwrap_or_default()
    );

    hostile_input_stays_data(&pool).await?;

    match insert_user(&pool, "Ada again", "ada@example.com").await {
        Err(DbError::DuplicateEmail { email }) => {
            println!("7. duplicate email refused: {email} (a typed error to match on)");
        }
        other => anyhow::bail!("a duplicate email should be refused, got {other:?}"),
    }

    let rolled_back = place_order(&pool, 999, "nobody", &items).await;
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(&pool)
        .await?;
    println!(
        "8. a transaction for an unknown user failed ({}) and wrote nothing: {orders} orders",
        rolled_back.err().map_or("?".into(), |e| e.to_string())
    );

    let name = name_through_a_scoped_connection(&url, id).await?;
    println!("9. a connection as a scoped resource read {name:?}, then closed");

    if backend == Backend::Sqlite {
        let sqlite = sqlx::SqlitePool::connect(&url).await?;
        let spent = database::checked::spending(&sqlite, id).await?;
        let line = spent.map_or("no such user".into(), |s| {
            format!("{} spent {} cents", s.name, s.total_cents)
        });
        println!("10. a query checked at compile time (SQLite): {line}");
        sqlite.close().await;
        if let Some(path) = sqlite_file(&url) {
            bulk_insert(&pool, path).await?;
        }
    }
    pool.close().await;
    Ok(())
}

/// The file a `sqlite:` URL names (`sqlite:path`, `sqlite://path`, options after `?`), or
/// `None` for an in-memory database (`:memory:`, or `mode=memory` among the options).
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path.is_empty()
        || path == ":memory:"
        || options.split('&').any(|option| option == "mode=memory");
    (!in_memory).then(|| path.into())
}

/// Ten thousand rows in one call on SQLite's own loop, counted before and after.
async fn bulk_insert(pool: &AnyPool, path: std::path::PathBuf) -> anyhow::Result<()> {
    let count = || sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(pool);
    let before = count().await?;
    let rows: Vec<(String, String)> = (0..10_000)
        .map(|i| (format!("bulk {i}"), format!("bulk{i}@example.com")))
        .collect();
    let inserted = insert_users_sqlite(path, rows).await?;
    let after = count().await?;
    println!(
        "11. bulk insert on the blocking pool: {inserted} rows in one transaction, \
         nothing lost: {}",
        after - before == 10_000 && inserted == 10_000
    );
    Ok(())
}

// ANCHOR: demo_scoped
/// A connection of its own as a scoped resource: opened, used for one query, and closed
/// when the body ends, whatever the body did.
async fn name_through_a_scoped_connection(url: &str, id: i64) -> anyhow::Result<Option<String>> {
    let name = scoped(ScopedConnection::open(url).await?, async |conn| {
        user_by_id(&mut conn.0, id).await.map(|u| u.map(|u| u.name))
    })
    .await?;
    Ok(name)
}
// ANCHOR_END: demo_scoped

// ANCHOR: demo_basics
/// One insert, one select by id, and five inserts at once over the pool. Returns the first
/// user's id.
async fn insert_and_fetch(pool: &AnyPool) -> anyhow::Result<i64> {
    let id = match insert_user(pool, "Ada", "ada@example.com").await {
        Err(DbError::DuplicateEmail { .. }) => anyhow::bail!(
            "the demo's users are in this database already: point --database-url at a fresh one"
        ),
        other => other?,
    };
    println!("2. inserted user id {id}");
    let fetched = user_by_id(pool, id).await?;
    println!(
        "3. fetched {}",
        fetched.map_or("nothing".into(), |u| format!("{u:?}"))
    );
    let five = [
        ("Grace", "grace@example.com"),
        ("Alan", "alan@example.com"),
        ("Barbara", "barbara@example.com"),
        ("Edsger", "edsger@example.com"),
        ("Donald", "donald@example.com"),
    ];
    let mut ids = insert_users_at_once(pool, &five).await?;
    ids.sort_unstable(); // assigned in the order the inserts landed
    println!("4. five at once: ids {ids:?}");
    Ok(id)
}
// ANCHOR_END: demo_basics

// ANCHOR: demo_injection
/// Names written to break a query built by pasting strings: as bound parameters they are
/// stored as data, and the table is still there.
async fn hostile_input_stays_data(pool: &AnyPool) -> anyhow::Result<()> {
    for hostile in ["'; DROP TABLE users; --", "' OR '1'='1"] {
        let id = insert_user(pool, hostile, &format!("{}@example.com", hostile.len())).await?;
        let stored = user_by_id(pool, id).await?.map(|u| u.name);
        println!("6. stored as data: {}", stored.unwrap_or_default());
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await?;
    println!("   users still there: {count}");
    Ok(())
}
// ANCHOR_END: demo_injection
