//! The client side: asyncio's `open_connection` and the `websockets` library's `connect`,
//! as the demo, the tests and the benchmark use them.

use std::net::SocketAddr;

use futures::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, client_async, connect_async_with_config};
use tokio_util::codec::{FramedRead, LinesCodec};

use crate::Event;

/// What a WebSocket client received next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Event(Event),
    /// The server closed the connection, with its Close frame's code and reason.
    Closed {
        code: Option<u16>,
        reason: String,
    },
}

/// A WebSocket member of a chat hub.
#[derive(Debug)]
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Joins the hub at `ws_url` (`ws://host:port/ws`) as `name`, a name of letters,
    /// digits, `-` and `_`.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropped mid-handshake, it drops the socket, and the
    /// server sees a closed connection; nothing else was started.
    pub async fn connect(ws_url: &str, name: &str) -> anyhow::Result<Self> {
        // Nagle's algorithm off: a chat message goes out at once.
        let (socket, _response) =
            connect_async_with_config(format!("{ws_url}?name={name}"), None, true).await?;
        Ok(Self { socket })
    }

    /// Joins the hub over a TCP connection the caller opened: for a socket with options of
    /// its own (a receive buffer size, a local address) or a connection made some other
    /// way. `ws_url` names the host and path the handshake asks for.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropped mid-handshake, it drops the stream, and the
    /// server sees a closed connection; nothing else was started.
    pub async fn over(stream: TcpStream, ws_url: &str, name: &str) -> anyhow::Result<Self> {
        let url = format!("{ws_url}?name={name}");
        let (socket, _response) = client_async(url, MaybeTlsStream::Plain(stream)).await?;
        Ok(Self { socket })
    }

    /// Sends one chat message.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe. Dropped while it waits for room, the message was not
    /// queued and is lost; dropped while it flushes, the message is queued whole and goes
    /// out with the next send or close, or never, if the client is dropped. The caller
    /// cannot tell which.
    pub async fn say(&mut self, text: &str) -> anyhow::Result<()> {
        self.socket.send(Message::text(text)).await?;
        Ok(())
    }

    /// The next event, or how the server closed the connection. Pings are answered by
    /// tokio-tungstenite while this waits.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a message is returned whole or stays in the stream for
    /// the next call.
    pub async fn next(&mut self) -> anyhow::Result<Received> {
        while let Some(message) = self.socket.next().await {
            match message? {
                Message::Text(json) => return Ok(Received::Event(serde_json::from_str(&json)?)),
                Message::Close(frame) => return Ok(closed(frame)),
                _ => {}
            }
        }
        Ok(Received::Closed {
            code: None,
            reason: "connection ended without a Close frame".into(),
        })
    }

    /// Closes the connection politely (Close 1000, then waits for the server's reply).
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: a drop drops the socket, which ends the connection
    /// without the closing handshake.
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.socket.close(None).await?;
        while let Some(Ok(_)) = self.socket.next().await {}
        Ok(())
    }
}

fn closed(frame: Option<CloseFrame>) -> Received {
    match frame {
        Some(frame) => Received::Closed {
            code: Some(frame.code.into()),
            reason: frame.reason.to_string(),
        },
        None => Received::Closed {
            code: None,
            reason: String::new(),
        },
    }
}

/// A line member of a chat hub: `reader, writer = await asyncio.open_connection(...)`.
#[derive(Debug)]
pub struct LineClient {
    lines: FramedRead<OwnedReadHalf, LinesCodec>,
    write: OwnedWriteHalf,
}

impl LineClient {
    /// Connects to `addr` and sends `name` as the first line.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a drop closes the socket, and the server sees a client
    /// that left.
    pub async fn connect(addr: SocketAddr, name: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        let mut client = Self {
            lines: FramedRead::new(read, LinesCodec::new_with_max_length(64 * 1024)),
            write,
        };
        client.say(name).await?;
        Ok(client)
    }

    /// Sends one line (`writer.write(...)`, then `await writer.drain()`).
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped mid-write, part of the line may have been
    /// sent, and the rest never is.
    pub async fn say(&mut self, text: &str) -> anyhow::Result<()> {
        self.write.write_all(format!("{text}\n").as_bytes()).await?;
        Ok(())
    }

    /// The next line (`await reader.readline()`), `None` once the server closed.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a line is returned whole or stays buffered for the next
    /// call.
    pub async fn next_line(&mut self) -> anyhow::Result<Option<String>> {
        Ok(self.lines.next().await.transpose()?)
    }
}
