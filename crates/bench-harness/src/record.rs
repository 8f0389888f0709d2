//! The record: one line of output per variant of a workload, as the results file keeps
//! it, and how records compare.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::{ALLOCATOR, Provenance};

/// One line of output: one variant of one workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The workload's name, e.g. `spawn`.
    pub workload: String,
    /// The variant, e.g. `tokio-join_all` or `python-asyncio-gather`.
    pub variant: String,
    /// Items processed in one run (tasks, requests, messages...).
    pub items: u64,
    /// Median seconds of one run.
    pub secs: f64,
    /// `items / secs`.
    pub per_sec: f64,
    /// How many runs the median is taken over.
    pub runs: u32,
    /// The fastest run's seconds: with [`Record::slowest_secs`], the spread of the runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fastest_secs: Option<f64>,
    /// The slowest run's seconds. A lead holds across runs when the leader's slowest run
    /// beats the other's fastest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowest_secs: Option<f64>,
    /// The runtime or event loop, e.g. `current_thread`, `asyncio` or `uvloop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// The memory allocator of the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocator: Option<String>,
    /// Whether the variant is the workload's bound: the fastest way this machine does the
    /// same work, with none of the pattern's layers (raw syscalls, the C library in a
    /// loop, the database's own benchmark tool). The figures give every variant's speed
    /// as a share of it. A variant named `bound-...` is one from the start; another is
    /// marked with [`Record::as_bound`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bound: bool,
    /// The best possible `secs`, where the workload has one (a delay it must wait).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ideal_secs: Option<f64>,
    /// The most requests the server saw in flight at once during the runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u64>,
    /// Whether the extracted titles equal those of the Python reference, page for page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub titles_match: Option<bool>,
    /// TCP connections the server accepted during the runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_connections: Option<u64>,
    /// The process's peak resident memory during the runs, in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_mib: Option<f64>,
    /// CPU time (user + system) the client spent per item, in microseconds: where a
    /// server shares the machine, what the client costs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_us_per_item: Option<f64>,
    /// CPU time (user + system) the server process spent per item, in microseconds, where
    /// the server is a separate process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpu_us_per_item: Option<f64>,
    /// Median time from send to delivery, in milliseconds (broadcast fan-out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    /// 99th percentile of the time from send to delivery, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
    /// The server's resident memory per connected, idle client, in KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kib_per_idle_connection: Option<f64>,
    /// What produced the record; [`Bench::record`] fills it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// How a bound variant's name starts.
pub const BOUND_PREFIX: &str = "bound-";

impl Record {
    /// A record from the durations of several runs (at least one); a variant whose name
    /// starts with `bound-` is the workload's bound.
    pub fn from_runs(workload: &str, variant: &str, items: u64, runs: &mut [Duration]) -> Self {
        runs.sort();
        // The lower median, as Python's statistics.median_low, so both sides agree.
        let secs = runs
            .get(runs.len().saturating_sub(1) / 2)
            .map_or(0.0, Duration::as_secs_f64);
        Self {
            workload: workload.to_owned(),
            variant: variant.to_owned(),
            items,
            secs,
            per_sec: items as f64 / secs,
            runs: u32::try_from(runs.len()).unwrap_or(u32::MAX),
            fastest_secs: runs.first().map(Duration::as_secs_f64),
            slowest_secs: runs.last().map(Duration::as_secs_f64),
            runtime: None,
            allocator: Some(ALLOCATOR.to_owned()),
            bound: variant.starts_with(BOUND_PREFIX),
            ideal_secs: None,
            max_in_flight: None,
            titles_match: None,
            server_connections: None,
            peak_rss_mib: None,
            cpu_us_per_item: None,
            server_cpu_us_per_item: None,
            p50_ms: None,
            p99_ms: None,
            kib_per_idle_connection: None,
            provenance: None,
        }
    }

    /// The same record, naming its runtime.
    pub fn on(mut self, runtime: &str) -> Self {
        self.runtime = Some(runtime.to_owned());
        self
    }

    /// Takes the server's counters for the runs just measured (peak in flight, connections
    /// accepted) into the record, and zeroes them for the next variant.
    pub fn with_server_stats(mut self, server: &fixture_server::FixtureServer) -> Self {
        let stats = server.stats();
        self.max_in_flight = Some(stats.max_in_flight as u64);
        self.server_connections = Some(stats.connections as u64);
        server.reset_stats();
        self
    }

    /// The same record, marked as the workload's bound (see [`Record::bound`]).
    pub fn as_bound(mut self) -> Self {
        self.bound = true;
        self
    }

    /// The same record, with the client's CPU time per item (see [`cpu_time`]).
    pub fn with_cpu(mut self, cpu_us_per_item: Option<f64>) -> Self {
        self.cpu_us_per_item = cpu_us_per_item;
        self
    }

    /// Whether the record comes from the Python reference.
    pub fn is_python(&self) -> bool {
        self.variant.starts_with("python-")
    }

    /// `variant (runtime)`: how tables and comparisons name the record.
    pub fn label(&self) -> String {
        match &self.runtime {
            Some(runtime) => format!("{} ({runtime})", self.variant),
            None => self.variant.clone(),
        }
    }
}

/// Each Rust record's speed against Python as a tutorial writes it (the first Python
/// record: plain asyncio) and against Python at its best (the fastest), one line each.
pub fn comparison(rust: &[&Record], python: &[&Record]) -> Vec<String> {
    let (Some(first), Some(best)) = (
        python.first(),
        python.iter().max_by(|a, b| a.per_sec.total_cmp(&b.per_sec)),
    ) else {
        return Vec::new();
    };
    rust.iter()
        .map(|record| {
            let mut line = format!(
                "{:>40}: {:>12.0}/s = {:>6.1}x {}",
                record.label(),
                record.per_sec,
                record.per_sec / first.per_sec,
                first.label(),
            );
            if best.label() != first.label() {
                line.push_str(&format!(
                    ", {:.1}x {}",
                    record.per_sec / best.per_sec,
                    best.label()
                ));
            }
            line
        })
        .collect()
}

pub(crate) fn append(path: &Path, records: &[Record]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    for record in records {
        writeln!(file, "{}", serde_json::to_string(record)?)?;
    }
    Ok(())
}
