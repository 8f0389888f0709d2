//! `lock`: W workers × N increments of one shared counter, for every correct counter of
//! the lock-counter pattern on both runtimes, and Python's `asyncio.Lock` counter.
//!
//! ```text
//! cargo bench -p lock-counter                     # 8 workers × 100,000 increments
//! cargo bench -p lock-counter -- --workers 64
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use bench_harness::{Bench, Options, PythonLoop, Record, measure, python_script};
use clap::Parser;
use lock_counter::{
    ActorCounter, AtomicCounter, Counter, RwLockCounter, StdMutexCounter, TokioMutexCounter, hammer,
};
use tokio::runtime::Runtime;

/// Increments of one shared counter from many tasks: tokio and std Mutex, atomic, actor,
/// RwLock; Python asyncio.Lock.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    options: Options,
    /// Tasks incrementing at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    workers: u16,
}

fn main() -> ExitCode {
    bench_harness::main(run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "lock", &args.options)?;
    let workers = usize::from(args.workers);
    let per = bench.items_each((800_000, 800, 1_000_000_000), workers, "worker")?;
    let n = per * workers as u64;
    let runs = bench.runs();
    for (runtime_name, runtime) in &bench_harness::runtimes()? {
        let rounds = Rounds {
            runtime,
            runs,
            workers,
            per,
        };
        let timings = [
            (
                "tokio-Mutex",
                rounds.time(|| TokioMutexCounter::new(false))?,
            ),
            (
                "tokio-Mutex-try_lock-first",
                rounds.time(|| TokioMutexCounter::new(true))?,
            ),
            ("std-Mutex", rounds.time(StdMutexCounter::default)?),
            ("atomic", rounds.time(AtomicCounter::default)?),
            // The actor's task must be spawned inside the runtime it runs on.
            (
                "actor",
                rounds.time(|| runtime.block_on(async { ActorCounter::spawn() }))?,
            ),
            ("tokio-RwLock", rounds.time(RwLockCounter::default)?),
        ];
        for (variant, mut durations) in timings {
            let record = Record::from_runs("lock", variant, n, &mut durations).on(runtime_name);
            // One atomic add per increment, no lock at all: the bound.
            bench.record(Record {
                bound: variant == "atomic",
                ..record
            })?;
        }
    }
    let extra = ["--workers".to_owned(), args.workers.to_string()];
    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_lock.py");
    bench.python_records(&script, n, &extra, &PythonLoop::BOTH)?;
    bench.finish()
}

/// `runs` rounds of `workers` tasks each adding `per` to one counter, on `runtime`.
struct Rounds<'a> {
    runtime: &'a Runtime,
    runs: u32,
    workers: usize,
    per: u64,
}

impl Rounds<'_> {
    /// Times the rounds, each on a fresh counter from `fresh`, checking the total.
    fn time<C: Counter>(&self, fresh: impl Fn() -> C) -> anyhow::Result<Vec<Duration>> {
        let expected = self.workers as u64 * self.per;
        let check = |value: u64| {
            anyhow::ensure!(value == expected, "lost updates: {value} of {expected}");
            Ok(())
        };
        let (workers, per) = (self.workers, self.per);
        measure(
            self.runtime,
            self.runs,
            || hammer(Arc::new(fresh()), workers, per),
            check,
        )
    }
}
