//! Shared by the tests that watch a child process: a shell that tells us its pid through
//! a named pipe, and a check that a pid is gone.

#![allow(dead_code)] // each test file uses part of it

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

/// A named pipe in a temporary directory: the child writes its pid into it, and reading it
/// waits for exactly that, with no sleep.
#[derive(Debug)]
pub(crate) struct PidPipe {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl PidPipe {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pid");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo failed");
        Self { _dir: dir, path }
    }

    /// `sh -c 'echo $$ > pipe; exec <script>'`: the shell's pid is the pid of what it execs.
    pub(crate) fn command(&self, then: &str) -> Command {
        let mut command = Command::new("sh");
        command.args([
            "-c",
            &format!("echo $$ > '{}'; exec {then}", self.path.display()),
        ]);
        command
    }

    pub(crate) async fn pid(&self) -> u32 {
        let text = tokio::fs::read_to_string(&self.path).await.unwrap();
        text.trim().parse().unwrap()
    }
}

/// Waits, up to 10 s, until `pid` has exited: no process, or only its zombie left for the
/// runtime to reap. It polls /proc for the state, an event outside this process.
pub(crate) async fn exited(pid: u32) -> bool {
    let stat = PathBuf::from(format!("/proc/{pid}/stat"));
    for _ in 0..1_000 {
        if gone_or_zombie(&stat) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

fn gone_or_zombie(stat: &Path) -> bool {
    match std::fs::read_to_string(stat) {
        Err(_) => true,
        // "pid (comm) S ...": the state follows the last ')'.
        Ok(text) => text
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}
