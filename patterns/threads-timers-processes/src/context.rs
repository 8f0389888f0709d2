//! `contextvars` as a `task_local!`: a value set for one task and everything it awaits,
//! read without passing it down every call.
//!
//! The difference from asyncio: `asyncio.create_task` copies the current context into the
//! new task, so a request id follows work spawned for the request. `tokio::spawn` does not:
//! a task local is set by `scope` for the future it wraps, and a spawned task is another
//! future. [`spawn_with_request_id`] carries it over by hand. (For logs, a `tracing` span
//! with `.instrument(span)` is the idiomatic carrier, and it has the same rule.)

use std::future::Future;

use tokio::task::JoinHandle;

// ANCHOR: context
tokio::task_local! {
    /// The request being served, for logs and errors: a `ContextVar("request_id")`.
    static REQUEST_ID: u64;
}

/// Runs `future` with `id` as its request id: `request_id.set(id)` for that future only.
///
/// # Cancel safety
///
/// This function is cancel safe when `future` is: a drop drops `future`, and the id goes
/// with it.
pub async fn with_request_id<F: Future>(id: u64, future: F) -> F::Output {
    REQUEST_ID.scope(id, future).await
}

/// The current request id: `request_id.get(None)`.
pub fn request_id() -> Option<u64> {
    REQUEST_ID.try_with(|id| *id).ok()
}

/// `tokio::spawn`, carrying the current request id into the new task, as
/// `asyncio.create_task` copies the context.
pub fn spawn_with_request_id<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match request_id() {
        Some(id) => tokio::spawn(REQUEST_ID.scope(id, future)),
        None => tokio::spawn(future),
    }
}
// ANCHOR_END: context
