//! async/await basics: what a Python developer knows from `asyncio`, in Tokio.
//!
//! - an `async fn` is a coroutine: calling it builds a future and runs nothing;
//! - `.await` runs it to completion, one after another ([`greet_one_after_another`]);
//! - `join_all` polls several futures at once inside the current task, like
//!   `asyncio.gather` over coroutines ([`greet_with_join_all`]);
//! - `tokio::spawn` makes a task that starts at once and may run on another thread, like
//!   `asyncio.create_task` ([`greet_in_tasks`]);
//! - the runtime is the event loop; it comes in two flavours ([`current_thread_runtime`],
//!   [`multi_thread_runtime`]);
//! - sync code enters async code through `block_on`, but never from inside a runtime
//!   ([`block_on_from_sync`]).
//!
//! Run the demo with `cargo run -p basics`.

use std::collections::HashSet;
use std::future::Future;
use std::io;
use std::thread::ThreadId;
use std::time::Duration;

use futures::future::join_all;
use tokio::runtime::{Builder, Runtime};
use tokio::task::{JoinError, JoinSet};

// ANCHOR: greet
/// A coroutine: waits without blocking the thread, then returns its greeting.
///
/// # Cancel safety
///
/// This method is cancel safe: it only waits, and has done nothing until it returns. A
/// losing `select!` branch leaves nothing behind.
pub async fn greet(name: &str, pause: Duration) -> String {
    tokio::time::sleep(pause).await;
    format!("Hello, {name}!")
}
// ANCHOR_END: greet

// ANCHOR: one_after_another
/// Awaits each greeting before starting the next: the total is the sum of the pauses.
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops the greeting in progress and
/// those gathered so far, and nothing else was started; calling it again starts over.
pub async fn greet_one_after_another(names: &[String], pause: Duration) -> Vec<String> {
    let mut greetings = Vec::with_capacity(names.len());
    for name in names {
        greetings.push(greet(name, pause).await);
    }
    greetings
}
// ANCHOR_END: one_after_another

// ANCHOR: join_all
/// Polls every greeting at once in the current task (`asyncio.gather` over coroutines):
/// the total is the longest pause, and the results keep the input order.
///
/// # Cancel safety
///
/// This method is cancel safe: the greetings live inside this future, so a drop drops them
/// all at once, as cancelling `gather` cancels its children. Nothing runs on.
pub async fn greet_with_join_all(names: &[String], pause: Duration) -> Vec<String> {
    join_all(names.iter().map(|name| greet(name, pause))).await
}
// ANCHOR_END: join_all

// ANCHOR: spawn
/// Spawns one task per greeting (`asyncio.create_task`). A task owns what it uses
/// (`'static`), starts immediately, and may run on any worker thread. A panic inside it
/// comes back as a `JoinError` instead of crashing the caller.
///
/// # Cancel safety
///
/// This method is not cancel safe: a drop does not stop the tasks. A dropped `JoinHandle`
/// detaches its task, which runs to the end, and its greeting is lost. Python cancels the
/// one task being awaited and leaves the others running. To have them all stopped, keep
/// them in a `JoinSet` (see [`spawn_with_join_set`]) or an `AbortOnDropHandle`.
pub async fn greet_in_tasks(names: &[String], pause: Duration) -> Result<Vec<String>, JoinError> {
    let handles: Vec<_> = names
        .iter()
        .map(|name| {
            let name = name.clone(); // the task must own its data
            tokio::spawn(async move { greet(&name, pause).await })
        })
        .collect();
    let mut greetings = Vec::with_capacity(handles.len());
    for handle in handles {
        greetings.push(handle.await?);
    }
    Ok(greetings)
}
// ANCHOR_END: spawn

// ANCHOR: runtimes
/// The single-threaded event loop: every task runs on the calling thread, like asyncio.
pub fn current_thread_runtime() -> io::Result<Runtime> {
    Builder::new_current_thread().enable_all().build()
}

/// The work-stealing runtime `#[tokio::main]` builds: one worker thread per core by
/// default, so tasks run in parallel.
pub fn multi_thread_runtime(workers: usize) -> io::Result<Runtime> {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
}
// ANCHOR_END: runtimes

/// Spawns `tasks` tasks that each do a little blocking work and report their thread;
/// returns how many distinct threads ran them.
///
/// # Cancel safety
///
/// This method is cancel safe: the tasks live in a `JoinSet`, whose drop aborts those not
/// yet finished, and the count is only lost, never wrong.
pub async fn threads_used(tasks: usize) -> Result<usize, JoinError> {
    let mut set = JoinSet::new();
    for _ in 0..tasks {
        set.spawn(async {
            // A short spin keeps each task busy long enough for other workers to steal.
            std::hint::black_box((0..20_000u64).sum::<u64>());
            std::thread::current().id()
        });
    }
    let mut threads: HashSet<ThreadId> = HashSet::new();
    while let Some(thread) = set.join_next().await {
        threads.insert(thread?);
    }
    Ok(threads.len())
}

// ANCHOR: block_on
/// Refused: a runtime cannot block its own thread waiting for a future.
#[derive(Debug, thiserror::Error)]
#[error(
    "already inside a Tokio runtime: .await the future instead (block_on here would deadlock the worker)"
)]
pub struct NestedRuntime;

/// Runs a future to completion from synchronous code, on a fresh current-thread runtime.
/// Inside a runtime it returns [`NestedRuntime`] instead of panicking, which is what
/// `Runtime::block_on` would do (Python raises "This event loop is already running").
pub fn block_on_from_sync<F: Future>(future: F) -> anyhow::Result<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(NestedRuntime.into());
    }
    Ok(current_thread_runtime()?.block_on(future))
}
// ANCHOR_END: block_on

// ANCHOR: spawn_many
/// The spawn benchmark: spawns `n` no-op tasks, then awaits their handles in order.
///
/// # Cancel safety
///
/// This method is not cancel safe: a drop detaches the tasks not yet awaited, and the sum
/// is lost.
pub async fn spawn_and_join_all(n: usize) -> Result<usize, JoinError> {
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(async move { i })).collect();
    let results = join_all(handles).await;
    results.into_iter().try_fold(0, |sum, r| Ok(sum + r?))
}

/// The spawn benchmark, awaiting each handle in turn: no `join_all` bookkeeping, so the
/// cheapest way to collect many tasks whose results are all needed.
///
/// # Cancel safety
///
/// This method is not cancel safe, as [`spawn_and_join_all`] is not.
pub async fn spawn_and_await_each(n: usize) -> Result<usize, JoinError> {
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(async move { i })).collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await?;
    }
    Ok(sum)
}

/// The spawn benchmark with a `JoinSet`: completion order, tasks aborted with the set.
///
/// # Cancel safety
///
/// This method is cancel safe: the `JoinSet`'s drop aborts every task not yet done.
pub async fn spawn_with_join_set(n: usize) -> Result<usize, JoinError> {
    let mut set: JoinSet<usize> = (0..n).map(|i| async move { i }).collect();
    let mut sum = 0;
    while let Some(result) = set.join_next().await {
        sum += result?;
    }
    Ok(sum)
}
// ANCHOR_END: spawn_many
