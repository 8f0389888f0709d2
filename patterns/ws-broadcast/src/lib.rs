//! A chat hub: Python's "set of clients plus `gather` of sends" in Tokio, with a policy for
//! the client that cannot keep up.
//!
//! - [`Hub::join`] registers a member under a unique name and returns its two halves: a
//!   [`Speaker`] that broadcasts to every *other* member and an [`Inbox`] that receives. The
//!   member leaves when both halves are dropped, on any path: a closed socket, an error, a
//!   panic in its task or a cancelled future. Everyone else is told (`* bob left`).
//! - **The slow client.** Each member has a bounded outbox. [`Speaker::say`] never waits:
//!   it `try_send`s to every outbox, so one member that stops reading cannot slow the
//!   room. A member whose outbox is full is removed with [`LeaveReason::TooSlow`], and its
//!   [`Inbox`] says so before anything else, so its transport can tell the client why.
//!   Memory per member is bounded by the outbox capacity.
//! - [`Hub::members`] lists who is present and how many events wait in each outbox.
//!
//! The hub knows no transport. [`websocket`] and [`tcp_lines`] put it on the network,
//! [`server`] runs both, with the chat page, in one process ([`origin`] decides which
//! pages may open a WebSocket to it), and [`client`] is asyncio's
//! `open_connection` side. Run `cargo run -p ws-broadcast` for a scripted conversation, or
//! `cargo run -p ws-broadcast -- --serve 127.0.0.1:8000` and open the page in a browser.
//!
//! | websockets / asyncio | here |
//! |---|---|
//! | `websockets.serve(handler, host, port)` | [`server::Server::start`] |
//! | a `set` of connected clients | [`Hub`] |
//! | `websockets.broadcast(clients, message)` | [`Speaker::say`], which never waits |
//! | `async for message in websocket:` | [`websocket::serve`] |
//! | `asyncio.start_server` for line clients | [`tcp_lines::serve`] |
//! | `origins=[...]` | [`origin::Origins`] |
//! | `websockets.connect(url)` | [`client::WsClient`] |
//!
//! # Layout
//!
//! - [`hub`](mod@hub): [`Hub`], its members' halves [`Speaker`] and [`Inbox`], and the slow-member
//!   policy;
//! - [`event`](mod@event): [`Event`], [`SharedEvent`] and [`LeaveReason`];
//! - [`websocket`] and [`tcp_lines`]: the two transports; [`server`] runs both, with the
//!   page; [`origin`]: which pages may connect;
//! - [`client`](mod@client): a WebSocket client, asyncio's `open_connection` side.

pub mod client;
pub mod event;
pub mod hub;
pub mod origin;
mod pair;
pub mod server;
pub mod tcp_lines;
pub mod websocket;

pub use event::{Event, LeaveReason, SharedEvent};
pub use hub::{Hub, Inbox, JoinRefused, MAX_NAME_LEN, MemberInfo, Speaker};
