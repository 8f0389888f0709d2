//! A caching sidecar, the service the testing chapter tests in every way Tokio offers.
//!
//! Programs ask it for users over TCP, one line each (`GET 7` → `OK {json}`); it answers
//! from a cache with a time to live, and on a miss asks the origin (the fixture server's
//! JSON API, or any API with `/users/{id}`), retrying what may succeed next time:
//!
//! - [`UserCache`]: the TTL cache; concurrent misses for one id share one fetch, which runs
//!   in a task of its own, so a caller that goes away never wastes it;
//! - [`Origin`]: where users come from; [`HttpOrigin`] is the real one, and a test writes
//!   its own (what `AsyncMock` is to Python);
//! - [`serve_connection`] and [`serve`]: the line protocol, generic over any
//!   `AsyncRead + AsyncWrite`, so `tokio_test::io::Builder` can stand in for a socket;
//! - [`Client`]: the other end of the line.
//!
//! Run the demo with `cargo run -p testing`; the tests are the lesson: `cargo test -p testing`.
//!
//! | the Python service | here |
//! |---|---|
//! | a cache `dict` with expiry times | [`UserCache`] |
//! | one shared `asyncio.Task` per id in flight | concurrent misses sharing one fetch |
//! | the origin, replaced by `AsyncMock` in tests | [`Origin`], implemented by a test's own type |
//! | `asyncio.start_server` with a line protocol | [`serve`] and [`serve_connection`] |
//! | `asyncio.open_connection` | [`Client`] |
//!
//! # Layout
//!
//! - [`origin`](mod@origin): [`Origin`], [`HttpOrigin`], [`User`], [`LookupError`];
//! - [`cache`](mod@cache): [`UserCache`], its [`Policy`] and [`CacheStats`];
//! - [`protocol`](mod@protocol): [`serve_connection`], [`serve`], [`reply_line`];
//! - [`client`](mod@client): [`Client`], [`Reply`], [`ClientError`].

pub mod cache;
pub mod client;
pub mod origin;
pub mod protocol;

pub use cache::{CacheStats, Policy, UserCache};
pub use client::{Client, ClientError, Reply};
pub use origin::{HttpOrigin, LookupError, Origin, User};
pub use protocol::{MAX_LINE, reply_line, serve, serve_connection};
