//! Round trips over loopback, client and server in one process, each workload on both
//! tokio runtimes, asyncio streams and `Protocol` (on asyncio and uvloop), and the bound:
//! the same exchange in blocking `std::net`, a thread per connection on each side.
//!
//! - `echo-<size>-<connections>`: each connection writes a message and reads it back,
//!   over and over; the server is `sockets::echo` behind `accept_loop`.
//! - `framed-100`: 100 connections send a 64-byte frame behind its length and read the
//!   answer frame; the server decodes with `sockets::Frames`.
//! - `udp-16`: 16 client sockets send tagged requests with `sockets::request` to one
//!   `answer_loop`.
//!
//! ```text
//! cargo bench -p sockets
//! cargo bench -p sockets -- --runs 3 --no-python
//! ```

mod bound;
mod tokio_side;

use std::process::ExitCode;

use bench_harness::{Bench, Options, PythonLoop, Record, python_script};
use clap::Parser;

/// Loopback round trips: TCP echo, framed requests, UDP; Rust, Python and the bound.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    options: Options,
}

/// One workload: what each connection sends, how many connections, round trips in all.
#[derive(Debug, Clone, Copy)]
struct Workload {
    kind: Kind,
    size: usize,
    connections: usize,
    /// Round trips per run (full, quick).
    trips: (u64, u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Echo,
    Framed,
    Udp,
}

impl Workload {
    fn name(&self) -> String {
        let size = if self.size >= 1024 {
            format!("{}kib", self.size / 1024)
        } else {
            format!("{}b", self.size)
        };
        match self.kind {
            Kind::Echo => format!("echo-{size}-{}", self.connections),
            Kind::Framed => format!("framed-{}", self.connections),
            Kind::Udp => format!("udp-{}", self.connections),
        }
    }

    fn python_kind(&self) -> &'static str {
        match self.kind {
            Kind::Echo => "echo",
            Kind::Framed => "framed",
            Kind::Udp => "udp",
        }
    }
}

const WORKLOADS: [Workload; 6] = [
    Workload {
        kind: Kind::Echo,
        size: 64,
        connections: 1,
        trips: (20_000, 200),
    },
    Workload {
        kind: Kind::Echo,
        size: 64,
        connections: 100,
        trips: (100_000, 400),
    },
    Workload {
        kind: Kind::Echo,
        size: 16 * 1024,
        connections: 1,
        trips: (10_000, 100),
    },
    Workload {
        kind: Kind::Echo,
        size: 16 * 1024,
        connections: 100,
        trips: (20_000, 200),
    },
    Workload {
        kind: Kind::Framed,
        size: 64,
        connections: 100,
        trips: (100_000, 400),
    },
    Workload {
        kind: Kind::Udp,
        size: 64,
        connections: 16,
        trips: (50_000, 160),
    },
];

fn main() -> ExitCode {
    bench_harness::main(run)
}

fn run(args: Args) -> anyhow::Result<()> {
    let script = python_script(env!("CARGO_MANIFEST_DIR"), "bench_sockets.py");
    for workload in WORKLOADS {
        let mut bench = Bench::new(env!("CARGO_PKG_NAME"), &workload.name(), &args.options)?;
        let (full, quick) = workload.trips;
        let per = bench.items_each(
            (full, quick, 100_000_000),
            workload.connections,
            "connection",
        )?;
        let trips = per * workload.connections as u64;
        let runs = bench.runs();
        for (runtime_name, runtime) in &bench_harness::runtimes()? {
            let (variant, mut durations) = tokio_side::time(runtime, runs, workload, per)?;
            bench.record(
                Record::from_runs(&workload.name(), variant, trips, &mut durations)
                    .on(runtime_name),
            )?;
        }
        let (variant, mut durations) = bound::time(runs, workload, per)?;
        let record = Record::from_runs(&workload.name(), variant, trips, &mut durations);
        bench.record(record.on("threads").as_bound())?;
        let (variant, mut durations) = bound::time_syscalls(runs, workload, per)?;
        let record = Record::from_runs(&workload.name(), variant, trips, &mut durations);
        bench.record(record.on("one-thread").as_bound())?;
        let extra = [
            "--kind".to_owned(),
            workload.python_kind().to_owned(),
            "--size".to_owned(),
            workload.size.to_string(),
            "--connections".to_owned(),
            workload.connections.to_string(),
        ];
        bench.python_records(&script, trips, &extra, &PythonLoop::BOTH)?;
        bench.finish()?;
    }
    Ok(())
}
