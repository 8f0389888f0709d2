//! The binary as a user runs it: `--unix` until Ctrl-C, its socket file removed at the
//! end, and bad flags.

use std::process::Stdio;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sockets::Json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::UnixStream;
use tokio::process::Command;
use tokio::time::timeout;
use tokio_util::codec::Framed;

const LIMIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unix_server_answers_until_ctrl_c_and_removes_its_socket_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("json.sock");
    let mut server = Command::new(env!("CARGO_BIN_EXE_sockets"))
        .arg("--unix")
        .arg(&path)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let first = timeout(LIMIT, lines.next_line()).await.unwrap().unwrap();
    assert!(first.unwrap().starts_with("json frames on"));
    assert!(path.exists());

    let stream = UnixStream::connect(&path).await.unwrap();
    let mut frames = Framed::new(stream, Json::<Value>::new(1024));
    frames.send(&json!({ "add": [40, 2] })).await.unwrap();
    let answer = frames.next().await.unwrap().unwrap().unwrap();
    assert_eq!(answer, json!({ "sum": 42.0 }));

    // Ctrl-C is SIGINT; the client is still connected.
    external_tools::interrupt(server.id().unwrap()).unwrap();
    let status = timeout(LIMIT, server.wait()).await.unwrap().unwrap();
    assert!(status.success(), "exit status {status}");
    let mut rest = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push(line);
    }
    assert!(
        rest.iter()
            .any(|l| l.starts_with("served 1 requests") && l.ends_with("removed: true")),
        "{rest:?}"
    );
    assert!(!path.exists(), "the socket file is gone");
}

#[tokio::test]
async fn bad_flags_and_a_path_in_use_exit_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "keep me").unwrap();
    let notes = notes.to_str().unwrap();
    for args in [
        &["--max-line", "0"][..],
        &["--echo", "not-an-address"],
        &["--echo", "127.0.0.1:0", "--unix", "/tmp/x.sock"],
        &["--unix", notes],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_sockets"))
            .args(args)
            .output()
            .await
            .unwrap();
        assert!(!output.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("error:"), "{args:?}: {stderr}");
    }
    assert_eq!(std::fs::read_to_string(notes).unwrap(), "keep me");
}
