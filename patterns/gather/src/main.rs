//! Demo: the same URLs fetched one after another, then with every form of gather.
//!
//! ```text
//! cargo run -p gather
//! cargo run -p gather -- --count 20 --delay-ms 300 --limit 5
//! cargo run -p gather -- --url https://www.rust-lang.org --url https://tokio.rs
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fixture_server::FixtureServer;
use gather::{
    Order, Report, fetch_bounded, fetch_join_all, fetch_join_set, fetch_sequential,
    fetch_try_join_all,
};
use patterns_core::cli::{self, Url};
use patterns_core::{app, timed};

/// Fetch URLs sequentially and concurrently, and compare.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// URLs to fetch (repeat the flag); default: the embedded fixture's /delay endpoints.
    #[arg(long = "url", value_name = "URL", value_parser = cli::http_url)]
    urls: Vec<Url>,
    /// How many fixture URLs to fetch.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    count: u16,
    /// The longest fixture delay; each URL waits a little less than the one before.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    delay_ms: u64,
    /// Requests in flight at once for buffer_unordered.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    limit: u16,
    /// Total time allowed per request, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    timeout_secs: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let fixture = FixtureServer::start().await?;
    let urls: Vec<String> = if args.urls.is_empty() {
        let count = u64::from(args.count);
        // Decreasing delays, so completion order is the reverse of input order.
        (0..count)
            .map(|i| {
                fixture.url(&format!(
                    "/delay/{}",
                    args.delay_ms - (args.delay_ms / 2) * i / count
                ))
            })
            .collect()
    } else {
        args.urls.iter().map(Url::to_string).collect()
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_secs))
        .build()?;
    let n = urls.len();

    let (user, posts) = gather::user_and_posts(&client, &fixture.base_url(), 1).await?;
    println!(
        "0. try_join!: {} and {} of their posts, fetched at once",
        user.name,
        posts.len()
    );

    let (results, took) = timed("sequential", fetch_sequential(&client, &urls)).await;
    let sequential = Report::new(&urls, results);
    println!("1. sequential: {sequential} in {:.2} s", took.as_secs_f64());

    let (results, took) = timed("join_all", fetch_join_all(&client, &urls)).await;
    println!(
        "2. join_all: {} in {:.2} s, in input order",
        Report::new(&urls, results),
        took.as_secs_f64()
    );

    let (results, took) = timed("JoinSet", fetch_join_set(&client, &urls)).await;
    let order: Vec<usize> = results.iter().map(|(index, _)| *index).collect();
    println!(
        "3. JoinSet: {} in {:.2} s, completion order {order:?}",
        cli::count(n, "task"),
        took.as_secs_f64()
    );

    let limit = usize::from(args.limit);
    let (results, took) = timed(
        "buffer_unordered",
        fetch_bounded(&client, &urls, limit, Order::Completion),
    )
    .await;
    println!(
        "4. buffer_unordered({limit}): {} in {:.2} s",
        cli::count(results.len(), "request"),
        took.as_secs_f64()
    );

    // A failing URL first, then slow ones: try_join_all returns at the first error.
    let mut failing = vec![fixture.url("/status/500")];
    failing.extend(urls.iter().cloned());
    let (result, took) = timed("try_join_all", fetch_try_join_all(&client, &failing)).await;
    match result {
        Err(error) => println!(
            "5. try_join_all failed fast in {:.2} s: {error}",
            took.as_secs_f64()
        ),
        Ok(_) => anyhow::bail!("a 500 should have failed try_join_all"),
    }

    let report = every_outcome_kept(&client, &urls, &fixture).await;
    println!("6. join_all, every outcome kept: {report}");
    for error in &report.failed {
        println!("   failed: {error}");
    }

    // The fixture's failures above are the lesson; a URL you named that failed is not.
    if !args.urls.is_empty() && !sequential.failed.is_empty() {
        anyhow::bail!(
            "{} of {} failed: {}",
            sequential.failed.len(),
            cli::count(args.urls.len() as u64, "--url target"),
            sequential.failed[0]
        );
    }
    Ok(())
}

// ANCHOR: return_exceptions
/// `gather(..., return_exceptions=True)`: the URLs, a 404 and a refused connection,
/// fetched with `join_all`, which keeps every outcome in input order.
async fn every_outcome_kept(
    client: &reqwest::Client,
    urls: &[String],
    fixture: &FixtureServer,
) -> Report {
    let mut mixed = urls.to_vec();
    mixed.extend([
        fixture.url("/status/404"),
        "http://127.0.0.1:1/refused".to_owned(),
    ]);
    Report::new(&mixed, fetch_join_all(client, &mixed).await)
}
// ANCHOR_END: return_exceptions
