//! `asyncio.run_coroutine_threadsafe`: a thread that is not the runtime's hands a future to
//! the runtime and waits for its result, with a time limit, as a
//! `concurrent.futures.Future` does.
//!
//! `loop.call_soon_threadsafe(f)` needs no type: a thread sends into a tokio channel
//! (`UnboundedSender::send` is a plain function), or calls `Handle::spawn`.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::time::Duration;

use futures::FutureExt;
use patterns_core::error::panic_message;
use tokio::runtime::Handle;
use tokio::task::AbortHandle;

/// Why [`ThreadFuture::wait`] has no value.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WaitError {
    /// The limit passed; the future still runs (`cancel` stops it).
    #[error("no result within {0:?}; the task is still running")]
    TimedOut(Duration),
    /// The future panicked.
    #[error("the task panicked: {0}")]
    Panicked(String),
    /// The task was cancelled, or the runtime shut down, before it finished.
    #[error("the task was cancelled before it finished")]
    Cancelled,
}

// ANCHOR: thread_future
/// The result of a future run on a runtime, awaited from a plain thread: the
/// `concurrent.futures.Future` that `run_coroutine_threadsafe` returns.
#[derive(Debug)]
pub struct ThreadFuture<T> {
    result: mpsc::Receiver<Result<T, String>>,
    task: AbortHandle,
}

/// Runs `future` on the runtime behind `runtime` and returns at once; call it from any
/// thread (not from inside the runtime, where you would just spawn and await).
///
/// Pass an `async` block: it builds nothing until the runtime polls it. A tokio future
/// built on the plain thread, such as `sleep(d)` itself, panics there, outside a runtime.
pub fn run_coroutine_threadsafe<F>(runtime: &Handle, future: F) -> ThreadFuture<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (send, result) = mpsc::sync_channel(1);
    let task = runtime.spawn(async move {
        // A panic is caught here and sent on, so the waiting thread hears of it.
        let outcome = AssertUnwindSafe(future).catch_unwind().await;
        let _ = send.send(outcome.map_err(|panic| panic_message(&*panic)));
    });
    ThreadFuture {
        result,
        task: task.abort_handle(),
    }
}

impl<T> ThreadFuture<T> {
    /// Blocks this thread until the result comes or `limit` passes: `future.result(timeout)`.
    /// Never call it on a runtime thread: it would block the runtime it waits for.
    pub fn wait(&self, limit: Duration) -> Result<T, WaitError> {
        match self.result.recv_timeout(limit) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(panic)) => Err(WaitError::Panicked(panic)),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(WaitError::TimedOut(limit)),
            // The task was dropped unfinished, and its sender with it.
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(WaitError::Cancelled),
        }
    }

    /// Cancels the task: `future.cancel()`.
    pub fn cancel(&self) {
        self.task.abort();
    }
}
// ANCHOR_END: thread_future
