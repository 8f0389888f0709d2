//! Mutation scores: what `cargo mutants` found for each library, recorded one JSON line a
//! crate in `docs/results/mutants.jsonl`, and the table the testing chapter shows.
//!
//! `cargo run -p workspace-tests --bin mutants -- <crate>` runs cargo-mutants over the
//! crate's library (every file but `main.rs`) and records the run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context as _;
use external_tools::mdbook::Language;
use serde::{Deserialize, Serialize};

/// The recorded runs, relative to the workspace root.
pub const RESULTS: &str = "docs/results/mutants.jsonl";
/// The generated table, relative to the workspace root.
pub const TABLE: &str = "docs/src/figures/mutants.md";
/// The libraries whose scores the testing chapter records.
pub const HELD: &[&str] = &[
    "patterns-core",
    "queue",
    "ws-broadcast",
    "distributed-queue",
    "database",
];

/// One crate's mutation run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The package.
    #[serde(rename = "crate")]
    pub krate: String,
    /// Mutants tested (generated, minus the exclusions in `.cargo/mutants.toml`).
    pub tested: u32,
    /// A test failed.
    pub caught: u32,
    /// The tests hung past cargo-mutants' timeout: also noticed.
    pub timeout: u32,
    /// The mutant did not compile.
    pub unviable: u32,
    /// Every test passed with the mutant in place.
    pub missed: Vec<String>,
    /// Left out by `.cargo/mutants.toml`, each with its reason there.
    pub excluded: u32,
    /// `cargo mutants --version`.
    pub cargo_mutants: String,
    /// The commit the run started from (`-dirty` when the tree had changes).
    pub commit: String,
    /// When the run ended (cargo-mutants' `end_time`).
    pub finished: String,
}

impl Record {
    /// Caught or timed out, out of the viable mutants, in percent.
    pub fn score(&self) -> f64 {
        let noticed = f64::from(self.caught + self.timeout);
        let viable = noticed + self.missed.len() as f64;
        if viable == 0.0 {
            100.0
        } else {
            100.0 * noticed / viable
        }
    }
}

#[derive(Deserialize)]
struct Outcomes {
    outcomes: Vec<Outcome>,
    end_time: String,
    cargo_mutants_version: String,
}

#[derive(Deserialize)]
struct Outcome {
    scenario: serde_json::Value,
    summary: String,
}

/// Sums the `outcomes.json` of one or more runs over the same crate. A mutant seen in
/// several runs (a first pass, then a rerun of the missed ones with slower tests) counts
/// once, by its best outcome: caught, then timeout, then unviable, then missed. Only the
/// mutants in `listed` (what cargo-mutants generates now, exclusions applied) count.
pub fn summarize(
    krate: &str,
    runs: &[&Path],
    listed: &BTreeSet<String>,
    excluded: u32,
    commit: &str,
) -> anyhow::Result<Record> {
    fn rank(summary: &str) -> u8 {
        match summary {
            "CaughtMutant" => 0,
            "Timeout" => 1,
            "Unviable" => 2,
            _ => 3,
        }
    }
    let mut best: BTreeMap<String, String> = BTreeMap::new();
    let (mut finished, mut version) = (String::new(), String::new());
    for dir in runs {
        let path = dir.join("outcomes.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let run: Outcomes = serde_json::from_str(&text)
            .with_context(|| format!("cannot parse {}", path.display()))?;
        for outcome in run.outcomes {
            // The baseline's scenario is the string "Baseline"; mutants are objects.
            let Some(name) = outcome.scenario["Mutant"]["name"].as_str() else {
                continue;
            };
            if !listed.contains(name) {
                continue;
            }
            let slot = best
                .entry(name.to_owned())
                .or_insert(outcome.summary.clone());
            if rank(&outcome.summary) < rank(slot) {
                *slot = outcome.summary;
            }
        }
        finished = finished.max(run.end_time);
        version = run.cargo_mutants_version;
    }
    let count = |summary: &str| best.values().filter(|s| *s == summary).count() as u32;
    Ok(Record {
        krate: krate.to_owned(),
        tested: best.len() as u32,
        caught: count("CaughtMutant"),
        timeout: count("Timeout"),
        unviable: count("Unviable"),
        missed: best
            .iter()
            .filter(|(_, s)| rank(s) == 3)
            .map(|(name, _)| name.clone())
            .collect(),
        excluded,
        cargo_mutants: version,
        commit: commit.to_owned(),
        finished,
    })
}

/// Every recorded run, one a crate (a later line for the same crate replaces an earlier).
pub fn read(root: &Path) -> anyhow::Result<Vec<Record>> {
    let path = root.join(RESULTS);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut records: BTreeMap<String, Record> = BTreeMap::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let record: Record = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a mutation record", path.display(), n + 1))?;
        records.insert(record.krate.clone(), record);
    }
    Ok(records.into_values().collect())
}

/// Writes the records back, one line a crate, sorted by crate.
pub fn write(root: &Path, records: &[Record]) -> anyhow::Result<()> {
    let mut text = String::new();
    for record in records {
        text.push_str(&serde_json::to_string(record)?);
        text.push('\n');
    }
    std::fs::write(root.join(RESULTS), text)?;
    Ok(())
}

/// The table the testing chapter includes, in `language`.
pub fn table(records: &[Record], language: Language) -> String {
    let header = match language {
        Language::English => {
            "| library | mutants | caught | timed out | unviable | missed | excluded | score |"
        }
        Language::Japanese => {
            "| ライブラリ | ミュータント | 検出 | タイムアウト | ビルド不能 | 見逃し | 除外 | スコア |"
        }
    };
    let mut out = format!(
        "<!-- Generated by `cargo run -p workspace-tests --bin mutants` from \
         docs/results/mutants.jsonl: do not edit. -->\n\n{header}\n\
         |---|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for r in records {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {:.0}% |\n",
            r.krate,
            r.tested,
            r.caught,
            r.timeout,
            r.unviable,
            r.missed.len(),
            r.excluded,
            r.score()
        ));
    }
    let missed: usize = records.iter().map(|r| r.missed.len()).sum();
    if missed > 0 {
        out.push_str(&match language {
            Language::English => {
                format!("\nThe {missed} missed mutants are named in `docs/results/mutants.jsonl`.\n")
            }
            Language::Japanese => format!(
                "\n見逃した {missed} 個のミュータントは `docs/results/mutants.jsonl` に記録してあります。\n"
            ),
        });
    }
    if let (Some(first), Some(last)) = (
        records.iter().map(|r| &r.finished).min(),
        records.iter().map(|r| &r.finished).max(),
    ) {
        let version = records.first().map_or("", |r| r.cargo_mutants.as_str());
        let (first, last) = (&first[..first.len().min(10)], &last[..last.len().min(10)]);
        out.push_str(&match language {
            Language::English => {
                format!("\ncargo-mutants {version}, runs ended between {first} and {last}.\n")
            }
            Language::Japanese => {
                format!("\ncargo-mutants {version}、実行の終了は {first} から {last} の間。\n")
            }
        });
    }
    out
}

/// Where the table of `language` goes, relative to the workspace root.
pub fn table_path(language: Language) -> std::path::PathBuf {
    let (dir, name) = TABLE.rsplit_once('/').unwrap_or(("", TABLE));
    Path::new(dir).join(language.folder()).join(name)
}
