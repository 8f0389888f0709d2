//! Demo: the shop API, started on a free port and called by its own client.
//!
//! ```text
//! cargo run -p web-api                                  # every route and bad input, then a shutdown
//! cargo run -p web-api -- --serve 127.0.0.1:8000        # serve until Ctrl-C
//! curl -i localhost:8000/items -H 'content-type: application/json' \
//!      -d '{"name":"teapot","price_cents":1250,"stock":3}'
//! cargo run -p web-api -- --database-url postgres://user:pass@localhost/shop
//! ```
//!
//! With no arguments the store is a temporary SQLite file, the server listens on a free
//! loopback port, and the demo sends one request per line it prints: each route, each bad
//! input, a handler that panics (500, and the next request is served), an event read from
//! the stream, then a graceful shutdown.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use axum::routing::get;
use clap::Parser;
use patterns_core::{app, cli};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use utoipa_axum::router::OpenApiRouter;
use web_api::{AppState, Lifespan, LifespanConfig, Limits, ServeConfig, Served, app, serve};

/// A JSON API of items and orders, as FastAPI would serve it.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Serve on this address until Ctrl-C, instead of the scripted demo.
    #[arg(long, value_name = "ADDR", value_parser = cli::listen_addr)]
    serve: Option<SocketAddr>,
    /// The database: postgres://... or sqlite:... (default: a temporary SQLite file).
    #[arg(long, env = "DATABASE_URL", value_parser = database_url)]
    database_url: Option<String>,
    /// Database connections for reads (on SQLite, writes have one of their own).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pool_size: u32,
    /// Requests handled at once; more are answered 503.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    concurrency: u32,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    request_timeout_secs: u64,
    /// Seconds requests in flight get to finish at shutdown.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=600))]
    grace_secs: u64,
}

/// `postgres://`, `postgresql://` or `sqlite:`; anything else is refused before starting.
fn database_url(value: &str) -> Result<String, String> {
    let scheme = value.split_once(':').map(|(s, _)| s).unwrap_or_default();
    match scheme {
        "postgres" | "postgresql" | "sqlite" => Ok(value.to_owned()),
        _ => Err("expected postgres://... or sqlite:...".to_owned()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir().context("cannot make a temporary directory")?;
    let database_url = args.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            scratch.path().join("shop.db").display()
        )
    });
    let config = LifespanConfig {
        database_url,
        max_connections: args.pool_size,
        summary_every: Duration::from_secs(30),
        event_backlog: 256,
    };
    let (state, lifespan) = Lifespan::start(&config)
        .await
        .context("cannot open the database")?;
    let limits = Limits {
        concurrency: args.concurrency as usize,
        request_timeout: Duration::from_secs(args.request_timeout_secs),
        ..Limits::default()
    };
    let address = args.serve.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)));
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let serve_config = ServeConfig {
        grace: Duration::from_secs(args.grace_secs),
        ..ServeConfig::default()
    };
    let server = tokio::spawn(serve(
        listener,
        app(state.clone(), &limits, demo_routes()),
        serve_config,
        lifespan.stopping(),
    ));
    if args.serve.is_some() {
        println!("serving {base} (OpenAPI document: {base}/openapi.json); Ctrl-C stops");
        patterns_core::shutdown::ctrl_c()?.await?;
    } else {
        tour(&Client::new(), &base, &state).await?;
    }
    lifespan.stop();
    let served = server.await.context("the server task failed")?;
    report(&served);
    let background = lifespan.shut_down(serve_config.grace).await;
    println!("background task stopped cleanly: {}", background.is_clean());
    Ok(())
}

/// One route the demo adds beside the API's own: a handler that panics.
fn demo_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route("/demo/panic", get(panics))
}

async fn panics() -> &'static str {
    panic!("a bug in a handler")
}

fn report(served: &Served) {
    println!(
        "shutdown: {} connections served, {} requests in flight at the stop, {} cut",
        served.connections, served.in_flight_at_stop, served.connections_cut
    );
    println!("in flight at shutdown: {}", served.in_flight_at_end);
}

