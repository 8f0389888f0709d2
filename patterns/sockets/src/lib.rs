//! Sockets below HTTP, as asyncio's streams and protocols are used: TCP servers and
//! clients, messages framed out of a byte stream, and UDP request and answer.
//!
//! | Python (asyncio) | Rust (tokio, tokio-util) |
//! |---|---|
//! | `asyncio.start_server(cb, host, port)` | `TcpListener::bind`, then [`accept_loop`] |
//! | `asyncio.open_connection(host, port)` | `TcpStream::connect` |
//! | `reader.read(n)` / `writer.write(b)`, `drain()` | `read` / `write_all`, `flush` |
//! | `reader.readexactly(n)`, `IncompleteReadError` | `read_exact`; [`Frames`], [`FrameError::Truncated`] |
//! | `reader.readline()`, `LimitOverrunError` | [`Lines`], [`FrameError::LineTooLong`] |
//! | `writer.write_eof()` | `shutdown()` on the write half |
//! | `get_extra_info('peername')` | `peer_addr()` |
//! | `create_datagram_endpoint`, `DatagramProtocol` | `UdpSocket`, [`answer_loop`], [`request`] |
//! | `start_unix_server`, `open_unix_connection` | [`UnixServer`], `UnixStream::connect` |
//!
//! # Layout
//!
//! - [`framing`]: codecs for lines, length-prefixed frames and JSON.
//! - [`tcp`]: the accept loop, an echo handler and a line handler.
//! - [`udp`]: a datagram server and a client that retries.
//! - [`unix`]: a Unix socket listener that cleans up its file.

pub mod framing;
pub mod tcp;
pub mod tls;
pub mod udp;
pub mod unix;

pub use framing::{FrameError, Frames, Json, Lines, Message};
pub use tcp::{Accepted, Ended, LineCounts, LineLimits, accept_loop, echo, shout};
pub use tls::{SelfSigned, TlsError, connector_trusting};
pub use udp::{Answered, Retry, UdpError, answer_loop, request};
pub use unix::UnixServer;
