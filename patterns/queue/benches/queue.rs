//! `queue`: items through a bounded MPMC queue, 4 producers and 4 consumers by default.
//! The pattern (`queue::run`: join accounting, stop signals, failure reports) against the
//! raw channels it is built on, and Python's `asyncio.Queue` with `task_done`, in one run.
//! Each record carries the peak memory of its runs: with a bounded queue it must stay flat
//! as the item count grows (`--items 10000000`).
//!
//! ```text
//! cargo bench -p queue                            # 1,000,000 items
//! cargo bench -p queue -- --items 10000000 --runs 1
//! ```

use std::convert::Infallible;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bench_harness::{
    Bench, Options, PythonLoop, Record, measure, peak_rss_mib, python_script, reset_peak_rss,
};
use clap::Parser;
use queue::{RunConfig, StopSignal};

/// Items through a bounded MPMC queue: the queue pattern, raw channels; Python asyncio.Queue.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    options: Options,
    /// Producer tasks.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    producers: u16,
    /// Consumer tasks.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    consumers: u16,
    /// Queue capacity.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    capacity: u32,
}

/// One way to move the items: returns their sum.
type Variant = fn(RunConfig) -> std::pin::Pin<Box<dyn Future<Output = u64>>>;

fn main() -> ExitCode {
    bench_harness::main(run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "queue", &args.options)?;
    let (producers, consumers) = (usize::from(args.producers), usize::from(args.consumers));
    let per = bench.items_each((1_000_000, 4_000, 1_000_000_000), producers, "producer")?;
    let n = per * producers as u64; // what is actually moved
    let config = RunConfig {
        producers,
        consumers,
        capacity: args.capacity as usize,
        items_per_producer: per,
    };
    // Item i is the number i: the sum proves each was taken once, none lost or doubled.
    let expected = n * (n - 1) / 2;
    let check = move |sum: u64| {
        anyhow::ensure!(sum == expected, "items lost or doubled");
        Ok(())
    };
    let runs = bench.runs();
    for (runtime_name, runtime) in &bench_harness::runtimes()? {
        let mut variants: Vec<(&str, Variant)> = vec![
            ("tokio-queue-pattern", |c| Box::pin(pattern(c))),
            ("raw-flume", |c| Box::pin(raw_flume(c))),
        ];
        if *runtime_name == "current_thread" {
            variants.push(("raw-async-channel", |c| Box::pin(raw_async_channel(c))));
            variants.push(("tokio-mpsc-shared-receiver", |c| {
                Box::pin(tokio_mpsc_shared(c))
            }));
        }
        for (variant, make) in variants {
            reset_peak_rss();
            let mut durations = measure(runtime, runs, || make(config), check)?;
            let mut record =
                Record::from_runs("queue", variant, n, &mut durations).on(runtime_name);
            record.peak_rss_mib = peak_rss_mib();
            // The channels alone, with none of the pattern's bookkeeping: its bound.
            record.bound = variant.starts_with("raw-");
            bench.record(record)?;
        }
    }
    let extra = [
        "--producers",
        &args.producers.to_string(),
        "--consumers",
        &args.consumers.to_string(),
        "--capacity",
        &args.capacity.to_string(),
    ]
    .map(str::to_owned);
    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_queue.py");
    bench.python_records(&script, n, &extra, &PythonLoop::BOTH)?;
    bench.finish()
}

// ANCHOR: bench_pattern
/// The pattern as a service would use it: `queue::run`, with a `process` that adds each
/// item to a sum (the bench's check that nothing was lost), and nothing else.
async fn pattern(config: RunConfig) -> u64 {
    let per = config.items_per_producer;
    let make = move |producer: usize, i: u64| producer as u64 * per + i;
    let sum = Arc::new(AtomicU64::new(0));
    let total = sum.clone();
    let process = move |item: u64| {
        total.fetch_add(item, Ordering::Relaxed);
        std::future::ready(Ok::<(), (u64, Infallible)>(()))
    };
    let report = queue::run(config, make, process, &StopSignal::new())
        .await
        .expect("no task panics");
    assert!(report.nothing_lost());
    sum.load(Ordering::Relaxed)
}
// ANCHOR_END: bench_pattern

/// Spawns `config.producers` tasks from `producer(p)` and `config.consumers` tasks from
/// `consumer()`, and sums what the consumers return. `producer` is dropped once the
/// producers are spawned, so the channel closes when they finish.
async fn drive<P, PF, C, CF>(config: RunConfig, producer: P, consumer: C) -> u64
where
    P: Fn(u64) -> PF,
    PF: Future<Output = ()> + Send + 'static,
    C: Fn() -> CF,
    CF: Future<Output = u64> + Send + 'static,
{
    let mut producers = tokio::task::JoinSet::new();
    for p in 0..config.producers as u64 {
        producers.spawn(producer(p));
    }
    drop(producer); // its sender, so the channel can close
    let mut consumers = tokio::task::JoinSet::new();
    for _ in 0..config.consumers {
        consumers.spawn(consumer());
    }
    producers.join_all().await;
    consumers
        .join_all()
        .await
        .into_iter()
        .fold(0, u64::wrapping_add)
}

/// The channel alone, no accounting: the floor the pattern is measured against.
async fn raw_flume(config: RunConfig) -> u64 {
    let (tx, rx) = flume::bounded::<u64>(config.capacity);
    let per = config.items_per_producer;
    let producer = move |p: u64| {
        let tx = tx.clone();
        async move {
            for i in 0..per {
                tx.send_async(p * per + i).await.expect("receivers alive");
            }
        }
    };
    let consumer = move || {
        let rx = rx.clone();
        async move {
            let mut sum = 0u64;
            while let Ok(v) = rx.recv_async().await {
                sum = sum.wrapping_add(v);
            }
            sum
        }
    };
    drive(config, producer, consumer).await
}

async fn raw_async_channel(config: RunConfig) -> u64 {
    let (tx, rx) = async_channel::bounded::<u64>(config.capacity);
    let per = config.items_per_producer;
    let producer = move |p: u64| {
        let tx = tx.clone();
        async move {
            for i in 0..per {
                tx.send(p * per + i).await.expect("receivers alive");
            }
        }
    };
    let consumer = move || {
        let rx = rx.clone();
        async move {
            let mut sum = 0u64;
            while let Ok(v) = rx.recv().await {
                sum = sum.wrapping_add(v);
            }
            sum
        }
    };
    drive(config, producer, consumer).await
}

/// Tokio's mpsc has one receiver: the consumers share it behind a lock.
async fn tokio_mpsc_shared(config: RunConfig) -> u64 {
    let (tx, rx) = tokio::sync::mpsc::channel::<u64>(config.capacity);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let per = config.items_per_producer;
    let producer = move |p: u64| {
        let tx = tx.clone();
        async move {
            for i in 0..per {
                tx.send(p * per + i).await.expect("receiver alive");
            }
        }
    };
    let consumer = move || {
        let rx = rx.clone();
        async move {
            let mut sum = 0u64;
            while let Some(v) = rx.lock().await.recv().await {
                sum = sum.wrapping_add(v);
            }
            sum
        }
    };
    drive(config, producer, consumer).await
}
