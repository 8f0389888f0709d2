//! Records what built the benchmarks, for every record's provenance: the rustc version and
//! the tokio version the workspace's Cargo.lock resolves.

use std::path::Path;
use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(&rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |v| v.trim().to_owned());
    println!("cargo:rustc-env=BENCH_RUSTC_VERSION={version}");

    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    let tokio = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|text| locked_version(&text, "tokio"))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=BENCH_TOKIO_VERSION={tokio}");
    println!("cargo:rerun-if-changed={}", lock.display());
    println!("cargo:rerun-if-env-changed=RUSTC");
}

/// The `version = "..."` line after `name = "<package>"` in a Cargo.lock.
fn locked_version(lock: &str, package: &str) -> Option<String> {
    let name = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    lines.by_ref().find(|line| *line == name)?;
    let version = lines.next()?.strip_prefix("version = \"")?;
    Some(version.trim_end_matches('"').to_owned())
}
