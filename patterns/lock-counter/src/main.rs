//! Demo: the lost update without a lock, then every correct way to count from many tasks.
//!
//! ```text
//! cargo run -p lock-counter
//! cargo run -p lock-counter -- --workers 16 --increments 50000
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use lock_counter::{
    ActorCounter, AsyncCounter, AtomicCounter, Counter, RacyCounter, RwLockCounter,
    StdMutexCounter, TokioMutexCounter, hammer,
};
use patterns_core::{app, timed};

/// Count from many tasks at once, with and without a lock.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Tasks incrementing at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    workers: u16,
    /// Increments per task.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    increments: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let (workers, increments) = (usize::from(args.workers), args.increments);
    let expected = workers as u64 * increments;
    println!("{workers} tasks x {increments} increments: {expected} expected");
    let racy = hammer(Arc::new(RacyCounter::default()), workers, increments).await;
    println!(
        "1. read, await, write without a lock: {racy} ({} lost updates)",
        expected - racy
    );
    report(
        "2. AsyncCounter (tokio Mutex held across the await)",
        AsyncCounter::default(),
        workers,
        increments,
    )
    .await;
    report(
        "3. tokio Mutex",
        TokioMutexCounter::new(false),
        workers,
        increments,
    )
    .await;
    report(
        "4. tokio Mutex, try_lock first",
        TokioMutexCounter::new(true),
        workers,
        increments,
    )
    .await;
    report(
        "5. std Mutex (no await inside)",
        StdMutexCounter::default(),
        workers,
        increments,
    )
    .await;
    report(
        "6. atomic fetch_add",
        AtomicCounter::default(),
        workers,
        increments,
    )
    .await;
    report(
        "7. actor (one task owns the value)",
        ActorCounter::spawn(),
        workers,
        increments,
    )
    .await;
    report(
        "8. RwLock (write to increment, read to get)",
        RwLockCounter::default(),
        workers,
        increments,
    )
    .await;
    Ok(())
}

async fn report<C: Counter>(label: &str, counter: C, workers: usize, increments: u64) {
    let (value, took) = timed(label, hammer(Arc::new(counter), workers, increments)).await;
    let per_sec = (workers as u64 * increments) as f64 / took.as_secs_f64();
    println!(
        "{label}: {value} in {:.3} s ({:.1} M increments/s)",
        took.as_secs_f64(),
        per_sec / 1e6
    );
}
