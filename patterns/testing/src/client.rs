//! The other end of the line: a client that sends `GET <id>` and reads the reply.

use std::net::SocketAddr;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};

use crate::User;

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `OK {json}`.
    Found(User),
    /// `NOT_FOUND <id>`.
    NotFound(u32),
    /// `ERR <reason>`.
    Error(String),
}

/// Why a request got no reply.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection failed.
    #[error(transparent)]
    Io(#[from] LinesCodecError),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// The server said something this client does not understand.
    #[error("an unexpected reply: {0:?}")]
    Unexpected(String),
}

/// A client of the line protocol: one request at a time on one connection.
#[derive(Debug)]
pub struct Client {
    lines: Framed<TcpStream, LinesCodec>,
}

impl Client {
    /// Connects to the server at `addr`.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropped, the half-open connection is closed.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        let lines = Framed::new(stream, LinesCodec::new_with_max_length(64 * 1024));
        Ok(Self { lines })
    }

    /// Sends `line` as a request and reads the reply.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped after sending, the reply is left on the
    /// connection and the next request would read it. Drop the client too (a timeout around
    /// both).
    pub async fn request(&mut self, line: &str) -> Result<Reply, ClientError> {
        self.lines.send(line).await?;
        let reply = self.lines.next().await.ok_or(ClientError::Closed)??;
        parse_reply(&reply)
    }
}

fn parse_reply(reply: &str) -> Result<Reply, ClientError> {
    let unexpected = || ClientError::Unexpected(reply.to_owned());
    match reply.split_once(' ') {
        Some(("OK", json)) => serde_json::from_str(json)
            .map(Reply::Found)
            .map_err(|_| unexpected()),
        Some(("NOT_FOUND", id)) => id.parse().map(Reply::NotFound).map_err(|_| unexpected()),
        Some(("ERR", reason)) => Ok(Reply::Error(reason.to_owned())),
        _ => Err(unexpected()),
    }
}
