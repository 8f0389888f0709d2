//! `spawn`: spawning and awaiting no-op tasks, what one task costs, on both runtimes.

use anyhow::Context as _;
use bench::{Record, compare, measure, run_python};

use crate::Common;

pub(crate) fn run(common: &Common) -> anyhow::Result<()> {
    let items = common.items.unwrap_or(100_000);
    let n = usize::try_from(items).context("too many items")?;
    let expected = n * (n - 1) / 2;
    let check = |sum: Result<usize, tokio::task::JoinError>| {
        anyhow::ensure!(sum? == expected, "tasks lost");
        Ok(())
    };
    let runtimes = bench::runtimes()?;
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
            let record = Record::from_runs("spawn", variant, items, &mut durations).on(name);
            record.emit_into(&mut records)?;
        }
    }
    let python = if common.no_python {
        None
    } else {
        run_python(
            "patterns/basics/python/bench_spawn.py".as_ref(),
            items,
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
