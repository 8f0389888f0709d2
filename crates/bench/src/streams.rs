//! `streams`: every item of the fixture's paginated collection (default 1,000 items, 100
//! pages of 10, 5 ms of latency per page), one page at a time and with pages fetched
//! concurrently, against Python async generators doing the same in the same run.

use anyhow::Context as _;
use bench::{Record, compare, measure, run_python};
use fixture_server::{FixtureConfig, OwnedFixture};
use futures::TryStreamExt;

use crate::Common;
use crate::gather::client_runtime;

#[derive(Debug, clap::Args)]
pub(crate) struct StreamsArgs {
    #[command(flatten)]
    common: Common,
    /// Items per page.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    per_page: u16,
    /// Latency of each page, in milliseconds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    delay_ms: u64,
    /// Pages in flight at once for the concurrent variants.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1000))]
    in_flight: u16,
}

pub(crate) fn run(args: &StreamsArgs) -> anyhow::Result<()> {
    let items = args.common.items.unwrap_or(1000);
    let config = FixtureConfig {
        items: usize::try_from(items)?,
        ..Default::default()
    };
    let fixture = OwnedFixture::start(config, 1)?;
    let server = fixture.server();
    let (runtime, runtime_name) = client_runtime(0)?;
    let per_page = usize::from(args.per_page);
    let query = format!("&delay_ms={}", args.delay_ms);
    let client = reqwest::Client::new();
    let expected = usize::try_from(items)?;
    // Every item exactly once (order is the tests' business: one variant does not keep it).
    let check = |collected: Result<Vec<fixture_server::api::Item>, gather::FetchError>| {
        let mut ids: Vec<usize> = collected?.into_iter().map(|item| item.id).collect();
        ids.sort_unstable();
        anyhow::ensure!(
            ids == (1..=expected).collect::<Vec<_>>(),
            "items lost or doubled"
        );
        Ok(())
    };
    let mut records = Vec::new();
    let mut keep = |variant: &str, durations: Vec<std::time::Duration>| {
        let mut durations = durations;
        let mut record =
            Record::from_runs("streams", variant, items, &mut durations).on(runtime_name);
        record = record.with_server_stats(server);
        record.emit_into(&mut records)?;
        anyhow::Ok(())
    };
    let runs = args.common.runs;
    let base = server.base_url();
    let sequential = || {
        streams::items(client.clone(), base.clone(), per_page, query.clone())
            .try_collect::<Vec<_>>()
    };
    keep(
        "tokio-try_unfold-sequential",
        measure(&runtime, runs, sequential, check)?,
    )?;
    let in_flight = usize::from(args.in_flight);
    for (variant, order) in [
        ("tokio-buffered", streams::Order::Input),
        ("tokio-buffer_unordered", streams::Order::Completion),
    ] {
        let concurrent = || {
            streams::items_concurrently(
                client.clone(),
                base.clone(),
                per_page,
                in_flight,
                order,
                query.clone(),
            )
            .try_collect::<Vec<_>>()
        };
        keep(
            &format!("{variant}-{in_flight}"),
            measure(&runtime, runs, concurrent, check)?,
        )?;
    }

    let python = if args.common.no_python {
        None
    } else {
        let extra = [
            "--url",
            &base,
            "--per-page",
            &args.per_page.to_string(),
            "--delay-ms",
            &args.delay_ms.to_string(),
            "--in-flight",
            &args.in_flight.to_string(),
        ]
        .map(str::to_owned);
        run_python(
            "patterns/streams/python/bench_streams.py".as_ref(),
            items,
            runs,
            &extra,
        )
        .context("python streams")?
    };
    for record in python.iter().flatten() {
        record.emit()?;
    }
    compare(&records, python.as_deref());
    Ok(())
}
