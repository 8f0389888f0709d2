//! The benchmark harness.
//!
//! ```text
//! cargo run --release -p bench -- spawn            # 100,000 no-op tasks
//! cargo run --release -p bench -- spawn --items 1000 --runs 3 --no-python
//! ```
//!
//! stdout: one JSON line per variant (`workload`, `variant`, `items`, `secs`, `per_sec`,
//! `runs`); stderr: how each Rust variant compares with Python.

use std::process::ExitCode;

use anyhow::Context as _;
use bench::{Record, compare, measure, run_python};
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Rust variants and the Python reference of a workload, in one run"
)]
struct Cli {
    #[command(subcommand)]
    workload: Workload,
}

#[derive(Debug, Subcommand)]
enum Workload {
    /// Spawn and await no-op tasks (tokio join_all and JoinSet; Python asyncio.gather).
    Spawn(Common),
}

#[derive(Debug, Args)]
struct Common {
    /// Items per run.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    items: u64,
    /// Runs per variant; the median is reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    runs: u32,
    /// Skip the Python reference.
    #[arg(long)]
    no_python: bool,
}

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    patterns_core::app::init_tracing();
    patterns_core::app::exit_code(run(Cli::parse()))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.workload {
        Workload::Spawn(common) => spawn(&common),
    }
}

/// Spawning and awaiting no-op tasks: what one task costs, on both runtimes.
fn spawn(common: &Common) -> anyhow::Result<()> {
    let n = usize::try_from(common.items).context("too many items")?;
    let expected = n * (n - 1) / 2;
    let check = |sum: Result<usize, tokio::task::JoinError>| {
        anyhow::ensure!(sum? == expected, "tasks lost");
        Ok(())
    };
    let runtimes = [
        ("multi_thread", basics::multi_thread_runtime(2)?),
        ("current_thread", basics::current_thread_runtime()?),
    ];
    let mut records = Vec::new();
    for (name, runtime) in &runtimes {
        let runs = common.runs;
        let timings = [
            (
                "tokio-join_all",
                measure(runtime, runs, || basics::spawn_and_join_all(n), check)?,
            ),
            (
                "tokio-await_each",
                measure(runtime, runs, || basics::spawn_and_await_each(n), check)?,
            ),
            (
                "tokio-JoinSet",
                measure(runtime, runs, || basics::spawn_with_join_set(n), check)?,
            ),
        ];
        for (variant, mut durations) in timings {
            let record = Record::from_runs("spawn", variant, common.items, &mut durations).on(name);
            record.emit()?;
            records.push(record);
        }
    }
    let python = if common.no_python {
        None
    } else {
        run_python(
            "patterns/basics/python/bench_spawn.py".as_ref(),
            common.items,
            common.runs,
            &[],
        )?
    };
    for record in python.iter().flatten() {
        record.emit()?;
    }
    compare(&records, python.as_deref());
    Ok(())
}
