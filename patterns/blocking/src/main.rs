//! Demo: how late a 10 ms ticker gets while CPU work runs inline, on the blocking pool,
//! in place, and on rayon; then fixed batches against a sliding window.
//!
//! ```text
//! cargo run -p blocking
//! cargo run -p blocking -- --block-ms 500 --window 8
//! ```

use std::process::ExitCode;
use std::time::Duration;

use blocking::{Ticker, busy_for, in_fixed_batches, in_sliding_window, on_rayon};
use clap::Parser;
use patterns_core::{app, timed};
use tokio::runtime::{Builder, Runtime};

/// Measure what blocking work does to other tasks, and how to move it off the runtime.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// How long each piece of CPU work runs, in milliseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    block_ms: u64,
    /// The ticker's period, in milliseconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    tick_ms: u64,
    /// Items in flight for the batch and window demos.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=1000))]
    window: u16,
}

fn main() -> ExitCode {
    app::run_sync(|| run(&Args::parse()))
}

// ANCHOR: demo_inline
/// Blocking inside async code: no `.await` while it computes, so its thread is taken.
async fn compute_inline(work: Duration) {
    busy_for(work);
}
// ANCHOR_END: demo_inline

// ANCHOR: demo_spawn_blocking
/// The same computation on tokio's blocking pool: the runtime's threads stay free.
async fn compute_on_the_blocking_pool(work: Duration) {
    let _ = tokio::task::spawn_blocking(move || busy_for(work)).await;
}
// ANCHOR_END: demo_spawn_blocking

fn run(args: &Args) -> anyhow::Result<()> {
    let work = Duration::from_millis(args.block_ms);
    let tick = Duration::from_millis(args.tick_ms);
    let single = Builder::new_current_thread().enable_all().build()?;
    let multi = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    let late = lateness(&single, tick, compute_inline(work));
    println!(
        "1. blocking inside async: the ticker was up to {} ms late",
        late.as_millis()
    );

    let late = lateness(&single, tick, compute_on_the_blocking_pool(work));
    println!(
        "2. spawn_blocking: the ticker was up to {} ms late",
        late.as_millis()
    );

    let late = lateness(&multi, tick, async move {
        // Runs in a spawned task: block_in_place needs a multi-thread worker to give up.
        let _ = tokio::spawn(async move { tokio::task::block_in_place(|| busy_for(work)) }).await;
    });
    println!(
        "3. block_in_place (multi-thread runtime): the ticker was up to {} ms late",
        late.as_millis()
    );

    let late = lateness(&single, tick, async move {
        let _ = on_rayon(move || busy_for(work)).await;
    });
    println!(
        "4. rayon pool + oneshot: the ticker was up to {} ms late",
        late.as_millis()
    );

    let durations: Vec<u64> = (0..16).map(|i| if i % 4 == 0 { 400 } else { 50 }).collect();
    let window = usize::from(args.window);
    let nap = |ms: u64| tokio::time::sleep(Duration::from_millis(ms));
    let (_, batches) = single.block_on(timed(
        "batches",
        in_fixed_batches(durations.clone(), window, nap),
    ));
    let (_, sliding) = single.block_on(timed("window", in_sliding_window(durations, window, nap)));
    println!(
        "5. 16 items (every 4th slow), {window} at a time: fixed batches {:.2} s, sliding window {:.2} s; the sliding window finished first: {}",
        batches.as_secs_f64(),
        sliding.as_secs_f64(),
        sliding < batches
    );
    Ok(())
}

/// Runs `work` on `runtime` next to a ticker and returns the ticker's worst lateness.
fn lateness(runtime: &Runtime, tick: Duration, work: impl Future<Output = ()>) -> Duration {
    runtime.block_on(async {
        let ticker = Ticker::start(tick);
        tokio::time::sleep(tick * 2).await; // the ticker is running
        work.await;
        tokio::time::sleep(tick * 2).await; // a late tick records its lateness
        ticker.worst_lateness()
    })
}
