//! One benchmark run: its flags, the Python reference beside it, and the records it
//! prints and saves.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use external_tools::{Python, in_ci, workspace_root};

use crate::provenance::NOISY_LOAD;
use crate::record::{Record, append, comparison};
use crate::{Provenance, RESULTS_FILE};

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
        // A run recorded for the chapters waits for a quiet machine; a look at the
        // figures in passing does not.
        if options.bench && options.save {
            wait_until_quiet(workload);
        }
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
            let after = crate::provenance::load_avg();
            let mut records = self.records;
            for record in &mut records {
                if let Some(provenance) = &mut record.provenance {
                    provenance.load_avg_after.clone_from(&after);
                }
            }
            let path = workspace_root().join(RESULTS_FILE);
            append(&path, &records)?;
            eprintln!("appended {} records to {}", records.len(), path.display());
        }
        Ok(())
    }
}

/// How long a full run waits for the machine to quieten before it starts anyway, marked
/// noisy.
const QUIET_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Waits for the load average left by whatever ran before (the build, the previous
/// workload) to fall to [`NOISY_LOAD`], saying so on stderr.
fn wait_until_quiet(workload: &str) {
    let load = crate::provenance::load_avg().first().copied();
    if load.is_none_or(|load| load <= NOISY_LOAD) {
        return;
    }
    eprintln!(
        "{workload}: waiting for the load average ({:.2}) to fall to {NOISY_LOAD}",
        load.unwrap_or_default()
    );
    if !crate::machine::wait_for_quiet(NOISY_LOAD, QUIET_WAIT) {
        eprintln!(
            "{workload}: the load stayed above {NOISY_LOAD} for {} s; the run is marked noisy",
            QUIET_WAIT.as_secs()
        );
    }
}
