//! `lock`: W workers × N increments of one shared counter, for every correct counter of
//! the lock-counter pattern on both runtimes, and Python's `asyncio.Lock` counter.

use std::sync::Arc;

use bench::{Record, compare, measure, run_python};
use lock_counter::{
    ActorCounter, AtomicCounter, Counter, RwLockCounter, StdMutexCounter, TokioMutexCounter, hammer,
};
use tokio::runtime::Runtime;

use crate::Common;

#[derive(Debug, clap::Args)]
pub(crate) struct LockArgs {
    #[command(flatten)]
    common: Common,
    /// Tasks incrementing at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    workers: u16,
}

pub(crate) fn run(args: &LockArgs) -> anyhow::Result<()> {
    let workers = usize::from(args.workers);
    let per = args.common.items.unwrap_or(800_000) / workers as u64;
    let n = per * workers as u64;
    let runtimes = bench::runtimes()?;
    let mut records = Vec::new();
    for (name, runtime) in &runtimes {
        let mut time = |variant: &str, durations: Vec<std::time::Duration>| {
            let mut durations = durations;
            let record = Record::from_runs("lock", variant, n, &mut durations).on(name);
            records.push(record);
        };
        let runs = args.common.runs;
        time(
            "tokio-Mutex",
            bench(
                runtime,
                runs,
                || TokioMutexCounter::new(false),
                workers,
                per,
            )?,
        );
        time(
            "tokio-Mutex-try_lock-first",
            bench(runtime, runs, || TokioMutexCounter::new(true), workers, per)?,
        );
        time(
            "std-Mutex",
            bench(runtime, runs, StdMutexCounter::default, workers, per)?,
        );
        time(
            "atomic",
            bench(runtime, runs, AtomicCounter::default, workers, per)?,
        );
        // The actor's task must be spawned inside the runtime it runs on.
        time(
            "actor",
            bench(
                runtime,
                runs,
                || runtime.block_on(async { ActorCounter::spawn() }),
                workers,
                per,
            )?,
        );
        time(
            "tokio-RwLock",
            bench(runtime, runs, RwLockCounter::default, workers, per)?,
        );
    }
    for record in &records {
        record.emit()?;
    }
    let python = if args.common.no_python {
        None
    } else {
        let extra = ["--workers".to_owned(), args.workers.to_string()];
        run_python(
            "patterns/lock-counter/python/bench_lock.py".as_ref(),
            n,
            args.common.runs,
            &extra,
        )?
    };
    for record in python.iter().flatten() {
        record.emit()?;
    }
    compare(&records, python.as_deref());
    Ok(())
}

/// Times `runs` rounds, each on a fresh counter from `fresh`, checking the total.
fn bench<C: Counter>(
    runtime: &Runtime,
    runs: u32,
    fresh: impl Fn() -> C,
    workers: usize,
    per: u64,
) -> anyhow::Result<Vec<std::time::Duration>> {
    let expected = workers as u64 * per;
    let check = |value: u64| {
        anyhow::ensure!(value == expected, "lost updates: {value} of {expected}");
        Ok(())
    };
    measure(
        runtime,
        runs,
        || hammer(Arc::new(fresh()), workers, per),
        check,
    )
}
