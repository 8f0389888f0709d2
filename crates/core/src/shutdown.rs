//! Graceful shutdown for long-running programs.
//!
//! Python programs catch `KeyboardInterrupt` or cancel their tasks and `gather` them.
//! Tokio's answer is two pieces from `tokio-util`: a [`CancellationToken`] that every task
//! watches (the "please stop" signal, triggered by Ctrl-C) and a [`TaskTracker`] that
//! knows when they have all finished. [`Shutdown`] joins them and adds the last resort:
//! tasks still running after the grace period are aborted, and the report says how many.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What happened when [`Shutdown::shutdown`] ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Tasks that were still running at the deadline and were aborted.
    pub aborted: usize,
    /// Time from the start of the shutdown until every task was gone.
    pub elapsed: Duration,
}

impl ShutdownReport {
    /// Whether every task finished on its own within the grace period.
    pub fn is_clean(&self) -> bool {
        self.aborted == 0
    }
}

// ANCHOR: ctrl_c
/// Ctrl-C in two stages, as users of command-line tools expect: the returned future
/// completes at the first Ctrl-C, so the program can finish what is under way and say so;
/// a second Ctrl-C ends the process at once with exit code 130 (128 + SIGINT) and one
/// line on stderr. The handler is installed before this returns.
///
/// # Cancel safety
///
/// This function is not cancel safe: its future, dropped before the first Ctrl-C, cannot
/// put Ctrl-C back as it was, because a signal handler, once installed, stays for the life
/// of the process (tokio never restores the default action). So the drop hands the handler
/// to a task that ends the process at the next Ctrl-C, with exit code 130, as the default
/// action would have; the graceful first stage is lost. Dropped outside a runtime, nothing
/// is left to listen and a later Ctrl-C is ignored.
pub fn ctrl_c() -> std::io::Result<impl Future<Output = std::io::Result<()>> + Send + 'static> {
    let mut armed = Armed {
        interrupts: Some(Interrupts::install()?),
        first_taken: false,
    };
    Ok(async move {
        let interrupts = armed.interrupts.as_mut().expect("armed until dropped");
        if interrupts.recv().await.is_none() {
            return Err(std::io::Error::other("no more signals"));
        }
        tracing::warn!("Ctrl-C: finishing what is under way; press Ctrl-C again to stop at once");
        armed.first_taken = true;
        drop(armed); // the second stage
        Ok(())
    })
}
// ANCHOR_END: ctrl_c

/// The process's Ctrl-C signals, as a stream.
#[cfg(unix)]
struct Interrupts(tokio::signal::unix::Signal);
#[cfg(windows)]
struct Interrupts(tokio::signal::windows::CtrlC);

impl Interrupts {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
        #[cfg(windows)]
        let signal = tokio::signal::windows::ctrl_c();
        signal.map(Self)
    }

    async fn recv(&mut self) -> Option<()> {
        self.0.recv().await
    }
}

/// The installed handler of a [`ctrl_c`] future. Dropped, after the first Ctrl-C or
/// before it, it leaves a task that ends the process at the next one.
struct Armed {
    interrupts: Option<Interrupts>,
    first_taken: bool,
}

impl Drop for Armed {
    fn drop(&mut self) {
        let Some(mut interrupts) = self.interrupts.take() else {
            return;
        };
        let message = if self.first_taken {
            "error: Ctrl-C twice: stopped at once"
        } else {
            "error: Ctrl-C: stopped at once"
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if interrupts.recv().await.is_some() {
                    eprintln!("{message}");
                    std::process::exit(130);
                }
            });
        }
    }
}

// ANCHOR: shutdown
/// A shutdown signal plus the tasks that must end before the program does.
/// Cloning is cheap; clones share the same signal and tasks.
// ANCHOR: shutdown_struct
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
    tracker: TaskTracker,
    abort_handles: Arc<Mutex<Vec<AbortHandle>>>,
}
// ANCHOR_END: shutdown_struct

impl Shutdown {
    /// A signal not yet triggered, with no tasks.
    pub fn new() -> Self {
        Self::default()
    }

    /// The token tasks watch: `token.cancelled().await` in a `select!`.
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Triggers shutdown when the process receives Ctrl-C (SIGINT); a second Ctrl-C stops
    /// the process at once (see [`ctrl_c`]). The handler is installed before this returns,
    /// so no early Ctrl-C can slip past and kill the process.
    pub fn trigger_on_ctrl_c(&self) -> std::io::Result<()> {
        let token = self.token.clone();
        let first = ctrl_c()?;
        tokio::spawn(async move {
            if first.await.is_ok() {
                token.cancel();
            }
        });
        Ok(())
    }

    /// Asks every task to stop.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Completes when shutdown has been triggered.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only waits, and a later call sees a trigger that
    /// came in between.
    pub async fn triggered(&self) {
        self.token.cancelled().await;
    }

    /// Spawns a task that shutdown will wait for (and abort if it is too slow).
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = self.tracker.spawn(task);
        let mut handles = self
            .abort_handles
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Forget finished tasks now and then, so the list stays as long as the live set.
        if handles.len() == handles.capacity() {
            handles.retain(|h| !h.is_finished());
        }
        handles.push(handle.abort_handle());
        handle
    }

    // ANCHOR: shutdown_method
    /// Triggers shutdown, waits up to `grace` for the tasks to finish, aborts those still
    /// running, and waits until they are gone.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: the trigger happens at the first poll and stays,
    /// so a losing `select!` branch has still asked every task to stop. Dropped before the grace period
    /// ends, it aborts nothing: the tasks run on, and a later `shutdown` waits for them
    /// again (with its own grace period) and aborts what is left.
    pub async fn shutdown(&self, grace: Duration) -> ShutdownReport {
        let started = Instant::now();
        self.trigger();
        self.tracker.close();
        let mut aborted = 0;
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            aborted = self.abort_stragglers();
            tracing::warn!(
                aborted,
                ?grace,
                "tasks still running after the grace period were aborted"
            );
            self.tracker.wait().await;
        }
        ShutdownReport {
            aborted,
            elapsed: started.elapsed(),
        }
    }
    // ANCHOR_END: shutdown_method

    /// Aborts every tracked task still running; returns how many. Synchronous, so the
    /// std mutex guard can never be held across an await.
    fn abort_stragglers(&self) -> usize {
        let handles = self
            .abort_handles
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let running: Vec<_> = handles.iter().filter(|h| !h.is_finished()).collect();
        for handle in &running {
            handle.abort();
        }
        running.len()
    }
}
// ANCHOR_END: shutdown
