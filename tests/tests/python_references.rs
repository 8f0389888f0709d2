//! Every Python reference runs against the same in-process fixture server (and a
//! throwaway Redis, for the references that name it in `python-needs`) and prints what
//! its pattern promises. (The Python benchmarks run in each pattern's benchmark,
//! which `cargo test` runs as a quick check.)
//! Without Python and its packages this skips visibly; under CI=true it fails.

use std::time::Duration;

use external_tools::redis::Redis;
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
    let redis = require(
        "Redis for the Python references that need it",
        Redis::start(&Default::default()),
    );
    let mut ran = 0;
    let mut failures = Vec::new();
    for pattern in patterns().unwrap() {
        let needs_redis = pattern.python_needs.iter().any(|n| n == "redis");
        if needs_redis && redis.is_none() {
            continue; // skipped, and `require` said so
        }
        for script in scripts(&pattern.dir, false) {
            ran += 1;
            let mut command = Command::from(python.script(&script));
            command
                .env("FIXTURE_URL", server.base_url())
                .kill_on_drop(true);
            if let Some(redis) = &redis {
                command.env("REDIS_URL", redis.url());
            }
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

/// A pattern's pytest suite (`python/test_*.py`, pytest-asyncio) passes against the same
/// fixture server, with no test skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pytest_suite_passes_against_the_fixture() {
    let Some(python) = require("the Python references", Python::find()) else {
        return;
    };
    let server = FixtureServer::start().await.unwrap();
    let mut suites = 0;
    let mut failures = Vec::new();
    for pattern in patterns().unwrap() {
        let dir = pattern.dir.join("python");
        let has_tests = std::fs::read_dir(&dir).is_ok_and(|entries| {
            entries.filter_map(Result::ok).any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with("test_") && name.ends_with(".py")
            })
        });
        if !has_tests {
            continue;
        }
        suites += 1;
        let mut command = Command::new(python.exe());
        command
            .args(["-m", "pytest", "-q", "-rs"])
            .arg(&dir)
            .env("FIXTURE_URL", server.base_url())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .kill_on_drop(true);
        match run(command).await {
            Ok(stdout) if stdout.contains(" passed") && !stdout.contains("skipped") => {}
            Ok(stdout) => failures.push(format!("{}: {stdout}", dir.display())),
            Err(why) => failures.push(format!("{}: {why}", dir.display())),
        }
    }
    assert!(suites >= 1, "found {suites} pytest suites");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The mistakes a chapter shows uncaught: each `python/fails/*.py` names, on its first
/// line (`# expect: <line>`), the error it must end with, and must fail with exactly that
/// line on stderr (a warning's line may start with the file and line it points at).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failing_python_script_fails_with_the_error_it_names() {
    let Some(python) = require("the Python references", Python::find()) else {
        return;
    };
    let mut ran = 0;
    let mut failures = Vec::new();
    for pattern in patterns().unwrap() {
        let Ok(entries) = std::fs::read_dir(pattern.dir.join("python/fails")) else {
            continue;
        };
        let mut scripts: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        scripts.sort();
        for script in scripts
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "py"))
        {
            ran += 1;
            let text = std::fs::read_to_string(script).unwrap();
            let Some(expected) = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# expect: "))
            else {
                failures.push(format!("{}: no `# expect: ` first line", script.display()));
                continue;
            };
            let mut command = Command::from(python.script(script));
            command.kill_on_drop(true);
            let output = tokio::time::timeout(LIMIT, command.output())
                .await
                .expect("a failing script ends")
                .expect("python starts");
            let stderr = String::from_utf8_lossy(&output.stderr);
            let said = stderr
                .lines()
                .any(|l| l == expected || l.ends_with(&format!(": {expected}")));
            if output.status.success() || !said {
                failures.push(format!(
                    "{}: {} without the line {expected:?}: {}",
                    script.display(),
                    output.status,
                    stderr.trim()
                ));
            }
        }
    }
    assert!(ran >= 5, "found {ran} failing scripts");
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
            name.starts_with("bench_") == benchmarks && !name.starts_with("test_")
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
        // pytest reports its failures on stdout, a script's traceback is on stderr
        Err(format!(
            "{}: {}\n{}",
            output.status,
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
