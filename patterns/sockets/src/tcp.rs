//! TCP beside asyncio's streams: `TcpListener` for `start_server`, `TcpStream` for
//! `open_connection`, an accept loop that gives each connection a task of its own and
//! stops on a token, an echo handler and a line handler.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

use crate::framing::{FrameError, Lines};

/// What an accept loop did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Connections accepted.
    pub connections: u64,
    /// Handlers that returned an error.
    pub failed: u64,
    /// Handlers that panicked; the loop went on serving.
    pub panicked: u64,
}

// ANCHOR: accept_loop
/// Accepts connections until `stop` is cancelled, each handled by `handler` in a task
/// of its own (asyncio's `start_server` callback), with `TCP_NODELAY` set. At the stop,
/// the handlers still running are aborted.
///
/// # Cancel safety
///
/// This method is cancel safe: dropped, it aborts every handler; no connection outlives it.
pub async fn accept_loop<F, Fut, T, E>(
    listener: TcpListener,
    stop: CancellationToken,
    handler: F,
) -> io::Result<Accepted>
where
    F: Fn(TcpStream, SocketAddr) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let mut handlers = JoinSet::new();
    let mut accepted = Accepted::default();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            incoming = listener.accept() => {
                let (stream, peer) = incoming?;
                stream.set_nodelay(true)?;
                accepted.connections += 1;
                // Inside the task: a panic, even before its first `.await`, ends only it.
                let handler = handler.clone();
                handlers.spawn(async move { handler(stream, peer).await });
            }
            Some(done) = handlers.join_next(), if !handlers.is_empty() => count(&mut accepted, done),
        }
    }
    handlers.abort_all();
    while let Some(done) = handlers.join_next().await {
        count(&mut accepted, done);
    }
    Ok(accepted)
}
// ANCHOR_END: accept_loop

/// Counts a finished handler: an error or a panic is logged and counted, never fatal.
fn count<T, E: std::fmt::Display>(
    accepted: &mut Accepted,
    done: Result<Result<T, E>, tokio::task::JoinError>,
) {
    match done {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            accepted.failed += 1;
            tracing::warn!(%error, "a connection failed");
        }
        Err(join) if join.is_panic() => {
            accepted.panicked += 1;
            tracing::error!("a connection's handler panicked");
        }
        Err(_) => {} // aborted at the stop
    }
}

// ANCHOR: echo
/// Writes back everything the peer sends until it half-closes, then closes its own
/// side; returns the bytes echoed. `copy_buf` is the `while data := await
/// reader.read(n): writer.write(data); await writer.drain()` loop, reading up to 64 KiB
/// at a time (`tokio::io::copy` reads 8 KiB, so a 16 KiB message would take two reads
/// and two writes).
///
/// # Cancel safety
///
/// This method is not cancel safe: bytes read but not yet written back are lost with
/// the future.
pub async fn echo(mut stream: TcpStream) -> io::Result<u64> {
    let (reader, mut writer) = stream.split();
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let echoed = tokio::io::copy_buf(&mut reader, &mut writer).await?;
    writer.shutdown().await?;
    Ok(echoed)
}
// ANCHOR_END: echo

/// How much a line connection may take: the longest line, and how long the peer may
/// take to send its next whole line or to make room for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineLimits {
    /// The longest line, in bytes.
    pub max_line: usize,
    /// The time allowed for each line to arrive, and for each answer to be written.
    pub idle: Duration,
}

/// Why a line connection ended.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The peer closed its side (asyncio's `eof_received`, then `connection_lost(None)`).
    #[default]
    PeerClosed,
    /// No whole line came within the limit: an idle peer, or one sending a byte at a time.
    Idle,
    /// The peer did not read its answers, and they filled the socket's buffers.
    Stalled,
}

/// What a line connection did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LineCounts {
    /// Lines answered.
    pub answered: u64,
    /// Lines refused (too long, not UTF-8), each answered with an `error:` line.
    pub refused: u64,
    /// Why the connection ended.
    pub ended: Ended,
}

// ANCHOR: shout
/// Answers each line with the line in capitals. A line that is too long or not UTF-8
/// is answered with `error: <why>` and skipped; the connection goes on.
///
/// This is the task an asyncio `Protocol` becomes: `connection_made` is the top of the
/// function, `data_received` the codec's buffering behind `next()`, `connection_lost`
/// the end of the stream; the `call_later` idle timer is a `timeout` around each line,
/// and `pause_writing` is the `.await` on `send`, also bounded, so a peer that never
/// reads is closed instead of held.
///
/// # Cancel safety
///
/// This method is not cancel safe: a line read but not yet answered is lost with the
/// future, and an answer may be half written.
pub async fn shout(stream: TcpStream, limits: LineLimits) -> Result<LineCounts, FrameError> {
    let mut lines = Framed::new(stream, Lines::new(limits.max_line));
    let mut counts = LineCounts::default();
    loop {
        // The whole line must come within `idle`: a timer per read would be reset by
        // every byte of a slowloris.
        let line = match timeout(limits.idle, lines.next()).await {
            Err(_) => return Ok(counts.end(Ended::Idle)),
            Ok(None) => return Ok(counts.end(Ended::PeerClosed)),
            // The outer `?` ends the connection (an I/O error); the inner result is one line.
            Ok(Some(line)) => line?,
        };
        let answer = match &line {
            Ok(line) => line.to_uppercase(),
            Err(refused) => format!("error: {refused}"),
        };
        match timeout(limits.idle, lines.send(answer)).await {
            Err(_) => return Ok(counts.end(Ended::Stalled)),
            Ok(sent) => sent?,
        }
        match line {
            Ok(_) => counts.answered += 1,
            Err(_) => counts.refused += 1,
        }
    }
}
// ANCHOR_END: shout

impl LineCounts {
    fn end(mut self, why: Ended) -> Self {
        self.ended = why;
        self
    }
}
