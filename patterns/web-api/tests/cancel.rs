//! Every public async fn of the library, dropped while it waits (a losing `select!`
//! branch, a request timeout, a client that hung up), and what the drop left behind:
//! what each `# Cancel safety` section says.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::routing::get;
use cancel_check::{DropCounter, drop_pending, drop_pending_after};
use sqlx::{Connection, Executor, SqliteConnection};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use utoipa_axum::router::OpenApiRouter;
use web_api::{
    Lifespan, LifespanConfig, Limits, NewItem, NewOrder, Page, ServeConfig, Store, StoreError, app,
    serve,
};

// `create_item` and `delete_item`, whose statements run on after the drop, are dropped
// in tests/postgres.rs, where the server shows the statement waiting.

/// A store over a fresh SQLite file with a pool of one connection, holding a teapot with
/// 3 in stock.
async fn store_of_one() -> (Store, String, tempfile::TempDir) {
    let scratch = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        scratch.path().join("shop.db").display()
    );
    let store = Store::open(&url, 1).await.unwrap();
    store.create_item(&teapot()).await.unwrap();
    (store, url, scratch)
}

fn teapot() -> NewItem {
    NewItem {
        name: "teapot".into(),
        price_cents: 1250,
        stock: 3,
    }
}

/// Another connection to the same file, holding SQLite's write lock until it is dropped:
/// every write of the store waits behind it.
async fn write_lock(url: &str) -> SqliteConnection {
    let mut other = SqliteConnection::connect(url).await.unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    other
}

/// Waits until the writer's only connection is taken: the call under test holds it.
async fn until_taken(store: &Store) {
    while store.writer().num_idle() > 0 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn reads_dropped_while_they_wait_for_a_connection_leave_nothing_behind() {
    let (store, _url, _scratch) = store_of_one().await;
    let held = store.pool().acquire().await.unwrap();
    drop_pending(store.item(1)).await;
    drop_pending(store.items(Page::default())).await;
    drop_pending(store.order(1)).await;
    drop_pending(store.summary()).await;
    drop(held);
    assert_eq!(store.item(1).await.unwrap().stock, 3);
    assert_eq!(store.summary().await.unwrap(), (0, 0));
}

// ANCHOR: drop_order
#[tokio::test]
async fn an_order_dropped_before_its_commit_is_rolled_back() {
    let (store, url, _scratch) = store_of_one().await;
    let lock = write_lock(&url).await;
    let order = NewOrder {
        item_id: 1,
        quantity: 2,
    };
    drop_pending_after(store.place_order(&order), until_taken(&store)).await;
    drop(lock);
    // The same connection comes back to the pool only after its transaction is undone.
    assert_eq!(store.item(1).await.unwrap().stock, 3);
    assert_eq!(store.summary().await.unwrap(), (0, 0));
    assert_eq!(
        store.place_order(&order).await.unwrap().1,
        1,
        "the store still works"
    );
}
// ANCHOR_END: drop_order

#[tokio::test]
async fn a_dropped_close_has_still_closed_the_pool() {
    let (store, _url, _scratch) = store_of_one().await;
    let held = store.pool().acquire().await.unwrap();
    drop_pending(store.close()).await;
    assert!(store.pool().is_closed());
    assert!(store.writer().is_closed());
    assert!(matches!(
        store.item(1).await,
        Err(StoreError::Database(sqlx::Error::PoolClosed))
    ));
    drop(held);
}

#[tokio::test]
async fn an_open_dropped_half_way_leaves_a_database_the_next_open_migrates() {
    let scratch = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        scratch.path().join("shop.db").display()
    );
    drop_pending(Store::open(&url, 1)).await;
    let config = LifespanConfig {
        database_url: url.clone(),
        max_connections: 1,
        summary_every: Duration::from_secs(3600),
        event_backlog: 4,
    };
    drop_pending(Lifespan::start(&config)).await;
    let store = Store::open(&url, 1).await.unwrap();
    assert_eq!(store.create_item(&teapot()).await.unwrap().id, 1);
}

#[tokio::test]
async fn a_dropped_shut_down_has_still_asked_the_task_to_stop() {
    let (_state, lifespan, _scratch) = common::started(None).await;
    let stopping = lifespan.stopping();
    let store = _state.store.clone();
    drop_pending(lifespan.shut_down(Duration::from_secs(5))).await;
    assert!(stopping.is_cancelled());
    assert!(!store.pool().is_closed(), "the pool stays open");
}

// ANCHOR: drop_serve
#[tokio::test]
async fn a_dropped_serve_aborts_its_connections_and_their_requests() {
    let (state, _lifespan, _scratch) = common::started(None).await;
    let requests = DropCounter::new();
    let entered = Arc::new(AtomicUsize::new(0));
    let (counter, entering) = (requests.clone(), entered.clone());
    let extra = OpenApiRouter::new().route(
        "/forever",
        get(move || {
            let (guard, entering) = (counter.guard(), entering.clone());
            async move {
                let _guard = guard;
                entering.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(state, &Limits::default(), extra);
    let stop = tokio_util::sync::CancellationToken::new();
    let mut client = TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut client, b"GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let in_handler = async {
        while entered.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    drop_pending_after(
        serve(listener, router, ServeConfig::default(), stop),
        in_handler,
    )
    .await;
    let mut rest = Vec::new();
    assert_eq!(
        client.read_to_end(&mut rest).await.unwrap_or(0),
        0,
        "the connection is cut"
    );
    while requests.dropped() < 1 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing listens any more"
    );
}
// ANCHOR_END: drop_serve
