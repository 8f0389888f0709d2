//! The binary as a user runs it: `--serve` until Ctrl-C, and bad flags.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::time::timeout;
use ws_broadcast::client::{Received, WsClient};

const LIMIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_quits_cleanly_on_ctrl_c_and_says_goodbye_to_clients() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_ws-broadcast"))
        .args(["--serve", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let page = loop {
        let line = timeout(LIMIT, lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("its address");
        if let Some(addr) = line.strip_prefix("chat page: http://") {
            break addr.trim_end_matches('/').to_owned();
        }
    };
    let mut ada = WsClient::connect(&format!("ws://{page}/ws"), "ada")
        .await
        .unwrap();
    assert!(
        matches!(ada.next().await.unwrap(), Received::Event(_)),
        "the welcome"
    );

    // Ctrl-C is SIGINT.
    external_tools::interrupt(server.id().unwrap()).unwrap();
    let closed = timeout(LIMIT, ada.next()).await.unwrap().unwrap();
    assert_eq!(
        closed,
        Received::Closed {
            code: Some(1001),
            reason: "server shutting down".into()
        }
    );
    let mut rest = Vec::new();
    while let Some(line) = timeout(LIMIT, lines.next_line()).await.unwrap().unwrap() {
        rest.push(line);
    }
    let status = timeout(LIMIT, server.wait()).await.unwrap().unwrap();
    assert!(status.success(), "exit status {status}");
    assert!(
        rest.iter().any(|l| l.ends_with("tasks aborted: 0")),
        "{rest:?}"
    );
}

#[tokio::test]
async fn bad_flags_exit_non_zero_with_one_line() {
    for args in [
        &["--outbox", "0"][..],
        &["--serve", "not-an-address"],
        &["--serve", "127.0.0.1:9", "--tcp", "127.0.0.1:9"],
        &["--allow-origin", "chat.example.com"],
        &["--allow-origin", "https://chat.example.com/page"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_ws-broadcast"))
            .args(args)
            .output()
            .await
            .unwrap();
        assert!(!output.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr
                .lines()
                .next()
                .unwrap_or_default()
                .starts_with("error:"),
            "{args:?}: {stderr}"
        );
    }
}
