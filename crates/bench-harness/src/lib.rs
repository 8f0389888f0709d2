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

//!
//! # Layout
//!
//! - [`record`](mod@record): [`Record`], one line of output, and [`comparison`];
//! - [`session`](mod@session): [`Options`], [`main`], [`PythonLoop`] and [`Bench`], one run;
//! - [`machine`](mod@machine): [`measure`], the runtimes, and `/proc` readers;
//! - [`server`](mod@server): [`ServerProcess`], a server under test in its own process;
//! - [`bare_http`]: [`bare_http::BareConnection`], hyper's bare client, the HTTP
//!   workloads' bound;
//! - [`figures`]: the chapters' tables and plots, from the results file.

pub mod bare_http;
pub mod figures;
pub mod machine;
mod provenance;
pub mod record;
pub mod server;
pub mod session;

pub use machine::{
    CpuTime, cpu_time, measure, peak_rss_mib, python_script, reset_peak_rss, runtime, runtimes,
};
pub use provenance::{Provenance, PythonVersions};
pub use record::{Record, comparison};
pub use server::ServerProcess;
pub use session::{Bench, Options, PythonLoop, main};

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
