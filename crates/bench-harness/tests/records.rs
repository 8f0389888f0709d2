//! Records take the lower median of their runs and survive a JSON round trip, so Rust
//! and Python lines read the same way.

use std::time::Duration;

use bench_harness::Record;

#[test]
fn the_lower_median_is_reported_like_pythons_median_low() {
    let mut runs = [4, 1, 3, 2].map(Duration::from_secs);
    let record = Record::from_runs("spawn", "tokio-JoinSet", 10, &mut runs);
    assert_eq!((record.secs, record.per_sec, record.runs), (2.0, 5.0, 4));
    let mut odd = [5, 1, 3].map(Duration::from_secs);
    assert_eq!(Record::from_runs("w", "v", 3, &mut odd).secs, 3.0);
}

#[test]
fn records_round_trip_and_read_pythons_lines() {
    let record = Record::from_runs(
        "spawn",
        "tokio-await_each",
        8,
        &mut [Duration::from_secs(2)],
    )
    .on("current_thread");
    let line = serde_json::to_string(&record).unwrap();
    assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), record);
    let python = r#"{"workload": "spawn", "variant": "python-asyncio-gather", "items": 8,
        "secs": 0.5, "per_sec": 16.0, "runs": 1, "runtime": "asyncio", "allocator": "pymalloc"}"#;
    let parsed: Record = serde_json::from_str(python).unwrap();
    assert_eq!(parsed.runtime.as_deref(), Some("asyncio"));
}

#[test]
fn a_bound_says_so_in_its_line_and_other_records_stay_as_they_were() {
    let plain = Record::from_runs("lock", "tokio-Mutex", 8, &mut [Duration::from_secs(1)]);
    let line = serde_json::to_string(&plain).unwrap();
    assert!(!line.contains("bound"), "{line}");
    let bound = plain.as_bound();
    let line = serde_json::to_string(&bound).unwrap();
    assert!(line.contains(r#""bound":true"#), "{line}");
    assert!(serde_json::from_str::<Record>(&line).unwrap().bound);
}

#[test]
fn a_variant_named_bound_dash_is_the_bound_and_no_other_name_is() {
    let one = &mut [Duration::from_secs(1)];
    assert!(Record::from_runs("spawn", "bound-in-place", 8, one).bound);
    for name in ["tokio-bound", "unbound-x", "bound", "Bound-x"] {
        assert!(!Record::from_runs("spawn", name, 8, one).bound, "{name}");
    }
}

#[test]
fn items_above_the_workload_bound_are_refused_before_any_work() {
    let options = |items| bench_harness::Options {
        items,
        no_python: true,
        bench: true,
        ..Default::default()
    };
    let bench = bench_harness::Bench::new("basics", "spawn", &options(Some(2_000_001))).unwrap();
    assert_eq!(
        bench.items(100, 10, 2_000_000).unwrap_err().to_string(),
        "--items 2000001: the spawn workload takes at most 2000000"
    );
    let bench = bench_harness::Bench::new("basics", "spawn", &options(Some(2_000_000))).unwrap();
    assert_eq!(bench.items(100, 10, 2_000_000).unwrap(), 2_000_000);
    let bench = bench_harness::Bench::new("basics", "spawn", &options(None)).unwrap();
    assert_eq!(bench.items(100, 10, 2_000_000).unwrap(), 100);
}

#[test]
fn fewer_items_than_workers_is_refused_instead_of_measuring_nothing() {
    let options = bench_harness::Options {
        items: Some(3),
        no_python: true,
        bench: true,
        ..Default::default()
    };
    let bench = bench_harness::Bench::new("lock-counter", "lock", &options).unwrap();
    assert_eq!(
        bench
            .items_each((100, 10, 1000), 8, "worker")
            .unwrap_err()
            .to_string(),
        "--items 3: fewer than the 8 workers, so nothing to measure"
    );
    assert_eq!(bench.items_each((100, 10, 1000), 3, "worker").unwrap(), 1);
}
