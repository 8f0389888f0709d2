//! The plain idiom, before the crate's own pieces: a route, shared state, `axum::Json` and
//! `axum::serve` with a graceful shutdown, as axum's own examples write them. It works;
//! what it leaves to the service is what the crate adds (errors that name the field as
//! JSON, a header read timeout, a grace period).

use std::io;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

// ANCHOR: plain
#[derive(Deserialize, Serialize, Clone)]
struct NewItem {
    name: String,
    price_cents: i64,
}

/// The state every handler shares: here, a list behind a mutex.
type Items = Arc<Mutex<Vec<NewItem>>>;

async fn create_item(
    State(items): State<Items>,
    Json(new): Json<NewItem>,
) -> (StatusCode, Json<NewItem>) {
    items.lock().unwrap().push(new.clone());
    (StatusCode::CREATED, Json(new))
}

fn plain_app() -> Router {
    Router::new()
        .route("/items", post(create_item))
        .with_state(Items::default())
}

async fn plain_serve(listener: TcpListener, stop: CancellationToken) -> io::Result<()> {
    axum::serve(listener, plain_app())
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
}
// ANCHOR_END: plain

// ANCHOR: plain_rejection
#[tokio::test]
async fn the_plain_idiom_serves_and_rejects_in_plain_text() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/items", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let server = tokio::spawn(plain_serve(listener, stop.clone()));
    let client = reqwest::Client::new();
    let created = client
        .post(&url)
        .json(&serde_json::json!({"name": "teapot", "price_cents": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // axum's `Json` refuses a missing field with 422, in plain text, for a person.
    let refused = client
        .post(&url)
        .json(&serde_json::json!({"name": "cup"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert_eq!(
        refused.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        refused.text().await.unwrap(),
        "Failed to deserialize the JSON body into the target type: \
         missing field `price_cents` at line 1 column 14"
    );
    stop.cancel();
    server.await.unwrap().unwrap();
}
// ANCHOR_END: plain_rejection
