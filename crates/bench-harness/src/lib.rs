//! What every pattern's benchmark shares. A pattern's `benches/<pattern>.rs` measures its
//! Rust variants with [`measure`], hands each result to a [`Bench`], runs the pattern's
//! Python reference in the same run with [`Bench::python`], and ends with
//! [`Bench::finish`]:
//!
//! ```text
//! cargo bench -p queue                          # the full workload, JSON lines on stdout
//! cargo bench -p queue -- --items 10000 --runs 1 --no-python
//! cargo bench -p queue -- --save                # also append the records to the results file
//! BENCH_SAVE=1 cargo bench --workspace          # every workload, recorded as one run
//! ```
//!
//! Every line is one variant of one workload, with its [`Provenance`]: machine, load,
//! versions, commit and date. `cargo test` runs the same binaries with no arguments: a
//! quick run with small inputs, one run per variant, that checks every variant's output
//! and the Python reference, so a benchmark that breaks is seen at once.
//!
//! The chapters' tables and plots are generated from the results file by [`figures`]
//! (`cargo run -p bench-harness --bin figures`), never typed in.

pub mod figures;
mod provenance;

use std::future::Future;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use external_tools::{Python, in_ci, workspace_root};
use serde::{Deserialize, Serialize};

pub use provenance::{Provenance, PythonVersions};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The allocator every benchmark linking this library runs on.
pub const ALLOCATOR: &str = if cfg!(feature = "mimalloc") {
    "mimalloc"
} else {
    "system"
};

/// Where `--save` appends records, relative to the workspace root.
pub const RESULTS_FILE: &str = "docs/results/bench.jsonl";

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
    /// The runtime or event loop, e.g. `current_thread`, `asyncio` or `uvloop`.
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

impl Record {
    /// A record from the durations of several runs (at least one).
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
            runtime: None,
            allocator: Some(ALLOCATOR.to_owned()),
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

/// The flags every benchmark takes, for its `Args` to `#[command(flatten)]`; a benchmark
/// with no flags of its own parses them alone (`bench_harness::main::<Options>`).
#[derive(Debug, Clone, Default, clap::Parser)]
#[command(about = "A workload's Rust variants and its Python reference, in one run")]
pub struct Options {
    /// Items per run (default: the workload's own).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub items: Option<u64>,
    /// Runs per variant, after one warm-up run; the median is reported (default 5).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: Option<u32>,
    /// Skip the Python reference.
    #[arg(long)]
    pub no_python: bool,
    /// Append the records to the results file the chapters' figures come from.
    #[arg(long, env = "BENCH_SAVE", value_parser = clap::builder::FalseyValueParser::new())]
    pub save: bool,
    /// Set by `cargo bench`; without it (under `cargo test`) the run is a quick check.
    #[arg(long, hide = true)]
    pub bench: bool,
}

/// Runs a benchmark's `run` with its parsed arguments and turns the result into the exit
/// code (`error: ...` on one line).
///
/// `cargo bench` passes `--bench`, and then every flag is parsed. `cargo test` runs the
/// same binary with its own arguments (`--nocapture`, a filter...), so without `--bench`
/// the arguments are ignored and the run is the quick check.
pub fn main<A: Parser>(run: fn(A) -> anyhow::Result<()>) -> ExitCode {
    patterns_core::app::init_tracing();
    let argv: Vec<String> = std::env::args().collect();
    let args = if argv.iter().any(|arg| arg == "--bench") {
        A::parse_from(argv)
    } else {
        A::parse_from(argv.into_iter().take(1))
    };
    patterns_core::app::exit_code(run(args))
}

/// The event loop a Python reference runs on (its `--loop` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PythonLoop {
    /// asyncio's own loop: Python as a tutorial writes it.
    Asyncio,
    /// uvloop, the loop a Python user reaches for first when the network matters.
    Uvloop,
}

impl PythonLoop {
    /// Both, asyncio first: for the workloads where the loop matters.
    pub const BOTH: [Self; 2] = [Self::Asyncio, Self::Uvloop];

    /// The `--loop` value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Asyncio => "asyncio",
            Self::Uvloop => "uvloop",
        }
    }
}

/// One benchmark run: the records printed so far, and what produced them.
#[derive(Debug)]
pub struct Bench {
    workload: String,
    options: Options,
    provenance: Provenance,
    python: Option<Python>,
    python_skipped: bool,
    records: Vec<Record>,
}

