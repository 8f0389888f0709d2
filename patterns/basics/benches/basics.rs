//! `spawn`: spawning and awaiting no-op tasks, what one task costs, on both runtimes,
//! against Python's `asyncio.gather` over coroutines in the same run. The bound awaits the
//! same futures in place, with no task each: the difference is what a task costs.
//!
//! ```text
//! cargo bench -p basics                       # 100,000 tasks, 5 runs per variant
//! cargo bench -p basics -- --items 1000000 --runs 3
//! ```

use std::process::ExitCode;

use bench_harness::{Bench, Options, PythonLoop, Record, measure, python_script};

/// Spawn and await no-op tasks: join_all, await each, JoinSet; Python asyncio.gather.
fn main() -> ExitCode {
    bench_harness::main::<Options>(run)
}

fn run(options: Options) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "spawn", &options)?;
    let items = bench.items(100_000, 1_000, 2_000_000)?;
    let n = usize::try_from(items)?;
    // Task i returns i: the sum proves every task ran once.
    let expected = n * (n - 1) / 2;
    let check = |sum: Result<usize, tokio::task::JoinError>| {
        anyhow::ensure!(sum? == expected, "tasks lost");
        Ok(())
    };
    let runs = bench.runs();
    for (runtime_name, runtime) in &bench_harness::runtimes()? {
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
            (
                "bound-in-place",
                measure(runtime, runs, || in_place(n), check)?,
            ),
        ];
        for (variant, mut durations) in timings {
            let record = Record::from_runs("spawn", variant, items, &mut durations);
            let record = record.on(runtime_name);
            bench.record(record)?;
        }
    }
    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_spawn.py");
    bench.python_records(&script, items, &[], &PythonLoop::BOTH)?;
    bench.finish()
}

/// The bound: the same futures, each awaited where it stands, with no task, no scheduler
/// and no join handle. `black_box` keeps the compiler from summing the range in one step.
async fn in_place(n: usize) -> Result<usize, tokio::task::JoinError> {
    let mut sum = 0;
    for i in 0..n {
        sum += async move { std::hint::black_box(i) }.await;
    }
    Ok(sum)
}
