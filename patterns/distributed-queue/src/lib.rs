//! A work queue that outlives its processes: producers and consumers on a Redis Stream
//! with a consumer group. The in-process `queue` pattern's calls, with Redis holding the
//! items, so a crash loses nothing and the workers may sit on other machines.
//!
//! | asyncio.Queue          | here                          | Redis                     |
//! |------------------------|-------------------------------|---------------------------|
//! | `Queue()`              | [`Queue::open`]               | `XGROUP CREATE … MKSTREAM` |
//! | `put(item)`            | [`Producer::put`]             | `XADD`                    |
//! | `get()`                | [`Consumer::get`]             | `XREADGROUP … BLOCK`      |
//! | `task_done()`          | [`Consumer::done`]            | `XACK`                    |
//! | `join()`               | [`Queue::wait_drained`]       | `XINFO GROUPS` (lag, pending) |
//! | (none: a crash loses it) | [`Consumer::reclaim`]       | `XAUTOCLAIM`              |
//!
//! Delivery is **at least once**: an item is acknowledged only after it is processed, so a
//! consumer that dies leaves its items pending, and another claims them. The effect is
//! exactly once when the sink deduplicates on the item's id ([`IdempotentSink`]).
//!
//! ```text
//! cargo run -p distributed-queue        # a throwaway Redis, 2 producers, 3 consumers, 1 killed
//! ```
//!
//! # Layout
//!
//! - [`admin`](mod@admin): [`Queue`], opening the stream and its group, and [`Progress`];
//! - [`config`](mod@config): [`QueueConfig`] and [`AckMode`];
//! - [`item`](mod@item): [`Item`] and [`Delivery`];
//! - [`producer`](mod@producer): [`Producer`], `XADD`;
//! - [`consumer`](mod@consumer): [`Consumer`], blocking reads and `XACK`;
//! - [`claims`](mod@claims): [`Consumer::reclaim`], claims and the dead-letter stream;
//! - [`unblock`](mod@unblock): [`Unblocker`], `CLIENT UNBLOCK`;
//! - [`worker`](mod@worker): [`run_consumer`], the loop, and its shutdown;
//! - [`sink`](mod@sink): [`IdempotentSink`], exactly-once effects;
//! - [`retry`](mod@retry): [`RetryPolicy`] and [`with_retry`], on backon;
//! - [`error`](mod@error): [`QueueError`], each error naming its cause.

pub mod admin;
pub mod claims;
pub mod config;
pub mod consumer;
pub mod error;
pub mod item;
pub mod producer;
pub mod retry;
pub mod sink;
pub mod unblock;
pub mod worker;

pub use admin::{Progress, Queue};
pub use claims::Reclaimed;
pub use config::{AckMode, QueueConfig};
pub use consumer::Consumer;
pub use error::QueueError;
pub use item::{Delivery, Item};
pub use producer::Producer;
pub use retry::{RetryPolicy, is_transient, with_retry};
pub use sink::IdempotentSink;
pub use unblock::Unblocker;
pub use worker::{ConsumerReport, run_consumer};
