//! Demo: producers and consumers on a bounded queue, then a drained and an aborted run.
//!
//! ```text
//! cargo run -p queue
//! cargo run -p queue -- --producers 4 --consumers 2 --items 50 --capacity 3 --fail-every 5
//! cargo run -p queue -- --until-ctrl-c            # Ctrl-C drains the queue
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use clap::Parser;
use patterns_core::app;
use queue::{RunConfig, RunReport, StopSignal, consume, produce, run, work_queue};
use tokio::time::{Instant, sleep};
use tokio_util::task::AbortOnDropHandle;

/// Show a bounded producer/consumer queue: join, failures, drain and abort.
#[derive(Debug, Clone, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Producer tasks.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=1000))]
    producers: u16,
    /// Consumer tasks.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=1000))]
    consumers: u16,
    /// Items each producer makes.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    items: u64,
    /// Queue capacity (asyncio.Queue's maxsize).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    capacity: u32,
    /// Simulated work per item, in milliseconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    work_ms: u64,
    /// Every Nth item fails (0: none).
    #[arg(long, default_value_t = 7)]
    fail_every: u64,
    /// Run the drain demo until Ctrl-C instead of for 100 ms.
    #[arg(long)]
    until_ctrl_c: bool,
}

/// An item: which producer made it, and its number there.
type Item = (usize, u64);

#[tokio::main]
async fn main() -> ExitCode {
    app::run(run_demo(Args::parse())).await
}

async fn run_demo(args: Args) -> anyhow::Result<()> {
    let work = Duration::from_millis(args.work_ms);
    let fail_every = args.fail_every;
    let process = move |item: Item| async move {
        sleep(work).await; // the work of the tutorial's consumer
        if fail_every > 0 && (item.1 + 1).is_multiple_of(fail_every) {
            Err((
                item,
                format!("item {}-{} could not be processed", item.0, item.1),
            ))
        } else {
            Ok(())
        }
    };

    let (report, joined_after) = join_then_close(&args, process).await?;
    println!(
        "1. join returned after {:.2} s: produced {}, processed {}, failed {}",
        joined_after.as_secs_f64(),
        report.produced,
        report.consumed.processed,
        report.consumed.failed.len()
    );
    for (_, error) in &report.consumed.failed {
        println!("   failed: {error}");
    }

    let config = RunConfig {
        producers: args.producers.into(),
        consumers: args.consumers.into(),
        capacity: args.capacity as usize,
        items_per_producer: 1_000_000,
    };
    let drained = stopped(config, process, StopSignal::drain, &args).await?;
    println!(
        "2. drained on stop: produced {}, processed {}, failed {}, left unprocessed {}: nothing lost: {}",
        drained.produced,
        drained.consumed.processed,
        drained.consumed.failed.len(),
        drained.consumed.unprocessed.len(),
        drained.nothing_lost()
    );
    let after_100_ms = Args {
        until_ctrl_c: false,
        ..args
    };
    let aborted = stopped(config, process, StopSignal::abort, &after_100_ms).await?;
    let first: Vec<String> = aborted
        .consumed
        .unprocessed
        .iter()
        .take(5)
        .map(|(p, i)| format!("{p}-{i}"))
        .collect();
    println!(
        "3. aborted: produced {}, processed {}, failed {}, left unprocessed {} (first: {}): nothing lost: {}",
        aborted.produced,
        aborted.consumed.processed,
        aborted.consumed.failed.len(),
        aborted.consumed.unprocessed.len(),
        first.join(", "),
        aborted.nothing_lost()
    );
    Ok(())
}

