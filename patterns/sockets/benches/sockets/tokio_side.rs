//! The Rust side: the library's servers and clients on a tokio runtime.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bench_harness::measure;
use bytes::Bytes;
use futures::future::try_join_all;
use futures::{SinkExt, StreamExt};
use sockets::{Frames, Retry, accept_loop, answer_loop, echo, request};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::runtime::Runtime;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

use crate::{Kind, Workload};

/// Times `runs` runs of the workload on `runtime`; returns the variant's name and the
/// durations. The servers start once, before the runs, and stop after them.
pub(crate) fn time(
    runtime: &Runtime,
    runs: u32,
    workload: Workload,
    per: u64,
) -> anyhow::Result<(&'static str, Vec<Duration>)> {
    let stop = CancellationToken::new();
    let _stop_servers = stop.clone().drop_guard();
    let (n, size) = (workload.connections, workload.size);
    let expected = per * n as u64;
    match workload.kind {
        Kind::Echo => {
            let address = runtime.block_on(serve_tcp(stop, false))?;
            let connect = || runtime.block_on(connect(address, n));
            let durations = time_clients(runtime, runs, expected, connect, move |s| {
                ping_pong(s, size, per)
            })?;
            Ok(("tokio-echo", durations))
        }
        Kind::Framed => {
            let address = runtime.block_on(serve_tcp(stop, true))?;
            let connect = || runtime.block_on(connect(address, n));
            let durations = time_clients(runtime, runs, expected, connect, move |s| {
                framed_requests(s, size, per)
            })?;
            Ok(("tokio-Framed-Frames", durations))
        }
        Kind::Udp => {
            let server = runtime.block_on(serve_udp(stop))?;
            let bind = || runtime.block_on(udp_clients(server, n));
            let durations = time_clients(runtime, runs, expected, bind, move |s| {
                udp_requests(s, size, per)
            })?;
            Ok(("tokio-UdpSocket-request", durations))
        }
    }
}

/// Times `runs` runs of one `client` per socket `connect` gives (connected before the
/// clock starts), all at once, checking that they made `expected` round trips in all.
fn time_clients<S, F, Fut>(
    runtime: &Runtime,
    runs: u32,
    expected: u64,
    connect: impl Fn() -> anyhow::Result<Vec<S>>,
    client: F,
) -> anyhow::Result<Vec<Duration>>
where
    F: Fn(S) -> Fut + Copy,
    Fut: Future<Output = anyhow::Result<u64>>,
{
    let check = |trips: anyhow::Result<u64>| {
        let trips = trips?;
        anyhow::ensure!(trips == expected, "{trips} round trips of {expected}");
        Ok(())
    };
    let run = || {
        let sockets = connect();
        async move {
            let clients = sockets?.into_iter().map(client);
            Ok(try_join_all(clients).await?.into_iter().sum())
        }
    };
    measure(runtime, runs, run, check)
}

/// The echo server, or the framed one: each frame answered with itself.
async fn serve_tcp(stop: CancellationToken, framed: bool) -> anyhow::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    if framed {
        tokio::spawn(accept_loop(listener, stop, |stream, _| {
            answer_frames(stream)
        }));
    } else {
        tokio::spawn(accept_loop(listener, stop, |stream, _| echo(stream)));
    }
    Ok(address)
}

async fn answer_frames(stream: TcpStream) -> Result<(), sockets::FrameError> {
    let mut frames = Framed::new(stream, Frames::new(64 * 1024));
    while let Some(frame) = frames.next().await {
        frames.send(frame?.freeze()).await?;
    }
    Ok(())
}

async fn connect(address: std::net::SocketAddr, n: usize) -> anyhow::Result<Vec<TcpStream>> {
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        streams.push(stream);
    }
    Ok(streams)
}

// ANCHOR: ping_pong
async fn ping_pong(stream: TcpStream, size: usize, trips: u64) -> anyhow::Result<u64> {
    // Read through a buffer larger than the answer: a read that fills its buffer exactly
    // cannot tell tokio the socket is drained, so the next read would be a wasted
    // syscall (EAGAIN) before the wait. `BufReader` passes writes straight through.
    let mut stream = BufReader::with_capacity(64 * 1024, stream);
    let message = vec![7u8; size];
    let mut back = vec![0u8; size];
    for _ in 0..trips {
        stream.write_all(&message).await?;
        stream.read_exact(&mut back).await?;
    }
    anyhow::ensure!(back == message, "the echo changed the message");
    Ok(trips)
}
// ANCHOR_END: ping_pong

async fn framed_requests(stream: TcpStream, size: usize, trips: u64) -> anyhow::Result<u64> {
    let mut frames = Framed::new(stream, Frames::new(64 * 1024));
    let request = Bytes::from(vec![7u8; size]);
    for _ in 0..trips {
        frames.send(request.clone()).await?;
        let answer = frames
            .next()
            .await
            .ok_or_else(|| anyhow::anyhow!("closed"))??;
        anyhow::ensure!(answer.len() == size, "a frame of {} bytes", answer.len());
    }
    Ok(trips)
}

async fn serve_udp(stop: CancellationToken) -> anyhow::Result<std::net::SocketAddr> {
    let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
    let address = socket.local_addr()?;
    tokio::spawn(async move {
        answer_loop(&socket, 1024, stop, |datagram, _| Some(datagram.to_vec())).await
    });
    Ok(address)
}

async fn udp_clients(server: std::net::SocketAddr, n: usize) -> anyhow::Result<Vec<UdpSocket>> {
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        socket.connect(server).await?;
        sockets.push(socket);
    }
    Ok(sockets)
}

async fn udp_requests(socket: UdpSocket, size: usize, trips: u64) -> anyhow::Result<u64> {
    let payload = vec![7u8; size];
    let retry = Retry {
        per_try: Duration::from_secs(1),
        tries: 3,
    };
    for id in 0..trips {
        let (answer, _) = request(&socket, id as u32, &payload, retry).await?;
        anyhow::ensure!(answer.len() == size, "an answer of {} bytes", answer.len());
    }
    Ok(trips)
}
