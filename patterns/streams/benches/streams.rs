//! `streams`: every item of the fixture's paginated collection (default 1,000 items, 100
//! pages of 10, 5 ms of latency per page), one page at a time and with pages fetched
//! concurrently, against Python async generators doing the same in the same run. The
//! bound fetches the same pages on hyper's bare client connections, as many as the
//! concurrent variants keep in flight, and decodes them the same way.
//!
//! ```text
//! cargo bench -p streams
//! cargo bench -p streams -- --page-delay-ms 20 --in-flight 16
//! ```

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use bench_harness::bare_http::{self, BareConnection};
use bench_harness::{Bench, Options, PythonLoop, Record, measure, python_script};
use clap::Parser;
use fixture_server::{FixtureConfig, OwnedFixture};
use futures::TryStreamExt;
use streams::{Item, Order, Page, items, items_concurrently};
use tokio::sync::Mutex;

/// Every item of a paginated API as a stream: one page at a time, pages buffered; Python
/// async generators.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    options: Options,
    /// Items per page.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    per_page: u16,
    /// Latency of each page, in milliseconds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    page_delay_ms: u64,
    /// Pages in flight at once for the concurrent variants.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1000))]
    in_flight: u16,
}

fn main() -> ExitCode {
    bench_harness::main(run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "streams", &args.options)?;
    let items_per_run = bench.items(1000, 50, 1_000_000)?;
    let expected = usize::try_from(items_per_run)?;
    let config = FixtureConfig {
        items: expected,
        page_delay: Duration::from_millis(args.page_delay_ms),
        ..Default::default()
    };
    let fixture = OwnedFixture::start(config, 1)?;
    let server = fixture.server();
    let (runtime_name, runtime) = bench_harness::runtime(0)?;
    let per_page = usize::from(args.per_page);
    let in_flight = usize::from(args.in_flight);
    let client = reqwest::Client::new();
    let base = server.base_url();
    // Every item exactly once (order is the tests' business: one variant does not keep it).
    let check = |collected: reqwest::Result<Vec<Item>>| {
        let mut ids: Vec<usize> = collected?.into_iter().map(|item| item.id).collect();
        ids.sort_unstable();
        anyhow::ensure!(
            ids == (1..=expected).collect::<Vec<_>>(),
            "items lost or doubled"
        );
        Ok(())
    };
    let runs = bench.runs();
    let keep = |bench: &mut Bench, variant: &str, mut durations: Vec<Duration>| {
        let record = Record::from_runs("streams", variant, items_per_run, &mut durations)
            .on(runtime_name)
            .with_server_stats(server);
        bench.record(record)
    };
    server.reset_stats();
    let sequential = || items(client.clone(), base.clone(), per_page).try_collect::<Vec<_>>();
    let durations = measure(&runtime, runs, sequential, check)?;
    keep(&mut bench, "tokio-try_unfold-sequential", durations)?;
    for (variant, order) in [
        ("tokio-buffered", Order::Input),
        ("tokio-buffer_unordered", Order::Completion),
    ] {
        let concurrent = || {
            items_concurrently(client.clone(), base.clone(), per_page, in_flight, order)
                .try_collect::<Vec<_>>()
        };
        let durations = measure(&runtime, runs, concurrent, check)?;
        keep(&mut bench, &format!("{variant}-{in_flight}"), durations)?;
    }
    // Opened once, as the shared client's pool is filled by the warm-up.
    let connections = runtime.block_on(bare_http::open_many(&base, in_flight))?;
    let bare = || all_pages_bare(&connections, per_page);
    let bare_check = |collected: anyhow::Result<Vec<Item>>| check(Ok(collected?));
    let durations = measure(&runtime, runs, bare, bare_check)?;
    keep(
        &mut bench,
        &format!("bound-bare-hyper-{in_flight}"),
        durations,
    )?;

    let extra = [
        "--url",
        &base,
        "--per-page",
        &args.per_page.to_string(),
        "--in-flight",
        &args.in_flight.to_string(),
    ]
    .map(str::to_owned);
    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_streams.py");
    bench.python_records(&script, items_per_run, &extra, &PythonLoop::BOTH)?;
    bench.finish()
}

/// The bound: page 1 for the page count, then the rest spread over the bare connections,
/// each fetching its share one page after another; every page decoded as the pattern's.
async fn all_pages_bare(
    connections: &[Mutex<BareConnection>],
    per_page: usize,
) -> anyhow::Result<Vec<Item>> {
    let path = |number: usize| format!("/items?page={number}&per_page={per_page}");
    let first: Page = {
        let mut connection = connections.first().context("no connections")?.lock().await;
        serde_json::from_slice(&connection.get(&path(1)).await?)?
    };
    let rest: Vec<String> = (2..=first.total_pages).map(path).collect();
    let mut items = first.items;
    for body in bare_http::get_spread(connections, &rest).await? {
        let page: Page = serde_json::from_slice(&body)?;
        items.extend(page.items);
    }
    Ok(items)
}
