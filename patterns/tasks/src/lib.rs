//! Tasks: creating, managing and cancelling them, and where Tokio differs from asyncio.
//!
//! - [`fetch_in_background`]: start tasks, do other work, await them (`create_task`);
//! - [`TaskFailure`]: a panicking task is a `JoinError`, not a crash of the caller;
//! - [`Cleanup`]: cleanup by `Drop`, which runs when a task is aborted or a future dropped;
//! - [`fetch_until_cancelled`]: cooperative cancellation with a `CancellationToken` and
//!   `select!`, followed by a cleanup step that itself awaits;
//! - [`run_workers`]: graceful shutdown, where tasks get a grace period and stragglers are aborted;
//! - [`sum_until_cancelled`]: `spawn_blocking` work cannot be aborted, so it checks a token.
//!
//! Run the demo with `cargo run -p tasks`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use patterns_core::{Shutdown, ShutdownReport};
use reqwest::Client;
use tokio::task::JoinError;
use tokio_util::sync::CancellationToken;

/// GETs `url` and returns the body's length; a non-2xx status is an error too.
async fn fetch(client: &Client, url: &str) -> reqwest::Result<usize> {
    let response = client.get(url).send().await?.error_for_status()?;
    Ok(response.bytes().await?.len())
}

// ANCHOR: background
/// Starts one task per URL, does `other_work` while they run, then awaits them all
/// (Python's `create_task` ... other work ... `await task`).
///
/// # Cancel safety
///
/// This method is not cancel safe: a drop drops `other_work` and the `JoinHandle`s, which
/// detaches the tasks: their requests run to the end and the results are lost. Python
/// cancels the one task being awaited and leaves the others running. Keep tasks in a
/// `JoinSet` to have them all aborted instead.
pub async fn fetch_in_background<W: Future>(
    client: &Client,
    urls: &[String],
    other_work: W,
) -> (W::Output, Vec<Result<reqwest::Result<usize>, TaskFailure>>) {
    let handles: Vec<_> = urls
        .iter()
        .map(|url| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move { fetch(&client, &url).await })
        })
        .collect();
    // The tasks are already running: spawning does not wait for an .await.
    let other = other_work.await;
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await.map_err(TaskFailure::from));
    }
    (other, results)
}
// ANCHOR_END: background

// ANCHOR: task_failure
/// Why a task produced no value: it panicked, or it was aborted (cancelled).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskFailure {
    /// The task panicked; the panic's message, when it had one.
    #[error("task panicked: {0}")]
    Panicked(String),
    /// The task was aborted before it finished.
    #[error("task was cancelled")]
    Cancelled,
}

impl From<JoinError> for TaskFailure {
    fn from(error: JoinError) -> Self {
        if error.is_cancelled() {
            return Self::Cancelled;
        }
        let payload = error.into_panic();
        Self::Panicked(patterns_core::error::panic_message(payload.as_ref()))
    }
}
// ANCHOR_END: task_failure

/// A shared, ordered record of what tasks did, for demos and tests.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    /// Records one event.
    pub fn push(&self, event: impl Into<String>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event.into());
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

// ANCHOR: cleanup
/// Cleanup that needs no `.await` belongs in `Drop`: it runs when the task finishes,
/// when it is aborted, and when its future is dropped anywhere (a `select!`, a timeout).
#[derive(Debug)]
pub struct Cleanup {
    name: String,
    journal: Journal,
}

impl Cleanup {
    /// Arms a cleanup that records `"{name} cleaned up"` when dropped.
    pub fn new(name: impl Into<String>, journal: &Journal) -> Self {
        Self {
            name: name.into(),
            journal: journal.clone(),
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.journal.push(format!("{} cleaned up", self.name));
    }
}
// ANCHOR_END: cleanup

/// What a cooperative worker did before it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerReport {
    /// The worker's name.
    pub name: String,
    /// Requests it completed.
    pub completed: usize,
    /// Whether its final, awaited cleanup step (the checkpoint request) succeeded.
    pub checkpointed: bool,
}

// ANCHOR: cooperative
/// Fetches `url` in a loop until `token` is cancelled, then awaits a cleanup step: one
/// last request to `checkpoint_url`. The request in flight when the token fires is
/// dropped by `select!`, which cancels it; the cleanup still runs, because cancellation
/// here is a value the task reacts to, not the task being dropped.
///
/// # Cancel safety
///
/// This method is not cancel safe: a drop is the other kind of cancellation. the request in
/// flight is dropped and the cleanup never runs, because there is no code left to run it.
/// Python's `except CancelledError:` would still run; here, cancel the token and await this
/// instead.
pub async fn fetch_until_cancelled(
    name: &str,
    client: &Client,
    url: &str,
    checkpoint_url: &str,
    token: &CancellationToken,
) -> WorkerReport {
    let mut completed = 0;
    loop {
        tokio::select! {
            // `biased`: look at the token first, so a cancelled worker never starts more work.
            biased;
            () = token.cancelled() => break,
            result = fetch(client, url) => match result {
                Ok(_) => completed += 1,
                Err(error) => tracing::warn!(%error, "{name}: request failed"),
            },
        }
    }
    // The async cleanup Python writes in `except CancelledError:` or `finally:`.
    let checkpointed = fetch(client, checkpoint_url).await.is_ok();
    WorkerReport {
        name: name.to_owned(),
        completed,
        checkpointed,
    }
}
// ANCHOR_END: cooperative

