//! Load held: the fixture server, as its own process, serves 10,000 connections at once,
//! every request in flight at the same moment, and drops none.
#![cfg(unix)]

use std::process::Stdio;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use workspace_tests::binary;

const CONNECTIONS: usize = 10_000;
/// How long the server holds each response: far longer than opening every connection.
const HOLD_MS: u64 = 20_000;

/// One request on its own connection: when it was sent, when its answer began, what it was.
/// `opening` paces the handshakes: at most 512 connects under way at once, as a fleet of
/// clients arrives, not 10,000 SYNs in the same millisecond. Once its request is sent, a
/// connection gives its place back and stays open, waiting for its answer.
async fn one_request(
    addr: String,
    opening: Arc<Semaphore>,
) -> Result<(Instant, Instant, String), String> {
    let place = opening.acquire_owned().await.expect("never closed");
    let mut stream = TcpStream::connect(&addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let request =
        format!("GET /delay/{HOLD_MS} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let sent = Instant::now();
    drop(place);
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader
        .read_line(&mut status)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let answered = Instant::now();
    let mut rest = Vec::new();
    reader
        .read_to_end(&mut rest)
        .await
        .map_err(|e| format!("read: {e}"))?;
    Ok((sent, answered, status.trim_end().to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixture_server_holds_ten_thousand_connections_at_once() {
    // Client and server are separate processes, each needing about 10,000 descriptors.
    let needed = CONNECTIONS as u64 + 500;
    if external_tools::require("open files", external_tools::open_files(needed)).is_none() {
        return;
    }
    let mut server = Command::new(binary("fixture-server").unwrap())
        .args(["--addr", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .await
        .unwrap();
    let addr = first.trim().trim_start_matches("http://").to_owned();

    let opening = Arc::new(Semaphore::new(512));
    let started = Instant::now();
    let requests: Vec<_> = (0..CONNECTIONS)
        .map(|_| tokio::spawn(one_request(addr.clone(), opening.clone())))
        .collect();
    let mut outcomes = Vec::with_capacity(CONNECTIONS);
    for request in requests {
        outcomes.push(request.await.unwrap());
    }
    let failures: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {CONNECTIONS} failed, first: {}",
        failures.len(),
        failures[0]
    );
    let answers: Vec<&(Instant, Instant, String)> = outcomes.iter().flatten().collect();
    assert!(
        answers
            .iter()
            .all(|(_, _, status)| status == "HTTP/1.1 200 OK")
    );
    // Every request was sent before the first answer began: all 10,000 in flight at once.
    let last_sent = answers.iter().map(|(sent, _, _)| *sent).max().unwrap();
    let first_answer = answers
        .iter()
        .map(|(_, answered, _)| *answered)
        .min()
        .unwrap();
    assert!(
        last_sent < first_answer,
        "sending took {:?}, longer than the server's hold",
        last_sent - started
    );
    eprintln!(
        "{CONNECTIONS} connections open at once after {:?}; all answered 200",
        last_sent - started
    );
    server.kill().await.unwrap();
}
