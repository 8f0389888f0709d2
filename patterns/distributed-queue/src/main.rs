//! Demo: a queue that survives a crashed worker. With no arguments it starts a throwaway
//! Redis (the machine's `redis-server`, append-only file on), runs producer and consumer
//! processes (this same binary, `produce` and `consume`), kills one consumer with SIGKILL
//! mid-run, and shows every item accounted for.
//!
//! ```text
//! cargo run -p distributed-queue
//! cargo run -p distributed-queue -- --redis-url redis://127.0.0.1:6379/ --items 100000
//! cargo run -p distributed-queue -- consume --redis-url redis://… --name worker-7
//! ```

use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use distributed_queue::{IdempotentSink, Item, Queue, QueueConfig, run_consumer};
use patterns_core::app;
use tokio::io::AsyncBufReadExt as _;
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

/// Producers and consumers on a Redis Stream: one consumer is killed mid-run and nothing
/// is lost. `produce` and `consume` run one side alone, against any Redis.
#[derive(Debug, Parser)]
#[command(
    version,
    allow_negative_numbers = true,
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    role: Option<Role>,
    #[command(flatten)]
    demo: DemoArgs,
}

#[derive(Debug, clap::Args)]
struct DemoArgs {
    /// A Redis to use (default: a throwaway redis-server started for the demo).
    #[arg(long, value_name = "REDIS_URL")]
    redis_url: Option<String>,
    /// The stream's key (default: a new key for this run, deleted at the end).
    #[arg(long)]
    stream: Option<String>,
    /// Items the producers put, besides one poison item.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    items: u64,
    /// Producer processes.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=16))]
    producers: u64,
    /// Consumer processes; one of them is killed.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(2..=16))]
    consumers: u64,
}

#[derive(Debug, Subcommand)]
enum Role {
    /// Put items `item-<first>` to `item-<first + count - 1>` on the stream.
    Produce(ProduceArgs),
    /// Consume until Ctrl-C: claim what others left, process, acknowledge.
    Consume(ConsumeArgs),
}

#[derive(Debug, clap::Args)]
struct Target {
    /// The Redis holding the queue.
    #[arg(long, value_name = "REDIS_URL")]
    redis_url: String,
    /// The stream's key.
    #[arg(long, default_value = "jobs")]
    stream: String,
}

#[derive(Debug, clap::Args)]
struct ProduceArgs {
    #[command(flatten)]
    target: Target,
    /// The first item's number.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// How many items.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    count: u64,
}

#[derive(Debug, clap::Args)]
struct ConsumeArgs {
    #[command(flatten)]
    target: Target,
    /// This consumer's name in the group.
    #[arg(long)]
    name: String,
    /// The hash that records each processed item once (default: `<stream>:sink`).
    #[arg(long)]
    sink: Option<String>,
    /// Work per item, in microseconds (a sleep standing in for real work).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    work_us: u64,
    /// Idle time before another consumer's unacknowledged items are claimed.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    claim_idle_ms: u64,
}

/// The body of the demo's poison item: every consumer fails on it.
const POISON: &[u8] = b"poison";

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match args.role {
        None => app::run(app::interruptible(demo(args.demo))).await,
        Some(Role::Produce(role)) => app::run(produce(role)).await,
        Some(Role::Consume(role)) => app::run(consume(role)).await,
    }
}

// ANCHOR: produce
async fn produce(args: ProduceArgs) -> anyhow::Result<()> {
    let queue = Queue::open(
        &args.target.redis_url,
        QueueConfig::new(&args.target.stream),
    )
    .await?;
    let mut producer = queue.producer();
    let last = args.first + args.count;
    for start in (args.first..last).step_by(100) {
        let items: Vec<Item> = (start..last.min(start + 100))
            .map(|i| Item::new(format!("item-{i}"), format!("job {i}")))
            .collect();
        producer.put_many(&items).await?;
    }
    println!("put {} items", args.count);
    Ok(())
}
// ANCHOR_END: produce

// ANCHOR: consume
async fn consume(args: ConsumeArgs) -> anyhow::Result<()> {
    let config = QueueConfig {
        claim_idle: Duration::from_millis(args.claim_idle_ms),
        ..QueueConfig::new(&args.target.stream)
    };
    let sink_key = args
        .sink
        .unwrap_or_else(|| format!("{}:sink", config.stream));
    let queue = Queue::open(&args.target.redis_url, config).await?;
    let mut consumer = queue.consumer(&args.name).await?;
    let sink = queue.sink(sink_key);
    let shutdown = CancellationToken::new();
    let first_ctrl_c = patterns_core::shutdown::ctrl_c()?;
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move { first_ctrl_c.await.map(|()| shutdown.cancel()) }
    });
    let duplicates = Arc::new(AtomicU64::new(0));
    let work = Duration::from_micros(args.work_us);
    let report = run_consumer(&mut consumer, &shutdown, |item| {
        let (mut sink, name, duplicates) = (sink.clone(), args.name.clone(), duplicates.clone());
        async move {
            anyhow::ensure!(item.body != POISON, "{} is poison", item.id);
            tokio::time::sleep(work).await;
            if !sink.record(&item.id, &name).await? {
                duplicates.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }
    })
    .await?;
    println!(
        "{}: processed {}, duplicates {}, reclaimed {}, failed {}, dead-lettered {}",
        args.name,
        report.processed,
        duplicates.load(Ordering::Relaxed),
        report.reclaimed,
        report.failed + report.panicked,
        report.dead_lettered
    );
    Ok(())
}
// ANCHOR_END: consume

