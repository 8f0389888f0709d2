//! What the user of a demo sees when it ends: its exit code, one line on stderr for an
//! error, the log on stderr, and no panic text when stdout is closed (`demo | head -1`) or
//! full (`demo > /dev/full`).
//!
//! Each case runs this test binary again as a child, with `PATTERNS_CORE_EXIT_CASE` naming
//! what the child does: a closed stdout, the panic hook and the global `tracing` subscriber
//! belong to a whole process. The file has no test harness (`harness = false` in
//! Cargo.toml), because the harness itself writes to stdout.
//!
//! ```text
//! cargo test -p patterns-core --test exit_codes
//! ```

use std::process::{Command, ExitCode, Stdio};

use anyhow::anyhow;
use patterns_core::app::{self, Interrupted};

const CASE: &str = "PATTERNS_CORE_EXIT_CASE";

fn main() -> ExitCode {
    match std::env::var(CASE) {
        Ok(case) => child(&case),
        Err(_) => {
            parent();
            ExitCode::SUCCESS
        }
    }
}

/// What the child does, as a demo's `main` would.
fn child(case: &str) -> ExitCode {
    match case {
        "ok" => app::run_sync(|| Ok(())),
        "error" => app::run_sync(|| Err(refused())),
        "interrupted" => app::run_sync(|| Err(Interrupted.into())),
        "async error" => runtime().block_on(app::run(async { Err(refused()) })),
        "print for ever" => app::run_sync(|| {
            loop {
                println!("a line");
            }
        }),
        "async print for ever" => runtime().block_on(app::run(async {
            loop {
                println!("a line");
                tokio::task::yield_now().await;
            }
        })),
        "panic" => app::run_sync(|| panic!("a bug in the demo")),
        "log" => app::run_sync(|| {
            tracing::info!("an info event");
            tracing::warn!("a warning");
            Ok(())
        }),
        other => panic!("no case {other:?}"),
    }
}

fn refused() -> anyhow::Error {
    anyhow!("connection refused").context("cannot fetch http://127.0.0.1:1/")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Where the child's stdout goes.
#[derive(Clone, Copy, Debug)]
enum Stdout {
    /// A pipe the parent reads.
    Read,
    /// A pipe whose reading end the parent closes at once.
    Closed,
    /// `/dev/full`: every write fails with "No space left on device".
    Full,
}

/// What one child run showed.
struct Seen {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_child(case: &str, stdout: Stdout, rust_log: Option<&str>) -> Seen {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .env(CASE, case)
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped());
    if let Some(filter) = rust_log {
        command.env("RUST_LOG", filter);
    }
    command.stdout(match stdout {
        Stdout::Read | Stdout::Closed => Stdio::piped(),
        Stdout::Full => Stdio::from(std::fs::File::create("/dev/full").unwrap()),
    });
    let mut child = command.spawn().unwrap();
    if let Stdout::Closed = stdout {
        drop(child.stdout.take()); // the reader has all it wanted
    }
    let output = child.wait_with_output().unwrap();
    Seen {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Asserts the exit code and the whole of stderr.
fn expect(case: &str, stdout: Stdout, code: i32, stderr: &str) {
    let seen = run_child(case, stdout, None);
    let what = format!("{case} (stdout {stdout:?})");
    assert_eq!(
        seen.code,
        Some(code),
        "{what}: exit code; stderr: {}",
        seen.stderr
    );
    assert_eq!(seen.stderr, stderr, "{what}: stderr");
    println!("ok: {what} exits {code}");
}

fn parent() {
    let refused = "error: cannot fetch http://127.0.0.1:1/: connection refused\n";
    expect("ok", Stdout::Read, 0, "");
    expect("error", Stdout::Read, 1, refused);
    expect("async error", Stdout::Read, 1, refused);
    // 128 + SIGINT, what a shell shows for a program stopped by Ctrl-C.
    let interrupted = "error: interrupted by Ctrl-C; what was open is released\n";
    expect("interrupted", Stdout::Read, 130, interrupted);

    // A closed pipe: the reader wanted no more; quiet success.
    expect("print for ever", Stdout::Closed, 0, "");
    expect("async print for ever", Stdout::Closed, 0, "");
    // A full disk: a failure, in one line, without the panic's text.
    if cfg!(target_os = "linux") {
        let full = "error: cannot write to stdout: No space left on device (os error 28)\n";
        expect("print for ever", Stdout::Full, 1, full);
        expect("async print for ever", Stdout::Full, 1, full);
    }

    // Any other panic goes on as a panic, with Rust's own message and exit code.
    let panic = run_child("panic", Stdout::Read, None);
    assert_eq!(panic.code, Some(101), "a panic: {}", panic.stderr);
    assert!(
        panic.stderr.contains("a bug in the demo"),
        "{}",
        panic.stderr
    );
    println!("ok: panic exits 101");

    // The log goes to stderr, never stdout, at `info` unless RUST_LOG says otherwise.
    let log = run_child("log", Stdout::Read, None);
    assert_eq!(log.code, Some(0), "{}", log.stderr);
    assert_eq!(log.stdout, "", "the log stays off stdout");
    for event in ["an info event", "a warning"] {
        assert!(log.stderr.contains(event), "{event}: {}", log.stderr);
    }
    let warnings_only = run_child("log", Stdout::Read, Some("warn"));
    assert!(
        warnings_only.stderr.contains("a warning"),
        "{}",
        warnings_only.stderr
    );
    assert!(
        !warnings_only.stderr.contains("an info event"),
        "{}",
        warnings_only.stderr
    );
    println!("ok: the log is on stderr and RUST_LOG filters it");
}
