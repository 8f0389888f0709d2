//! What produced a record: the machine, how busy it was, the versions, the commit, the date.

use std::collections::BTreeMap;
use std::process::Command;

use external_tools::{Python, workspace_root};
use serde::{Deserialize, Serialize};

/// The Python packages whose versions a record names.
const PYTHON_PACKAGES: &[&str] = &[
    "aiohttp",
    "uvloop",
    "beautifulsoup4",
    "asyncpg",
    "aiosqlite",
    "websockets",
    "redis",
    "fastapi",
    "uvicorn",
    "httptools",
];

/// What produced a record. Every record of one run carries the same provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Names the run: `$BENCH_RUN` when set (one name for many workloads), else `date`.
    pub run: String,
    /// The command that runs this workload: `cargo bench -p <pattern>`.
    pub command: String,
    /// When the run started, UTC, RFC 3339.
    pub date: String,
    /// The git commit measured, `-dirty` when the work tree had changes.
    pub commit: String,
    /// The CPU model.
    pub cpu: String,
    /// Cores available to the process.
    pub cores: usize,
    /// The 1, 5 and 15 minute load averages before the run: a busy machine shows here
    /// (empty where the system does not say).
    pub load_avg: Vec<f64>,
    /// The same load averages when the workload ended: what the run itself added, and
    /// whether something else started meanwhile.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_avg_after: Vec<f64>,
    /// `rustc --version` of the compiler that built the benchmark.
    pub rustc: String,
    /// The tokio version in Cargo.lock.
    pub tokio: String,
    /// `release` under `cargo bench`; `debug` figures are not speed claims.
    pub profile: String,
    /// `bench` for a `cargo bench` run, `quick` for the check `cargo test` runs.
    pub mode: String,
    /// The Python interpreter and packages, when the reference ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<PythonVersions>,
}

/// The Python side's versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PythonVersions {
    /// `sys.version`, first word (e.g. `3.11.7`).
    pub version: String,
    /// Package name to version, for the packages the references use.
    pub packages: BTreeMap<String, String>,
}

impl Provenance {
    /// Reads the machine's state now: call it before any work.
    pub fn read(package: &str, python: Option<&Python>, full_bench: bool) -> Self {
        let date = jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string());
        Self {
            run: std::env::var("BENCH_RUN").unwrap_or_else(|_| date.clone()),
            command: format!("cargo bench -p {package}"),
            date,
            commit: commit(),
            cpu: cpu_model(),
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            load_avg: load_avg(),
            load_avg_after: Vec::new(),
            rustc: env!("BENCH_RUSTC_VERSION").to_owned(),
            tokio: env!("BENCH_TOKIO_VERSION").to_owned(),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_owned(),
            mode: if full_bench { "bench" } else { "quick" }.to_owned(),
            python: python.and_then(python_versions),
        }
    }
}

/// A run that starts on a machine whose one-minute load average is above this shared
/// its cores with other work: it is marked noisy, and the chapters show a quiet run
/// instead when one exists.
pub(crate) const NOISY_LOAD: f64 = 0.5;

impl Provenance {
    /// Whether the machine was busy when the run started (see [`NOISY_LOAD`]).
    pub fn is_noisy(&self) -> bool {
        self.load_avg.first().is_some_and(|load| *load > NOISY_LOAD)
    }
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(workspace_root())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn commit() -> String {
    let Some(head) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown".to_owned();
    };
    // Only tracked files count, and not the results and figures a run writes: they are
    // what the run produces, not what it measures.
    let dirty = git(&[
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":(exclude)docs/results",
        ":(exclude)docs/src/figures",
    ])
    .is_some_and(|changes| !changes.is_empty());
    if dirty { format!("{head}-dirty") } else { head }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

/// The 1, 5 and 15 minute load averages now (empty where the system does not say).
pub(crate) fn load_avg() -> Vec<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .map_while(|field| field.parse().ok())
        .collect()
}

fn python_versions(python: &Python) -> Option<PythonVersions> {
    let program = format!(
        "import sys, json, importlib.metadata as m\n\
         names = {PYTHON_PACKAGES:?}\n\
         versions = {{}}\n\
         for name in names:\n\
         \x20   try: versions[name] = m.version(name)\n\
         \x20   except m.PackageNotFoundError: pass\n\
         print(json.dumps({{'version': sys.version.split()[0], 'packages': versions}}))"
    );
    let output = Command::new(python.exe())
        .args(["-c", &program])
        .output()
        .ok()?;
    serde_json::from_slice(&output.stdout).ok()
}
