//! A `ctrl_c()` future dropped before any Ctrl-C (a `select!` whose other branch won)
//! leaves the process stoppable: the next Ctrl-C ends it with exit code 130. A signal
//! handler, once installed, is never removed, so without that the Ctrl-C would be
//! swallowed. The process under test is this test binary itself, started again to run
//! the ignored child test alone.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const CHILD: &str = "child_drops_ctrl_c_then_waits";

#[test]
#[ignore = "the child process of a_dropped_ctrl_c_leaves_ctrl_c_able_to_stop_the_process"]
fn child_drops_ctrl_c_then_waits() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        cancel_check::drop_pending(patterns_core::shutdown::ctrl_c().unwrap()).await;
        println!("dropped");
        // The parent's SIGINT ends the process long before this.
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    println!("still alive");
}

#[test]
fn a_dropped_ctrl_c_leaves_ctrl_c_able_to_stop_the_process() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            CHILD,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = stdout.lines().map_while(Result::ok);
    assert!(
        lines.any(|line| line.ends_with("dropped")),
        "the child never dropped its future"
    );
    external_tools::interrupt(child.id()).unwrap();
    let output = child.wait_with_output().unwrap();
    let rest: Vec<String> = lines.collect();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(130),
        "stdout {rest:?}, stderr {stderr}"
    );
    assert!(
        stderr.contains("error: Ctrl-C: stopped at once"),
        "{stderr}"
    );
    assert!(!rest.iter().any(|l| l.contains("still alive")));
}
