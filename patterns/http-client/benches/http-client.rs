//! `pooling`: N sequential GETs through one shared client, and with a new client per
//! request, counting the TCP connections the server accepted; Python's one session versus
//! a session per request in the same run. The bound sends the same GETs on one of hyper's
//! bare client connections, with no pool and no client layers.
//!
//! ```text
//! cargo bench -p http-client                      # 500 requests per run
//! ```

use std::process::ExitCode;
use std::time::Duration;

use bench_harness::bare_http;
use bench_harness::{Bench, Options, PythonLoop, Record, measure, python_script};
use fixture_server::{FixtureConfig, OwnedFixture};
use http_client::{HttpError, get_bytes};
use reqwest::Client;

/// Sequential GETs through one shared client versus a client per request; Python: one
/// session versus a session per request.
fn main() -> ExitCode {
    bench_harness::main::<Options>(run)
}

fn run(options: Options) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "pooling", &options)?;
    let items = bench.items(500, 20, 1_000_000)?;
    let fixture = OwnedFixture::start(FixtureConfig::default(), 1)?;
    let server = fixture.server();
    let url = server.url("/users/1");
    let (runtime_name, runtime) = bench_harness::runtime(0)?;
    let runs = bench.runs();
    let check = |result: Result<(), http_client::HttpError>| Ok(result?);
    // Connections are counted over the warm-up and every run.
    let keep = |bench: &mut Bench, variant: &str, mut durations: Vec<Duration>| {
        let record = Record::from_runs("pooling", variant, items, &mut durations)
            .on(runtime_name)
            .with_server_stats(server);
        bench.record(record)
    };
    server.reset_stats();
    let shared = Client::new();
    let one_client = || get_through_one_client(&shared, &url, items);
    let client_per_request = || get_with_a_client_each(&url, items);
    let durations = measure(&runtime, runs, one_client, check)?;
    keep(&mut bench, "tokio-one-client", durations)?;
    let durations = measure(&runtime, runs, client_per_request, check)?;
    keep(&mut bench, "tokio-client-per-request", durations)?;
    // One connection for the warm-up and every run, as the shared client's pool keeps one.
    let bare = runtime.block_on(bare_http::open_many(&server.base_url(), 1))?;
    let paths = vec!["/users/1".to_owned(); usize::try_from(items)?];
    let on_a_bare_connection = || bare_http::get_spread(&bare, &paths);
    let durations = measure(&runtime, runs, on_a_bare_connection, |bodies| {
        anyhow::ensure!(bodies?.len() == paths.len(), "responses lost");
        Ok(())
    })?;
    keep(&mut bench, "bound-bare-hyper", durations)?;

    let extra = ["--url".to_owned(), server.base_url()];
    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_pooling.py");
    bench.python_records(&script, items, &extra, &PythonLoop::BOTH)?;
    bench.finish()
}

// ANCHOR: bench
/// `items` GETs of `url` in turn through one client: its pool reuses one connection.
async fn get_through_one_client(shared: &Client, url: &str, items: u64) -> Result<(), HttpError> {
    for _ in 0..items {
        get_bytes(shared, url).await?;
    }
    Ok(())
}

/// The same GETs with a new client each: a new pool, so a new connection, every time.
async fn get_with_a_client_each(url: &str, items: u64) -> Result<(), HttpError> {
    for _ in 0..items {
        get_bytes(&Client::new(), url).await?;
    }
    Ok(())
}
// ANCHOR_END: bench
