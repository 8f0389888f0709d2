//! Demo: one shared client, typed JSON, every failure kind, retries only where safe.
//!
//! ```text
//! cargo run -p http-client
//! cargo run -p http-client -- --url https://www.rust-lang.org --total-ms 3000
//! ```

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use fixture_server::FixtureServer;
use futures::future::join_all;
use http_client::{
    ExponentialBuilder, HttpTimeouts, client, get_bytes, get_json, send_with_retry,
    user_and_first_posts,
};
use patterns_core::cli::{self, Url};
use patterns_core::{app, timed};
use reqwest::Method;

/// A production-shaped reqwest client against the fixture (or --url).
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Also GET this URL with the client below.
    #[arg(long, value_parser = cli::http_url)]
    url: Option<Url>,
    /// Connect timeout of the shared client, in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    connect_ms: u64,
    /// Read timeout (the longest wait between bytes), in milliseconds.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    read_ms: u64,
    /// Total timeout of each request, in milliseconds.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    total_ms: u64,
}

impl Args {
    fn limits(&self) -> HttpTimeouts {
        HttpTimeouts {
            connect: Duration::from_millis(self.connect_ms),
            read: Duration::from_millis(self.read_ms),
            total: Duration::from_millis(self.total_ms),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let server = FixtureServer::start().await?;
    let limits = args.limits();
    let shared = client(limits)?; // built once; clone it, never rebuild it per request

    let url = server.url("/users/1");
    let (outcome, pooled) = timed("pooled", async {
        for _ in 0..50 {
            get_bytes(&shared, &url).await?;
        }
        anyhow::Ok(())
    })
    .await;
    // A time for requests that failed would be a false claim (try --total-ms 1).
    outcome.context("step 1, 50 requests through one pool")?;
    let pooled_connections = server.stats().connections;
    server.reset_stats();
    let (outcome, fresh) = timed("fresh", async {
        for _ in 0..50 {
            get_bytes(&client(limits)?, &url).await?;
        }
        anyhow::Ok(())
    })
    .await;
    outcome.context("step 1, 50 requests with a client each")?;
    // Usually one connection; a busy machine may open a second before the first is back
    // in the pool (hyper returns it from a task of its own), never one per request.
    let reused = pooled_connections < 50;
    println!(
        "1. 50 requests through one pool: {:.3} s over {pooled_connections} connection(s), reused: {reused}; a client per request: {:.3} s over {} connections",
        pooled.as_secs_f64(),
        fresh.as_secs_f64(),
        server.stats().connections
    );

    let (user, posts) = user_and_first_posts(&shared, &server.base_url(), 1, 5).await?;
    println!(
        "2. typed JSON: {} <{}> and {} posts, the first {:?}",
        user.name,
        user.email,
        posts.len(),
        posts[0].title
    );

    let failing = [
        ("invalid URL", "not a url".to_owned()),
        ("DNS", "http://no-such-host.invalid/".to_owned()),
        ("refused", "http://127.0.0.1:1/".to_owned()),
        ("timed out", server.url("/delay/5000")),
        ("status", server.url("/status/503")),
        ("cut off", server.url("/fault/drop")),
        ("invalid JSON", server.url("/fault/invalid-json")),
    ];
    // A strict client of its own, so the timeout case stays quick whatever the flags say.
    let strict = client(HttpTimeouts {
        connect: Duration::from_millis(500),
        read: Duration::from_millis(500),
        total: Duration::from_millis(800),
    })?;
    let outcomes = join_all(
        failing
            .iter()
            .map(|(_, url)| get_json::<serde_json::Value>(&strict, url)),
    )
    .await;
    println!("3. every failure is a value with its URL, and none stopped the others:");
    for ((kind, _), outcome) in failing.iter().zip(outcomes) {
        let line = outcome
            .err()
            .map_or_else(|| "no error?".to_owned(), |e| e.to_string());
        println!("   {kind}: {line}");
    }

    retry_only_what_is_idempotent(&shared, &server).await?;

    if let Some(url) = &args.url {
        // Your own target failing is the demo failing: exit 1 with the reason.
        let body = get_bytes(&shared, url.as_str()).await?;
        println!("5. {url}: {} bytes", body.len());
    }
    Ok(())
}

// ANCHOR: demo_retry
/// A GET and a POST of an endpoint that answers 503: the GET is retried with backoff, the
/// POST, which may have had its effect, is sent once.
async fn retry_only_what_is_idempotent(
    shared: &reqwest::Client,
    server: &FixtureServer,
) -> anyhow::Result<()> {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_millis(500))
        .with_max_times(2) // retries, after the first try
        .with_jitter();
    for method in [Method::GET, Method::POST] {
        server.reset_stats();
        let request = shared
            .request(method.clone(), server.url("/status/503"))
            .build()?;
        let outcome = send_with_retry(shared, request, backoff).await;
        let tries = server.stats().requests;
        let verdict = match (outcome, tries) {
            (Err(_), 1) => "sent once, not retried (not idempotent)".to_owned(),
            (Err(error), _) => format!("retried, gave up after {tries} tries: {error}"),
            (Ok(_), _) => "succeeded?".to_owned(),
        };
        println!("4. {method} of a 503: {verdict}");
    }
    Ok(())
}
// ANCHOR_END: demo_retry
