//! The load generator every server gets: `connections` keep-alive HTTP/1.1 connections
//! (hyper's client), opened before the clock starts, each sending its next request as
//! soon as the last one is answered, until the run's requests are all answered. Each
//! answer is checked (status), each latency kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, ensure};
use bench_harness::{ServerProcess, cpu_time};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The two requests measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `GET /items/1`: a JSON read.
    Get,
    /// `POST /items` with a new name each time: validation and an insert.
    Post,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
        }
    }

    fn request(self, host: &str, run: u32, n: u64) -> Request<Full<Bytes>> {
        let builder = Request::builder().header("host", host);
        match self {
            Self::Get => builder
                .uri("/items/1")
                .body(Full::new(Bytes::new()))
                .expect("a valid request"),
            Self::Post => {
                let body = format!(r#"{{"name":"item-{run}-{n}","price_cents":1250,"stock":3}}"#);
                builder
                    .method(Method::POST)
                    .uri("/items")
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)))
                    .expect("a valid request")
            }
        }
    }

    fn expected(self) -> StatusCode {
        match self {
            Self::Get => StatusCode::OK,
            Self::Post => StatusCode::CREATED,
        }
    }
}

/// What one run measured.
pub(crate) struct Outcome {
    pub(crate) elapsed: Duration,
    pub(crate) latencies_ns: Vec<u64>,
    pub(crate) server_cpu: Duration,
    pub(crate) client_cpu: Duration,
}

// ANCHOR: one_run
/// Opens the connections, then sends `requests` requests over them and times the whole.
pub(crate) async fn one_run(
    server: &ServerProcess,
    kind: Kind,
    run: u32,
    connections: usize,
    requests: u64,
) -> anyhow::Result<Outcome> {
    let mut senders = Vec::with_capacity(connections);
    for _ in 0..connections {
        senders.push(connect(&server.addr).await?);
    }
    let next = Arc::new(AtomicU64::new(0));
    let (client_before, server_before) = (cpu_time(), server.cpu_secs()?);
    let started = Instant::now();
    let workers: Vec<_> = senders
        .into_iter()
        .map(|sender| {
            let (next, host) = (next.clone(), server.addr.clone());
            tokio::spawn(send_until_done(sender, kind, run, host, next, requests))
        })
        .collect();
    let mut latencies_ns = Vec::with_capacity(requests as usize);
    for worker in workers {
        latencies_ns.extend(worker.await??);
    }
    let elapsed = started.elapsed();
    let server_cpu = Duration::from_secs_f64(server.cpu_secs()? - server_before);
    let client_cpu = match (client_before, cpu_time()) {
        (Some(before), Some(after)) => after.own.saturating_sub(before.own),
        _ => Duration::ZERO,
    };
    ensure!(latencies_ns.len() as u64 == requests, "requests lost");
    Ok(Outcome {
        elapsed,
        latencies_ns,
        server_cpu,
        client_cpu,
    })
}
// ANCHOR_END: one_run

async fn connect(addr: &str) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connect {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// One connection's loop: take the next request number, send, check, time.
async fn send_until_done(
    mut sender: SendRequest<Full<Bytes>>,
    kind: Kind,
    run: u32,
    host: String,
    next: Arc<AtomicU64>,
    requests: u64,
) -> anyhow::Result<Vec<u64>> {
    let mut latencies = Vec::new();
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= requests {
            return Ok(latencies);
        }
        let sent = Instant::now();
        sender.ready().await?;
        let response = sender.send_request(kind.request(&host, run, n)).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        ensure!(
            status == kind.expected(),
            "{status}: {}",
            String::from_utf8_lossy(&body)
        );
        latencies.push(sent.elapsed().as_nanos() as u64);
    }
}
