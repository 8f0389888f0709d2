//! Writes the chapters' figures from the results file.
//!
//! ```text
//! cargo run -p bench-harness --bin figures            # write docs/src/figures/*
//! cargo run -p bench-harness --bin figures -- --check # fail if any figure is stale
//! ```

use std::process::ExitCode;

use clap::Parser;

/// Generate docs/src/figures/<workload>.{md,svg} from docs/results/bench.jsonl.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Write nothing; exit non-zero if a figure differs from what the results give.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    patterns_core::app::init_tracing();
    patterns_core::app::exit_code(run(&Args::parse()))
}

fn run(args: &Args) -> anyhow::Result<()> {
    let root = external_tools::workspace_root();
    let mut stale = Vec::new();
    for (path, content) in bench_harness::figures::generate(&root)? {
        let full = root.join(&path);
        if std::fs::read_to_string(&full).ok().as_deref() == Some(content.as_str()) {
            continue;
        }
        if args.check {
            stale.push(path.display().to_string());
        } else {
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&full, content)?;
            println!("wrote {}", path.display());
        }
    }
    anyhow::ensure!(stale.is_empty(), "stale figures: {}", stale.join(", "));
    Ok(())
}
