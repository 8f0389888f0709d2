//! `rate`: N GETs of the fixture's `/delay/{ms}` with at most C in flight, measured against
//! the ideal (N / C waves of one delay), with the server's max in flight, and Python's
//! `asyncio.Semaphore` + `gather` in the same run. The bound sends the same GETs on C of
//! hyper's bare client connections, each taking its share one request after another.
//!
//! ```text
//! cargo bench -p rate-limit                       # 200 requests of 20 ms, 10 in flight
//! cargo bench -p rate-limit -- --concurrency 50
//! ```

use std::num::NonZeroU32;
use std::process::ExitCode;

use bench_harness::bare_http;
use bench_harness::{Bench, Options, PythonLoop, Record, measure, python_script};
use clap::Parser;
use fixture_server::{FixtureConfig, OwnedFixture};
use futures::{StreamExt, stream};
use rate_limit::{RateLimit, fetch_at_rate, fetch_with_semaphore};

/// Requests bounded to C in flight: tokio Semaphore, buffer_unordered, governor; Python
/// Semaphore.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    options: Options,
    /// What each request waits on the server, in milliseconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    delay_ms: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    concurrency: u16,
}

fn main() -> ExitCode {
    bench_harness::main(run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "rate", &args.options)?;
    let items = bench.items(200, 20, 100_000)?;
    let concurrency = usize::from(args.concurrency);
    let fixture = OwnedFixture::start(FixtureConfig::default(), 1)?;
    let server = fixture.server();
    let urls = vec![server.url(&format!("/delay/{}", args.delay_ms)); usize::try_from(items)?];
    let ideal = urls.len().div_ceil(concurrency) as f64 * args.delay_ms as f64 / 1000.0;
    let (runtime_name, runtime) = bench_harness::runtime(0)?;
    let runs = bench.runs();
    let client = reqwest::Client::new();
    // What governor costs: a limit far above what the run reaches, so it never waits.
    let never_binds = RateLimit::new(
        NonZeroU32::new(1_000_000).expect("non-zero"),
        NonZeroU32::new(1_000).expect("non-zero"),
    );
    let all_ok = |results: Vec<reqwest::Result<usize>>| {
        results.into_iter().try_for_each(|r| r.map(drop))?;
        anyhow::Ok(())
    };

    // Records a variant with the ideal time and what the server saw: the bound must have
    // held at the server, or the figure means nothing.
    let keep = |bench: &mut Bench, variant: &str, mut durations: Vec<std::time::Duration>| {
        let mut record = Record::from_runs("rate", variant, items, &mut durations)
            .on(runtime_name)
            .with_server_stats(server);
        record.ideal_secs = Some(ideal);
        let max = record.max_in_flight.unwrap_or(u64::MAX);
        anyhow::ensure!(max <= concurrency as u64, "{variant}: {max} in flight");
        bench.record(record)
    };
    server.reset_stats();
    let durations = measure(
        &runtime,
        runs,
        || fetch_with_semaphore(&client, &urls, concurrency),
        all_ok,
    )?;
    keep(&mut bench, "tokio-Semaphore", durations)?;
    // The same bound without a semaphore: a stream of futures, `concurrency` polled at once.
    let window = || {
        let client = &client;
        stream::iter(&urls)
            .map(move |url| async move {
                client
                    .get(url)
                    .send()
                    .await?
                    .error_for_status()?
                    .bytes()
                    .await
                    .map(|b| b.len())
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<_>>()
    };
    let durations = measure(&runtime, runs, window, all_ok)?;
    keep(&mut bench, "tokio-buffer_unordered", durations)?;
    let governed = || fetch_at_rate(&client, &urls, &never_binds, concurrency);
    let durations = measure(&runtime, runs, governed, all_ok)?;
    keep(&mut bench, "tokio-buffered+governor", durations)?;
    // Opened before the clock and kept, as the client's pool is filled by the warm-up.
    let base = server.base_url();
    let connections = runtime.block_on(bare_http::open_many(&base, concurrency))?;
    let path = format!("/delay/{}", args.delay_ms);
    let paths = vec![path; urls.len()];
    let bare = || bare_http::get_spread(&connections, &paths);
    let bodies_ok = |bodies: anyhow::Result<Vec<_>>| {
        anyhow::ensure!(bodies?.len() == paths.len(), "responses lost");
        Ok(())
    };
    let durations = measure(&runtime, runs, bare, bodies_ok)?;
    keep(&mut bench, "bound-bare-hyper", durations)?;

    let extra = [
        "--url".to_owned(),
        server.base_url(),
        "--delay-ms".to_owned(),
        args.delay_ms.to_string(),
        "--concurrency".to_owned(),
        args.concurrency.to_string(),
    ];
    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_rate.py");
    for event_loop in PythonLoop::BOTH {
        server.reset_stats();
        for record in bench
            .python(&script, items, &extra, event_loop)?
            .into_iter()
            .flatten()
        {
            bench.record(record.with_server_stats(server))?;
        }
    }
    bench.finish()
}
