//! Producers and consumers: Python's `asyncio.Queue(maxsize)` in Tokio.
//!
//! - [`work_queue`]: a bounded multi-producer, multi-consumer queue. `put` waits while it is
//!   full (backpressure); it completes when every [`Producer`] is dropped, so no `None`
//!   sentinels are needed;
//! - [`Progress::join`]: `queue.join()`, which waits until every item put has been
//!   *processed*, not only received;
//! - [`produce`] and [`consume`]: the two loops, with a graceful stop (producers stop,
//!   consumers drain what is queued) and a hard stop (consumers set aside what is left and
//!   report it).
//!
//! Nothing is lost: for every run, `produced = processed + failed + unprocessed`.
//!
//! The channel is [flume](https://docs.rs/flume): bounded, MPMC, async. Each consumer holds a
//! receiver of its own, with no lock shared around one receiver, and it was the fastest
//! MPMC channel measured here (see the chapter). Run the demo with `cargo run -p queue`.
//!
//! | asyncio | here |
//! |---|---|
//! | `asyncio.Queue(maxsize)` | [`work_queue`]`(capacity)`: a [`Producer`], a [`Consumer`], a [`Progress`] |
//! | `await q.put(item)` / `q.put_nowait(item)` | [`Producer::put`] / [`Producer::try_put`] |
//! | `await q.get()` / `q.get_nowait()` | [`Consumer::get`] / [`Consumer::try_get`] |
//! | `q.task_done()` / `await q.join()` | [`Consumer::done`] / [`Progress::join`] |
//! | `QueueFull` | [`TryPutError::Full`] |
//! | one `None` sentinel per consumer | dropping the last [`Producer`] |
//! | cancelling the worker tasks | [`StopSignal::drain`] / [`StopSignal::abort`] |
//!
//! # Layout
//!
//! - [`channel`](mod@channel): the queue: [`work_queue`], [`Producer`], [`Consumer`], [`Progress`];
//! - [`stop`](mod@stop): [`StopSignal`], a graceful or a hard stop;
//! - [`workers`](mod@workers): the loops [`produce`] and [`consume`], and [`ConsumerReport`];
//! - [`run`](mod@run): [`run`](fn@run) spawns both on one queue; [`RunConfig`], [`RunReport`].

pub mod channel;
pub mod run;
pub mod stop;
pub mod workers;

pub use channel::{
    Consumer, NoConsumers, Producer, Progress, TooManyDone, TryPutError, work_queue,
};
pub use run::{RunConfig, RunReport, run};
pub use stop::StopSignal;
pub use workers::{ConsumerReport, consume, produce};
