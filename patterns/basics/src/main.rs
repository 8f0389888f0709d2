//! Demo: async/await, join_all versus spawn, lazy futures, the two runtimes, block_on.
//!
//! ```text
//! cargo run -p basics
//! cargo run -p basics -- --names Ada,Grace,Alan --pause-ms 300
//! RUST_LOG=debug cargo run -p basics
//! ```
//!
//! `main` is a plain function on purpose: it builds the runtime itself, which is what
//! `#[tokio::main]` writes for you, and shows calling async code from sync code.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use basics::{
    block_on_from_sync, current_thread_runtime, greet, greet_in_tasks, greet_one_after_another,
    greet_with_join_all, multi_thread_runtime, threads_used,
};
use clap::Parser;
use patterns_core::{app, cli, timed};

/// Show async/await, join_all, spawn, lazy futures, runtimes and block_on.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Who to greet, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "Alice,Bob,Carol")]
    names: Vec<String>,
    /// How long each greeting waits, in milliseconds (at most 10,000).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pause_ms: u64,
    /// Worker threads of the multi-thread runtime.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    workers: u16,
}

fn main() -> ExitCode {
    app::run_sync(|| run(Args::parse()))
}

fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.names.iter().all(|n| !n.trim().is_empty()),
        "--names needs non-empty names, e.g. --names Ada,Grace"
    );
    let pause = Duration::from_millis(args.pause_ms);

    run_async_sections(&args.names, pause, args.workers.into())?;
    runtime_sections(args.workers.into())?;
    sync_section()
}

// ANCHOR: main_runtime
/// What `#[tokio::main]` expands to: build a runtime, block the main thread on one future.
fn run_async_sections(names: &[String], pause: Duration, workers: usize) -> anyhow::Result<()> {
    let runtime = multi_thread_runtime(workers).context("cannot start the runtime")?;
    runtime.block_on(async_sections(names, pause))
}
// ANCHOR_END: main_runtime

async fn async_sections(names: &[String], pause: Duration) -> anyhow::Result<()> {
    let n = names.len();
    let (_, took) = timed("one after another", greet_one_after_another(names, pause)).await;
    let why = if pause.is_zero() {
        "no pauses to add up"
    } else {
        "the pauses add up"
    };
    println!(
        "1. one after another: {} in {:.2} s ({why})",
        cli::count(n, "greeting"),
        took.as_secs_f64()
    );

    let (greetings, took) = timed("join_all", greet_with_join_all(names, pause)).await;
    println!(
        "2. join_all: {} in {:.2} s, in input order: {}",
        cli::count(n, "greeting"),
        took.as_secs_f64(),
        greetings.join(" ")
    );

    let (greetings, took) = timed("spawn", greet_in_tasks(names, pause)).await;
    greetings?;
    println!(
        "3. tokio::spawn: {} in {:.2} s",
        cli::count(n, "task"),
        took.as_secs_f64()
    );

    let (before, after) = lazy_future().await;
    println!(
        "4. futures are lazy: built one, it ran {before} times; awaited it, it ran {after} time"
    );
    Ok(())
}

// ANCHOR: lazy
/// A future counts its polls: building it runs nothing, awaiting it runs it. Returns the
/// count before and after the await.
async fn lazy_future() -> (usize, usize) {
    let polled = AtomicUsize::new(0);
    let future = async {
        polled.fetch_add(1, Ordering::SeqCst);
        greet("lazy", Duration::ZERO).await
    };
    let before = polled.load(Ordering::SeqCst); // 0: building the future ran nothing
    future.await;
    let after = polled.load(Ordering::SeqCst); // 1: awaiting it ran it
    (before, after)
}
// ANCHOR_END: lazy

fn runtime_sections(workers: usize) -> anyhow::Result<()> {
    let single = current_thread_runtime()?.block_on(threads_used(200))?;
    println!("5. current-thread runtime: 200 tasks ran on {single} thread (asyncio's model)");
    let multi = multi_thread_runtime(workers)?.block_on(threads_used(200))?;
    println!("6. multi-thread runtime: 200 tasks ran on {multi} of {workers} worker threads");
    Ok(())
}

fn sync_section() -> anyhow::Result<()> {
    let (greeting, nested) = from_sync_code()?;
    println!("7. block_on from sync code: {greeting}");
    match nested {
        Err(refused) => println!("8. block_on inside a runtime is refused: {refused}"),
        Ok(()) => anyhow::bail!("a nested block_on should have been refused"),
    }
    Ok(())
}

// ANCHOR: from_sync
/// Sync code runs a future to its end with `block_on_from_sync`; inside a runtime the
/// same call is refused instead of deadlocking or panicking.
fn from_sync_code() -> anyhow::Result<(String, anyhow::Result<()>)> {
    let greeting = block_on_from_sync(greet("from sync code", Duration::ZERO))?;
    let nested = current_thread_runtime()?.block_on(async { block_on_from_sync(async {}) });
    Ok((greeting, nested))
}
// ANCHOR_END: from_sync
