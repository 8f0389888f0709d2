//! The benchmark harness.
//!
//! ```text
//! cargo run --release -p bench -- spawn            # 100,000 no-op tasks
//! cargo run --release -p bench -- gather           # 1,000 concurrent GETs of /delay/50
//! cargo run --release -p bench -- queue            # 1,000,000 items, 4 producers, 4 consumers
//! cargo run --release -p bench -- lock             # 8 workers x 100,000 increments
//! cargo run --release -p bench -- rate             # 200 GETs of /delay/20, 10 in flight
//! cargo run --release -p bench -- streams          # 100 pages of a paginated API
//! cargo run --release -p bench -- pooling          # 500 GETs: one client versus one per request
//! cargo run --release -p bench -- scrape           # crawl the installed Rust book, titles compared
//! cargo run --release -p bench -- spawn --items 1000 --runs 3 --no-python
//! ```
//!
//! stdout: one JSON line per variant (`workload`, `variant`, `items`, `secs`, `per_sec`,
//! `runs`, and where they apply `runtime`, `allocator`, `ideal_secs`, `max_in_flight`);
//! stderr: how each Rust variant compares with Python.

mod gather;
mod lock;
mod pooling;
mod queue;
mod rate;
mod scrape;
mod spawn;
mod streams;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Rust variants and the Python reference of a workload, in one run"
)]
struct Cli {
    #[command(subcommand)]
    workload: Workload,
}

#[derive(Debug, Subcommand)]
enum Workload {
    /// Spawn and await no-op tasks (tokio join_all, await each, JoinSet; Python asyncio.gather).
    Spawn(#[command(flatten)] Common),
    /// Concurrent GETs of the fixture's /delay/{ms} (join_all, JoinSet, buffer_unordered,
    /// sequential; Python aiohttp + gather).
    Gather(#[command(flatten)] gather::GatherArgs),
    /// Items through a bounded MPMC queue (the queue pattern, raw channels; Python asyncio.Queue).
    Queue(#[command(flatten)] queue::QueueArgs),
    /// Increments of one shared counter from many tasks (tokio and std Mutex, atomic, actor,
    /// RwLock; Python asyncio.Lock).
    Lock(#[command(flatten)] lock::LockArgs),
    /// Requests bounded to C in flight (tokio Semaphore, buffer_unordered; Python Semaphore).
    Rate(#[command(flatten)] rate::RateArgs),
    /// Every item of a paginated API as a stream (one page at a time, pages buffered; Python
    /// async generators).
    Streams(#[command(flatten)] streams::StreamsArgs),
    /// Sequential GETs through one shared client versus a client per request (Python: one
    /// session versus a session per request).
    Pooling(#[command(flatten)] Common),
    /// Crawl a local site: the scraper crate against aiohttp + BeautifulSoup, titles compared.
    Scrape(#[command(flatten)] scrape::ScrapeArgs),
}

/// What every workload takes.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// Items per run (default: the workload's own).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    items: Option<u64>,
    /// Runs per variant; the median is reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    runs: u32,
    /// Skip the Python reference.
    #[arg(long)]
    no_python: bool,
}

fn main() -> ExitCode {
    patterns_core::app::init_tracing();
    patterns_core::app::exit_code(run(Cli::parse()))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.workload {
        Workload::Spawn(common) => spawn::run(&common),
        Workload::Gather(args) => gather::run(&args),
        Workload::Queue(args) => queue::run(&args),
        Workload::Lock(args) => lock::run(&args),
        Workload::Rate(args) => rate::run(&args),
        Workload::Streams(args) => streams::run(&args),
        Workload::Pooling(common) => pooling::run(&common),
        Workload::Scrape(args) => scrape::run(&args),
    }
}
