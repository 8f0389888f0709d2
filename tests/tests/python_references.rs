//! Every Python reference runs against the same in-process fixture server and prints
//! what its pattern promises. (The Python benchmarks run in each pattern's benchmark,
//! which `cargo test` runs as a quick check.)
//! Without Python and its packages this skips visibly; under CI=true it fails.

use std::time::Duration;

use external_tools::{Python, require};
use fixture_server::FixtureServer;
use tokio::process::Command;
use workspace_tests::{missing, patterns};

const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_python_reference_runs_against_the_fixture() {
    let Some(python) = require("the Python references", Python::find()) else {
        return;
    };
    let server = FixtureServer::start().await.unwrap();
    let mut ran = 0;
    let mut failures = Vec::new();
    for pattern in patterns().unwrap() {
        for script in scripts(&pattern.dir, false) {
            ran += 1;
            let mut command = Command::from(python.script(&script));
            command
                .env("FIXTURE_URL", server.base_url())
                .kill_on_drop(true);
            match run(command).await {
                Ok(stdout) => {
                    let absent = missing(&stdout, &pattern.python_expect);
                    if !absent.is_empty() {
                        failures.push(format!("{}: did not print {absent:?}", script.display()));
                    }
                }
                Err(why) => failures.push(format!("{}: {why}", script.display())),
            }
        }
    }
    assert!(ran >= 2, "found {ran} Python references");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `python/*.py` of a pattern: the benchmarks (`bench_*.py`) or the others.
fn scripts(dir: &std::path::Path, benchmarks: bool) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join("python")) else {
        return Vec::new();
    };
    let mut scripts: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("bench_") == benchmarks
        })
        .collect();
    scripts.sort();
    scripts
}

async fn run(mut command: Command) -> Result<String, String> {
    let output = tokio::time::timeout(LIMIT, command.output())
        .await
        .map_err(|_| format!("still running after {LIMIT:?}"))?
        .map_err(|e| format!("cannot start: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