impl Bench {
    /// Starts a run of `workload`, the benchmark of the pattern `package` (pass
    /// `env!("CARGO_PKG_NAME")`): reads the provenance (before any work, so the load
    /// average is the machine's, not ours) and finds Python unless `--no-python`.
    ///
    /// Without Python, the reference is skipped with a message on stderr; under
    /// `CI=true` that is an error.
    pub fn new(package: &str, workload: &str, options: &Options) -> anyhow::Result<Self> {
        let python = if options.no_python {
            None
        } else {
            match Python::find() {
                Ok(python) => Some(python),
                Err(reason) if in_ci() => {
                    anyhow::bail!("the {workload} bench needs Python, and CI=true: {reason}")
                }
                Err(reason) => {
                    eprintln!("SKIPPED the Python reference of the {workload} bench: {reason}");
                    None
                }
            }
        };
        let provenance = Provenance::read(package, python.as_ref(), options.bench);
        eprintln!(
            "{workload}: {} ({} cores, load {:.2}), {}, commit {}{}",
            provenance.cpu,
            provenance.cores,
            provenance.load_avg.first().copied().unwrap_or(f64::NAN),
            provenance.rustc,
            provenance.commit,
            if options.bench {
                ""
            } else {
                "; a quick check (cargo bench runs the full workload)"
            }
        );
        Ok(Self {
            workload: workload.to_owned(),
            python_skipped: python.is_none(),
            options: options.clone(),
            provenance,
            python,
            records: Vec::new(),
        })
    }

    /// The workload's name.
    pub fn workload(&self) -> &str {
        &self.workload
    }

    /// Whether this is the quick check `cargo test` runs.
    pub fn is_quick(&self) -> bool {
        !self.options.bench
    }

    /// Items per run: `--items`, else `full` under `cargo bench` and `quick` under
    /// `cargo test`. An `--items` above `most`, the workload's bound (chosen so its largest
    /// run fits in memory), is an error that says so, before anything is allocated.
    pub fn items(&self, full: u64, quick: u64, most: u64) -> anyhow::Result<u64> {
        match self.options.items {
            Some(items) if items > most => anyhow::bail!(
                "--items {items}: the {} workload takes at most {most}",
                self.workload
            ),
            Some(items) => Ok(items),
            None if self.is_quick() => Ok(quick),
            None => Ok(full),
        }
    }

    /// Items per part (per worker, per producer) of [`Bench::items`]. Fewer items than parts
    /// is an error: each part would get none, the run would measure nothing, and its record
    /// would say 0 per second and a ratio of NaN.
    pub fn items_each(
        &self,
        (full, quick, most): (u64, u64, u64),
        parts: usize,
        part: &str,
    ) -> anyhow::Result<u64> {
        let items = self.items(full, quick, most)?;
        let parts = parts.max(1) as u64;
        anyhow::ensure!(
            items >= parts,
            "--items {items}: fewer than the {parts} {part}s, so nothing to measure"
        );
        Ok(items / parts)
    }

    /// Runs per variant: `--runs`, else 5 (1 for the quick check).
    pub fn runs(&self) -> u32 {
        self.options
            .runs
            .unwrap_or(if self.is_quick() { 1 } else { 5 })
    }

    /// Stamps the record with the run's provenance, prints it as one JSON line, and keeps
    /// it for the comparison at the end.
    pub fn record(&mut self, mut record: Record) -> anyhow::Result<()> {
        anyhow::ensure!(
            record.workload == self.workload,
            "a {} record in the {} bench",
            record.workload,
            self.workload
        );
        anyhow::ensure!(
            record.per_sec.is_finite() && record.per_sec > 0.0,
            "{}: {} items in {} s is no measurement",
            record.label(),
            record.items,
            record.secs
        );
        record.provenance = Some(self.provenance.clone());
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", serde_json::to_string(&record)?)?;
        stdout.flush()?;
        self.records.push(record);
        Ok(())
    }

    /// Runs the Python reference `script` (`--items N --runs R --loop L`, then `extra`)
    /// and returns its records, not yet recorded, so the caller can add what the server
    /// saw. `None` when Python is skipped.
    pub fn python(
        &self,
        script: &Path,
        items: u64,
        extra: &[String],
        event_loop: PythonLoop,
    ) -> anyhow::Result<Option<Vec<Record>>> {
        let Some(python) = &self.python else {
            return Ok(None);
        };
        let output = python
            .script(script)
            .args(["--items", &items.to_string()])
            .args(["--runs", &self.runs().to_string()])
            .args(["--loop", event_loop.name()])
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
            .map(|line| {
                serde_json::from_str(line)
                    .with_context(|| format!("{}: not a record: {line}", script.display()))
            })
            .collect::<anyhow::Result<Vec<Record>>>()?;
        anyhow::ensure!(
            !records.is_empty(),
            "{} printed no record",
            script.display()
        );
        Ok(Some(records))
    }

