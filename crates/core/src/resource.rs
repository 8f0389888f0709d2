//! Async resources and the scope that always releases them: Rust's `async with`.
//!
//! Python's `async with Conn() as c:` calls `__aenter__`, runs the block, then awaits
//! `__aexit__` whatever happened. Rust has no async `Drop`, so release cannot hide in a
//! destructor: it is an `async fn` that somebody must await. This module offers three
//! honest tools:
//!
//! - [`AsyncResource`]: a resource whose release is asynchronous (`__aexit__`).
//! - [`scoped`]: runs a body with the resource and awaits the release after success,
//!   after an error and after a panic (the `async with` block).
//! - [`Guarded`]: a guard for code that cannot be written as one closure; if it is dropped
//!   without [`Guarded::release`], it hands the release to the runtime and logs a warning.
//!
//! **Cancellation.** If the future of a scope is dropped (a `timeout`, `select!` or
//! `abort` cancelled it), there is nobody left to await the release. The documented
//! behaviour of this crate is: the release is *spawned on the current Tokio runtime* and a
//! `WARN` event is logged. Outside a runtime it cannot run, and an `ERROR` event says the
//! resource leaked. Once started, a release is never cut short by the scope: it runs in a
//! task of its own, so cancelling the scope during release does not stop it.
//!
//! **Runtime shutdown.** When `main` returns, the runtime drops every task still running,
//! and then every release those drops hand over: no release can run once the runtime is
//! going. Each such loss is reported by an `ERROR` event ("the runtime shut down before the
//! release finished; resource leaked"). A program that must never lose one ends the tasks
//! that hold resources ([`Shutdown::shutdown`](crate::Shutdown::shutdown), or `abort` and
//! await their handles), then awaits [`background_releases`] before `main` returns; that is
//! what `asyncio.run` does for you when it cancels and awaits the leftover tasks.

use std::any::type_name;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, resume_unwind};
use std::sync::LazyLock;

use futures::FutureExt;
use tokio_util::task::TaskTracker;

// ANCHOR: trait
/// A resource that is released asynchronously: the `__aexit__` half of an async
/// context manager. Opening is just an `async fn` that returns the resource
/// (the `__aenter__` half), so it needs no trait method.
pub trait AsyncResource: Send + 'static {
    /// Releases the resource. Called exactly once by [`scoped`], [`Guarded`] and
    /// [`ExitStack`](crate::ExitStack).
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe in general, and need not be: [`scoped`], [`Guarded`]
    /// and [`ExitStack`](crate::ExitStack) run it in a task of its own, so they never drop
    /// it half-way. Code that awaits it directly, and may drop it, must expect a release
    /// half done.
    fn release(self) -> impl Future<Output = anyhow::Result<()>> + Send;
}
// ANCHOR_END: trait

/// What went wrong in a [`scoped`] block. The body's error is never hidden by a release
/// error: when both fail, both are kept.
#[derive(Debug)]
pub enum ScopeError<E> {
    /// The body failed; the release succeeded.
    Body(E),
    /// The body succeeded; the release failed.
    Release(anyhow::Error),
    /// Both failed.
    BodyAndRelease {
        /// The body's error, the one that matters most.
        body: E,
        /// The release's error.
        release: anyhow::Error,
    },
}

impl<E> ScopeError<E> {
    /// The body's error, if the body failed.
    pub fn body(&self) -> Option<&E> {
        match self {
            Self::Body(e) | Self::BodyAndRelease { body: e, .. } => Some(e),
            Self::Release(_) => None,
        }
    }

