//! `timers`: N callbacks due at spread deadlines over 10 ms, through `call_later` (a task
//! per timer) and through one `DelayQueue`; against Python's `loop.call_later`. The bound
//! sorts the timers by deadline and sleeps once per distinct deadline.
//!
//! ```text
//! cargo bench -p threads-timers-processes               # 100,000 timers
//! cargo bench -p threads-timers-processes -- --items 10000 --runs 1 --no-python
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bench_harness::{Bench, Options, PythonLoop, Record, measure, python_script};
use threads_timers_processes::{Deadlines, call_later};

/// The spread of the deadlines: timer `i` is due at `i % SPREAD_MS` milliseconds.
const SPREAD_MS: u64 = 10;

fn main() -> ExitCode {
    bench_harness::main::<Options>(run)
}

fn run(options: Options) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "timers", &options)?;
    let n = bench.items(100_000, 2_000, 10_000_000)?;
    let runs = bench.runs();
    let check = |fired: u64| {
        anyhow::ensure!(fired == n, "{fired} of {n} timers fired");
        Ok(())
    };
    for (runtime_name, runtime) in &bench_harness::runtimes()? {
        let timings = [
            (
                "call_later-task-per-timer",
                measure(runtime, runs, || task_per_timer(n), check)?,
            ),
            (
                "DelayQueue",
                measure(runtime, runs, || one_delay_queue(n), check)?,
            ),
            (
                "bound-sorted-deadlines",
                measure(runtime, runs, || sorted_deadlines(n), check)?,
            ),
        ];
        for (variant, mut durations) in timings {
            let record = Record::from_runs("timers", variant, n, &mut durations);
            let record = record.on(runtime_name);
            bench.record(record)?;
        }
    }
    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_timers.py");
    bench.python_records(&script, n, &[], &PythonLoop::BOTH)?;
    bench.finish()
}

fn due(i: u64) -> Duration {
    Duration::from_millis(i % SPREAD_MS)
}

/// One spawned task per timer; each callback counts itself.
async fn task_per_timer(n: u64) -> u64 {
    let fired = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let fired = fired.clone();
            call_later(due(i), move || fired.fetch_add(1, Ordering::Relaxed))
        })
        .collect();
    for handle in handles {
        handle.await.expect("a callback panicked");
    }
    fired.load(Ordering::Relaxed)
}

/// Every timer in one `DelayQueue`, drained by one task.
async fn one_delay_queue(n: u64) -> u64 {
    let mut deadlines = Deadlines::new();
    for i in 0..n {
        deadlines.set(i, due(i));
    }
    let mut fired = 0;
    while deadlines.next_expired().await.is_some() {
        fired += 1;
    }
    fired
}

/// The bound: the timers sorted by deadline, one `sleep_until` per distinct deadline, and
/// the callbacks due then run in a loop: no timer entry and no task per callback.
async fn sorted_deadlines(n: u64) -> u64 {
    let start = tokio::time::Instant::now();
    let mut timers: Vec<(Duration, u64)> = (0..n).map(|i| (due(i), i)).collect();
    timers.sort_unstable();
    let fired = AtomicU64::new(0);
    for due_together in timers.chunk_by(|a, b| a.0 == b.0) {
        tokio::time::sleep_until(start + due_together[0].0).await;
        for _ in due_together {
            fired.fetch_add(1, Ordering::Relaxed);
        }
    }
    fired.load(Ordering::Relaxed)
}
