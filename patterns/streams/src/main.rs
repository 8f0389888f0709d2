//! Demo: streams built three ways, a lazy paginated API, concurrency, and combinators.
//!
//! ```text
//! cargo run -p streams
//! cargo run -p streams -- --per-page 25 --count 8 --delay-ms 50
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fixture_server::FixtureServer;
use futures::{StreamExt, TryStreamExt};
use patterns_core::{app, cli, timed};
use streams::{AsyncRange, fetch_each, items, items_concurrently, range_macro, range_unfold};

/// Show async iterators as Rust streams, against the embedded fixture server.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Items of each async range.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    count: u64,
    /// Wait before each range item, in milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    delay_ms: u64,
    /// Items per page of the paginated collection.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    per_page: u16,
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let (n, delay) = (args.count, Duration::from_millis(args.delay_ms));
    let (values, took) = timed("unfold", range_unfold(0, n, delay).collect::<Vec<_>>()).await;
    println!(
        "1. stream::unfold: {values:?} in {:.2} s",
        took.as_secs_f64()
    );
    let (values, took) = timed("macro", range_macro(0, n, delay).collect::<Vec<_>>()).await;
    println!(
        "2. async-stream's stream!: {values:?} in {:.2} s",
        took.as_secs_f64()
    );
    let values = by_hand(n, delay).await;
    let same = pinned_first(n, delay).await;
    println!(
        "3. impl Stream by hand, consumed with while let: {values:?}; stream!, pinned first: {}",
        if same == values {
            "the same"
        } else {
            "different"
        }
    );

    let server = FixtureServer::start().await?;
    let client = reqwest::Client::new();
    let per_page = usize::from(args.per_page);
    let all = items(client.clone(), server.base_url(), per_page);
    println!(
        "4. the paginated stream is lazy: {} before the first poll",
        cli::count(server.stats().requests, "request")
    );
    let (listed, took) = timed("pages", all.try_collect::<Vec<_>>()).await;
    println!(
        "   {} over {}, one page at a time, in {:.2} s",
        cli::count(listed?.len(), "item"),
        cli::count(server.stats().requests, "page"),
        took.as_secs_f64()
    );
    server.reset_stats();
    let first: Vec<_> = items(client.clone(), server.base_url(), per_page)
        .take(3)
        .collect()
        .await;
    println!(
        "   take(3): {} for {}",
        cli::count(first.len(), "item"),
        cli::count(server.stats().requests, "page request")
    );

    let urls = vec![server.url("/delay/200"); 6];
    let (done, took) = timed("each", fetch_each(&client, &urls, 3).collect::<Vec<_>>()).await;
    println!(
        "5. buffer_unordered(3) over {} URLs of 200 ms: {:.2} s",
        done.len(),
        took.as_secs_f64()
    );

    let sums = even_sums(client.clone(), server.base_url(), per_page).await;
    println!("6. try_filter + take(20) + chunks(5) of even values: sums {sums:?}");

    let slow = tokio_stream::StreamExt::timeout(
        range_unfold(0, 2, Duration::from_millis(300)),
        Duration::from_millis(200),
    );
    let outcomes: Vec<String> = slow
        .map(|r| r.map_or_else(|_| "timeout".into(), |v| v.to_string()))
        .collect()
        .await;
    let (_, took) = timed(
        "throttle",
        tokio_stream::StreamExt::throttle(futures::stream::iter(0..5), Duration::from_millis(50))
            .collect::<Vec<_>>(),
    )
    .await;
    println!(
        "7. tokio-stream: timeout(200 ms) over 300 ms items: {outcomes:?}; throttle(50 ms) of 5 items: {:.2} s",
        took.as_secs_f64()
    );
    Ok(())
}

// ANCHOR: async_for
/// `async for value in AsyncRange(0, n, delay)`: a stream written by hand, read item by item.
async fn by_hand(n: u64, delay: Duration) -> Vec<u64> {
    let mut range = AsyncRange::new(0, n, delay);
    let mut values = Vec::new();
    while let Some(value) = range.next().await {
        values.push(value); // the body of `async for value in range:`
    }
    values
}
// ANCHOR_END: async_for

// ANCHOR: pinned
/// `unfold` and `stream!` build streams that are not `Unpin`, and `next()` needs `Unpin`:
/// pin the stream first (on the stack with `pin!`, or on the heap with `Box::pin`).
async fn pinned_first(n: u64, delay: Duration) -> Vec<u64> {
    let mut generated = std::pin::pin!(range_macro(0, n, delay));
    let mut values = Vec::new();
    while let Some(value) = generated.next().await {
        values.push(value);
    }
    values
}
// ANCHOR_END: pinned

// ANCHOR: combinators
/// The paginated items, four pages in flight, in order: the even values, the first 20 of
/// them, summed in chunks of 5.
async fn even_sums(client: reqwest::Client, base_url: String, per_page: usize) -> Vec<u64> {
    items_concurrently(client, base_url, per_page, 4, streams::Order::Input)
        .try_filter(|item| std::future::ready(item.value % 2 == 0))
        .map_ok(|item| item.value)
        .take(20)
        .chunks(5)
        .map(|chunk| chunk.into_iter().filter_map(Result::ok).sum::<u64>())
        .collect()
        .await
}
// ANCHOR_END: combinators