    /// A command that runs the Python script `script` (its arguments still to add), or
    /// `None` when Python is skipped: for references that are servers, not benchmarks.
    pub fn python_command(&self, script: &Path) -> Option<std::process::Command> {
        self.python.as_ref().map(|python| python.script(script))
    }

    /// Runs `script` on each of `loops` and records every line it prints.
    pub fn python_records(
        &mut self,
        script: &Path,
        items: u64,
        extra: &[String],
        loops: &[PythonLoop],
    ) -> anyhow::Result<()> {
        for &event_loop in loops {
            for record in self
                .python(script, items, extra, event_loop)?
                .into_iter()
                .flatten()
            {
                self.record(record)?;
            }
        }
        Ok(())
    }

    /// Ends the run: checks that Rust and (unless skipped) Python records were printed,
    /// prints each Rust variant against Python on stderr, and with `--save` appends every
    /// record to [`RESULTS_FILE`].
    pub fn finish(self) -> anyhow::Result<()> {
        let (python, rust): (Vec<&Record>, Vec<&Record>) =
            self.records.iter().partition(|r| r.is_python());
        anyhow::ensure!(
            !rust.is_empty(),
            "the {} bench printed no Rust record",
            self.workload
        );
        anyhow::ensure!(
            self.python_skipped || !python.is_empty(),
            "the {} bench ran Python but recorded none of its lines",
            self.workload
        );
        for line in comparison(&rust, &python) {
            eprintln!("{line}");
        }
        if self.options.save {
            let path = workspace_root().join(RESULTS_FILE);
            append(&path, &self.records)?;
            eprintln!(
                "appended {} records to {}",
                self.records.len(),
                path.display()
            );
        }
        Ok(())
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

fn append(path: &Path, records: &[Record]) -> anyhow::Result<()> {
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

/// Times `runs` runs of the future `make()` returns, each awaited on `runtime`, checking
/// each output. `make` itself runs before the clock starts. One more run before them warms
/// the allocator and the runtime up and is not counted.
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
        let run = make();
        let started = Instant::now();
        let output = runtime.block_on(run);
        durations.push(started.elapsed());
        check(output)?;
    }
    Ok(durations)
}

/// A runtime and its name: `current_thread` for 0 workers, else `multi_thread`.
pub fn runtime(workers: usize) -> std::io::Result<(&'static str, tokio::runtime::Runtime)> {
    Ok(if workers == 0 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        ("current_thread", runtime)
    } else {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()?;
        ("multi_thread", runtime)
    })
}

/// The two runtimes most workloads compare: current-thread, and multi-thread with two
/// workers (one per core of the project's machine).
pub fn runtimes() -> std::io::Result<[(&'static str, tokio::runtime::Runtime); 2]> {
    Ok([runtime(0)?, runtime(2)?])
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

/// CPU time used so far (user + system): by this process, and by its children that have
/// been waited for (Linux: `/proc/self/stat`, in clock ticks of 10 ms; `None` elsewhere).
pub fn cpu_time() -> Option<CpuTime> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces: the fields start after its closing parenthesis.
    let fields: Vec<u64> = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .map(|field| field.parse().unwrap_or(0))
        .collect();
    // Fields 14 to 17 of proc(5): utime, stime, cutime, cstime; here from field 3 on.
    let ticks = |i: usize| fields.get(i - 3).copied();
    let tick = Duration::from_millis(10);
    Some(CpuTime {
        own: tick * u32::try_from(ticks(14)? + ticks(15)?).ok()?,
        children: tick * u32::try_from(ticks(16)? + ticks(17)?).ok()?,
    })
}

/// See [`cpu_time`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTime {
    /// This process's CPU time.
    pub own: Duration,
    /// The CPU time of its finished children.
    pub children: Duration,
}

/// The path of a pattern's Python bench script: `python/<name>` in the crate whose
/// `CARGO_MANIFEST_DIR` is `crate_dir`.
pub fn python_script(crate_dir: &str, name: &str) -> PathBuf {
    Path::new(crate_dir).join("python").join(name)
}
