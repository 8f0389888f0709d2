//! `gather`: N concurrent GETs of the fixture's `/delay/{ms}`, measured against the ideal
//! (one delay) and against aiohttp in the same run, on the same server.
//!
//! ```text
//! cargo bench -p gather                            # 1,000 requests of 50 ms
//! cargo bench -p gather -- --items 5000 --client-workers 2
//! ```
//!
//! The server runs on a runtime of its own. Most variants build a fresh client for each
//! run, as most Python runs open a fresh session, so connection setup is part of the figure
//! on both sides. The `-pooled` variants reuse one client whose pool the warm-up run filled,
//! which is how a service runs; Python's `-pooled` variant reuses one session likewise.
//! The bound sends the same GETs at once on hyper's bare client connections, one each,
//! opened before the warm-up as the pooled variants' pool is filled by it.

use std::pin::Pin;
use std::process::ExitCode;

use anyhow::Context as _;
use bench_harness::bare_http;
use bench_harness::{Bench, Options, PythonLoop, Record, measure, python_script};
use clap::Parser;
use fixture_server::{FixtureConfig, FixtureServer, OwnedFixture};
use gather::{FetchError, Order, fetch_bounded, fetch_join_all, fetch_join_set, fetch_sequential};
use reqwest::Client;

/// Concurrent GETs: join_all, JoinSet, buffer_unordered, sequential; Python aiohttp + gather.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    options: Options,
    /// What each request waits on the server, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    delay_ms: u64,
    /// Requests of the sequential variant, which takes items × delay.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
    sequential_items: u64,
    /// In flight at once for buffer_unordered (100 is aiohttp's default connector limit).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..))]
    limit: u16,
    /// Worker threads of the client's runtime; 0 means a current-thread runtime.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=64))]
    client_workers: u16,
    /// Worker threads of the fixture server's runtime.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    server_workers: u16,
}

type Results = Vec<Result<usize, FetchError>>;
type Run<'a> = Pin<Box<dyn Future<Output = Results> + 'a>>;
/// Makes one run's future; called once per run, before the clock starts.
type MakeRun<'a> = Box<dyn FnMut() -> Run<'a> + 'a>;

fn main() -> ExitCode {
    bench_harness::main(run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "gather", &args.options)?;
    let items = bench.items(1000, 40, 100_000)?;
    let sequential_items = if bench.is_quick() {
        2
    } else {
        args.sequential_items
    };
    // A thousand sockets on each side: lift the soft limit on open files to the hard one.
    rlimit::increase_nofile_limit(u64::MAX).context("cannot raise the open-file limit")?;
    let fixture = OwnedFixture::start(FixtureConfig::default(), args.server_workers.into())?;
    let server = fixture.server();
    let url = server.url(&format!("/delay/{}", args.delay_ms));
    let delay = args.delay_ms as f64 / 1000.0;
    let (runtime_name, runtime) = bench_harness::runtime(args.client_workers.into())?;
    let runs = bench.runs();
    let limit = usize::from(args.limit);
    let many = vec![url.clone(); usize::try_from(items)?];
    let few = vec![url; usize::try_from(sequential_items)?];
    let pooled = Client::new();

    let variants: Vec<(&str, &[String], f64, MakeRun<'_>)> = vec![
        (
            "tokio-join_all",
            &many,
            delay,
            fresh(&many, async |c, u| fetch_join_all(c, u).await),
        ),
        (
            "tokio-JoinSet",
            &many,
            delay,
            fresh(&many, async |c, u| indexed(fetch_join_set(c, u).await)),
        ),
        (
            "tokio-buffer_unordered",
            &many,
            delay * many.len().div_ceil(limit) as f64,
            fresh(&many, async move |c, u| {
                indexed(fetch_bounded(c, u, limit, Order::Completion).await)
            }),
        ),
        (
            "tokio-JoinSet-pooled",
            &many,
            delay,
            reuse(&pooled, &many, async |c, u| {
                indexed(fetch_join_set(c, u).await)
            }),
        ),
        (
            "tokio-join_all-pooled",
            &many,
            delay,
            reuse(&pooled, &many, async |c, u| fetch_join_all(c, u).await),
        ),
        (
            "tokio-sequential",
            &few,
            delay * few.len() as f64,
            fresh(&few, async |c, u| fetch_sequential(c, u).await),
        ),
    ];
    server.reset_stats();
    for (variant, urls, ideal, make) in variants {
        let mut durations = measure(&runtime, runs, make, all_ok)?;
        let mut record = Record::from_runs("gather", variant, urls.len() as u64, &mut durations)
            .on(runtime_name)
            .with_server_stats(server);
        record.ideal_secs = Some(ideal);
        check_overlap(&record, limit)?;
        bench.record(record)?;
    }
    bound(&mut bench, &runtime, runtime_name, server, &many, delay)?;
    python(&mut bench, &args, items, server)?;
    bench.finish()
}

