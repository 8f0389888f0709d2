//! `cargo run -p <pattern>` works for every pattern: each binary, run with no arguments,
//! exits 0 and prints what its Cargo.toml promises (`[package.metadata.catalogue]`).

use std::time::Duration;

use tokio::process::Command;
use workspace_tests::{binary, every_binary, missing, patterns};

const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn every_pattern_runs_with_no_arguments_and_keeps_its_promises() {
    let patterns = patterns().unwrap();
    assert!(
        patterns.len() >= 2,
        "patterns/ lists {} crates",
        patterns.len()
    );
    let mut failures = Vec::new();
    for pattern in &patterns {
        if let Err(why) = check(&pattern.name, &pattern.expect).await {
            failures.push(format!("{}: {why}", pattern.name));
        }
    }
    assert!(
        failures.is_empty(),
        "patterns that fail:\n{}",
        failures.join("\n")
    );
}

async fn check(name: &str, expect: &[String]) -> Result<(), String> {
    if expect.is_empty() {
        return Err("its Cargo.toml promises nothing ([package.metadata.catalogue] expect)".into());
    }
    let exe = binary(name).map_err(|e| e.to_string())?;
    let run = Command::new(&exe)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(LIMIT, run)
        .await
        .map_err(|_| format!("still running after {LIMIT:?}"))?
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("exited with {}: {}", output.status, stderr.trim()));
    }
    match missing(&stdout, expect)[..] {
        [] => Ok(()),
        ref absent => Err(format!("did not print {absent:?}; it printed:\n{stdout}")),
    }
}

#[tokio::test]
async fn bad_input_exits_non_zero_with_one_clear_line() {
    for pattern in patterns().unwrap() {
        let exe = binary(&pattern.name).unwrap();
        let output = Command::new(&exe)
            .arg("--no-such-flag")
            .output()
            .await
            .unwrap();
        assert!(!output.status.success(), "{}", pattern.name);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("error:"), "{}: {stderr}", pattern.name);
    }
}

#[tokio::test]
async fn a_closed_stdout_is_a_quiet_exit() {
    let mut failures = Vec::new();
    for name in every_binary() {
        let mut child = Command::new(binary(&name).unwrap())
            .args(if name == "fixture-server" {
                &["--addr", "127.0.0.1:0"][..]
            } else {
                &[]
            })
            .env("RUST_LOG", "off")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // `| head -0`: the reader is gone before the first line
        let output = tokio::time::timeout(LIMIT, child.wait_with_output()).await;
        match output {
            Err(_) => failures.push(format!("{name}: still running after {LIMIT:?}")),
            Ok(Err(e)) => failures.push(format!("{name}: {e}")),
            Ok(Ok(output)) if !output.status.success() || !output.stderr.is_empty() => {
                let stderr = String::from_utf8_lossy(&output.stderr);
                failures.push(format!("{name}: {}: {}", output.status, stderr.trim()));
            }
            Ok(Ok(_)) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_full_stdout_is_one_line_and_a_failure() {
    let mut failures = Vec::new();
    for name in every_binary() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        // `output()` would replace the stdout set here with a pipe: spawn, then wait.
        let child = Command::new(binary(&name).unwrap())
            .args(if name == "fixture-server" {
                &["--addr", "127.0.0.1:0"][..]
            } else {
                &[]
            })
            .env("RUST_LOG", "off")
            .stdout(full)
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let run = child.wait_with_output();
        let output = match tokio::time::timeout(LIMIT, run).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => panic!("{name}: {e}"),
            Err(_) => panic!("{name}: still running after {LIMIT:?}"),
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.code() != Some(1)
            || stderr.trim()
                != "error: cannot write to stdout: No space left on device (os error 28)"
        {
            failures.push(format!("{name}: {}: {}", output.status, stderr.trim()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
