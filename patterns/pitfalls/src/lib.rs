//! The mistakes every asyncio learner makes, what Rust does with each, and the fix.
//!
//! Some of them Rust refuses to compile; the compile-fail tests in `tests/compile_fail/`
//! keep the compiler's own words. The others happen at run time, and this library holds
//! their fixes, small enough to copy.
//!
//! | the asyncio mistake | what happens in Rust | the fix here |
//! |---|---|---|
//! | "This event loop is already running" (`asyncio.run` inside a loop) | "Cannot start a runtime from within a runtime" | [`SyncBridge`]: a runtime of its own, entered from sync code only |
//! | a future that never wakes (a lost callback) | the task hangs, silently | [`Gate`]: store the waker before checking; [`ForgetfulGate`] shows the bug |
//! | blocking the loop (`slow_callback_duration` in debug mode) | every task on the thread waits | [`SlowPolls`]: names the task with slow polls |
//! | ignoring `CancelledError` half-way through | a dropped future stops at its `.await` | [`Accounts`]: a drop guard, a token, or a task of its own |
//! | an exception shown on purpose | a panic and its backtrace | [`expect_panic`]: the message, quietly |
//!
//! # Layout
//!
//! - [`bridge`](mod@bridge): [`SyncBridge`], async code called from a synchronous program;
//! - [`wake_up`](mod@wake_up): [`Gate`] and [`ForgetfulGate`], a hand-written future with and without its
//!   wake-up, and [`spawn_waiter`] to show the lost one;
//! - [`slow_polls`](mod@slow_polls): [`SlowPolls`], the task that blocks its thread (tokio-metrics);
//! - [`transfer`](mod@transfer): [`Accounts`], a transfer that a cancellation cuts in half, and three fixes;
//! - [`panics`](mod@panics): [`expect_panic`], a panic's message without the backtrace.
//!
//! Run the demo with `cargo run -p pitfalls`.

pub mod bridge;
pub mod panics;
pub mod slow_polls;
pub mod transfer;
pub mod wake_up;

pub use bridge::SyncBridge;
pub use panics::expect_panic;
pub use slow_polls::{SlowPolls, SlowTask};
pub use transfer::{Accounts, TransferError};
pub use wake_up::{ForgetfulGate, ForgetfulWait, Gate, GateWait, spawn_waiter};