/// The outcome of [`run_workers`].
#[derive(Debug)]
pub struct WorkersSummary {
    /// Reports of the workers that stopped by themselves, in the order they stopped.
    pub finished: Vec<WorkerReport>,
    /// What the shutdown did: how many stragglers it aborted, how long it took.
    pub shutdown: ShutdownReport,
}

// ANCHOR: run_workers
/// Runs `cooperative` workers that honour the shutdown signal and `stubborn` ones that
/// ignore it, until `shutdown` is triggered (by Ctrl-C, a timer, a test). Then gives them
/// `grace` to finish and aborts the rest.
///
/// # Cancel safety
///
/// This method is not cancel safe: the workers belong to `shutdown`, not to this future, so
/// a drop stops the waiting and leaves them running, and the reports of the cooperative
/// ones are lost. Trigger `shutdown` and await `shutdown.shutdown(grace)` to stop them.
pub async fn run_workers(
    client: &Client,
    url: &str,
    checkpoint_url: &str,
    cooperative: usize,
    stubborn: usize,
    shutdown: &Shutdown,
    grace: Duration,
) -> WorkersSummary {
    let finished = Arc::new(Mutex::new(Vec::new()));
    spawn_cooperative(
        client,
        url,
        checkpoint_url,
        cooperative,
        shutdown,
        &finished,
    );
    spawn_stubborn(client, url, stubborn, shutdown);
    stop_workers(shutdown, grace, &finished).await
}
// ANCHOR_END: run_workers

// ANCHOR: run_workers_spawn

/// Workers that fetch until the token is cancelled, then report what they did.
fn spawn_cooperative(
    client: &Client,
    url: &str,
    checkpoint_url: &str,
    count: usize,
    shutdown: &Shutdown,
    finished: &Arc<Mutex<Vec<WorkerReport>>>,
) {
    for i in 0..count {
        let (client, url, checkpoint) = (client.clone(), url.to_owned(), checkpoint_url.to_owned());
        let (token, finished) = (shutdown.token(), finished.clone());
        shutdown.spawn(async move {
            let name = format!("worker {i}");
            let report = fetch_until_cancelled(&name, &client, &url, &checkpoint, &token).await;
            finished
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(report);
        });
    }
}

/// Workers that never look at the token: only the abort after the grace period stops them.
fn spawn_stubborn(client: &Client, url: &str, count: usize, shutdown: &Shutdown) {
    for _ in 0..count {
        let (client, url) = (client.clone(), url.to_owned());
        shutdown.spawn(async move {
            loop {
                let _ = fetch(&client, &url).await;
            }
        });
    }
}
// ANCHOR_END: run_workers_spawn

// ANCHOR: run_workers_shutdown
/// Waits for the signal, gives the workers `grace` to finish, aborts the rest, and
/// collects the reports of those that finished.
async fn stop_workers(
    shutdown: &Shutdown,
    grace: Duration,
    finished: &Mutex<Vec<WorkerReport>>,
) -> WorkersSummary {
    shutdown.triggered().await;
    let report = shutdown.shutdown(grace).await;
    let finished = std::mem::take(&mut *finished.lock().unwrap_or_else(PoisonError::into_inner));
    WorkersSummary {
        finished,
        shutdown: report,
    }
}
// ANCHOR_END: run_workers_shutdown

/// Blocking work that was told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled after {done} of {limit} steps")]
pub struct Stopped {
    /// Steps done before noticing the token.
    pub done: u64,
    /// Steps asked for.
    pub limit: u64,
}

// ANCHOR: blocking
/// CPU-bound, synchronous work for `spawn_blocking`. `abort()` cannot stop a blocking
/// thread (there is no `.await` to stop it at), so the work checks the token itself,
/// every `check_every` steps.
pub fn sum_until_cancelled(
    limit: u64,
    check_every: u64,
    token: &CancellationToken,
) -> Result<u64, Stopped> {
    let mut sum = 0u64;
    for step in 0..limit {
        if step % check_every == 0 && token.is_cancelled() {
            return Err(Stopped { done: step, limit });
        }
        sum = sum.wrapping_add(std::hint::black_box(step));
    }
    Ok(sum)
}
// ANCHOR_END: blocking