/// Every route, and every bad input, once.
async fn tour(client: &Client, base: &str, state: &AppState) -> anyhow::Result<()> {
    let call = Caller { client, base };
    let mut events = client.get(format!("{base}/events")).send().await?;
    let teapot = json!({"name": "teapot", "price_cents": 1250, "stock": 3});
    call.json(Method::POST, "/items", &teapot).await?;
    call.json(Method::POST, "/items", &teapot).await?;
    call.json(
        Method::POST,
        "/items",
        &json!({"name": "", "price_cents": -1, "stock": 1}),
    )
    .await?;
    call.json(
        Method::POST,
        "/items",
        &json!({"name": "cup", "price_cents": "cheap", "stock": 1}),
    )
    .await?;
    call.json(Method::POST, "/items", &json!({"name": "cup", "stock": 1}))
        .await?;
    call.raw(
        Method::POST,
        "/items",
        "application/json",
        "{\"name\": \"cup\",",
    )
    .await?;
    call.raw(Method::POST, "/items", "text/plain", "name=cup")
        .await?;
    let huge = json!({"name": "x".repeat(100_000), "price_cents": 1, "stock": 1});
    call.json(Method::POST, "/items", &huge).await?;
    call.get("/items/1").await?;
    call.get("/items/999").await?;
    call.get("/items/99999999999999999999").await?;
    call.get("/items?limit=0").await?;
    call.get("/items?limit=10").await?;
    call.json(
        Method::POST,
        "/orders",
        &json!({"item_id": 1, "quantity": 2}),
    )
    .await?;
    call.json(
        Method::POST,
        "/orders",
        &json!({"item_id": 1, "quantity": 2}),
    )
    .await?;
    call.json(
        Method::POST,
        "/orders",
        &json!({"item_id": 7, "quantity": 1}),
    )
    .await?;
    call.get("/nowhere").await?;
    call.raw(Method::PUT, "/items", "application/json", "{}")
        .await?;
    call.get("/demo/panic").await?;
    call.get("/items/1").await?;
    call.raw(Method::DELETE, "/items/1", "application/json", "")
        .await?;
    let event = first_event(&mut events).await?;
    println!("event stream: {event}");
    drop(events);
    let document: Value = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    let paths = document["paths"].as_object().map_or(0, |p| p.len());
    println!("OpenAPI document: {paths} paths");
    let (orders, revenue) = state.store.summary().await?;
    let stock = state.store.item(1).await?.stock;
    println!("orders: {orders}, revenue: {revenue} cents, stock left: {stock}");
    println!(
        "nothing lost: {}",
        orders == 1 && stock == 1 && revenue == 2500
    );
    Ok(())
}

/// Sends requests to the demo's server and prints one line each.
struct Caller<'a> {
    client: &'a Client,
    base: &'a str,
}

impl Caller<'_> {
    async fn get(&self, path: &str) -> anyhow::Result<()> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await?;
        self.print(Method::GET, path, response).await
    }

    async fn json(&self, method: Method, path: &str, body: &Value) -> anyhow::Result<()> {
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .request(method.clone(), url)
            .json(body)
            .send()
            .await?;
        self.print(method, path, response).await
    }

    async fn raw(&self, method: Method, path: &str, kind: &str, body: &str) -> anyhow::Result<()> {
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .request(method.clone(), url)
            .header("content-type", kind)
            .body(body.to_owned())
            .send()
            .await?;
        self.print(method, path, response).await
    }

    async fn print(
        &self,
        method: Method,
        path: &str,
        response: reqwest::Response,
    ) -> anyhow::Result<()> {
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|l| format!(" location={l}"))
            .unwrap_or_default();
        let shown = if path.len() > 40 { &path[..40] } else { path };
        let body = if status == StatusCode::NO_CONTENT {
            String::new()
        } else {
            summary(&response.json::<Value>().await?)
        };
        println!("{method} {shown} -> {}{location} {body}", status.as_u16());
        Ok(())
    }
}

/// The part of a body worth a line: the fields a 422 names, or the detail, or the row.
fn summary(body: &Value) -> String {
    match &body["detail"] {
        Value::Array(fields) => fields
            .iter()
            .map(|f| {
                let loc: Vec<&str> = f["loc"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                format!(
                    "field={} ({})",
                    loc[1..].join("."),
                    f["msg"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join(" "),
        Value::String(detail) => format!("detail={detail:?}"),
        _ => body.to_string(),
    }
}

/// Reads the event stream until its first `update` event, and returns its data.
async fn first_event(events: &mut reqwest::Response) -> anyhow::Result<String> {
    let mut text = String::new();
    let read = async {
        while let Some(chunk) = events.chunk().await? {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if let Some(data) = text
                .split("\n\n")
                .find(|e| e.contains("event: update"))
                .and_then(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
            {
                return Ok(data.to_owned());
            }
        }
        anyhow::bail!("the event stream ended before an update")
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .context("no update on the event stream within 5 s")?
}
