//! Demo: a semaphore bounds requests in flight; a rate limiter bounds starts per second.
//!
//! ```text
//! cargo run -p rate-limit
//! cargo run -p rate-limit -- --requests 60 --limit 10 --per-second 20 --burst 5
//! ```

use std::num::NonZeroU32;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fixture_server::FixtureServer;
use patterns_core::{app, cli, timed};
use rate_limit::{HostLimits, RateLimit, fetch_at_rate, fetch_with_semaphore, fetch_within};

/// Bound concurrency with a semaphore and rate with governor, against the fixture.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Requests per demo.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    requests: u16,
    /// Requests in flight at once (the semaphore's permits).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=1000))]
    limit: u16,
    /// Starts per second for the rate limiter.
    #[arg(long, default_value = "10")]
    per_second: NonZeroU32,
    /// Starts allowed back to back.
    #[arg(long, default_value = "1")]
    burst: NonZeroU32,
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let n = usize::from(args.requests);
    let server = FixtureServer::start().await?;
    let client = reqwest::Client::new();

    let urls = vec![server.url("/delay/100"); n];
    let (results, took) = timed(
        "semaphore",
        fetch_with_semaphore(&client, &urls, args.limit.into()),
    )
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    println!(
        "1. Semaphore({}): {} of 100 ms in {:.2} s; the server saw max in flight {}",
        args.limit,
        cli::count(ok, "request"),
        took.as_secs_f64(),
        server.stats().max_in_flight
    );

    // 127.0.0.1 and localhost are one server but two hosts to the limiter.
    server.reset_stats();
    let port = server.addr().port();
    // Half to each host; the odd one out goes to the second.
    let mut urls = vec![format!("http://127.0.0.1:{port}/delay/100"); n / 2];
    urls.extend(vec![
        format!("http://localhost:{port}/delay/100");
        n - n / 2
    ]);
    let limits = HostLimits::new(3, 2);
    let (results, took) = timed("hosts", fetch_within(&client, &urls, &limits)).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    println!(
        "2. limit 3, 2 per host, two hosts: {} in {:.2} s; max in flight {}",
        cli::count(ok, "request"),
        took.as_secs_f64(),
        server.stats().max_in_flight
    );

    let urls = vec![server.url("/users/1"); n];
    let rate = RateLimit::new(args.per_second, args.burst);
    let (results, took) = timed("rate", fetch_at_rate(&client, &urls, &rate, n)).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    println!(
        "3. {} per second, burst {}: {} in {:.2} s (a semaphore alone would take milliseconds)",
        args.per_second,
        args.burst,
        cli::count(ok, "fast request"),
        took.as_secs_f64()
    );

    let limits = HostLimits::new(2, 2);
    let failing = vec![server.url("/status/500"); 4];
    let failed = fetch_within(&client, &failing, &limits)
        .await
        .iter()
        .filter(|r| r.is_err())
        .count();
    let slow = vec![server.url("/delay/5000"); 4];
    let cancelled = tokio::time::timeout(
        Duration::from_millis(50),
        fetch_within(&client, &slow, &limits),
    )
    .await
    .is_err();
    println!(
        "4. after {failed} failed and {} cancelled requests, {} of 2 permits are free again",
        if cancelled { 4 } else { 0 },
        limits.available()
    );
    Ok(())
}
