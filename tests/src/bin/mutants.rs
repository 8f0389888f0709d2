//! Runs `cargo mutants` over one library and records its score for the testing chapter:
//!
//! ```text
//! cargo run -p workspace-tests --bin mutants -- queue
//! cargo run -p workspace-tests --bin mutants -- distributed-queue --timeout 120
//! cargo run -p workspace-tests --bin mutants -- distributed-queue --from DIR --from DIR
//! cargo run -p workspace-tests --bin mutants -- --tables   # only rewrite the chapter's tables
//! ```
//!
//! Every file of the crate but `main.rs` is mutated, in place (so the build cache is
//! reused: do not edit sources meanwhile). Flags after the crate's name go to cargo-mutants.
//! `--from DIR` records runs already made (their `mutants.out` folders) instead of running:
//! a mutant seen in several counts once, by its best outcome; `--commit C` names the commit
//! they started from (else the tree's own is recorded). The run replaces the crate's
//! line in `docs/results/mutants.jsonl` and rewrites `docs/src/figures/mutants.md` and its
//! Japanese edition, `docs/src/figures/ja/mutants.md`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, bail, ensure};
use external_tools::mdbook::Language;
use workspace_tests::mutants;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    if std::env::args().nth(1).as_deref() == Some("--tables") {
        let root = workspace_tests::workspace_root();
        return write_tables(&root, &mutants::read(&root)?);
    }
    let Some(krate) = args.next().filter(|a| !a.starts_with('-')) else {
        bail!("usage: mutants <crate> [--from DIR]... [cargo-mutants flags]");
    };
    let (mut from, mut extra, mut started_at) = (Vec::new(), Vec::new(), None);
    while let Some(arg) = args.next() {
        if arg == "--from" {
            from.push(PathBuf::from(args.next().context("--from needs a folder")?));
        } else if arg == "--commit" {
            started_at = Some(args.next().context("--commit needs a commit")?);
        } else {
            extra.push(arg);
        }
    }
    let root = workspace_tests::workspace_root();
    let commit = match started_at {
        Some(commit) => commit,
        None => commit()?,
    };
    if from.is_empty() {
        let out = root.join("target/mutants").join(&krate);
        std::fs::create_dir_all(&out)?;
        let status = cargo_mutants(&krate)
            .args(["--in-place", "-o"])
            .arg(&out)
            .args(&extra)
            .status()
            .context("cannot run cargo mutants (cargo install --locked cargo-mutants)")?;
        // 2 means missed mutants and 3 timeouts: both are results to record.
        ensure!(
            matches!(status.code(), Some(0 | 2 | 3)),
            "cargo mutants failed: {status}"
        );
        from.push(out.join("mutants.out"));
    }
    let listed = listed(&krate, true)?;
    let excluded = listed_count(&krate)? - listed.len() as u32;
    let runs: Vec<&std::path::Path> = from.iter().map(PathBuf::as_path).collect();
    let record = mutants::summarize(&krate, &runs, &listed, excluded, &commit)?;
    println!(
        "{krate}: {} tested, {} caught, {} timed out, {} unviable, {} missed, {} excluded",
        record.tested,
        record.caught,
        record.timeout,
        record.unviable,
        record.missed.len(),
        record.excluded
    );
    for name in &record.missed {
        println!("missed: {name}");
    }
    let mut records = mutants::read(&root)?;
    records.retain(|r| r.krate != krate);
    records.push(record);
    records.sort_by(|a, b| a.krate.cmp(&b.krate));
    mutants::write(&root, &records)?;
    write_tables(&root, &records)
}

/// The testing chapter's table of `records`, in every language of the book.
fn write_tables(root: &std::path::Path, records: &[mutants::Record]) -> anyhow::Result<()> {
    for language in Language::ALL {
        let path = root.join(mutants::table_path(language));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, mutants::table(records, language))?;
    }
    Ok(())
}

/// `cargo mutants` over the crate's library: every file but `main.rs`.
fn cargo_mutants(krate: &str) -> Command {
    let mut command = Command::new("cargo");
    command
        .current_dir(workspace_tests::workspace_root())
        .args(["mutants", "-p", krate, "-e", "main.rs"]);
    command
}

/// The mutants cargo-mutants generates, with or without `.cargo/mutants.toml`.
fn listed(krate: &str, with_config: bool) -> anyhow::Result<BTreeSet<String>> {
    let mut command = cargo_mutants(krate);
    command.arg("--list");
    if !with_config {
        command.arg("--no-config");
    }
    let output = command.output()?;
    ensure!(output.status.success(), "cargo mutants --list failed");
    Ok(String::from_utf8(output.stdout)?
        .lines()
        .map(str::to_owned)
        .collect())
}

/// How many mutants cargo-mutants generates without any exclusion.
fn listed_count(krate: &str) -> anyhow::Result<u32> {
    Ok(listed(krate, false)?.len() as u32)
}

/// The commit the tree is at, `-dirty` when tracked files differ from it.
fn commit() -> anyhow::Result<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(workspace_tests::workspace_root())
            .args(args)
            .output()
    };
    let head = String::from_utf8(git(&["rev-parse", "--short=12", "HEAD"])?.stdout)?;
    let clean = git(&["diff", "--quiet", "HEAD"])?.status.success();
    Ok(format!(
        "{}{}",
        head.trim(),
        if clean { "" } else { "-dirty" }
    ))
}
