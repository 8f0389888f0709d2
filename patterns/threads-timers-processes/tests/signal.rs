//! SIGTERM, as a service manager sends it, on the real demo process: caught, cleaned up,
//! exit code 0.
#![cfg(unix)]

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::time::timeout;

#[tokio::test]
async fn sigterm_stops_the_demo_cleanly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_threads-timers-processes"))
        .arg("--until-signal")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let limit = Duration::from_secs(60);
    let mut seen = Vec::new();
    let ready = timeout(limit, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let waiting = line.starts_with("waiting for SIGTERM");
            seen.push(line);
            if waiting {
                return true;
            }
        }
        false
    });
    assert!(
        ready.await.unwrap(),
        "never waited for the signal: {seen:?}"
    );
    external_tools::signal(child.id().unwrap(), "TERM").unwrap();
    let rest = timeout(limit, async {
        let mut rest = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            rest.push(line);
        }
        rest
    });
    let rest = rest.await.unwrap();
    let status = timeout(limit, child.wait()).await.unwrap().unwrap();
    assert_eq!(
        rest,
        ["SIGTERM caught: cleaning up and exiting with 0, not killed"]
    );
    assert!(status.success(), "{status}");
}
