//! The API on a real PostgreSQL, started from the machine's binaries for each test
//! (skipped with a message without them; a failure under CI=true). The server's own view,
//! `pg_stat_activity`, shows where a statement waits, so a drop can happen exactly there:
//! a write dropped at the database still happens, and a client that hangs up mid-order
//! leaves nothing half-written.

mod common;

use std::time::Duration;

use cancel_check::drop_pending_after;
use external_tools::postgres::Postgres;
use external_tools::require;
use sqlx::{Connection, Executor, PgConnection};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use web_api::{Limits, NewItem, ServeConfig, StoreError, app, serve};

fn server() -> Option<Postgres> {
    require("PostgreSQL", Postgres::start())
}

/// Waits until a backend waits on a lock running a statement that starts with `prefix`.
async fn until_waiting(monitor: &mut PgConnection, prefix: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
        )
        .bind(format!("{prefix}%"))
        .fetch_one(&mut *monitor)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing waits running {prefix}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until no backend runs a statement that starts with `prefix` any more.
async fn until_gone(monitor: &mut PgConnection, prefix: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let running: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1",
        )
        .bind(format!("{prefix}%"))
        .fetch_one(&mut *monitor)
        .await
        .unwrap();
        if running == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still running {prefix}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until no client backend but the monitor's own has a transaction open.
async fn until_no_transaction(monitor: &mut PgConnection) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE xact_start IS NOT NULL \
             AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        )
        .fetch_one(&mut *monitor)
        .await
        .unwrap();
        if open == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{open} transactions stay open"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until the server has closed its end of the connection from `client_port`: the
/// kernel's table (`/proc/net/tcp`) no longer lists it as ESTABLISHED or CLOSE_WAIT, the
/// states of a socket its owner has not closed.
async fn until_closed_by_server(server_port: u16, client_port: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let (local, remote) = (format!(":{server_port:04X}"), format!(":{client_port:04X}"));
    loop {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let waiting = table.lines().skip(1).any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields[1].ends_with(&local)
                && fields[2].ends_with(&remote)
                && ["01", "08"].contains(&fields[3])
        });
        if !waiting {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never closed the connection"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_routes_behave_the_same_on_postgres() {
    let Some(pg) = server() else { return };
    let (state, _lifespan, _scratch) = common::started(Some(pg.url())).await;
    let router = app(state.clone(), &Limits::default(), Default::default());
    let created = common::send(&router, common::post_json("/items", &common::teapot(3))).await;
    assert_eq!(created.headers["location"], "/items/1");
    let taken = common::send(&router, common::post_json("/items", &common::teapot(3))).await;
    assert_eq!(taken.status, 409);
    let order = serde_json::json!({"item_id": 1, "quantity": 2});
    assert_eq!(
        common::send(&router, common::post_json("/orders", &order))
            .await
            .status,
        201
    );
    let refused = common::send(&router, common::post_json("/orders", &order)).await;
    assert_eq!(refused.detail(), "item 1 has 1 in stock");
    assert_eq!(state.store.summary().await.unwrap(), (1, 2500));
}

// ANCHOR: dropped_write
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_dropped_while_its_insert_waits_still_happens() {
    let Some(pg) = server() else { return };
    let (state, _lifespan, _scratch) = common::started(Some(pg.url())).await;
    // Another transaction inserts the same name and holds it: the store's insert waits
    // to learn whether the name is free.
    let mut other = PgConnection::connect(&pg.url()).await.unwrap();
    other.execute("BEGIN").await.unwrap();
    other
        .execute("INSERT INTO items (name, price_cents, stock) VALUES ('cup', 1, 1)")
        .await
        .unwrap();
    let mut monitor = PgConnection::connect(&pg.url()).await.unwrap();
    let cup = NewItem {
        name: "cup".into(),
        price_cents: 5,
        stock: 1,
    };
    drop_pending_after(
        state.store.create_item(&cup),
        until_waiting(&mut monitor, "INSERT INTO items"),
    )
    .await;
    other.execute("ROLLBACK").await.unwrap();
    until_gone(&mut monitor, "INSERT INTO items").await;
    // The insert ran on without its caller: the item is there, and a retry is refused.
    assert!(matches!(
        state.store.create_item(&cup).await,
        Err(StoreError::NameTaken(_))
    ));
    assert_eq!(
        state.store.items(Default::default()).await.unwrap()[0].price_cents,
        5
    );
}
// ANCHOR_END: dropped_write

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_dropped_while_it_waits_still_happens() {
    let Some(pg) = server() else { return };
    let (state, _lifespan, _scratch) = common::started(Some(pg.url())).await;
    let teapot = NewItem {
        name: "teapot".into(),
        price_cents: 5,
        stock: 1,
    };
    state.store.create_item(&teapot).await.unwrap();
    let mut other = PgConnection::connect(&pg.url()).await.unwrap();
    other.execute("BEGIN").await.unwrap();
    other
        .execute("SELECT * FROM items WHERE id = 1 FOR UPDATE")
        .await
        .unwrap();
    let mut monitor = PgConnection::connect(&pg.url()).await.unwrap();
    drop_pending_after(
        state.store.delete_item(1),
        until_waiting(&mut monitor, "DELETE FROM items"),
    )
    .await;
    other.execute("COMMIT").await.unwrap();
    until_gone(&mut monitor, "DELETE FROM items").await;
    assert!(matches!(
        state.store.delete_item(1).await,
        Err(StoreError::NotFound { .. })
    ));
}

// ANCHOR: hang_up
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_mid_order_leaves_nothing_half_written() {
    let Some(pg) = server() else { return };
    let (state, lifespan, _scratch) = common::started(Some(pg.url())).await;
    state
        .store
        .create_item(&NewItem {
            name: "teapot".into(),
            price_cents: 5,
            stock: 3,
        })
        .await
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // No request timeout to end the handler: only the hang-up may.
    let limits = Limits {
        request_timeout: Duration::from_secs(3600),
        ..Limits::default()
    };
    let router = app(state.clone(), &limits, Default::default());
    let served = tokio::spawn(serve(
        listener,
        router,
        ServeConfig::default(),
        lifespan.stopping(),
    ));
    // The orders table is locked: the handler takes the stock, then waits to record the
    // order, inside its transaction.
    let mut other = PgConnection::connect(&pg.url()).await.unwrap();
    other
        .execute("BEGIN; LOCK TABLE orders IN EXCLUSIVE MODE")
        .await
        .unwrap();
    let mut client = TcpStream::connect(addr).await.unwrap();
    let body = r#"{"item_id": 1, "quantity": 2}"#;
    let request = format!(
        "POST /orders HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    client.write_all(request.as_bytes()).await.unwrap();
    let mut monitor = PgConnection::connect(&pg.url()).await.unwrap();
    until_waiting(&mut monitor, "INSERT INTO orders").await;
    let (client_port, server_port) = (client.local_addr().unwrap().port(), addr.port());
    drop(client); // the client hangs up
    // hyper reads the end of the stream and closes its side, dropping the connection's
    // future and the handler's with it: the transaction is abandoned before its commit.
    until_closed_by_server(server_port, client_port).await;
    other.execute("COMMIT").await.unwrap();
    // The abandoned transaction's statement finishes, then sqlx rolls it back.
    until_no_transaction(&mut monitor).await;
    assert_eq!(
        state.store.item(1).await.unwrap().stock,
        3,
        "the stock taken was given back"
    );
    assert_eq!(state.store.summary().await.unwrap(), (0, 0), "no order");
    lifespan.stop();
    assert_eq!(served.await.unwrap().in_flight_at_end, 0);
}
// ANCHOR_END: hang_up
