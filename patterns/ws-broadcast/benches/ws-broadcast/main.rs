//! `fanout-N`: N WebSocket clients and one sender connected to a chat server; the sender
//! sends 1,000 messages, each carrying its send time, and every client must receive every
//! one. Delivered messages per second, p50 and p99 of send-to-delivery latency, and the
//! server's resident memory per idle connection.
//!
//! The servers are separate processes: this crate's binary (`--serve`) and the Python
//! reference (`python/broadcast.py --serve`, on asyncio and on uvloop). This process is
//! the load client for all of them, on its own Tokio runtime. The sender keeps at most
//! `--window` messages ahead of the slowest client, so no client falls a full outbox
//! behind and is dropped: both servers run the same policy and must lose nothing.
//!
//! The load client is in `load.rs`; the server processes it measures are bench-harness's
//! `ServerProcess`.
//!
//! ```text
//! cargo bench -p ws-broadcast
//! cargo bench -p ws-broadcast -- --clients 100 --messages 5000 --window 16
//! ```

mod bound;
mod load;

use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context, ensure};
use bench_harness::{Bench, Options, PythonLoop, Record, ServerProcess, python_script};
use clap::Parser;

use load::{one_run, raise_open_files_limit};

/// Fan-out of one sender's messages to N WebSocket clients, Rust and Python servers.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    options: Options,
    /// Client counts, one workload each.
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    clients: Vec<usize>,
    /// Messages the sender sends per run.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    messages: u64,
    /// The most messages the sender may be ahead of the slowest client.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=64))]
    window: u64,
    /// Which servers to measure.
    #[arg(long, value_delimiter = ',', default_value = "rust,bound,asyncio,uvloop",
          value_parser = ["rust", "bound", "asyncio", "uvloop"])]
    servers: Vec<String>,
}

/// Both servers' outbox capacity. Join and leave notices count too: when 1,000 clients
/// connect at once, each member gets up to 1,000 notices in a burst, and an outbox of 64
/// (the demo's) drops members whose writer had not yet had a turn. The sender's window
/// keeps the messages themselves at most 32 ahead.
const OUTBOX: &str = "2048";

/// The flag that makes this binary the bound server instead of the benchmark. Read
/// before the harness, which ignores every flag under `cargo test`.
const SERVE_BOUND: &str = "--serve-bound";

fn main() -> ExitCode {
    if std::env::args().any(|arg| arg == SERVE_BOUND) {
        return patterns_core::app::exit_code(bound::serve());
    }
    bench_harness::main(run)
}

fn run(args: Args) -> anyhow::Result<()> {
    ensure!(
        args.clients.iter().all(|&n| (1..=5000).contains(&n)),
        "--clients: 1 to 5000 each"
    );
    raise_open_files_limit(args.clients.iter().max().copied().unwrap_or(0))?;
    // The load client: one thread, so the server has the other core.
    let (_, runtime) = bench_harness::runtime(0)?;
    for &clients in &args.clients {
        let mut bench = Bench::new(
            env!("CARGO_PKG_NAME"),
            &format!("fanout-{clients}"),
            &args.options,
        )?;
        let clients = if bench.is_quick() {
            clients.min(10)
        } else {
            clients
        };
        let plan = Plan {
            clients,
            messages: bench.items(args.messages, 20, 1_000_000)?,
            window: args.window,
            runs: bench.runs(),
        };
        let wanted = |name: &str| args.servers.iter().any(|s| s == name);
        let mut servers = Vec::new();
        if wanted("rust") {
            servers.push(("tokio-tungstenite", None, rust_server()));
        }
        if wanted("bound") {
            let mut command = Command::new(std::env::current_exe()?);
            command.arg(SERVE_BOUND);
            servers.push(("bound-plain-tcp-writer", None, command));
        }
        let script = python_script(env!("CARGO_MANIFEST_DIR"), "broadcast.py");
        for event_loop in PythonLoop::BOTH {
            if !wanted(event_loop.name()) {
                continue;
            }
            if let Some(command) = bench.python_command(&script) {
                servers.push((
                    "python-websockets",
                    Some(event_loop),
                    python_server(command, event_loop),
                ));
            }
        }
        for (variant, event_loop, command) in servers {
            let server = ServerProcess::start(command, "chat page: ")
                .with_context(|| format!("starting the {variant} server"))?;
            let record = runtime.block_on(measure(&server, bench.workload(), variant, &plan))?;
            // The Rust server runs on `#[tokio::main]`'s multi-thread runtime.
            let server_runtime = event_loop.map_or("multi_thread", PythonLoop::name);
            let record = record.on(server_runtime);
            bench.record(record)?;
        }
        bench.finish()?;
    }
    Ok(())
}

/// One workload's sizes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) clients: usize,
    pub(crate) messages: u64,
    pub(crate) window: u64,
    pub(crate) runs: u32,
}

fn rust_server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ws-broadcast"));
    command
        .args(["--serve", "127.0.0.1:0"])
        .env("RUST_LOG", "warn");
    command
}

fn python_server(mut command: Command, event_loop: PythonLoop) -> Command {
    command.args([
        "--serve",
        "127.0.0.1:0",
        "--outbox",
        OUTBOX,
        "--loop",
        event_loop.name(),
    ]);
    command
}

// ANCHOR: measure
/// A warm-up run, which also measures the memory of idle connections on the fresh server,
/// then `plan.runs` timed runs, each with fresh connections.
async fn measure(
    server: &ServerProcess,
    workload: &str,
    variant: &str,
    plan: &Plan,
) -> anyhow::Result<Record> {
    let mut durations = Vec::new();
    let mut latencies = Vec::new();
    let mut idle_kib = 0.0;
    let mut server_cpu = Duration::ZERO;
    let mut client_cpu = Duration::ZERO;
    for run in 0..=plan.runs {
        let outcome = one_run(server, run, plan).await?;
        if run == 0 {
            // A fresh server: later runs reuse memory the allocator kept from this one.
            idle_kib = outcome.idle_kib_per_connection;
        } else {
            durations.push(outcome.elapsed);
            server_cpu += outcome.server_cpu;
            client_cpu += outcome.client_cpu;
            latencies.extend(outcome.latencies_ns);
        }
    }
    let delivered = plan.messages * plan.clients as u64;
    let mut record = Record::from_runs(workload, variant, delivered, &mut durations);
    latencies.sort_unstable();
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize] as f64 / 1e6;
    record.p50_ms = Some(percentile(0.50));
    record.p99_ms = Some(percentile(0.99));
    record.kib_per_idle_connection = Some(idle_kib);
    let all_delivered = delivered as f64 * f64::from(plan.runs);
    record.server_cpu_us_per_item = Some(server_cpu.as_secs_f64() * 1e6 / all_delivered);
    // The load client's share of the two cores, the same for every server.
    record.cpu_us_per_item = Some(client_cpu.as_secs_f64() * 1e6 / all_delivered);
    Ok(record)
}
// ANCHOR_END: measure