async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    // The throwaway server lives until the end of the demo, then goes with its files.
    let (url, _server) = match &args.redis_url {
        Some(url) => (url.clone(), None),
        None => {
            let options = external_tools::redis::Options {
                append_only: true,
                ..Default::default()
            };
            let server = external_tools::redis::Redis::start(&options).map_err(|why| {
                anyhow::anyhow!("cannot start a throwaway Redis ({why}); or pass --redis-url")
            })?;
            println!(
                "1. started redis-server {} on port {}, append-only file on",
                server.version(),
                server.port()
            );
            (server.url(), Some(server))
        }
    };
    let owned_keys = args.stream.is_none();
    let stream = args
        .stream
        .clone()
        .unwrap_or_else(|| format!("catalogue:demo:{}", std::process::id()));
    let target = Target {
        redis_url: url,
        stream,
    };
    let queue = Queue::open(&target.redis_url, QueueConfig::new(&target.stream)).await?;
    let result = run_demo(&args, &target, &queue).await;
    if owned_keys {
        forget(&queue, &target.stream).await;
    }
    result
}

async fn run_demo(args: &DemoArgs, target: &Target, queue: &Queue) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let base = ["--redis-url", &target.redis_url, "--stream", &target.stream];
    let mut consumers = Vec::new();
    for c in 1..=args.consumers {
        let name = format!("c{c}");
        let child = spawn(&exe, "consume", &base, &["--name", &name])?;
        consumers.push((name, child));
    }
    let mut producers = Vec::new();
    let per = args.items / args.producers;
    for p in 0..args.producers {
        let count = if p + 1 == args.producers {
            args.items - per * p
        } else {
            per
        };
        let (first, count) = ((per * p).to_string(), count.to_string());
        producers.push(spawn(
            &exe,
            "produce",
            &base,
            &["--first", &first, "--count", &count],
        )?);
    }
    queue.producer().put(&Item::new("poison-1", POISON)).await?;
    println!(
        "2. {} producer processes put {} items and the demo 1 poison item; {} consumers",
        args.producers, args.items, args.consumers
    );

    let mut sink = queue.sink(format!("{}:sink", target.stream));
    let (victim, child) = &mut consumers[0];
    let held = kill_mid_batch(queue, &mut sink, args.items / 3, victim, child).await?;
    println!("3. killed consumer {victim} with SIGKILL, holding {held} unacknowledged items");

    for producer in &mut producers {
        let status = producer.wait().await?;
        anyhow::ensure!(status.success(), "a producer failed: {status}");
    }
    let progress = tokio::time::timeout(
        Duration::from_secs(120),
        queue.wait_drained(Duration::from_millis(20)),
    )
    .await
    .context("the queue did not drain within 120 s")??;
    let stored = sink.count().await?;
    println!(
        "4. drained: {stored} of {} items in the sink, each once: {}; pending {}",
        args.items,
        stored == args.items,
        progress.pending
    );
    for (item, deliveries) in queue.dead_letters().await? {
        println!("5. {} dead-lettered after {deliveries} deliveries", item.id);
    }

    // Ctrl-C for the survivors: each finishes its batch, acknowledges, and reports.
    let mut redelivered = 0;
    for (_, child) in consumers.iter_mut().skip(1) {
        let report = stop(child).await?;
        redelivered += number_after(&report, "duplicates ");
        println!("   {report}");
    }
    println!("6. {redelivered} items were processed twice after the kill, and recorded once");
    let lost = args.items - stored + u64::from(progress.dead_lettered != 1);
    println!("nothing lost: {}", lost == 0 && progress.drained());
    Ok(())
}

// ANCHOR: kill
/// Kills consumer `victim` once `after` items are in the sink: it dies with a batch in
/// hand, unacknowledged, as a crashed worker would. Returns how many items it held.
async fn kill_mid_batch(
    queue: &Queue,
    sink: &mut IdempotentSink,
    after: u64,
    victim: &str,
    child: &mut Child,
) -> anyhow::Result<u64> {
    while sink.count().await? < after {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.start_kill()?; // SIGKILL: no handler runs, nothing is acknowledged
    child.wait().await?;
    Ok(queue.pending_of(victim).await?)
}
// ANCHOR_END: kill

/// Runs this binary as `role`, its output piped back, killed if the demo is dropped.
fn spawn(exe: &std::path::Path, role: &str, base: &[&str], rest: &[&str]) -> anyhow::Result<Child> {
    Command::new(exe)
        .arg(role)
        .args(base)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))
}

/// Sends SIGINT (what Ctrl-C sends) and returns the consumer's report line.
async fn stop(child: &mut Child) -> anyhow::Result<String> {
    let pid = child.id().context("the consumer has exited already")?;
    external_tools::interrupt(pid).map_err(anyhow::Error::msg)?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().context("no stdout")?).lines();
    let report = lines.next_line().await?.unwrap_or_default();
    let status = child.wait().await?;
    anyhow::ensure!(status.success(), "a consumer failed: {status}");
    Ok(report)
}

fn number_after(text: &str, label: &str) -> u64 {
    text.split(label)
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Deletes the keys this run created in a Redis that is not the demo's own.
async fn forget(queue: &Queue, stream: &str) {
    if let Err(e) = queue.delete(&[&format!("{stream}:sink")]).await {
        tracing::warn!("could not delete the demo's keys: {e}");
    }
}
