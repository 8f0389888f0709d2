//! Coordination between tasks: the asyncio primitives that have no one-line tokio twin.
//!
//! - [`Event`]: `asyncio.Event`, a flag tasks wait for, built on a `watch` channel;
//! - [`PriorityQueue`] and [`LifoQueue`]: `asyncio.PriorityQueue` and `asyncio.LifoQueue`,
//!   an ordinary collection behind a lock, with a `Semaphore` counting its items;
//! - [`TaskGroup`]: `asyncio.TaskGroup`, the first failure cancels the other tasks, and every
//!   outcome comes back, errors and panics included, like an `ExceptionGroup`;
//! - [`until_first_failure`]: `asyncio.wait(tasks, return_when=FIRST_EXCEPTION)`.
//!
//! The primitives tokio has as they are (`Barrier`, `Notify`, `watch`, `oneshot`,
//! `yield_now`, task ids) are shown in the demo and the tests, not wrapped here.
//!
//! ```text
//! cargo run -p coordination
//! cargo test -p coordination
//! ```

mod event;
mod group;
mod ordered;

pub use event::Event;
pub use group::{Failure, GroupError, TaskGroup, until_first_failure};
pub use ordered::{
    LifoQueue, LowestFirst, NewestFirst, Order, OrderedQueue, PriorityQueue, PutError,
};
