//! What the web-api tests share: the app over a temporary SQLite file, and requests sent
//! to it in process (`tower::ServiceExt::oneshot`, FastAPI's `TestClient`) or over a real
//! socket.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use utoipa_axum::router::OpenApiRouter;
use web_api::{AppState, Lifespan, LifespanConfig, Limits, app};

/// The app and what it runs on; the temporary directory goes with it.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub lifespan: Lifespan,
    _scratch: tempfile::TempDir,
}

/// A lifespan over a fresh SQLite file.
pub async fn started(url: Option<String>) -> (AppState, Lifespan, tempfile::TempDir) {
    let scratch = tempfile::tempdir().unwrap();
    let database_url = url.unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            scratch.path().join("shop.db").display()
        )
    });
    let config = LifespanConfig {
        database_url,
        max_connections: 4,
        summary_every: Duration::from_secs(3600),
        event_backlog: 16,
    };
    let (state, lifespan) = Lifespan::start(&config).await.unwrap();
    (state, lifespan, scratch)
}

/// The app with `limits` and `extra` routes, over a fresh SQLite file.
pub async fn app_with(limits: &Limits, extra: OpenApiRouter<AppState>) -> TestApp {
    let (state, lifespan, scratch) = started(None).await;
    TestApp {
        router: app(state.clone(), limits, extra),
        state,
        lifespan,
        _scratch: scratch,
    }
}

/// The app as it ships.
pub async fn shop() -> TestApp {
    app_with(&Limits::default(), OpenApiRouter::new()).await
}

/// The answer to one request: status, headers, and the body parsed as JSON (`Null` when
/// empty).
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `loc` of each field error of a 422, joined by dots: `body.price_cents`.
    pub fn fields(&self) -> Vec<String> {
        self.body["detail"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                e["loc"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .collect()
    }

    /// The `detail` of a non-422 error.
    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_default()
    }
}

/// Sends `request` through the router, in process.
pub async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{status}: not JSON: {:?}", String::from_utf8_lossy(&bytes)))
    };
    Answer {
        status,
        headers,
        body,
    }
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

pub fn post_json(uri: &str, body: &Value) -> Request<Body> {
    raw("POST", uri, "application/json", body.to_string())
}

pub fn raw(method: &str, uri: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

/// Rows in a table (`items` or `orders`), straight from the database.
pub async fn count(state: &AppState, table: &str) -> i64 {
    let sql = match table {
        "items" => "SELECT COUNT(*) FROM items",
        "orders" => "SELECT COUNT(*) FROM orders",
        other => panic!("no table {other}"),
    };
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(state.store.pool())
        .await
        .unwrap()
}

/// A teapot: 1250 cents, `stock` in stock.
pub fn teapot(stock: i64) -> Value {
    serde_json::json!({"name": "teapot", "price_cents": 1250, "stock": stock})
}

/// A route that counts each request in, then holds it until the test adds a permit.
pub fn held(entered: Arc<AtomicUsize>, gate: Arc<Semaphore>) -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route(
        "/held",
        axum::routing::get(move || {
            let (entered, gate) = (entered.clone(), gate.clone());
            async move {
                entered.fetch_add(1, Ordering::SeqCst);
                gate.acquire().await.unwrap().forget();
                "released"
            }
        }),
    )
}
