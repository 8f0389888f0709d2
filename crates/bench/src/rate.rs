//! `rate`: N GETs of the fixture's `/delay/{ms}` with at most C in flight, measured against
//! the ideal (N / C waves of one delay), with the server's max in flight, and Python's
//! `asyncio.Semaphore` + `gather` in the same run.

use std::num::NonZeroU32;

use anyhow::Context as _;
use bench::{Record, compare, measure, run_python};
use fixture_server::{FixtureConfig, OwnedFixture};
use gather::{Order, fetch_bounded};

use crate::Common;
use crate::gather::{all_ok, client_runtime, fresh, indexed};

#[derive(Debug, clap::Args)]
pub(crate) struct RateArgs {
    #[command(flatten)]
    common: Common,
    /// What each request waits on the server, in milliseconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    delay_ms: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
}

pub(crate) fn run(args: &RateArgs) -> anyhow::Result<()> {
    let items = args.common.items.unwrap_or(200);
    let concurrency = usize::from(args.concurrency);
    let fixture = OwnedFixture::start(FixtureConfig::default(), 1)?;
    let server = fixture.server();
    let urls = vec![server.url(&format!("/delay/{}", args.delay_ms)); usize::try_from(items)?];
    let ideal = urls.len().div_ceil(concurrency) as f64 * args.delay_ms as f64 / 1000.0;
    let (runtime, runtime_name) = client_runtime(0)?;
    let runs = args.common.runs;

    let mut records = Vec::new();
    let mut keep = |variant: &str, durations: Vec<std::time::Duration>| {
        let mut durations = durations;
        let mut record = Record::from_runs("rate", variant, items, &mut durations).on(runtime_name);
        record.ideal_secs = Some(ideal);
        record = record.with_server_stats(server);
        record.emit_into(&mut records)?;
        anyhow::Ok(())
    };
    server.reset_stats();
    let semaphore = async |c: &reqwest::Client, u: &[String]| {
        rate_limit::fetch_with_semaphore(c, u, concurrency).await
    };
    keep(
        "tokio-Semaphore",
        measure(&runtime, runs, fresh(&urls, semaphore), all_ok)?,
    )?;
    let window = async |c: &reqwest::Client, u: &[String]| {
        indexed(fetch_bounded(c, u, concurrency, Order::Completion).await)
    };
    keep(
        "tokio-buffer_unordered",
        measure(&runtime, runs, fresh(&urls, window), all_ok)?,
    )?;
    // What governor costs: a limit far above what the run reaches, so it never waits.
    let never_binds = rate_limit::RateLimit::new(
        NonZeroU32::new(1_000_000).expect("non-zero"),
        NonZeroU32::new(1_000).expect("non-zero"),
    );
    let governed = async |c: &reqwest::Client, u: &[String]| {
        rate_limit::fetch_at_rate(c, u, &never_binds, concurrency).await
    };
    keep(
        "tokio-buffered+governor",
        measure(&runtime, runs, fresh(&urls, governed), all_ok)?,
    )?;

    let python = if args.common.no_python {
        None
    } else {
        server.reset_stats();
        let extra = [
            "--url".to_owned(),
            server.base_url(),
            "--delay-ms".to_owned(),
            args.delay_ms.to_string(),
            "--concurrency".to_owned(),
            args.concurrency.to_string(),
        ];
        let lines = run_python(
            "patterns/rate-limit/python/bench_rate.py".as_ref(),
            items,
            runs,
            &extra,
        )
        .context("python rate")?;
        lines.map(|lines| {
            lines
                .into_iter()
                .map(|record| record.with_server_stats(server))
                .collect::<Vec<_>>()
        })
    };
    for record in python.iter().flatten() {
        record.emit()?;
    }
    compare(&records, python.as_deref());
    Ok(())
}
