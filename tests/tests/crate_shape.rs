//! The shape every pattern crate keeps, so that its library can be copied into a service:
//!
//! - `src/lib.rs` depends only on crates.io crates and `patterns-core`: it names neither
//!   `fixture-server` nor another pattern, and no CLI type (clap belongs in `main.rs`);
//! - no pattern depends on another, in any dependency section, except where the reuse is
//!   the lesson ([`LESSONS`]) and the depending pattern's chapter says so;
//! - `bench-harness` depends on no pattern;
//! - a pattern with a Python benchmark has `benches/<pattern>.rs` (or
//!   `benches/<pattern>/main.rs` over modules), `harness = false`.
//!
//! Read from `cargo metadata` and from the library's source.

use std::collections::BTreeMap;
use std::process::Command;

use serde::Deserialize;
use workspace_tests::{patterns, rust_files, workspace_root};

/// Pattern → the patterns it may depend on, because that reuse is its lesson.
const LESSONS: &[(&str, &str)] = &[("web-scraper", "rate-limit"), ("pitfalls", "blocking")];

#[derive(Debug, Deserialize)]
struct Metadata {
    packages: Vec<Package>,
}

#[derive(Debug, Deserialize)]
struct Package {
    name: String,
    manifest_path: String,
    dependencies: Vec<Dependency>,
    targets: Vec<Target>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    name: String,
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
    src_path: String,
}

fn metadata() -> BTreeMap<String, Package> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Metadata = serde_json::from_slice(&output.stdout).expect("cargo metadata JSON");
    metadata
        .packages
        .into_iter()
        .map(|p| (p.name.clone(), p))
        .collect()
}

fn pattern_names() -> Vec<String> {
    patterns().unwrap().into_iter().map(|p| p.name).collect()
}

fn allowed(from: &str, to: &str) -> bool {
    LESSONS.contains(&(from, to))
}

#[test]
fn no_pattern_depends_on_another_unless_the_reuse_is_its_lesson() {
    let packages = metadata();
    let names = pattern_names();
    let mut wrong = Vec::new();
    for name in &names {
        for dependency in &packages[name].dependencies {
            if names.contains(&dependency.name) && !allowed(name, &dependency.name) {
                let kind = dependency.kind.as_deref().unwrap_or("normal");
                wrong.push(format!("{name} → {} ({kind})", dependency.name));
            }
        }
    }
    for dependency in &packages["bench-harness"].dependencies {
        if names.contains(&dependency.name) {
            wrong.push(format!("bench-harness → {}", dependency.name));
        }
    }
    assert!(wrong.is_empty(), "dependencies between patterns: {wrong:?}");
}

#[test]
fn a_reused_pattern_is_named_in_the_chapter_that_reuses_it() {
    for (from, to) in LESSONS {
        let chapter = workspace_root()
            .join("patterns")
            .join(from)
            .join("README.md");
        let text = std::fs::read_to_string(&chapter).unwrap();
        assert!(
            text.contains(&format!("`{to}`")),
            "{} does not say that it reuses `{to}`",
            chapter.display()
        );
    }
}

#[test]
fn a_pattern_library_names_no_fixture_no_other_pattern_and_no_cli_type() {
    let packages = metadata();
    let names = pattern_names();
    let mut wrong = Vec::new();
    for name in &names {
        let library = packages[name]
            .targets
            .iter()
            .find(|t| t.kind.iter().any(|k| k == "lib"))
            .unwrap_or_else(|| panic!("{name} has no library"));
        // The library's root and every module file beside it (main.rs and bin/ are the demo).
        let src = std::path::Path::new(&library.src_path).parent().unwrap();
        for file in rust_files(src) {
            if file.ends_with("main.rs") || file.components().any(|c| c.as_os_str() == "bin") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let mut forbidden = vec!["fixture_server".to_owned(), "clap::".to_owned()];
            for other in names.iter().filter(|o| *o != name && !allowed(name, o)) {
                let ident = other.replace('-', "_");
                forbidden.push(format!("{ident}::"));
                forbidden.push(format!("use {ident}"));
            }
            for word in forbidden {
                for (number, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or_default();
                    if names_path(code, &word) {
                        wrong.push(format!("{}:{}: {word}", file.display(), number + 1));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "libraries that cannot be copied alone:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn a_pattern_with_a_python_benchmark_has_its_cargo_bench() {
    let packages = metadata();
    let mut missing = Vec::new();
    for pattern in patterns().unwrap() {
        let python_bench = std::fs::read_dir(pattern.dir.join("python"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().starts_with("bench_"))
            })
            .unwrap_or(false);
        if !python_bench {
            continue;
        }
        let package = &packages[&pattern.name];
        let bench = package
            .targets
            .iter()
            .find(|t| t.kind.iter().any(|k| k == "bench") && t.name == pattern.name);
        match bench {
            // One file, or a folder of modules under `main.rs` when it is long.
            Some(target)
                if target
                    .src_path
                    .ends_with(&format!("benches/{}.rs", pattern.name))
                    || target
                        .src_path
                        .ends_with(&format!("benches/{}/main.rs", pattern.name)) => {}
            _ => missing.push(format!("{} ({})", pattern.name, package.manifest_path)),
        }
        let manifest = std::fs::read_to_string(&package.manifest_path).unwrap();
        assert!(
            manifest.contains("harness = false"),
            "{}: the bench must say `harness = false`",
            package.manifest_path
        );
    }
    assert!(
        missing.is_empty(),
        "no benches/<pattern>.rs or benches/<pattern>/main.rs: {missing:?}"
    );
}

/// Whether `code` contains `word` as the start of a path: `queue::x` or `use queue`, but
/// not `delay_queue::Key`, whose identifier only ends the same way, nor `redis::streams::`,
/// a module of another crate that has a pattern's name.
fn names_path(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        let before = &code[..at];
        let inside_identifier = before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        !inside_identifier && !before.ends_with("::")
    })
}

#[test]
fn a_path_is_named_only_from_the_start_of_an_identifier() {
    assert!(names_path("let q = queue::Producer::new();", "queue::"));
    assert!(names_path("use queue;", "use queue"));
    assert!(!names_path("slot: delay_queue::Key,", "queue::"));
    assert!(!names_path("use redis::streams::StreamId;", "streams::"));
    assert!(names_path("let s = streams::pages(url);", "streams::"));
}
