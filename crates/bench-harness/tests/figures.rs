//! The chapters' figures come from the results file: the newest full run of each
//! workload, a table that names its Python baselines and its provenance, and a chart;
//! and the committed figures are exactly what the committed results give.

use std::time::Duration;

use bench_harness::figures::{chart, generate, newest_runs, table};
use bench_harness::{Provenance, PythonVersions, Record, comparison};

fn provenance(run: &str, mode: &str) -> Provenance {
    Provenance {
        run: run.to_owned(),
        command: "cargo bench -p queue".to_owned(),
        date: "2026-11-21T12:00:00Z".to_owned(),
        commit: "0123456789ab".to_owned(),
        cpu: "Test CPU".to_owned(),
        cores: 2,
        load_avg: vec![0.25, 0.5, 0.75],
        rustc: "rustc 1.95.0".to_owned(),
        tokio: "1.54.0".to_owned(),
        profile: "release".to_owned(),
        mode: mode.to_owned(),
        python: Some(PythonVersions {
            version: "3.11.7".to_owned(),
            packages: [("uvloop".to_owned(), "0.23.0".to_owned())].into(),
        }),
    }
}

fn record(variant: &str, runtime: &str, secs: u64, run: &str, mode: &str) -> Record {
    let mut record =
        Record::from_runs("queue", variant, 1000, &mut [Duration::from_secs(secs)]).on(runtime);
    record.provenance = Some(provenance(run, mode));
    record
}

#[test]
fn the_newest_full_run_of_each_workload_is_the_one_shown() {
    let records = [
        record("tokio-old", "current_thread", 1, "run-1", "bench"),
        record("tokio-new", "current_thread", 1, "run-2", "bench"),
        record("python-new", "asyncio", 4, "run-2", "bench"),
        record("tokio-quick", "current_thread", 1, "run-3", "quick"),
    ];
    let runs = newest_runs(&records);
    let variants: Vec<&str> = runs["queue"].iter().map(|r| r.variant.as_str()).collect();
    assert_eq!(
        variants,
        ["tokio-new", "python-new"],
        "a quick check is never shown"
    );
}

#[test]
fn the_table_gives_ratios_against_both_pythons_and_says_what_produced_it() {
    let records = [
        record("tokio-queue", "current_thread", 1, "r", "bench"),
        record("python-queue", "asyncio", 10, "r", "bench"),
        record("python-queue", "uvloop", 5, "r", "bench"),
    ];
    let md = table("queue", &records);
    assert!(
        md.contains("| `tokio-queue`<br>current_thread | 1.0000 | 1000 | 10.0 | 5.0 |"),
        "{md}"
    );
    assert!(md.contains("1000 items per run."), "{md}");
    assert!(md.contains("against `python-queue (asyncio)`"), "{md}");
    assert!(md.contains("against `python-queue (uvloop)`"), "{md}");
    for fact in [
        "cargo bench -p queue",
        "0123456789ab",
        "Test CPU",
        "2 cores",
        "0.25",
        "rustc 1.95.0",
        "tokio 1.54.0",
        "Python 3.11.7",
        "uvloop 0.23.0",
    ] {
        assert!(md.contains(fact), "{fact} missing from {md}");
    }
    let svg = chart("queue", &records).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("python-queue (uvloop)"),
        "{svg}"
    );
}

#[test]
fn comparisons_name_the_python_they_beat() {
    let rust = record("tokio-queue", "current_thread", 1, "r", "bench");
    let asyncio = record("python-queue", "asyncio", 10, "r", "bench");
    let uvloop = record("python-queue", "uvloop", 5, "r", "bench");
    let lines = comparison(&[&rust], &[&asyncio, &uvloop]);
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].contains("10.0x python-queue (asyncio), 5.0x python-queue (uvloop)"),
        "{}",
        lines[0]
    );
}

#[test]
fn the_committed_figures_are_what_the_committed_results_give() {
    let root = external_tools::workspace_root();
    let mut stale = Vec::new();
    for (path, content) in generate(&root).unwrap() {
        let committed = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
        if committed != content {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale or hand-edited figures (run `cargo run -p bench-harness --bin figures`): {stale:?}"
    );
}
