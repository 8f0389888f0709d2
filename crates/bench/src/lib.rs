//! The benchmark harness: runs each Rust variant of a workload several times, takes the
//! median, then runs the Python reference of the same workload in the same process run,
//! and prints one JSON object per line per variant.

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use external_tools::{Python, workspace_root};
use serde::{Deserialize, Serialize};

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
    /// The runtime or event loop, e.g. `current_thread` or `asyncio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// The memory allocator of the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocator: Option<String>,
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
}

/// The allocator this binary was built with.
pub const ALLOCATOR: &str = if cfg!(feature = "mimalloc") {
    "mimalloc"
} else {
    "system"
};

impl Record {
    /// A record from the durations of several runs.
    pub fn from_runs(workload: &str, variant: &str, items: u64, runs: &mut [Duration]) -> Self {
        runs.sort();
        // The lower median, as Python's statistics.median_low, so both sides agree.
        let secs = runs[(runs.len() - 1) / 2].as_secs_f64();
        Self {
            workload: workload.to_owned(),
            variant: variant.to_owned(),
            items,
            secs,
            per_sec: items as f64 / secs,
            runs: runs.len() as u32,
            runtime: None,
            allocator: Some(ALLOCATOR.to_owned()),
            ideal_secs: None,
            max_in_flight: None,
            server_connections: None,
            titles_match: None,
            peak_rss_mib: None,
        }
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

    /// The same record, naming its runtime.
    pub fn on(mut self, runtime: &str) -> Self {
        self.runtime = Some(runtime.to_owned());
        self
    }

    /// Prints the record as one JSON line and keeps it for the comparison at the end.
    pub fn emit_into(self, records: &mut Vec<Record>) -> anyhow::Result<()> {
        self.emit()?;
        records.push(self);
        Ok(())
    }

    /// Prints the record as one JSON line.
    pub fn emit(&self) -> anyhow::Result<()> {
        println!("{}", serde_json::to_string(self)?);
        Ok(())
    }
}

/// Times `runs` runs of the future `make()` returns, each awaited on `runtime`, checking
/// each output. `make` itself runs before the clock starts.
/// One more run before them warms the allocator and the runtime up and is not counted.
pub fn measure<F, Fut, T>(
    runtime: &tokio::runtime::Runtime,
    runs: u32,
    mut make: F,
    mut check: impl FnMut(T) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    check(runtime.block_on(make()))?;
    let mut durations = Vec::with_capacity(runs as usize);
    for _ in 0..runs {
        // `make` prepares the run (a fresh client, say) before the clock starts.
        let run = make();
        let started = Instant::now();
        let output = runtime.block_on(run);
        durations.push(started.elapsed());
        check(output)?;
    }
    Ok(durations)
}

/// Runs a Python reference benchmark (`--items N --runs R` plus `extra` arguments)
/// and returns its records. `Ok(None)` when no suitable Python is installed.
pub fn run_python(
    script: &Path,
    items: u64,
    runs: u32,
    extra: &[String],
) -> anyhow::Result<Option<Vec<Record>>> {
    let python = match Python::find() {
        Ok(python) => python,
        Err(reason) => {
            eprintln!("python reference skipped: {reason}");
            return Ok(None);
        }
    };
    let script = workspace_root().join(script);
    let output = python
        .script(&script)
        .args(["--items", &items.to_string(), "--runs", &runs.to_string()])
        .args(extra)
        .output()
        .with_context(|| format!("cannot run {}", script.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let records = String::from_utf8(output.stdout)?
        .lines()
        .map(|line| serde_json::from_str(line).with_context(|| format!("not a record: {line}")))
        .collect::<anyhow::Result<Vec<Record>>>()?;
    Ok(Some(records))
}

/// Prints each Rust record's speed relative to the first Python record (the reference as
/// a tutorial writes it) and to the fastest one (Python at its best), on stderr.
pub fn compare(rust: &[Record], python: Option<&[Record]>) {
    let Some(python) = python.filter(|p| !p.is_empty()) else {
        return;
    };
    let first = &python[0];
    let best = python
        .iter()
        .max_by(|a, b| a.per_sec.total_cmp(&b.per_sec))
        .unwrap_or(first);
    for record in rust {
        let mut line = format!(
            "{:>15} {:>28}: {:>12.0}/s = {:>6.1}x {}",
            record.runtime.as_deref().unwrap_or(""),
            record.variant,
            record.per_sec,
            record.per_sec / first.per_sec,
            first.variant,
        );
        if best.variant != first.variant {
            line.push_str(&format!(
                ", {:.1}x {}",
                record.per_sec / best.per_sec,
                best.variant
            ));
        }
        eprintln!("{line}");
    }
}

/// The process's peak resident memory since start or the last [`reset_peak_rss`], in MiB
/// (Linux: `VmHWM` of `/proc/self/status`; `None` elsewhere).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Starts a new peak-memory measurement (Linux: writes 5 to `/proc/self/clear_refs`).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The two runtimes most workloads compare: `("current_thread", ...)` and a
/// `("multi_thread", ...)` with two workers, one per core of the project machine.
pub fn runtimes() -> std::io::Result<[(&'static str, tokio::runtime::Runtime); 2]> {
    Ok([
        (
            "current_thread",
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
        ),
        (
            "multi_thread",
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?,
        ),
    ])
}
