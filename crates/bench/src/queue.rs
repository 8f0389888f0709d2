//! `queue`: items through a bounded MPMC queue, 4 producers and 4 consumers by default.
//! The pattern (`queue::run`: join accounting, stop signals, failure reports) against the
//! raw channels it is built on, and Python's `asyncio.Queue` with `task_done`, in one run.
//! Each record carries the peak memory of its runs: with a bounded queue it must stay flat
//! as the item count grows (`--items 10000000`).

use std::convert::Infallible;
use std::sync::Arc;

use anyhow::Context as _;
use bench::{Record, compare, measure, peak_rss_mib, reset_peak_rss, run_python};
use queue::{Plan, Stop};

use crate::Common;

#[derive(Debug, clap::Args)]
pub(crate) struct QueueArgs {
    #[command(flatten)]
    common: Common,
    /// Producer tasks.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    producers: u16,
    /// Consumer tasks.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    consumers: u16,
    /// Queue capacity.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    capacity: u32,
}

pub(crate) fn run(args: &QueueArgs) -> anyhow::Result<()> {
    let items = args.common.items.unwrap_or(1_000_000);
    let (producers, consumers) = (usize::from(args.producers), usize::from(args.consumers));
    let per = items / producers as u64;
    let n = per * producers as u64; // what is actually moved
    let plan = Plan {
        producers,
        consumers,
        capacity: args.capacity as usize,
        items_per_producer: per,
    };
    let expected = n * (n.saturating_sub(1)) / 2;
    let check = move |sum: u64| {
        anyhow::ensure!(sum == expected, "items lost or doubled");
        Ok(())
    };
    let runtimes = bench::runtimes()?;
    let mut records = Vec::new();
    for (name, runtime) in &runtimes {
        let runs = args.common.runs;
        let mut keep = |variant: &str, durations: anyhow::Result<Vec<std::time::Duration>>| {
            let mut durations = durations?;
            let mut record = Record::from_runs("queue", variant, n, &mut durations).on(name);
            record.peak_rss_mib = peak_rss_mib();
            record.emit_into(&mut records)?;
            reset_peak_rss();
            anyhow::Ok(())
        };
        reset_peak_rss();
        keep(
            "tokio-queue-pattern",
            measure(runtime, runs, || pattern(plan), check),
        )?;
        keep(
            "raw-flume",
            measure(runtime, runs, || raw_flume(plan), check),
        )?;
        if *name == "current_thread" {
            keep(
                "raw-async-channel",
                measure(runtime, runs, || raw_async_channel(plan), check),
            )?;
            keep(
                "tokio-mpsc-shared-receiver",
                measure(runtime, runs, || tokio_mpsc_shared(plan), check),
            )?;
        }
    }
    let python = if args.common.no_python {
        None
    } else {
        let extra = [
            "--producers",
            &args.producers.to_string(),
            "--consumers",
            &args.consumers.to_string(),
            "--capacity",
            &args.capacity.to_string(),
        ]
        .map(str::to_owned);
        run_python(
            "patterns/queue/python/bench_queue.py".as_ref(),
            n,
            args.common.runs,
            &extra,
        )
        .context("python queue")?
    };
    for record in python.iter().flatten() {
        record.emit()?;
    }
    compare(&records, python.as_deref());
    Ok(())
}

// ANCHOR: bench_pattern
/// The pattern as a service would use it: `queue::run` with a trivial `process`.
async fn pattern(plan: Plan) -> u64 {
    let per = plan.items_per_producer;
    let make = move |producer: usize, i: u64| producer as u64 * per + i;
    let process = |item: u64| async move { Ok::<u64, (u64, Infallible)>(item) };
    let outcome = queue::run(plan, make, process, &Stop::new())
        .await
        .expect("no task panics");
    outcome.tally.checksum
}
// ANCHOR_END: bench_pattern

/// Spawns `plan.producers` tasks from `producer(p)` and `plan.consumers` tasks from
/// `consumer()`, and sums what the consumers return. `producer` is dropped once the
/// producers are spawned, so the channel closes when they finish.
async fn drive<P, PF, C, CF>(plan: Plan, producer: P, consumer: C) -> u64
where
    P: Fn(u64) -> PF,
    PF: Future<Output = ()> + Send + 'static,
    C: Fn() -> CF,
    CF: Future<Output = u64> + Send + 'static,
{
    let mut producers = tokio::task::JoinSet::new();
    for p in 0..plan.producers as u64 {
        producers.spawn(producer(p));
    }
    drop(producer); // its sender, so the channel can close
    let mut consumers = tokio::task::JoinSet::new();
    for _ in 0..plan.consumers {
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
async fn raw_flume(plan: Plan) -> u64 {
    let (tx, rx) = flume::bounded::<u64>(plan.capacity);
    let per = plan.items_per_producer;
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
    drive(plan, producer, consumer).await
}

async fn raw_async_channel(plan: Plan) -> u64 {
    let (tx, rx) = async_channel::bounded::<u64>(plan.capacity);
    let per = plan.items_per_producer;
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
    drive(plan, producer, consumer).await
}

/// Tokio's mpsc has one receiver: the consumers share it behind a lock.
async fn tokio_mpsc_shared(plan: Plan) -> u64 {
    let (tx, rx) = tokio::sync::mpsc::channel::<u64>(plan.capacity);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let per = plan.items_per_producer;
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
    drive(plan, producer, consumer).await
}
