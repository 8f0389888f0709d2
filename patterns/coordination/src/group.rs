//! `asyncio.TaskGroup` and `asyncio.wait(..., return_when=FIRST_EXCEPTION)` on a `JoinSet`.
//!
//! A `JoinSet` already aborts its tasks when dropped. What `asyncio.TaskGroup` adds, and
//! [`TaskGroup`] copies: the first failure cancels the other tasks, the group waits until
//! every cancelled task is gone (its destructors have run), and every failure comes back
//! together, as an `ExceptionGroup` does, with what the other tasks finished.
//!
//! One thing cannot be copied: a drop cannot wait. Python's `async with` block, left by
//! an exception, cancels its tasks and awaits them before the exception goes on; a group
//! dropped by `?` only aborts them. [`TaskGroup::cancel`] is the awaited exit.

use std::collections::HashMap;
use std::future::Future;

use patterns_core::error::panic_message;
use tokio::task::{self, JoinError, JoinSet};

/// How one task failed.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure<E> {
    /// The task returned `Err`.
    Error(E),
    /// The task panicked; the panic's message.
    Panic(String),
}

impl<E> Failure<E> {
    /// A task's end that was not a value: a panic, or `None` for a cancelled task.
    fn from_join_error(error: JoinError) -> Option<Self> {
        let panic = error.try_into_panic().ok()?;
        Some(Self::Panic(panic_message(&*panic)))
    }
}

/// Every task's outcome when a [`TaskGroup`] failed: each task is in exactly one list.
/// Tasks are named by the index [`TaskGroup::spawn`] returned.
#[derive(Debug, thiserror::Error)]
#[error("{} of {} tasks failed", failures.len(), failures.len() + finished.len() + cancelled.len())]
pub struct GroupError<T, E> {
    /// Every failure, in the order they happened: the first one cancelled the rest.
    pub failures: Vec<(usize, Failure<E>)>,
    /// Tasks that returned a value before they could be cancelled.
    pub finished: Vec<(usize, T)>,
    /// Tasks cancelled because of the first failure.
    pub cancelled: Vec<usize>,
}

// ANCHOR: group
/// Tasks that succeed together or fail together, like `async with asyncio.TaskGroup()`.
#[derive(Debug)]
pub struct TaskGroup<T, E> {
    tasks: JoinSet<Result<T, E>>,
    /// Spawn order, so results come back in it.
    index: HashMap<task::Id, usize>,
}

impl<T: Send + 'static, E: Send + 'static> TaskGroup<T, E> {
    pub fn new() -> Self {
        Self {
            tasks: JoinSet::new(),
            index: HashMap::new(),
        }
    }

    /// Starts `task` at once, as `tg.create_task(coro)`; returns its index.
    pub fn spawn(&mut self, task: impl Future<Output = Result<T, E>> + Send + 'static) -> usize {
        let index = self.index.len();
        let id = self.tasks.spawn(task).id();
        self.index.insert(id, index);
        index
    }
    // ANCHOR_END: group

    // ANCHOR: join
    /// Waits for every task. All succeeded: their values, in spawn order. Otherwise the
    /// first failure (an `Err` or a panic) aborted the rest, and the error holds every
    /// task's outcome. Either way no task is left running when this returns.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: a dropped `join` drops the group, and the values
    /// already returned are lost with it. Every task still running is aborted, but not
    /// awaited (see [`TaskGroup::cancel`]): a task's cleanup runs when the runtime next
    /// gets to it, which may be after the drop has returned.
    pub async fn join(mut self) -> Result<Vec<T>, GroupError<T, E>> {
        let mut values = Vec::new();
        let mut failures = Vec::new();
        let mut cancelled = Vec::new();
        while let Some(end) = self.tasks.join_next_with_id().await {
            let (index, failure) = match end {
                Ok((id, Ok(value))) => {
                    values.push((self.index[&id], value));
                    continue;
                }
                Ok((id, Err(error))) => (self.index[&id], Failure::Error(error)),
                Err(error) => {
                    let index = self.index[&error.id()];
                    match Failure::from_join_error(error) {
                        Some(panic) => (index, panic),
                        None => {
                            cancelled.push(index);
                            continue;
                        }
                    }
                }
            };
            failures.push((index, failure));
            // Cancels the others; the loop goes on until each one has ended.
            self.tasks.abort_all();
        }
        outcome(values, failures, cancelled)
    }
    // ANCHOR_END: join
}

impl<T: Send + 'static, E: Send + 'static> TaskGroup<T, E> {
    // ANCHOR: cancel
    /// Aborts every task and waits until each one is gone, its destructors run: what
    /// `async with asyncio.TaskGroup()` does when its body raises. Call it on the error
    /// path of the code before [`TaskGroup::join`]. A group that is only dropped aborts its
    /// tasks without waiting, as every `JoinSet` does, so their cleanups may still be
    /// running when the error reaches the caller.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped, it drops the group, and the tasks not yet
    /// gone are aborted without being awaited, as by a plain drop.
    pub async fn cancel(mut self) {
        self.tasks.shutdown().await;
    }
    // ANCHOR_END: cancel
}

/// Every task ended: their values in spawn order, or the error that accounts for each.
fn outcome<T, E>(
    mut values: Vec<(usize, T)>,
    failures: Vec<(usize, Failure<E>)>,
    mut cancelled: Vec<usize>,
) -> Result<Vec<T>, GroupError<T, E>> {
    values.sort_by_key(|(index, _)| *index);
    if failures.is_empty() && cancelled.is_empty() {
        return Ok(values.into_iter().map(|(_, value)| value).collect());
    }
    cancelled.sort_unstable();
    Err(GroupError {
        failures,
        finished: values,
        cancelled,
    })
}

impl<T: Send + 'static, E: Send + 'static> Default for TaskGroup<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

// ANCHOR: first_failure
/// `asyncio.wait(tasks, return_when=FIRST_EXCEPTION)`: waits until a task fails or every
/// task has ended. Values go into `done` as they come; the tasks still running stay in
/// `tasks`, running, for the caller to wait for or abort.
///
/// # Cancel safety
///
/// This method is cancel safe: `JoinSet::join_next` is, and every value taken from the set
/// is already in `done`, so a losing `select!` branch loses nothing, and the call can be
/// made again.
pub async fn until_first_failure<T: 'static, E: 'static>(
    tasks: &mut JoinSet<Result<T, E>>,
    done: &mut Vec<T>,
) -> Option<Failure<E>> {
    while let Some(end) = tasks.join_next().await {
        match end {
            Ok(Ok(value)) => done.push(value),
            Ok(Err(error)) => return Some(Failure::Error(error)),
            Err(error) => {
                if let Some(panic) = Failure::from_join_error(error) {
                    return Some(panic);
                }
            }
        }
    }
    None
}
// ANCHOR_END: first_failure
