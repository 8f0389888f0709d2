//! `priority`: P producers put N items into a bounded priority queue (and a LIFO queue),
//! C consumers take them out; against Python's `asyncio.PriorityQueue`. The bound is the
//! ordering alone: the same items through one `BinaryHeap` of the same capacity, on one
//! thread, with no task, no lock and no waiting.
//!
//! ```text
//! cargo bench -p coordination                     # 4 producers, 4 consumers, 400,000 items
//! cargo bench -p coordination -- --items 10000 --runs 1 --no-python
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;
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
        let heap = || async move { heap_alone(per) };
        let timings = [
            ("PriorityQueue", measure(runtime, runs, priority, check)?),
            ("LifoQueue", measure(runtime, runs, lifo, check)?),
            (
                "bound-BinaryHeap-alone",
                measure(runtime, runs, heap, check)?,
            ),
        ];
        for (variant, mut durations) in timings {
            let record = Record::from_runs("priority", variant, n, &mut durations);
            let record = record.on(runtime_name);
            bench.record(record)?;
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

/// The bound: the producers' items, in turn, into one min-heap that never holds more than
/// the queue's capacity (a full heap gives up its smallest first), then drained. The sum
/// is what the consumers would add up.
fn heap_alone(per: u64) -> u64 {
    let mut heap = BinaryHeap::with_capacity(CAPACITY);
    let mut sum = 0;
    for i in 0..per {
        for p in 0..PRODUCERS as u64 {
            if heap.len() == CAPACITY
                && let Some(Reverse(smallest)) = heap.pop()
            {
                sum += smallest;
            }
            heap.push(Reverse(item(p, i, per)));
        }
    }
    sum + heap.into_iter().map(|Reverse(item)| item).sum::<u64>()
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