    /// The release's error, if the release failed.
    pub fn release(&self) -> Option<&anyhow::Error> {
        match self {
            Self::Release(e) | Self::BodyAndRelease { release: e, .. } => Some(e),
            Self::Body(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for ScopeError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Body(e) => write!(f, "{e}"),
            Self::Release(e) => write!(f, "release failed: {e:#}"),
            Self::BodyAndRelease { body, release } => {
                write!(f, "{body} (and the release failed too: {release:#})")
            }
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ScopeError<E> {}

// ANCHOR: scoped
// ANCHOR: scoped_body
/// Runs `body` with `resource`, then releases the resource, whatever the body did.
///
/// - success: the body's value, or [`ScopeError::Release`] if the release failed;
/// - error: [`ScopeError::Body`] (or [`ScopeError::BodyAndRelease`]);
/// - panic: the resource is released, then the panic resumes;
/// - cancellation (this future dropped): see below.
///
/// # Cancel safety
///
/// This method is cancel safe: the resource is released on every path. A losing
/// `select!` branch drops the body where it waits (what the body had half done is the
/// body's own affair); the release is then spawned on the runtime, with a `WARN` event.
/// Dropped during the release, the release goes on in its own task. Either way
/// [`background_releases`] waits for it, and a release that the runtime's shutdown drops
/// is reported by an `ERROR` event (see the [module docs](self)). Python's `async with`,
/// cancelled, awaits `__aexit__` in the cancelled task itself.
pub async fn scoped<R, T, E>(
    resource: R,
    body: impl AsyncFnOnce(&mut R) -> Result<T, E>,
) -> Result<T, ScopeError<E>>
where
    R: AsyncResource,
{
    let mut guard = Guarded::new(resource);
    // catch_unwind lets the release run before a panic continues upwards.
    let outcome = AssertUnwindSafe(body(&mut guard)).catch_unwind().await;
    let released = guard.release().await;
    match (outcome, released) {
        (Err(panic), released) => {
            if let Err(e) = released {
                tracing::error!(error = %format!("{e:#}"), "release failed while a panic unwound");
            }
            resume_unwind(panic)
        }
        (Ok(Ok(value)), Ok(())) => Ok(value),
        (Ok(Ok(_)), Err(release)) => Err(ScopeError::Release(release)),
        (Ok(Err(body)), Ok(())) => Err(ScopeError::Body(body)),
        (Ok(Err(body)), Err(release)) => Err(ScopeError::BodyAndRelease { body, release }),
    }
}
// ANCHOR_END: scoped_body
// ANCHOR_END: scoped

// ANCHOR: guarded
/// Owns a resource until it is released with [`Guarded::release`]. Dereferences to the
/// resource. Dropping it unreleased spawns the release on the runtime (see the
/// [module docs](self)), so a forgotten or cancelled release is loud, never silent.
pub struct Guarded<R: AsyncResource> {
    resource: Option<R>,
}

impl<R: AsyncResource> Guarded<R> {
    /// Takes charge of an opened resource.
    pub fn new(resource: R) -> Self {
        Self {
            resource: Some(resource),
        }
    }

    /// Releases the resource and waits for the release to finish.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. The release runs in its own task, so a dropped call
    /// stops the waiting, never the release, and [`background_releases`] waits for it;
    /// its error then reaches nobody.
    pub async fn release(mut self) -> anyhow::Result<()> {
        match self.resource.take() {
            Some(resource) => run_to_completion(type_name::<R>(), resource.release()).await,
            None => Ok(()),
        }
    }
}
// ANCHOR_END: guarded

impl<R: AsyncResource> Deref for Guarded<R> {
    type Target = R;
    fn deref(&self) -> &R {
        // Invariant: `resource` is `None` only after `release` consumed `self`.
        self.resource
            .as_ref()
            .expect("resource present until release")
    }
}

impl<R: AsyncResource> DerefMut for Guarded<R> {
    fn deref_mut(&mut self) -> &mut R {
        self.resource
            .as_mut()
            .expect("resource present until release")
    }
}

impl<R: AsyncResource + fmt::Debug> fmt::Debug for Guarded<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guarded")
            .field("resource", &self.resource)
            .finish()
    }
}

// ANCHOR: guarded_drop
impl<R: AsyncResource> Drop for Guarded<R> {
    fn drop(&mut self) {
        if let Some(resource) = self.resource.take() {
            release_in_background(type_name::<R>(), resource.release());
        }
    }
}
// ANCHOR_END: guarded_drop

/// Runs a release in a task of its own and waits for it, so that dropping the waiting
/// future cannot interrupt the release half-way. A panic in the release becomes an error.
/// The task is tracked like a background release, so [`background_releases`] also waits
/// for a release whose waiter was dropped.
pub(crate) async fn run_to_completion<T: Send + 'static>(
    what: &'static str,
    release: impl Future<Output = anyhow::Result<T>> + Send + 'static,
) -> anyhow::Result<T> {
    match tokio::spawn(tracked_release(what, release)).await {
        Ok(result) => result,
        Err(join_error) => Err(anyhow::anyhow!("release task failed: {join_error}")),
    }
}

/// The releases handed to tasks ([`run_to_completion`], [`release_in_background`]), so
/// that a program can wait for them before it exits ([`background_releases`]).
static BACKGROUND: LazyLock<TaskTracker> = LazyLock::new(TaskTracker::new);

/// `release`, tracked on [`BACKGROUND`], with a panic turned into an error. If the task is
/// dropped before the release has finished (the runtime shut down with it), an `ERROR`
/// event says that the resource leaked, so a lost release is never silent.
fn tracked_release<T>(
    what: &'static str,
    release: impl Future<Output = anyhow::Result<T>> + Send + 'static,
) -> impl Future<Output = anyhow::Result<T>> + Send + 'static {
    let unfinished = Unfinished { what };
    BACKGROUND.track_future(async move {
        let result = match AssertUnwindSafe(release).catch_unwind().await {
            Ok(result) => result,
            Err(panic) => Err(anyhow::anyhow!(
                "release panicked: {}",
                panic_message(&*panic)
            )),
        };
        std::mem::forget(unfinished); // finished: nothing to report
        result
    })
}

