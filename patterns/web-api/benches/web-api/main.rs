//! `get-N` and `post-N`: one load generator, N keep-alive connections, against each
//! server in a process of its own: this crate's binary (axum), FastAPI on uvicorn (uvloop
//! and httptools; one worker, and one per core), aiohttp.web (asyncio and uvloop), and
//! the bound, a bare hyper server. GET reads item 1 as JSON; POST validates and inserts a
//! new item. Requests per second, p50 and p99 latency, the server's CPU per request
//! (workers included) and the generator's own, to show it is not the bottleneck.
//!
//! The generator is in `load.rs`, the bound in `bound.rs`.
//!
//! ```text
//! cargo bench -p web-api
//! cargo bench -p web-api -- --connections 64 --requests 20000 --servers rust,bound
//! ```

mod bound;
mod load;

use std::net::TcpListener;
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context, ensure};
use bench_harness::{Bench, Options, PythonLoop, Record, ServerProcess, python_script};
use clap::Parser;

use load::{Kind, one_run};

/// JSON reads and validated inserts over keep-alive connections, every server.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    options: Options,
    /// Connection counts, one workload each.
    #[arg(long, value_delimiter = ',', default_value = "64,256")]
    connections: Vec<usize>,
    /// Requests per run.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    requests: u64,
    /// Which servers to measure.
    #[arg(long, value_delimiter = ',',
          default_value = "rust,bound,fastapi-1,fastapi-per-core,aiohttp-asyncio,aiohttp-uvloop",
          value_parser = ["rust", "bound", "fastapi-1", "fastapi-per-core", "aiohttp-asyncio", "aiohttp-uvloop"])]
    servers: Vec<String>,
}

/// The flag that makes this binary the bound server instead of the benchmark. Read
/// before the harness, which ignores every flag under `cargo test`.
const SERVE_BOUND: &str = "--serve-bound";

/// A server to start for each workload: its variant name, the runtime or loop it runs
/// on, the allocator of its process, and the command.
struct Server {
    variant: String,
    runtime: &'static str,
    allocator: &'static str,
    command: Command,
}

fn main() -> ExitCode {
    if std::env::args().any(|arg| arg == SERVE_BOUND) {
        return patterns_core::app::exit_code(bound::serve());
    }
    bench_harness::main(run)
}

fn run(args: Args) -> anyhow::Result<()> {
    ensure!(
        args.connections.iter().all(|&n| (1..=1024).contains(&n)),
        "--connections: 1 to 1024 each"
    );
    // The generator: one thread, so the server has the other core.
    let (_, runtime) = bench_harness::runtime(0)?;
    for kind in [Kind::Get, Kind::Post] {
        for &connections in &args.connections {
            let workload = format!("{}-{connections}", kind.name());
            let mut bench = Bench::new(env!("CARGO_PKG_NAME"), &workload, &args.options)?;
            let connections = if bench.is_quick() {
                connections.min(8)
            } else {
                connections
            };
            let requests = bench.items(args.requests, 200, 10_000_000)?;
            for server in servers(&args, &bench)? {
                let process = ServerProcess::start(server.command, "serving ")
                    .with_context(|| format!("starting {}", server.variant))?;
                let mut record = runtime.block_on(measure(
                    &process,
                    &bench,
                    &server.variant,
                    kind,
                    connections,
                    requests,
                ))?;
                // The record describes the server's process, not this generator's.
                record.allocator = Some(server.allocator.into());
                // A bare hyper server answering the same bytes: the bound.
                record.bound = server.variant.starts_with("bound-");
                bench.record(record.on(server.runtime))?;
            }
            bench.finish()?;
        }
    }
    Ok(())
}

/// The servers `--servers` names, Python's only when Python runs.
fn servers(args: &Args, bench: &Bench) -> anyhow::Result<Vec<Server>> {
    let wanted = |name: &str| args.servers.iter().any(|s| s == name);
    let mut servers = Vec::new();
    if wanted("rust") {
        let mut command = Command::new(env!("CARGO_BIN_EXE_web-api"));
        command
            .args(["--serve", "127.0.0.1:0"])
            .env("RUST_LOG", "warn");
        servers.push(Server {
            variant: "axum-web-api".into(),
            runtime: "multi_thread",
            allocator: "system",
            command,
        });
    }
    if wanted("bound") {
        let mut command = Command::new(std::env::current_exe()?);
        command.arg(SERVE_BOUND);
        servers.push(Server {
            variant: "bound-bare-hyper".into(),
            runtime: "multi_thread",
            allocator: bench_harness::ALLOCATOR,
            command,
        });
    }
    let fastapi = python_script(env!("CARGO_MANIFEST_DIR"), "shop_fastapi.py");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    for (name, workers) in [("fastapi-1", 1), ("fastapi-per-core", cores)] {
        if let (true, Some(mut command)) = (wanted(name), bench.python_command(&fastapi)) {
            command.args([
                "--serve",
                &free_port()?.to_string(),
                "--workers",
                &workers.to_string(),
            ]);
            let variant = format!(
                "python-fastapi-uvicorn-{workers}-worker{}",
                if workers > 1 { "s" } else { "" }
            );
            servers.push(Server {
                variant,
                runtime: "uvloop",
                allocator: "pymalloc",
                command,
            });
        }
    }
    let aiohttp = python_script(env!("CARGO_MANIFEST_DIR"), "shop_aiohttp.py");
    for event_loop in PythonLoop::BOTH {
        let name = format!("aiohttp-{}", event_loop.name());
        if let (true, Some(mut command)) = (wanted(&name), bench.python_command(&aiohttp)) {
            command.args([
                "--serve",
                &free_port()?.to_string(),
                "--loop",
                event_loop.name(),
            ]);
            servers.push(Server {
                variant: "python-aiohttp-web".into(),
                runtime: event_loop.name(),
                allocator: "pymalloc",
                command,
            });
        }
    }
    Ok(servers)
}

/// A port nobody listens on now: a server with several workers needs it before it starts.
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

// ANCHOR: measure
/// Creates item 1, then a warm-up run and `bench.runs()` timed runs, each on fresh
/// connections; one record with the median rate, p50 and p99 over every timed request,
/// and the CPU each side spent per request.
async fn measure(
    server: &ServerProcess,
    bench: &Bench,
    variant: &str,
    kind: Kind,
    connections: usize,
    requests: u64,
) -> anyhow::Result<Record> {
    one_run(server, Kind::Post, u32::MAX, 1, 1)
        .await
        .context("creating item 1")?;
    let (mut durations, mut latencies) = (Vec::new(), Vec::new());
    let (mut server_cpu, mut client_cpu) = (Duration::ZERO, Duration::ZERO);
    for run in 0..=bench.runs() {
        let outcome = one_run(server, kind, run, connections, requests).await?;
        if run > 0 {
            durations.push(outcome.elapsed);
            latencies.extend(outcome.latencies_ns);
            server_cpu += outcome.server_cpu;
            client_cpu += outcome.client_cpu;
        }
    }
    let mut record = Record::from_runs(bench.workload(), variant, requests, &mut durations);
    latencies.sort_unstable();
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize] as f64 / 1e6;
    record.p50_ms = Some(percentile(0.50));
    record.p99_ms = Some(percentile(0.99));
    let all = (requests * u64::from(bench.runs())) as f64;
    record.server_cpu_us_per_item = Some(server_cpu.as_secs_f64() * 1e6 / all);
    record.cpu_us_per_item = Some(client_cpu.as_secs_f64() * 1e6 / all);
    Ok(record)
}
// ANCHOR_END: measure
