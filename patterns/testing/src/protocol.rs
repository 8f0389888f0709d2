//! The line protocol (`GET 7` → `OK {json}`), generic over any `AsyncRead + AsyncWrite`,
//! so `tokio_test::io::Builder` can stand in for a socket.

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::{LookupError, Origin, User, UserCache};

/// The longest request line the server reads; a longer one is refused.
pub const MAX_LINE: usize = 64;

/// The reply to one request line.
pub fn reply_line(result: Result<User, LookupError>) -> String {
    match result {
        Ok(user) => match serde_json::to_string(&user) {
            Ok(json) => format!("OK {json}"),
            Err(e) => format!("ERR {e}"),
        },
        Err(LookupError::NotFound(id)) => format!("NOT_FOUND {id}"),
        Err(error) => format!("ERR {error}"),
    }
}

// ANCHOR: protocol
/// Answers `GET <id>` lines on `io` until the client closes it: one reply line each,
/// `OK {json}`, `NOT_FOUND <id>` or `ERR <reason>`. A malformed request gets `ERR` and the
/// connection goes on; a line longer than [`MAX_LINE`] gets `ERR` and the connection is
/// closed (the codec stops there rather than buffer a line without end).
///
/// # Cancel safety
///
/// This function is not cancel safe: a drop closes the connection, and the reply in the
/// making is never sent. A lookup in flight is not wasted (see [`UserCache::get`]); its
/// reply is never sent.
pub async fn serve_connection<IO, O>(io: IO, cache: UserCache<O>) -> Result<(), LinesCodecError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    O: Origin,
{
    let mut lines = Framed::new(io, LinesCodec::new_with_max_length(MAX_LINE));
    while let Some(line) = lines.next().await {
        let reply = match line {
            Ok(line) => match parse_request(&line) {
                Ok(id) => reply_line(cache.get(id).await),
                Err(why) => format!("ERR {why}"),
            },
            Err(LinesCodecError::MaxLineLengthExceeded) => {
                // the reply is sent; then the stream ends, as a Framed does after an error
                format!("ERR a request is at most {MAX_LINE} bytes")
            }
            Err(error) => return Err(error),
        };
        lines.send(reply).await?;
    }
    Ok(())
}
// ANCHOR_END: protocol

fn parse_request(line: &str) -> Result<u32, String> {
    let usage = || format!("bad request {line:?}: expected GET <id>");
    match line.trim().split_once(' ') {
        Some(("GET", id)) => id.trim().parse().map_err(|_| usage()),
        _ => Err(usage()),
    }
}

/// Accepts connections on `listener` and serves each in its own task until `shutdown` is
/// cancelled; then stops accepting and waits for the open connections to close.
///
/// # Cancel safety
///
/// This function is cancel safe: a losing `select!` branch stops accepting and drops the
/// waiting; connections already accepted run on in their tasks until their clients close
/// them.
pub async fn serve<O: Origin>(
    listener: TcpListener,
    cache: UserCache<O>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let connections = TaskTracker::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => {
                let (stream, peer) = accepted?;
                let cache = cache.clone();
                connections.spawn(async move {
                    if let Err(error) = serve_connection(stream, cache).await {
                        tracing::warn!(%peer, %error, "connection ended");
                    }
                });
            }
        }
    }
    connections.close();
    connections.wait().await;
    Ok(())
}
