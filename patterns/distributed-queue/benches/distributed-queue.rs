//! `distributed-queue`: items per second end to end through a Redis Stream (one producer
//! putting pipelines of 100, 1 or 4 consumers reading batches of 100, acknowledging per
//! batch or per item), the producer alone, redis-py's asyncio client doing the same, and
//! `redis-benchmark`'s `XADD` as the bound, all against one throwaway Redis (no
//! persistence: the client is measured, not the disk).
//!
//! ```text
//! cargo bench -p distributed-queue                  # 20,000 items
//! cargo bench -p distributed-queue -- --items 100000 --runs 3
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use bench_harness::{Bench, Options, PythonLoop, Record, measure, python_script};
use clap::Parser;
use distributed_queue::{AckMode, Item, Queue, QueueConfig, run_consumer};
use external_tools::redis::Redis;
use tokio_util::sync::CancellationToken;

/// Items end to end through Redis Streams: tokio and redis-rs; redis-py; redis-benchmark.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    options: Options,
}

fn main() -> ExitCode {
    bench_harness::main(run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut bench = Bench::new(env!("CARGO_PKG_NAME"), "distributed-queue", &args.options)?;
    let n = bench.items(20_000, 1_000, 10_000_000)?;
    let Some(server) = external_tools::require(
        "Redis for the distributed-queue bench",
        Redis::start(&Default::default()),
    ) else {
        return Ok(());
    };
    let url = server.url();
    let (runtime_name, runtime) = bench_harness::runtime(2)?;
    let runs = bench.runs();
    let check = move |seen: u64| {
        anyhow::ensure!(seen == n, "{seen} of {n} items processed");
        Ok(())
    };
    for consumers in [1, 4] {
        for ack in [AckMode::Batch, AckMode::EachItem] {
            let mut durations = measure(
                &runtime,
                runs,
                || end_to_end(&url, n, consumers, ack),
                check,
            )?;
            let variant = format!("tokio-redis-rs-{consumers}-consumers-{}", ack_name(ack));
            let record = Record::from_runs("distributed-queue", &variant, n, &mut durations);
            bench.record(record.on(runtime_name))?;
        }
    }
    let mut durations = measure(&runtime, runs, || produce_only(&url, n), check)?;
    let record = Record::from_runs(
        "distributed-queue",
        "tokio-redis-rs-producer-only",
        n,
        &mut durations,
    );
    bench.record(record.on(runtime_name))?;
    for pipeline in [1, 100] {
        bench.record(redis_benchmark_xadd(&server, n, pipeline)?)?;
    }

    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_distributed_queue.py");
    let extra = ["--redis-url".to_owned(), url.clone()];
    bench.python_records(&script, n, &extra, &PythonLoop::BOTH)?;
    bench.finish()
}

fn ack_name(ack: AckMode) -> &'static str {
    match ack {
        AckMode::Batch => "ack-batch",
        AckMode::EachItem => "ack-each",
    }
}

/// A fresh stream per run, so no run reads another's entries.
fn fresh_config() -> QueueConfig {
    static RUN: AtomicU64 = AtomicU64::new(0);
    let mut config = QueueConfig::new(format!("bench:{}", RUN.fetch_add(1, Ordering::Relaxed)));
    config.block = std::time::Duration::from_millis(100);
    config
}

fn items(range: std::ops::Range<u64>) -> Vec<Item> {
    range.map(|i| Item::new(format!("item-{i}"), "x")).collect()
}

// ANCHOR: bench
/// Puts `n` items in pipelines of 100 while `consumers` tasks run the pattern's
/// `run_consumer`; ends when they have processed all `n`. Returns how many they did.
async fn end_to_end(url: &str, n: u64, consumers: usize, ack: AckMode) -> u64 {
    let mut config = fresh_config();
    config.ack = ack;
    let queue = Queue::open(url, config).await.expect("Redis answers");
    let (seen, shutdown) = (Arc::new(AtomicU64::new(0)), CancellationToken::new());
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..consumers {
        let mut consumer = queue.consumer(format!("c{c}")).await.expect("connects");
        let (seen, shutdown) = (seen.clone(), shutdown.clone());
        tasks.spawn(async move {
            run_consumer(&mut consumer, &shutdown, |_item| {
                if seen.fetch_add(1, Ordering::Relaxed) + 1 == n {
                    shutdown.cancel(); // the last item: every consumer stops
                }
                std::future::ready(Ok::<(), std::convert::Infallible>(()))
            })
            .await
        });
    }
    let mut producer = queue.producer();
    for start in (0..n).step_by(100) {
        producer
            .put_many(&items(start..n.min(start + 100)))
            .await
            .expect("put");
    }
    for report in tasks.join_all().await {
        report.expect("the consumer ran");
    }
    queue.delete(&[]).await.expect("deleted");
    seen.load(Ordering::Relaxed)
}
// ANCHOR_END: bench

/// The producer side alone: `n` items in pipelines of 100.
async fn produce_only(url: &str, n: u64) -> u64 {
    let queue = Queue::open(url, fresh_config())
        .await
        .expect("Redis answers");
    let mut producer = queue.producer();
    let mut put = 0;
    for start in (0..n).step_by(100) {
        put += producer
            .put_many(&items(start..n.min(start + 100)))
            .await
            .expect("put")
            .len() as u64;
    }
    queue.delete(&[]).await.expect("deleted");
    put
}

/// `redis-benchmark`'s `XADD` rate on the same server, 50 clients: with `pipeline` 1 (its
/// default) one command per round trip; with 100, pipelines as long as the producer's.
fn redis_benchmark_xadd(server: &Redis, n: u64, pipeline: u32) -> anyhow::Result<Record> {
    let exe = external_tools::redis::binary("redis-benchmark").map_err(anyhow::Error::msg)?;
    let output = std::process::Command::new(&exe)
        .args([
            "-p",
            &server.port().to_string(),
            "-n",
            &n.to_string(),
            "-c",
            "50",
            "-q",
        ])
        .args(["-P", &pipeline.to_string()])
        .args([
            "XADD",
            "bench:redis-benchmark",
            "*",
            "id",
            "item",
            "body",
            "x",
        ])
        .output()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    // "XADD bench:redis-benchmark * id item body x: 123456.79 requests per second, p50=…"
    let per_sec: f64 = text
        .rsplit(": ")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .with_context(|| format!("redis-benchmark printed no rate: {text}"))?;
    let mut runs = [std::time::Duration::from_secs_f64(n as f64 / per_sec)];
    let variant = format!("redis-benchmark-XADD-50-clients-pipeline-{pipeline}");
    let record = Record::from_runs("distributed-queue", &variant, n, &mut runs);
    Ok(record.on("redis-benchmark").as_bound())
}
