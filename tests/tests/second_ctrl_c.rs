//! Ctrl-C in two stages, on real child processes: the first drains or shuts down
//! gracefully and says so, the second stops the process at once with exit code 130.
#![cfg(unix)]

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::timeout;
use workspace_tests::binary;

const LIMIT: Duration = Duration::from_secs(30);

fn interrupt(child: &Child) {
    external_tools::interrupt(child.id().expect("still running")).unwrap();
}

/// Reads `lines` until one contains `needle`.
async fn until_line<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut tokio::io::Lines<R>,
    needle: &str,
) {
    timeout(LIMIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains(needle) {
                return;
            }
        }
        panic!("ended without a line containing {needle:?}");
    })
    .await
    .unwrap_or_else(|_| panic!("no line containing {needle:?} within {LIMIT:?}"));
}

async fn second_ctrl_c_stops_at_once(name: &str, args: &[&str], ready: &str) {
    let mut child = Command::new(binary(name).unwrap())
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    until_line(&mut stdout, ready).await;
    interrupt(&child);
    until_line(&mut stderr, "press Ctrl-C again to stop at once").await;
    // Still running: the work under way takes far longer than this test waits.
    assert!(
        child.try_wait().unwrap().is_none(),
        "{name} stopped at the first Ctrl-C"
    );
    interrupt(&child);
    until_line(&mut stderr, "error: Ctrl-C twice: stopped at once").await;
    let status = timeout(LIMIT, child.wait())
        .await
        .expect("it stopped")
        .unwrap();
    assert_eq!(status.code(), Some(130), "{name}");
}

#[tokio::test]
async fn queue_drains_at_the_first_ctrl_c_and_stops_at_the_second() {
    // Items of 2 s each, one consumer: the demo's first part takes 6 s, and the drain
    // would take several more.
    let args = [
        "--until-ctrl-c",
        "--work-ms",
        "2000",
        "--items",
        "3",
        "--producers",
        "1",
        "--consumers",
        "1",
    ];
    second_ctrl_c_stops_at_once("queue", &args, "press Ctrl-C to drain").await;
}

#[tokio::test]
async fn tasks_shut_down_at_the_first_ctrl_c_and_stop_at_the_second() {
    let args = ["--until-ctrl-c", "--grace-ms", "60000"];
    second_ctrl_c_stops_at_once("tasks", &args, "press Ctrl-C to shut down").await;
}

#[tokio::test]
async fn resources_releases_its_scratch_directory_at_ctrl_c() {
    // A temporary directory of the test's own, so the demo's scratch directory is the
    // only thing that can appear in it.
    let tmp = std::env::temp_dir().join(format!("ctrl-c-resources-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut child = Command::new(binary("resources").unwrap())
        .args(["--work-ms", "10000", "--files", "50"])
        .env("TMPDIR", &tmp)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    // The timers start once the 50 files are written to the scratch directory.
    until_line(&mut stderr, "process file50.txt").await;
    let scratch: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert_eq!(scratch.len(), 1, "the demo's scratch directory is there");
    interrupt(&child);
    let mut last = String::new();
    timeout(LIMIT, async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            last = line;
        }
    })
    .await
    .expect("it stopped");
    let status = child.wait().await.unwrap();
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    std::fs::remove_dir_all(&tmp).unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(
        last,
        "error: interrupted by Ctrl-C; what was open is released"
    );
    assert!(left.is_empty(), "left behind: {left:?}");
}
