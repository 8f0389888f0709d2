//! An async exit stack: Python's `contextlib.AsyncExitStack`.
//!
//! Enter any number of resources decided at run time; they are released in reverse
//! order of entry, every one of them even when some releases fail, and every failure is
//! reported. Use it through [`with_exit_stack`], which also unwinds what was already
//! entered when a later entry (or anything else in the body) fails.
//!
//! The stack owns its resources, so the body borrows them through typed [`Handle`]s:
//! `stack.get(handle)`. That is the Rust shape of Python's "the stack holds the exit
//! callbacks, you hold the objects".

use std::any::{Any, type_name};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::resource::{
    AsyncResource, ScopeError, panic_message, release_in_background, run_to_completion, scoped,
};

/// Resources of any type behind one trait object, so one stack can hold them all.
trait Releasable: Any + Send {
    fn release_boxed(self: Box<Self>) -> BoxFuture<'static, anyhow::Result<()>>;
}

impl<R: AsyncResource> Releasable for R {
    fn release_boxed(self: Box<Self>) -> BoxFuture<'static, anyhow::Result<()>> {
        (*self).release().boxed()
    }
}

enum Entry {
    Resource(Box<dyn Releasable>),
    Callback(BoxFuture<'static, anyhow::Result<()>>),
}

struct Slot {
    /// What the entry is, for error reports and logs.
    label: &'static str,
    entry: Entry,
}

impl Slot {
    fn release(self) -> BoxFuture<'static, anyhow::Result<()>> {
        match self.entry {
            Entry::Resource(resource) => resource.release_boxed(),
            Entry::Callback(callback) => callback,
        }
    }
}

/// A typed reference to a resource held by an [`ExitStack`]. Cheap to copy.
pub struct Handle<R> {
    stack_id: u64,
    index: usize,
    _type: PhantomData<fn() -> R>,
}

impl<R> Clone for Handle<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Handle<R> {}

impl<R> fmt::Debug for Handle<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle<{}>({})", type_name::<R>(), self.index)
    }
}

/// One failed release, with the name of what failed.
#[derive(Debug)]
pub struct ReleaseFailure {
    /// The type (or callback label) whose release failed.
    pub label: &'static str,
    /// Why.
    pub error: anyhow::Error,
}

/// Every release that failed when an [`ExitStack`] closed, in release order.
#[derive(Debug, thiserror::Error)]
#[error("{} release(s) failed: {}", .failures.len(), describe(.failures))]
pub struct ReleaseErrors {
    /// The failures, in the order the releases ran (last entered first).
    pub failures: Vec<ReleaseFailure>,
}

fn describe(failures: &[ReleaseFailure]) -> String {
    let parts: Vec<String> = failures
        .iter()
        .map(|f| format!("{}: {:#}", f.label, f.error))
        .collect();
    parts.join("; ")
}

// ANCHOR: exit_stack_struct
/// Holds resources entered at run time and releases them last-in, first-out.
pub struct ExitStack {
    id: u64,
    slots: Vec<Slot>,
}