/// Reports, when dropped, a release that never finished. Moved into the release's future,
/// so it is dropped with that future even when the future was never polled.
struct Unfinished {
    what: &'static str,
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        tracing::error!(
            resource = self.what,
            "the runtime shut down before the release finished; resource leaked \
             (end the tasks that hold resources, then await background_releases, before main returns)"
        );
    }
}

/// The text of a panic's payload, for an error message.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("a non-string payload")
}

/// Waits until every release handed to a task has finished, including those handed over
/// while it waits. Call it before a program returns from `main` after dropping work in
/// progress (a Ctrl-C, a timeout): the runtime's shutdown would otherwise drop those
/// releases half-way, and each one dropped is reported by an `ERROR` event. Tasks that
/// still hold a resource must end first (abort them and await their handles, or
/// [`Shutdown::shutdown`](crate::Shutdown::shutdown)): their releases start only when
/// they are dropped. [`app::interruptible`](crate::app::interruptible) does this.
///
/// # Cancel safety
///
/// This method is cancel safe. A dropped call stops waiting and no release is stopped;
/// a later call waits for the same releases.
pub async fn background_releases() {
    // A closed tracker's `wait` completes whenever no release is running; releases
    // spawned later are still tracked, so a later call waits for them too.
    BACKGROUND.close();
    BACKGROUND.wait().await;
}

/// The drop-time fallback: hand the release to the runtime, or report the leak.
pub(crate) fn release_in_background(
    what: &'static str,
    release: impl Future<Output = anyhow::Result<()>> + Send + 'static,
) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            tracing::warn!(
                resource = what,
                "dropped before release; releasing in the background"
            );
            let release = tracked_release(what, release);
            runtime.spawn(async move {
                if let Err(e) = release.await {
                    tracing::error!(resource = what, error = %format!("{e:#}"), "background release failed");
                }
            });
        }
        Err(_) => {
            tracing::error!(
                resource = what,
                "dropped outside a Tokio runtime; release skipped, resource leaked"
            );
        }
    }
}
