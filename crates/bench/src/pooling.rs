//! `pooling`: N sequential GETs through one shared client, and with a new client per
//! request, counting the TCP connections the server accepted; Python's one session versus
//! a session per request in the same run.

use anyhow::Context as _;
use bench::{Record, compare, measure, run_python};
use fixture_server::{FixtureConfig, OwnedFixture};
use http_client::get_bytes;
use reqwest::Client;

use crate::Common;
use crate::gather::client_runtime;

pub(crate) fn run(common: &Common) -> anyhow::Result<()> {
    let items = common.items.unwrap_or(500);
    let fixture = OwnedFixture::start(FixtureConfig::default(), 1)?;
    let server = fixture.server();
    let url = server.url("/users/1");
    let (runtime, runtime_name) = client_runtime(0)?;
    let check = |result: Result<(), http_client::HttpError>| Ok(result?);
    let mut records = Vec::new();
    let mut keep = |variant: &str, durations: Vec<std::time::Duration>| {
        let mut durations = durations;
        let mut record =
            Record::from_runs("pooling", variant, items, &mut durations).on(runtime_name);
        // Counted over the warm-up and every run.
        record = record.with_server_stats(server);
        record.emit_into(&mut records)?;
        anyhow::Ok(())
    };
    server.reset_stats();
    // ANCHOR: bench
    let shared = Client::new();
    let one_client = || async {
        for _ in 0..items {
            get_bytes(&shared, &url).await?;
        }
        Ok(())
    };
    let client_per_request = || async {
        for _ in 0..items {
            get_bytes(&Client::new(), &url).await?;
        }
        Ok(())
    };
    // ANCHOR_END: bench
    keep(
        "tokio-one-client",
        measure(&runtime, common.runs, one_client, check)?,
    )?;
    keep(
        "tokio-client-per-request",
        measure(&runtime, common.runs, client_per_request, check)?,
    )?;

    let python = if common.no_python {
        None
    } else {
        let extra = ["--url".to_owned(), server.base_url()];
        run_python(
            "patterns/http-client/python/bench_pooling.py".as_ref(),
            items,
            common.runs,
            &extra,
        )
        .context("python pooling")?
    };
    for record in python.iter().flatten() {
        record.emit()?;
    }
    compare(&records, python.as_deref());
    Ok(())
}