impl ExitStack {
    /// An empty stack.
    pub fn new() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            slots: Vec::new(),
        }
    }

    /// Awaits `open` and keeps the resource it yields (`enter_async_context`). If opening
    /// fails nothing is pushed, and the error is returned for the body to propagate.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. Dropped while `open` is pending, `open` is dropped with it and the
    /// stack is unchanged; once `open` has returned, the resource is pushed in the same
    /// poll, so no opened resource can fall between the two.
    pub async fn enter<R, E>(
        &mut self,
        open: impl Future<Output = Result<R, E>>,
    ) -> Result<Handle<R>, E>
    where
        R: AsyncResource,
    {
        Ok(self.push(open.await?))
    }

    /// Keeps an already opened resource.
    pub fn push<R: AsyncResource>(&mut self, resource: R) -> Handle<R> {
        self.slots.push(Slot {
            label: type_name::<R>(),
            entry: Entry::Resource(Box::new(resource)),
        });
        Handle {
            stack_id: self.id,
            index: self.slots.len() - 1,
            _type: PhantomData,
        }
    }

    /// Registers a cleanup to await at close time (`push_async_callback`).
    pub fn defer(
        &mut self,
        label: &'static str,
        cleanup: impl Future<Output = anyhow::Result<()>> + Send + 'static,
    ) {
        self.slots.push(Slot {
            label,
            entry: Entry::Callback(cleanup.boxed()),
        });
    }
    // ANCHOR_END: exit_stack_struct

    /// Borrows a resource the stack holds.
    ///
    /// # Panics
    /// If the handle came from another stack: a programming error, like a wrong index.
    pub fn get<R: AsyncResource>(&self, handle: Handle<R>) -> &R {
        assert_eq!(
            handle.stack_id, self.id,
            "handle belongs to another ExitStack"
        );
        match &self.slots[handle.index].entry {
            Entry::Resource(resource) => {
                let any: &dyn Any = resource.as_ref();
                any.downcast_ref().expect("handle type matches its slot")
            }
            Entry::Callback(_) => unreachable!("handles only point at resources"),
        }
    }

    /// Borrows a resource the stack holds, mutably.
    ///
    /// # Panics
    /// If the handle came from another stack.
    pub fn get_mut<R: AsyncResource>(&mut self, handle: Handle<R>) -> &mut R {
        assert_eq!(
            handle.stack_id, self.id,
            "handle belongs to another ExitStack"
        );
        match &mut self.slots[handle.index].entry {
            Entry::Resource(resource) => {
                let any: &mut dyn Any = resource.as_mut();
                any.downcast_mut().expect("handle type matches its slot")
            }
            Entry::Callback(_) => unreachable!("handles only point at resources"),
        }
    }

    /// How many entries wait for release.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing waits for release.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Releases everything, last entered first. Every release runs even when an earlier
    /// one fails or panics; all failures are returned together, a panic as a failure
    /// whose error says `release panicked: ...` (Python's `AsyncExitStack` likewise runs
    /// every remaining exit and then raises).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. The releases run in a task of their own, so a dropped
    /// call stops only the waiting: every release still runs, in order, and
    /// [`background_releases`](crate::resource::background_releases) waits for them. Their
    /// failures then reach nobody but the log.
    pub async fn close(mut self) -> Result<(), ReleaseErrors> {
        let slots = std::mem::take(&mut self.slots);
        let failures = run_to_completion("ExitStack", release_all(slots).map(Ok))
            .await
            .unwrap_or_else(|lost| {
                vec![ReleaseFailure {
                    label: "ExitStack",
                    error: lost,
                }]
            });
        if failures.is_empty() {
            Ok(())
        } else {
            Err(ReleaseErrors { failures })
        }
    }
}

// ANCHOR: release_all
/// Releases `slots` last first. A release that panics is caught and counted like one that
/// failed, so it cannot skip the releases below it.
async fn release_all(slots: Vec<Slot>) -> Vec<ReleaseFailure> {
    let mut failures = Vec::new();
    for slot in slots.into_iter().rev() {
        let label = slot.label;
        tracing::debug!(resource = label, "releasing");
        let released = AssertUnwindSafe(async move { slot.release().await })
            .catch_unwind()
            .await;
        let error = match released {
            Ok(Ok(())) => continue,
            Ok(Err(error)) => error,
            Err(panic) => anyhow::anyhow!("release panicked: {}", panic_message(&*panic)),
        };
        failures.push(ReleaseFailure { label, error });
    }
    failures
}
// ANCHOR_END: release_all

impl Default for ExitStack {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ExitStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<_> = self.slots.iter().map(|s| s.label).collect();
        f.debug_struct("ExitStack")
            .field("entries", &labels)
            .finish()
    }
}

/// An exit stack is itself a resource: releasing it closes it.
impl AsyncResource for ExitStack {
    async fn release(self) -> anyhow::Result<()> {
        Ok(self.close().await?)
    }
}

/// A stack dropped without `close` hands its releases to the runtime, in order.
impl Drop for ExitStack {
    fn drop(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        if !slots.is_empty() {
            release_in_background("ExitStack", async move {
                let failures = release_all(slots).await;
                if failures.is_empty() {
                    Ok(())
                } else {
                    Err(ReleaseErrors { failures }.into())
                }
            });
        }
    }
}

// ANCHOR: with_exit_stack
/// `async with AsyncExitStack() as stack:`. Runs `body` with a fresh stack, then closes
/// it. An error from the body (an `enter` that failed, say) unwinds whatever was
/// entered before it.
///
/// # Cancel safety
///
/// This method is cancel safe, as [`scoped`] is: nothing entered is left unreleased.
/// Dropped during the body, whatever was entered is released in the background, in order;
/// dropped during the close, the releases go on in their own task.
/// [`background_releases`](crate::resource::background_releases) waits for both.
pub async fn with_exit_stack<T, E>(
    body: impl AsyncFnOnce(&mut ExitStack) -> Result<T, E>,
) -> Result<T, ScopeError<E>> {
    scoped(ExitStack::new(), body).await
}
// ANCHOR_END: with_exit_stack
