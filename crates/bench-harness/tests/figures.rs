//! The chapters' figures come from the results file: the newest full run of each
//! workload, a table that names its Python baselines and its provenance, and a chart;
//! and the committed figures are exactly what the committed results give.

use std::time::Duration;

use bench_harness::figures::{across_runs, chart, generate, newest_runs, table};
use bench_harness::{Provenance, PythonVersions, Record, comparison};
use external_tools::mdbook::Language;

fn provenance(run: &str, mode: &str) -> Provenance {
    Provenance {
        run: run.to_owned(),
        command: "cargo bench -p queue".to_owned(),
        date: "2026-11-21T12:00:00Z".to_owned(),
        commit: "0123456789ab".to_owned(),
        cpu: "Test CPU".to_owned(),
        cores: 2,
        load_avg: vec![0.25, 0.5, 0.75],
        load_avg_after: vec![1.5, 0.75, 0.5],
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

/// A record of a run that started with the given one-minute load average.
fn loaded(variant: &str, run: &str, load: f64) -> Record {
    let mut record = record(variant, "current_thread", 1, run, "bench");
    if let Some(provenance) = &mut record.provenance {
        provenance.load_avg[0] = load;
    }
    record
}

#[test]
fn a_noisy_newest_run_is_shown_with_a_note_and_never_replaced_by_an_older_one() {
    let records = [
        loaded("tokio-quiet", "run-1", 0.5),
        loaded("tokio-noisy", "run-2", 0.51),
    ];
    let runs = newest_runs(&records);
    assert_eq!(runs["queue"].len(), 1);
    assert_eq!(runs["queue"][0].variant, "tokio-noisy");
    let md = table("queue", &runs["queue"], Language::English);
    assert!(
        md.contains("*A noisy run: the machine's load average was above 0.5 when it started"),
        "{md}"
    );
    let md = table("queue", &records[..1], Language::English);
    assert!(!md.contains("noisy"), "a load of 0.5 is quiet: {md}");
}

#[test]
fn the_table_gives_each_variant_as_a_share_of_the_fastest_bound() {
    let records = [
        record("tokio-queue", "current_thread", 4, "r", "bench"),
        record("raw-slow", "current_thread", 3, "r", "bench").as_bound(),
        record("raw-fast", "current_thread", 2, "r", "bench").as_bound(),
        record("python-queue", "asyncio", 8, "r", "bench"),
    ];
    let md = table("queue", &records, Language::English);
    assert!(
        md.contains("| variant | median s | items/s | × Python | × bound |"),
        "{md}"
    );
    assert!(
        md.contains("| `tokio-queue`<br>current_thread | 4.0000 | 250 | 2.0 | 0.50 |"),
        "{md}"
    );
    assert!(
        md.contains("| `raw-fast`<br>current_thread<br>(bound) | 2.0000 | 500 | 4.0 | 1.0 |"),
        "{md}"
    );
    assert!(
        md.contains("× bound: against `raw-fast (current_thread)`"),
        "{md}"
    );
    let svg = chart("queue", &records, Language::English).unwrap();
    assert!(svg.contains("#888888"), "the bound's bars are grey");
    // Without a bound, no column.
    let md = table(
        "queue",
        &[records[0].clone(), records[3].clone()],
        Language::English,
    );
    assert!(!md.contains("× bound"), "{md}");
}

#[test]
fn the_japanese_table_has_the_same_numbers_in_japanese_words() {
    let records = [
        spread("tokio-queue", "current_thread", &[1, 2, 3]),
        spread("raw-fast", "current_thread", &[1, 1, 1]).as_bound(),
        spread("python-queue", "asyncio", &[4, 5, 6]),
        spread("python-queue", "uvloop", &[4, 4, 4]),
    ];
    let english = table("queue", &records, Language::English);
    let japanese = table("queue", &records, Language::Japanese);
    let numbers = |md: &str| -> Vec<String> {
        md.split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|s| s.chars().any(|c| c.is_ascii_digit()))
            .map(str::to_owned)
            .collect()
    };
    // The same figures in the same order; only the words differ.
    assert_eq!(numbers(&english), numbers(&japanese));
    for words in [
        "| バリアント | 中央値 s | 件/s | × Python | × 最良 | × 上限 |",
        "（上限）",
        "実行ごとに 1000 件。",
        "実行ごとの比較: `tokio-queue (current_thread)` の 3 回",
        "差はどの回でも保たれています。",
    ] {
        assert!(
            japanese.contains(words),
            "{words:?} missing from:\n{japanese}"
        );
    }
    assert!(
        japanese.contains("](../figures/ja/queue.svg)"),
        "{japanese}"
    );
    let svg = chart("queue", &records, Language::Japanese).unwrap();
    assert!(
        svg.contains("毎秒の処理件数"),
        "the Japanese chart's caption"
    );
    for english_only in [
        "variant",
        "items per run",
        "Across runs",
        "(bound)",
        "Recorded by",
    ] {
        assert!(
            !japanese.contains(english_only),
            "{english_only:?} left in:\n{japanese}"
        );
    }
}

/// A record of 1000 items whose runs took `secs` each.
fn spread(variant: &str, runtime: &str, secs: &[u64]) -> Record {
    let mut runs: Vec<Duration> = secs.iter().map(|s| Duration::from_secs(*s)).collect();
    Record::from_runs("queue", variant, 1000, &mut runs).on(runtime)
}

#[test]
fn a_lead_holds_only_when_the_leaders_slowest_run_beats_the_others_fastest() {
    let rust = spread("tokio-queue", "current_thread", &[1, 2, 3]);
    let python = spread("python-queue", "asyncio", &[4, 5, 6]);
    let bound = spread("raw-queue", "current_thread", &[1, 1, 1]).as_bound();
    let line = across_runs(&[rust.clone(), bound, python], Language::English).unwrap();
    assert_eq!(
        line,
        "Across runs: the slowest of 3 runs of `tokio-queue (current_thread)` made 333/s, \
         the fastest of `python-queue (asyncio)` 250/s: the lead holds in every run."
    );
    let close = spread("python-queue", "uvloop", &[2, 3, 4]);
    let line = across_runs(&[rust.clone(), close], Language::English).unwrap();
    assert!(
        line.ends_with("the runs overlap, so the lead is within their spread."),
        "{line}"
    );
    // Python ahead: it is the leader, and its slowest run is the one compared.
    let ahead = spread("python-queue", "uvloop", &[1, 1, 1]);
    let line = across_runs(
        &[spread("tokio-queue", "current_thread", &[3, 3, 3]), ahead],
        Language::English,
    )
    .unwrap();
    assert!(
        line.contains("of `python-queue (uvloop)` made 1000/s"),
        "{line}"
    );
    assert!(line.ends_with("the lead holds in every run."), "{line}");
    // Records from before the spread was recorded say nothing.
    let mut old = rust;
    old.slowest_secs = None;
    assert_eq!(
        across_runs(
            &[old, spread("python-queue", "asyncio", &[9])],
            Language::English
        ),
        None
    );
}

#[test]
fn the_table_gives_ratios_against_both_pythons_and_says_what_produced_it() {
    let records = [
        record("tokio-queue", "current_thread", 1, "r", "bench"),
        record("python-queue", "asyncio", 10, "r", "bench"),
        record("python-queue", "uvloop", 5, "r", "bench"),
    ];
    let md = table("queue", &records, Language::English);
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
    let svg = chart("queue", &records, Language::English).unwrap();
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
