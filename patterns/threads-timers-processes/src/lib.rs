//! The edges of the event loop: timers, other threads, child processes, signals and
//! context that follows a task.
//!
//! - [`call_at`] and [`Deadlines`]: `loop.call_later`/`call_at`, one task per timer or one
//!   `DelayQueue` for many;
//! - [`run_coroutine_threadsafe`] and [`ThreadFuture`]: a plain thread hands work to the
//!   runtime and waits for the result, as `asyncio.run_coroutine_threadsafe` does;
//! - [`output_within`] and [`lines`]: `asyncio.create_subprocess_exec` with a time limit
//!   that really stops the child;
//! - [`stop_signal`]: `loop.add_signal_handler(SIGTERM, ...)` and Ctrl-C, as one future;
//! - [`with_request_id`], [`request_id`] and [`spawn_with_request_id`]: `contextvars` as a
//!   `task_local!`, and the difference: a spawned task does not inherit it.
//!
//! ```text
//! cargo run -p threads-timers-processes
//! cargo test -p threads-timers-processes
//! ```

mod context;
mod process;
mod signal;
mod threads;
mod timers;

pub use context::{request_id, spawn_with_request_id, with_request_id};
pub use process::{ProcessError, lines, output_within};
pub use signal::stop_signal;
pub use threads::{ThreadFuture, WaitError, run_coroutine_threadsafe};
pub use timers::{Deadlines, call_at, call_later};
