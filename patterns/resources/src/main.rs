//! Demo: `async with` and `AsyncExitStack` in Rust, against the embedded fixture server.
//!
//! ```text
//! cargo run -p resources
//! cargo run -p resources -- --url http://127.0.0.1:8080 --path /users/2 --files 5
//! RUST_LOG=debug cargo run -p resources
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fixture_server::FixtureServer;
use patterns_core::cli::{self, Url};
use patterns_core::{app, scoped, timed};
use resources::{Connection, ScratchDir, contend, fetch_through_stack, process_files, write_files};

/// Show async resources: a connection, timed file processing, a lock, an exit stack.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Base URL of a plain-HTTP server (default: an embedded fixture server).
    #[arg(long, value_parser = plain_http_url)]
    url: Option<Url>,
    /// Path to fetch on each connection.
    #[arg(long, default_value = "/users/1")]
    path: String,
    /// Files to write and process concurrently.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=1000))]
    files: u16,
    /// Simulated work per file, in milliseconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    work_ms: u64,
    /// Connections the exit stack opens at run time.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=100))]
    connections: u16,
}

/// `--url`: the connection below is hand-written plain HTTP/1.1, so https is refused here.
fn plain_http_url(value: &str) -> Result<Url, String> {
    match cli::http_url(value)? {
        url if url.scheme() == "https" => {
            Err("this demo's connection speaks plain http only, not https".into())
        }
        url => Ok(url),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // Ctrl-C drops the demo and waits for its releases: no scratch directory is left behind.
    app::run(app::interruptible(demo(Args::parse()))).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.path.starts_with('/'),
        "--path must start with '/', got {:?}",
        args.path
    );
    // The embedded server lives until the end of `run`, when it is dropped and stops.
    let fixture = match &args.url {
        Some(_) => None,
        None => Some(FixtureServer::start().await?),
    };
    let base_url = match (&args.url, &fixture) {
        (Some(url), _) => url.to_string(),
        (None, Some(server)) => server.base_url(),
        (None, None) => unreachable!("a fixture is started when no URL is given"),
    };

    let body = fetch_in_scope(&base_url, &args.path).await?;
    println!(
        "1. connected, fetched {} bytes of {}, disconnected",
        body.len(),
        args.path
    );

    let sizes: Vec<usize> = (1..=usize::from(args.files)).map(|i| 100 * i).collect();
    let work = Duration::from_millis(args.work_ms);
    let (reports, total) = timed(
        "all files",
        scoped(ScratchDir::create("resources-").await?, async |dir| {
            let paths = write_files(dir.path(), &sizes).await?;
            process_files(&paths, work).await
        }),
    )
    .await;
    let reports = reports?;
    let each: Vec<String> = reports
        .iter()
        .map(|r| format!("{} {} B {:.2} s", r.name, r.bytes, r.elapsed.as_secs_f64()))
        .collect();
    println!(
        "2. {} files processed concurrently in {:.2} s: {}",
        reports.len(),
        total.as_secs_f64(),
        each.join(", ")
    );

    let journal = contend(&["task A", "task B"], Duration::from_millis(100)).await;
    println!(
        "3. the lock let one task in at a time: {}",
        journal.join(", ")
    );

    let urls = vec![base_url; usize::from(args.connections)];
    let sizes = fetch_through_stack(&urls, &args.path).await?;
    println!(
        "4. exit stack released {} connections and a scratch directory, after fetching {sizes:?} bytes",
        urls.len()
    );
    Ok(())
}

// ANCHOR: demo_connection
/// `async with Connection(base_url) as connection: return await connection.fetch(path)`:
/// the connection is released when the body ends, whether it returned, failed or panicked.
async fn fetch_in_scope(base_url: &str, path: &str) -> anyhow::Result<String> {
    let body = scoped(Connection::connect(base_url).await?, async |connection| {
        connection.fetch(path).await
    })
    .await?;
    Ok(body)
}
// ANCHOR_END: demo_connection
