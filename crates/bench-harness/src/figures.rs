//! The chapters' figures, generated from the results file: for each workload, the records
//! of its newest recorded `cargo bench` run, as a Markdown table and an SVG bar chart
//! (plotters). A chapter includes `docs/src/figures/<workload>.md`; a workspace test
//! fails when a figure differs from what the results file gives, so none is typed in.
//!
//! ```text
//! BENCH_SAVE=1 BENCH_RUN=$(date -u +%FT%TZ) cargo bench --workspace
//! cargo run -p bench-harness --bin figures
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use external_tools::mdbook::Language;

mod chart;
mod extras;
mod table;

pub use chart::chart;
pub use table::{across_runs, table};
// The chart labels its bars with the table's rates.
use table::rate;

use crate::{RESULTS_FILE, Record};

/// Where the generated figures go, relative to the workspace root.
pub const FIGURES_DIR: &str = "docs/src/figures";

/// Every record of the results file, oldest first.
pub fn read_results(path: &Path) -> anyhow::Result<Vec<Record>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a record", path.display(), number + 1))
        })
        .collect()
}

/// For each workload, the records of its newest full run (`cargo bench`, release build):
/// the last `run` name seen in the file for that workload. An older run is never shown in
/// its place, since it may have measured older code; a noisy newest run is shown with a
/// note that says so (see [`table`]), until a quiet run replaces it.
pub fn newest_runs(records: &[Record]) -> BTreeMap<String, Vec<Record>> {
    let full = |record: &&Record| {
        record
            .provenance
            .as_ref()
            .is_some_and(|p| p.mode == "bench" && p.profile == "release")
    };
    let mut newest: BTreeMap<&str, &str> = BTreeMap::new();
    for record in records.iter().filter(full) {
        if let Some(provenance) = &record.provenance {
            newest.insert(&record.workload, &provenance.run);
        }
    }
    let mut runs: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    for record in records.iter().filter(full) {
        let run = record.provenance.as_ref().map(|p| p.run.as_str());
        if newest.get(record.workload.as_str()).copied() == run {
            runs.entry(record.workload.clone())
                .or_default()
                .push(record.clone());
        }
    }
    runs
}

/// The files to write: `<workload>.md` and `<workload>.svg` under [`FIGURES_DIR`] for
/// every workload of the results file under `root`, and the Japanese edition's under
/// `ja/`, paths relative to `root`.
pub fn generate(root: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let records = read_results(&root.join(RESULTS_FILE))?;
    let mut files = Vec::new();
    for (workload, records) in newest_runs(&records) {
        for language in Language::ALL {
            let dir = Path::new(FIGURES_DIR).join(language.folder());
            files.push((
                dir.join(format!("{workload}.md")),
                table(&workload, &records, language),
            ));
            files.push((
                dir.join(format!("{workload}.svg")),
                chart(&workload, &records, language)?,
            ));
        }
    }
    Ok(files)
}

/// `english` or `japanese`, as `language` asks.
fn pick<'a>(language: Language, english: &'a str, japanese: &'a str) -> &'a str {
    match language {
        Language::English => english,
        Language::Japanese => japanese,
    }
}