// ANCHOR: demo_join
/// `asyncio.Queue` with producers, consumers and `join()`: wait until every item put is
/// processed, then close the queue (dropping the last producer), which ends the consumers.
async fn join_then_close<Fut>(
    args: &Args,
    process: impl Fn(Item) -> Fut + Clone + Send + 'static,
) -> anyhow::Result<(RunReport<Item, String>, Duration)>
where
    Fut: Future<Output = Result<(), (Item, String)>> + Send,
{
    let (producer, consumer, progress) = work_queue::<Item>(args.capacity as usize);
    let stop = StopSignal::new();
    let mut consumers = tokio::task::JoinSet::new();
    for _ in 0..args.consumers {
        let (consumer, stop, process) = (consumer.clone(), stop.clone(), process.clone());
        consumers.spawn(async move { consume(consumer, process, &stop).await });
    }
    let total = args.items * u64::from(args.producers);
    warn_if_long("join", total, args);
    let ticker = tell_progress("join", {
        let progress = progress.clone();
        move || (progress.finished(), progress.put())
    });
    let started = Instant::now();
    let mut producers = tokio::task::JoinSet::new();
    for p in 0..usize::from(args.producers) {
        let (producer, stop, items) = (producer.clone(), stop.clone(), args.items);
        producers.spawn(async move { produce(producer, items, |i| (p, i), &stop).await });
    }
    let produced: u64 = producers.join_all().await.into_iter().sum();
    progress.join().await; // every item processed, not only taken
    let joined_after = started.elapsed();
    drop(ticker);
    drop(producer); // closing the queue ends the consumers: no None sentinels
    // Each consumer ends when the queue is closed and empty, and hands in its report.
    let mut report = RunReport {
        produced,
        consumed: Default::default(),
    };
    while let Some(one) = consumers.join_next().await {
        report.consumed.merge(one?);
    }
    Ok((report, joined_after))
}
// ANCHOR_END: demo_join

/// Runs `config` until 100 ms have passed (or Ctrl-C), then stops it with `how`.
async fn stopped<Fut>(
    config: RunConfig,
    process: impl Fn(Item) -> Fut + Clone + Send + 'static,
    how: fn(&StopSignal),
    args: &Args,
) -> anyhow::Result<RunReport<Item, String>>
where
    Fut: Future<Output = Result<(), (Item, String)>> + Send,
{
    // Counted on the way, so a long drain can say how far it is.
    let (made, finished) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let make = {
        let made = made.clone();
        move |p, i| {
            made.fetch_add(1, Relaxed);
            (p, i)
        }
    };
    let process = {
        let finished = finished.clone();
        move |item| {
            let (process, finished) = (process.clone(), finished.clone());
            async move {
                let outcome = process(item).await;
                finished.fetch_add(1, Relaxed);
                outcome
            }
        }
    };
    let stop = StopSignal::new();
    let signal = stop.clone();
    let (until_ctrl_c, args) = (args.until_ctrl_c, args.clone());
    let ticker = tell_progress("drain", move || {
        (finished.load(Relaxed), made.load(Relaxed))
    });
    let queued = ticker.1.clone();
    tokio::spawn(async move {
        if until_ctrl_c {
            // The first Ctrl-C drains; a second one stops the process at once.
            match patterns_core::shutdown::ctrl_c() {
                Ok(first) => {
                    println!("   running: press Ctrl-C to drain, twice to stop at once");
                    let _ = first.await;
                    println!("   draining: press Ctrl-C again to stop at once");
                }
                Err(why) => tracing::error!(%why, "cannot watch for Ctrl-C"),
            }
        } else {
            sleep(Duration::from_millis(100)).await;
        }
        how(&signal);
        let (done, of) = queued();
        warn_if_long("the stop", of.saturating_sub(done), &args);
    });
    let report = run(config, make, process, &stop).await;
    drop(ticker);
    Ok(report?)
}

/// Every two seconds, logs how many items `count` says are finished, so a large --items
/// or --capacity is never silent. The ticker stops when the handle is dropped.
fn tell_progress<F>(what: &'static str, count: F) -> (AbortOnDropHandle<()>, Arc<F>)
where
    F: Fn() -> (u64, u64) + Send + Sync + 'static,
{
    let count = Arc::new(count);
    let counted = count.clone();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(2));
        every.tick().await; // the first tick is at once
        loop {
            every.tick().await;
            let (done, of) = counted();
            tracing::info!("{what}: {done} of {of} items finished");
        }
    });
    (AbortOnDropHandle::new(ticker), count)
}

/// Says up front when `items` will take more than ten seconds at --work-ms over
/// --consumers: a big --capacity or --items is allowed, but not silently slow.
fn warn_if_long(what: &str, items: u64, args: &Args) {
    let seconds = items.saturating_mul(args.work_ms) / u64::from(args.consumers) / 1000;
    if seconds > 10 {
        tracing::warn!(
            "{what}: {items} items at {} ms each over {} consumers take about {seconds} s; \
             progress every 2 s (Ctrl-C to stop)",
            args.work_ms,
            args.consumers
        );
    }
}
