//! The demo's Unix socket part: JSON frames of any shape (`serde_json::Value`, Python's
//! dicts) over a Unix socket, answered until a frame cut short or over the limit ends
//! its connection.

use std::path::Path;

use anyhow::Context;
use bytes::{BufMut, BytesMut};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sockets::unix::UnixServer;
use sockets::{FrameError, Json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::task::JoinSet;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

/// The largest frame the server takes.
pub(crate) const MAX_FRAME: usize = 64 * 1024;

/// How each connection ended.
#[derive(Debug, Default)]
pub(crate) struct Served {
    pub(crate) answered: u64,
    pub(crate) over_limit: u64,
    pub(crate) truncated: u64,
}

/// Answers `{"add": [numbers]}` with `{"sum": n}`, anything else with `{"error": why}`,
/// until the client closes, breaks the framing, or `stop` is cancelled between two
/// requests. Returns the requests answered, and how the connection ended.
pub(crate) async fn answer(
    stream: UnixStream,
    stop: CancellationToken,
) -> (u64, Result<(), FrameError>) {
    let mut answered = 0;
    let ended = answer_each(stream, stop, &mut answered).await;
    (answered, ended)
}

// ANCHOR: dynamic_json
async fn answer_each(
    stream: UnixStream,
    stop: CancellationToken,
    answered: &mut u64,
) -> Result<(), FrameError> {
    let mut frames = Framed::new(stream, Json::<Value>::new(MAX_FRAME));
    while let Some(request) = tokio::select! {
        () = stop.cancelled() => None,
        request = frames.next() => request,
    } {
        let reply = match request? {
            Ok(request) => match request["add"].as_array() {
                Some(numbers) => {
                    json!({ "sum": numbers.iter().filter_map(Value::as_f64).sum::<f64>() })
                }
                None => json!({ "error": "expected {\"add\": [numbers]}" }),
            },
            Err(not_json) => json!({ "error": not_json.to_string() }),
        };
        frames.send(&reply).await?;
        *answered += 1;
    }
    Ok(())
}
// ANCHOR_END: dynamic_json

/// Serves `answer` on `server` until `stop`, counting how connections ended.
pub(crate) async fn serve(server: UnixServer, stop: CancellationToken) -> Served {
    let mut connections = JoinSet::new();
    let mut served = Served::default();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            Ok(stream) = server.accept() => { connections.spawn(answer(stream, stop.clone())); }
        }
    }
    // Each connection stops between two requests, and is counted.
    while let Some(ended) = connections.join_next().await {
        match ended {
            Ok((answered, ended)) => {
                served.answered += answered;
                match ended {
                    Ok(()) => {}
                    Err(FrameError::TooLong { .. }) => served.over_limit += 1,
                    Err(FrameError::Truncated { .. }) => served.truncated += 1,
                    Err(other) => tracing::warn!(%other, "a connection failed"),
                }
            }
            Err(panicked) => tracing::error!(%panicked, "a connection's task failed"),
        }
    }
    served
}

/// The client's side: a good request, a frame declaring more than the limit, and a
/// connection that closes inside a frame.
pub(crate) async fn demo(path: &Path) -> anyhow::Result<()> {
    let server = UnixServer::bind(path, 0o600)
        .await
        .with_context(|| format!("cannot listen on {}", path.display()))?;
    let stop = CancellationToken::new();
    let serving = tokio::spawn(serve(server, stop.clone()));

    let stream = UnixStream::connect(path).await?;
    let mut frames = Framed::new(stream, Json::<Value>::new(MAX_FRAME));
    for request in [json!({ "add": [1, 2, 3.5] }), json!({ "mul": [2] })] {
        frames.send(&request).await?;
        let reply = frames.next().await.context("the server closed")???;
        println!("unix json: {request} -> {reply}");
    }
    // A header that declares a megabyte: refused from the header alone.
    let mut raw = frames.into_inner();
    raw.write_all(&(1u32 << 20).to_be_bytes()).await?;
    closed_by_server(raw).await?;

    // A frame cut short: its header says 100 bytes, 10 come, then the end.
    let mut cut = BytesMut::new();
    cut.put_u32(100);
    cut.put_slice(b"{\"add\": [1");
    let mut raw = UnixStream::connect(path).await?;
    raw.write_all(&cut).await?;
    closed_by_server(raw).await?;

    stop.cancel();
    let served = serving.await?;
    println!(
        "unix json: {} answered, {} over the limit, {} truncated, socket file removed: {}",
        served.answered,
        served.over_limit,
        served.truncated,
        !path.exists()
    );
    Ok(())
}

/// Half-closes, then reads to the end: the server has finished with the connection
/// (and counted how it ended) once it closes its side.
async fn closed_by_server(mut stream: UnixStream) -> anyhow::Result<()> {
    stream.shutdown().await?;
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await?;
    Ok(())
}
