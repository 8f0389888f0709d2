//! The mutation scores the testing chapter shows are the recorded runs, and every held
//! library has one.

use std::collections::BTreeSet;

use external_tools::mdbook::Language;
use workspace_tests::mutants::{self, HELD, Record, TABLE};

use workspace_tests::workspace_root;

#[test]
fn the_chapter_table_is_the_recorded_runs() {
    let root = workspace_root();
    let records = mutants::read(&root).unwrap();
    for language in Language::ALL {
        let path = root.join(mutants::table_path(language));
        let table = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            table,
            mutants::table(&records, language),
            "{}: stale, rerun `cargo run -p workspace-tests --bin mutants -- <crate>`",
            path.display()
        );
    }
    assert_eq!(
        mutants::table_path(Language::English),
        std::path::Path::new(TABLE)
    );
    let chapter = std::fs::read_to_string(root.join("docs/src/patterns/testing.md")).unwrap();
    assert!(chapter.contains("{{#include ../figures/mutants.md}}"));
}

/// Every held library has a recorded run that misses no mutant, started from a commit
/// whose library code is the code now (a change to it since makes the run stale).
#[test]
fn every_held_library_has_a_fresh_run_that_misses_nothing() {
    let root = workspace_root();
    let records = mutants::read(&root).unwrap();
    for krate in HELD {
        let record = records
            .iter()
            .find(|r| r.krate == *krate)
            .unwrap_or_else(|| panic!("{krate}: no recorded cargo-mutants run"));
        assert!(record.tested > 0, "{krate}: no mutant tested");
        let noticed = record.caught + record.timeout;
        let viable = noticed + record.missed.len() as u32;
        assert_eq!(
            record.tested,
            viable + record.unviable,
            "{krate}: counts add up"
        );
        assert!(
            record.missed.is_empty(),
            "{krate}: missed mutants; kill each with a test, or exclude it with its reason in \
             .cargo/mutants.toml:\n{}",
            record.missed.join("\n")
        );
        let library = if *krate == "patterns-core" {
            "crates/core/src".to_owned()
        } else {
            format!("patterns/{krate}/src")
        };
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .current_dir(&root)
                .args(args)
                .output()
                .expect("git runs")
        };
        // A shallow clone lacks the history to tell: say so rather than guess.
        let known = git(&["cat-file", "-e", &format!("{}^{{commit}}", record.commit)]);
        if !known.status.success() {
            println!(
                "{krate}: commit {} not in this clone; freshness not checked",
                record.commit
            );
            continue;
        }
        let stale = changed_code(&root, &library, &record.commit);
        assert!(
            stale.is_empty(),
            "{krate}: the library's code changed since the run's commit {}: {stale:?}; rerun \
             `cargo run -p workspace-tests --bin mutants -- {krate}`",
            record.commit
        );
    }
}

/// The library files (`main.rs` aside) whose code differs between `commit` and the work
/// tree, or that only one of them has. Comment and blank lines do not count: they change
/// no mutant's behaviour, only the line numbers in its name.
fn changed_code(root: &std::path::Path, library: &str, commit: &str) -> Vec<String> {
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .expect("git runs");
        String::from_utf8(output.stdout).unwrap()
    };
    let code = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .map(str::to_owned)
            .collect()
    };
    let then: BTreeSet<String> = git(&["ls-tree", "-r", "--name-only", commit, "--", library])
        .lines()
        .filter(|f| f.ends_with(".rs") && !f.ends_with("/main.rs"))
        .map(str::to_owned)
        .collect();
    let now: BTreeSet<String> = workspace_tests::rust_files(&root.join(library))
        .iter()
        .map(|f| f.strip_prefix(root).unwrap().display().to_string())
        .filter(|f| !f.ends_with("/main.rs"))
        .collect();
    then.union(&now)
        .filter(|file| {
            let before = git(&["show", &format!("{commit}:{file}")]);
            let after = std::fs::read_to_string(root.join(file)).unwrap_or_default();
            !then.contains(*file) || !now.contains(*file) || code(&before) != code(&after)
        })
        .cloned()
        .collect()
}

/// Two runs over the same crate: the first missed `b`, the rerun caught it.
#[test]
fn a_mutant_in_two_runs_counts_once_by_its_best_outcome() {
    let outcome = |name: &str, summary: &str| serde_json::json!({"scenario": {"Mutant": {"name": name}}, "summary": summary});
    let run = |outcomes: Vec<serde_json::Value>, end: &str| {
        let dir = tempfile::tempdir().unwrap();
        let mut all = vec![serde_json::json!({"scenario": "Baseline", "summary": "Success"})];
        all.extend(outcomes);
        let json = serde_json::json!({
            "outcomes": all, "end_time": end, "cargo_mutants_version": "27.1.0"
        });
        std::fs::write(dir.path().join("outcomes.json"), json.to_string()).unwrap();
        dir
    };
    let first = run(
        vec![
            outcome("a", "CaughtMutant"),
            outcome("b", "MissedMutant"),
            outcome("c", "Timeout"),
            outcome("d", "Unviable"),
            outcome("e", "MissedMutant"),
            outcome("f", "MissedMutant"),
        ],
        "2026-01-02T00:00:00Z",
    );
    let rerun = run(vec![outcome("b", "CaughtMutant")], "2026-01-03T00:00:00Z");
    // "f" was missed too, but is excluded now: it is not listed.
    let listed: std::collections::BTreeSet<String> =
        ["a", "b", "c", "d", "e"].map(String::from).into();
    let record = mutants::summarize("x", &[first.path(), rerun.path()], &listed, 4, "abc").unwrap();
    assert_eq!(
        record,
        Record {
            krate: "x".into(),
            tested: 5,
            caught: 2,
            timeout: 1,
            unviable: 1,
            missed: vec!["e".into()],
            excluded: 4,
            cargo_mutants: "27.1.0".into(),
            commit: "abc".into(),
            finished: "2026-01-03T00:00:00Z".into(),
        }
    );
    assert_eq!(record.score(), 75.0);
}