/// The bound: every GET at once, each on its own bare hyper connection, opened before the
/// clock and kept for every run.
fn bound(
    bench: &mut Bench,
    runtime: &tokio::runtime::Runtime,
    runtime_name: &str,
    server: &FixtureServer,
    urls: &[String],
    ideal: f64,
) -> anyhow::Result<()> {
    let base = server.base_url();
    let paths = urls
        .iter()
        .map(|url| url.strip_prefix(&base).map(str::to_owned))
        .collect::<Option<Vec<_>>>()
        .context("a URL not on the fixture")?;
    let connections = runtime.block_on(bare_http::open_many(&base, paths.len()))?;
    let every_get_at_once = || bare_http::get_spread(&connections, &paths);
    let mut durations = measure(runtime, bench.runs(), every_get_at_once, |bodies| {
        anyhow::ensure!(bodies?.len() == paths.len(), "responses lost");
        Ok(())
    })?;
    let variant = "bound-bare-hyper";
    let mut record = Record::from_runs("gather", variant, paths.len() as u64, &mut durations)
        .on(runtime_name)
        .with_server_stats(server);
    record.ideal_secs = Some(ideal);
    bench.record(record)
}

/// A bounded variant must have held its bound at the server, or its figure means nothing.
/// (All-at-once variants have no bound to check: with a fresh client the first responses
/// can come back before the last connection is open, so their peak is reported, not
/// asserted.)
fn check_overlap(record: &Record, limit: usize) -> anyhow::Result<()> {
    let bound = match record.variant.as_str() {
        "tokio-sequential" => 1,
        "tokio-buffer_unordered" => limit as u64,
        _ => return Ok(()),
    };
    let seen = record.max_in_flight.unwrap_or(u64::MAX);
    anyhow::ensure!(
        seen <= bound,
        "{}: the server saw {seen} requests in flight, over the bound of {bound}",
        record.variant
    );
    Ok(())
}

/// Each run gets a fresh client (an empty pool), built before the clock starts, as Python
/// builds its session before its clock.
fn fresh<'a>(
    urls: &'a [String],
    body: impl AsyncFn(&Client, &[String]) -> Results + Copy + 'a,
) -> MakeRun<'a> {
    Box::new(move || {
        let client = Client::new();
        Box::pin(async move { body(&client, urls).await })
    })
}

/// Every run reuses `client`, whose pool the warm-up run filled.
fn reuse<'a>(
    client: &'a Client,
    urls: &'a [String],
    body: impl AsyncFn(&Client, &[String]) -> Results + Copy + 'a,
) -> MakeRun<'a> {
    Box::new(move || Box::pin(async move { body(client, urls).await }))
}

fn indexed(results: Vec<(usize, Result<usize, FetchError>)>) -> Results {
    results.into_iter().map(|(_, result)| result).collect()
}

fn all_ok(results: Results) -> anyhow::Result<()> {
    for result in results {
        result?;
    }
    Ok(())
}

/// Python's variants, one script run each so the server's counters belong to one.
fn python(
    bench: &mut Bench,
    args: &Args,
    items: u64,
    server: &FixtureServer,
) -> anyhow::Result<()> {
    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_gather.py");
    for (variant, event_loop) in ["default", "unlimited", "unlimited-pooled"]
        .into_iter()
        .flat_map(|variant| PythonLoop::BOTH.map(|event_loop| (variant, event_loop)))
    {
        server.reset_stats();
        let extra = [
            "--url".to_owned(),
            server.base_url(),
            "--delay-ms".to_owned(),
            args.delay_ms.to_string(),
            "--variant".to_owned(),
            variant.to_owned(),
        ];
        let Some(records) = bench.python(&script, items, &extra, event_loop)? else {
            return Ok(());
        };
        for record in records {
            bench.record(record.with_server_stats(server))?;
        }
    }
    Ok(())
}
