//! The bench harness prints one JSON record per variant, Python's included when Python is
//! present. A small run of the debug build: speed is claimed by release runs, not here.

use bench::Record;
use external_tools::{Python, require};
use std::process::Command;
use workspace_tests::binary;

/// Runs the debug bench binary and parses its JSON lines.
fn bench(args: &[&str]) -> Vec<Record> {
    let output = Command::new(binary("bench").unwrap())
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn spawn_workload_prints_a_record_per_variant_and_pythons() {
    let records = bench(&["spawn", "--items", "1000", "--runs", "1"]);
    let tokio_variants = records
        .iter()
        .filter(|r| r.variant.starts_with("tokio-"))
        .count();
    assert_eq!(tokio_variants, 6, "{records:?}");
    assert!(
        records
            .iter()
            .all(|r| r.workload == "spawn" && r.items == 1000 && r.per_sec > 0.0)
    );
    if require("Python in the bench", Python::find()).is_some() {
        assert!(
            records.iter().any(|r| r.variant.starts_with("python-")),
            "{records:?}"
        );
    }
}

#[test]
fn bad_arguments_are_refused_with_a_clear_line() {
    let exe = binary("bench").unwrap();
    let output = Command::new(exe)
        .args(["spawn", "--items", "0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("error:"));
}

#[test]
fn gather_workload_reports_the_servers_max_in_flight_for_every_variant() {
    let records = bench(&[
        "gather",
        "--items",
        "40",
        "--runs",
        "1",
        "--sequential-items",
        "2",
        "--delay-ms",
        "200",
    ]);
    let rust: Vec<&Record> = records
        .iter()
        .filter(|r| r.variant.starts_with("tokio-"))
        .collect();
    assert_eq!(rust.len(), 6, "{records:?}");
    let join_all = rust.iter().find(|r| r.variant == "tokio-join_all").unwrap();
    assert_eq!(
        join_all.max_in_flight,
        Some(40),
        "all 40 requests overlapped at the server"
    );
    let sequential = rust
        .iter()
        .find(|r| r.variant == "tokio-sequential")
        .unwrap();
    assert_eq!((sequential.items, sequential.max_in_flight), (2, Some(1)));
    if require("Python in the bench", Python::find()).is_some() {
        let python = records
            .iter()
            .filter(|r| r.variant.starts_with("python-"))
            .count();
        assert_eq!(python, 3, "{records:?}");
    }
}

#[test]
fn the_flow_control_workloads_print_their_rust_and_python_records() {
    let with_python = require("Python in the bench", Python::find()).is_some();
    let runs: [(&[&str], usize); 6] = [
        (&["scrape", "--items", "60", "--runs", "1"], 2),
        (&["pooling", "--items", "20", "--runs", "1"], 2),
        (
            &["streams", "--items", "50", "--runs", "1", "--delay-ms", "1"],
            3,
        ),
        (
            &["rate", "--items", "20", "--runs", "1", "--delay-ms", "5"],
            3,
        ),
        (&["queue", "--items", "4000", "--runs", "1"], 6),
        (&["lock", "--items", "800", "--runs", "1"], 12),
    ];
    for (args, rust_variants) in runs {
        let records = bench(args);
        let rust = records
            .iter()
            .filter(|r| !r.variant.starts_with("python-"))
            .count();
        assert_eq!(rust, rust_variants, "{args:?}: {records:?}");
        assert!(
            records
                .iter()
                .all(|r| r.workload == args[0] && r.per_sec > 0.0)
        );
        if with_python {
            assert!(
                records.iter().any(|r| r.variant.starts_with("python-")),
                "{args:?}"
            );
        }
    }
}
