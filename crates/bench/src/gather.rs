//! `gather`: N concurrent GETs of the fixture's `/delay/{ms}`, measured against the ideal
//! (one delay) and against Python's aiohttp in the same run, on the same server.
//!
//! The server runs on a runtime of its own. Most variants build a fresh client for each
//! run, as most Python runs open a fresh session, so connection setup is part of the figure
//! on both sides. The `-pooled` variants reuse one client whose pool the warm-up run filled,
//! which is how a service runs; Python's `-pooled` variant reuses one session likewise.

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use bench::{Record, compare, measure, run_python};
use fixture_server::{FixtureConfig, FixtureServer, OwnedFixture};
use gather::{FetchError, Order, fetch_bounded, fetch_join_all, fetch_join_set, fetch_sequential};
use reqwest::Client;

use crate::Common;

#[derive(Debug, clap::Args)]
pub(crate) struct GatherArgs {
    #[command(flatten)]
    common: Common,
    /// What each request waits on the server, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    delay_ms: u64,
    /// Requests of the sequential variant, which takes items × delay.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
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

pub(crate) type Results = Vec<Result<usize, FetchError>>;

pub(crate) fn run(args: &GatherArgs) -> anyhow::Result<()> {
    let items = args.common.items.unwrap_or(1000);
    // A thousand sockets on each side: lift the soft limit on open files to the hard one.
    rlimit::increase_nofile_limit(u64::MAX).context("cannot raise the open-file limit")?;
    let fixture = OwnedFixture::start(FixtureConfig::default(), args.server_workers.into())?;
    let server = fixture.server();
    let url = server.url(&format!("/delay/{}", args.delay_ms));
    let delay = args.delay_ms as f64 / 1000.0;
    let (runtime, runtime_name) = client_runtime(args.client_workers)?;
    let runs = args.common.runs;
    let limit = usize::from(args.limit);
    let many = vec![url.clone(); usize::try_from(items)?];
    let few = vec![url; usize::try_from(args.sequential_items)?];
    let pooled = Client::new();

    let mut records = Vec::new();
    let mut keep = |variant: &str, items: usize, durations: Vec<Duration>, ideal: f64| {
        let mut durations = durations;
        let mut record =
            Record::from_runs("gather", variant, items as u64, &mut durations).on(runtime_name);
        record.ideal_secs = Some(ideal);
        record = record.with_server_stats(server);
        record.emit_into(&mut records)?;
        anyhow::Ok(())
    };

    server.reset_stats();
    let d = measure(
        &runtime,
        runs,
        fresh(&many, async |c, u| fetch_join_all(c, u).await),
        all_ok,
    )?;
    keep("tokio-join_all", many.len(), d, delay)?;
    let d = measure(
        &runtime,
        runs,
        fresh(&many, async |c, u| indexed(fetch_join_set(c, u).await)),
        all_ok,
    )?;
    keep("tokio-JoinSet", many.len(), d, delay)?;
    let bounded = async |c: &Client, u: &[String]| {
        indexed(fetch_bounded(c, u, limit, Order::Completion).await)
    };
    let d = measure(&runtime, runs, fresh(&many, bounded), all_ok)?;
    keep(
        &format!("tokio-buffer_unordered-{limit}"),
        many.len(),
        d,
        delay * many.len().div_ceil(limit) as f64,
    )?;
    let d = measure(
        &runtime,
        runs,
        reuse(&pooled, &many, async |c, u| {
            indexed(fetch_join_set(c, u).await)
        }),
        all_ok,
    )?;
    keep("tokio-JoinSet-pooled", many.len(), d, delay)?;
    let d = measure(
        &runtime,
        runs,
        reuse(&pooled, &many, async |c, u| fetch_join_all(c, u).await),
        all_ok,
    )?;
    keep("tokio-join_all-pooled", many.len(), d, delay)?;
    let d = measure(
        &runtime,
        runs,
        fresh(&few, async |c, u| fetch_sequential(c, u).await),
        all_ok,
    )?;
    keep("tokio-sequential", few.len(), d, delay * few.len() as f64)?;

    let python = python(args, items, server)?;
    for record in python.iter().flatten() {
        record.emit()?;
    }
    compare(&records, python.as_deref());
    Ok(())
}

pub(crate) fn client_runtime(
    workers: u16,
) -> std::io::Result<(tokio::runtime::Runtime, &'static str)> {
    Ok(match workers {
        0 => (
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            "current_thread",
        ),
        n => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(n.into())
                .enable_all()
                .build()?;
            (runtime, "multi_thread")
        }
    })
}

/// Each run gets a fresh client (an empty pool), built before the clock starts, as Python
/// builds its session before its clock.
pub(crate) fn fresh<'a>(
    urls: &'a [String],
    body: impl AsyncFn(&Client, &[String]) -> Results + Copy + 'a,
) -> impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = Results> + 'a>> {
    move || {
        let client = Client::new();
        Box::pin(async move { body(&client, urls).await })
    }
}

/// Every run reuses `client`, whose pool the warm-up run filled.
fn reuse<'a>(
    client: &'a Client,
    urls: &'a [String],
    body: impl AsyncFn(&Client, &[String]) -> Results + Copy + 'a,
) -> impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = Results> + 'a>> {
    move || Box::pin(async move { body(client, urls).await })
}

pub(crate) fn indexed(results: Vec<(usize, Result<usize, FetchError>)>) -> Results {
    results.into_iter().map(|(_, result)| result).collect()
}

pub(crate) fn all_ok(results: Results) -> anyhow::Result<()> {
    for result in results {
        result?;
    }
    Ok(())
}

/// Python's variants, each in its own process run so the server's counters belong to one.
fn python(
    args: &GatherArgs,
    items: u64,
    server: &FixtureServer,
) -> anyhow::Result<Option<Vec<Record>>> {
    if args.common.no_python {
        return Ok(None);
    }
    let mut records = Vec::new();
    for variant in ["default", "unlimited", "unlimited-pooled"] {
        server.reset_stats();
        let extra = [
            "--url".to_owned(),
            server.base_url(),
            "--delay-ms".to_owned(),
            args.delay_ms.to_string(),
            "--variant".to_owned(),
            variant.to_owned(),
        ];
        let script = "patterns/gather/python/bench_gather.py".as_ref();
        let Some(lines) = run_python(script, items, args.common.runs, &extra)? else {
            return Ok(None);
        };
        records.extend(
            lines
                .into_iter()
                .map(|record| record.with_server_stats(server)),
        );
    }
    Ok(Some(records))
}
