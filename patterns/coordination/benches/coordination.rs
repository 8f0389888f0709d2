//! `priority`: P producers put N items into a bounded priority queue (and a LIFO queue),
//! C consumers take them out; against Python's `asyncio.PriorityQueue`.
//!
//! ```text
//! cargo bench -p coordination                     # 4 producers, 4 consumers, 400,000 items
//! cargo bench -p coordination -- --items 10000 --runs 1 --no-python
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use bench_harness::{Bench, Options, PythonLoop, Record, measure, python_script};
use clap::Parser;
use coordination::{LifoQueue, OrderedQueue, PriorityQueue};
use tokio::task::JoinSet;

/// Items through a bounded priority queue and a LIFO queue; Python asyncio.PriorityQueue.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    options: Options,
}

const PRODUCERS: usize = 4;
const CONSUMERS: usize = 4;
const CAPACITY: usize = 256;

fn main() -> ExitCode {
    bench_harness::main(run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "priority", &args.options)?;
    let per = bench.items_each((400_000, 4_000, 100_000_000), PRODUCERS, "producer")?;
    let n = per * PRODUCERS as u64;
    let runs = bench.runs();
    let expected = expected_sum(per);
    let check = |sum: u64| {
        anyhow::ensure!(
            sum == expected,
            "items lost: sum {sum}, expected {expected}"
        );
        Ok(())
    };
    for (runtime_name, runtime) in &bench_harness::runtimes()? {
        let priority = || through(Arc::new(PriorityQueue::bounded(CAPACITY)), per);
        let lifo = || through(Arc::new(LifoQueue::bounded(CAPACITY)), per);
        let timings = [
            ("PriorityQueue", measure(runtime, runs, priority, check)?),
            ("LifoQueue", measure(runtime, runs, lifo, check)?),
        ];
        for (variant, mut durations) in timings {
            let record = Record::from_runs("priority", variant, n, &mut durations);
            bench.record(record.on(runtime_name))?;
        }
    }
    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_priority.py");
    bench.python_records(&script, n, &[], &PythonLoop::BOTH)?;
    bench.finish()
}

/// Each producer puts `per` items in a scrambled order; the consumers add up what they
/// take. The sum proves nothing was lost.
async fn through<O>(queue: Arc<OrderedQueue<u64, O>>, per: u64) -> u64
where
    O: coordination::Order<u64> + Send + 'static,
{
    let mut producers = JoinSet::new();
    for p in 0..PRODUCERS as u64 {
        let queue = queue.clone();
        producers.spawn(async move {
            for i in 0..per {
                queue
                    .put(item(p, i, per))
                    .await
                    .expect("open while producing");
            }
        });
    }
    let mut consumers = JoinSet::new();
    for _ in 0..CONSUMERS {
        let queue = queue.clone();
        consumers.spawn(async move {
            let mut sum = 0;
            while let Some(item) = queue.get().await {
                sum += item;
            }
            sum
        });
    }
    producers.join_all().await;
    queue.close(); // the consumers drain what is left, then stop
    consumers.join_all().await.into_iter().sum()
}

/// Producer `p`'s item `i`: multiplying by an odd constant scrambles the order, so the
/// queue has work to do.
fn item(p: u64, i: u64, per: u64) -> u64 {
    (i.wrapping_mul(0x9E37_79B9) % per) * PRODUCERS as u64 + p
}

/// The sum of every item `through` puts.
fn expected_sum(per: u64) -> u64 {
    (0..PRODUCERS as u64)
        .flat_map(|p| (0..per).map(move |i| item(p, i, per)))
        .sum()
}
