//! Ten thousand connections held at once: the demo binary serves, as its own process,
//! 10,000 clients that each hold an event stream open, and every one of them receives the
//! order placed while they all listen.
#![cfg(unix)]

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio::sync::Semaphore;

const LISTENERS: usize = 10_000;

/// One client: opens the event stream, says when its headers came, then reads until the
/// order's event arrives.
async fn listen(
    addr: String,
    opening: Arc<Semaphore>,
    listening: Arc<AtomicUsize>,
) -> Result<(), String> {
    let place = opening.acquire_owned().await.expect("never closed");
    let stream = TcpStream::connect(&addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut reader = BufReader::new(stream);
    let request = format!("GET /events HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    reader
        .get_mut()
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .await
        .map_err(|e| format!("read: {e}"))?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(format!("answered {line:?}"));
    }
    drop(place);
    listening.fetch_add(1, Ordering::SeqCst);
    let mut seen = String::new();
    let mut chunk = [0; 4096];
    while !seen.contains("order_placed") {
        let n = reader
            .read(&mut chunk)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("the stream ended before the order".into());
        }
        seen.push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_event_streams_held_at_once_all_get_the_order() {
    let needed = LISTENERS as u64 + 500;
    if external_tools::require("open files", external_tools::open_files(needed)).is_none() {
        return;
    }
    let mut server = Command::new(env!("CARGO_BIN_EXE_web-api"))
        .args(["--serve", "127.0.0.1:0"])
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
    let base = first.split_whitespace().nth(1).unwrap().to_owned();
    let addr = base.trim_start_matches("http://").to_owned();
    let client = reqwest::Client::new();
    let item = serde_json::json!({"name": "teapot", "price_cents": 5, "stock": 3});
    let created = client
        .post(format!("{base}/items"))
        .json(&item)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let (opening, listening) = (Arc::new(Semaphore::new(512)), Arc::new(AtomicUsize::new(0)));
    let listeners: Vec<_> = (0..LISTENERS)
        .map(|_| tokio::spawn(listen(addr.clone(), opening.clone(), listening.clone())))
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while listening.load(Ordering::SeqCst) < LISTENERS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} listening",
            listening.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Every stream is open; one order reaches them all.
    let order = serde_json::json!({"item_id": 1, "quantity": 1});
    let placed = client
        .post(format!("{base}/orders"))
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), 201);
    let mut failures = Vec::new();
    for listener in listeners {
        if let Err(why) = listener.await.unwrap() {
            failures.push(why);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {LISTENERS} failed, first: {}",
        failures.len(),
        failures[0]
    );
}
