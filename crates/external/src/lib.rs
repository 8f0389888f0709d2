//! The external pieces tests and benchmarks need, and the rule for when one is missing:
//! a plain `cargo test` skips with a visible message; with `CI=true` the test fails.

pub mod chromium;
pub mod mdbook;
pub mod postgres;
pub mod redis;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's root directory (this crate lives in `crates/external`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Whether we run under CI (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Turns a missing piece into a skip (plain run) or a failure (CI).
///
/// The skip message goes straight to the process's stderr, past the test harness's
/// output capture, so it shows on a plain `cargo test`.
///
/// # Panics
/// Under `CI=true` when `found` is an error: CI must not pass by skipping.
pub fn require<T>(what: &str, found: Result<T, String>) -> Option<T> {
    match found {
        Ok(piece) => Some(piece),
        Err(reason) if in_ci() => panic!("{what}: missing, and CI=true allows no skip: {reason}"),
        Err(reason) => {
            let _ = writeln!(std::io::stderr(), "SKIPPED {what}: {reason}");
            None
        }
    }
}

/// Raises this process's open-files limit to at least `needed` (its children inherit
/// it); `Err` says the limit reached when only root could raise it further. For
/// [`require`]: tests that hold thousands of connections.
pub fn open_files(needed: u64) -> Result<u64, String> {
    let mut limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    if limit < needed {
        // Only root may raise the hard limit; anyone else keeps the one they have.
        let _ = rlimit::Resource::NOFILE.set(needed, needed);
        limit = rlimit::Resource::NOFILE.get().map_or(0, |(soft, _)| soft);
    }
    if limit < needed {
        return Err(format!("open-files limit {limit}, {needed} needed"));
    }
    Ok(limit)
}

/// The Python packages the references use, one requirements file for all of them.
pub const REQUIREMENTS: &str = "tests/requirements.txt";

/// The modules every reference script may import (the requirements file's packages).
pub const PYTHON_MODULES: &[&str] = &[
    "aiohttp",
    "aiofiles",
    "aiolimiter",
    "bs4",
    "uvloop",
    "aiosqlite",
    "asyncpg",
    "websockets",
    "pytest",
    "pytest_asyncio",
    "redis",
    "fastapi",
    "uvicorn",
    "httptools",
    "httpx",
];

/// The file `name` in the first directory of `PATH` that has it.
pub(crate) fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A Python interpreter that has the reference scripts' packages.
#[derive(Debug, Clone)]
pub struct Python {
    exe: PathBuf,
}

impl Python {
    /// Finds an interpreter with [`PYTHON_MODULES`]: `$PYTHON`, then the workspace's
    /// `.venv`, then `python3` on the PATH.
    pub fn find() -> Result<Self, String> {
        let venv = workspace_root().join(".venv/bin/python");
        let candidates: Vec<PathBuf> = std::env::var_os("PYTHON")
            .map(PathBuf::from)
            .into_iter()
            .chain([venv, PathBuf::from("python3")])
            .collect();
        let mut tried = Vec::new();
        for exe in candidates {
            let python = Self { exe };
            match python.check_modules(PYTHON_MODULES) {
                Ok(()) => return Ok(python),
                Err(why) => tried.push(format!("{}: {why}", python.exe.display())),
            }
        }
        Err(format!(
            "no Python with {PYTHON_MODULES:?} ({}); create one with `python3 -m venv .venv && \
             .venv/bin/pip install -r {REQUIREMENTS}`",
            tried.join("; ")
        ))
    }

    /// Checks that `modules` import.
    pub fn check_modules(&self, modules: &[&str]) -> Result<(), String> {
        let output = Command::new(&self.exe)
            .arg("-c")
            .arg(format!("import {}", modules.join(", ")))
            .output()
            .map_err(|e| format!("cannot run: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            Err(stderr.lines().last().unwrap_or("import failed").to_owned())
        }
    }

    /// The interpreter's path.
    pub fn exe(&self) -> &Path {
        &self.exe
    }

    /// A command running `script` with this interpreter, unbuffered.
    pub fn script(&self, script: &Path) -> Command {
        let mut command = Command::new(&self.exe);
        command.arg("-u").arg(script);
        command
    }
}

/// A port nobody listens on now (the OS picks it; the server binds it a moment later).
/// A new directory under the system temp dir, named `<prefix>-<pid>-<nanos>`, for a
/// throwaway server's files.
pub(crate) fn scratch_dir(prefix: &str) -> Result<PathBuf, String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

pub(crate) fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot find a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Sends SIGINT, what Ctrl-C sends, to process `pid` (with the system's `kill`), for tests
/// of how a program stops.
pub fn interrupt(pid: u32) -> Result<(), String> {
    signal(pid, "INT")
}

/// Sends the signal `name` (`INT`, `TERM`, `KILL`...) to process `pid` with the system's
/// `kill`.
pub fn signal(pid: u32, name: &str) -> Result<(), String> {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .map_err(|e| format!("cannot run kill: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("kill -{name} {pid}: {status}"))
    }
}
