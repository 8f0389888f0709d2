//! "Task got bad yield" has no Rust twin, but its cousin does: a hand-written future that
//! returns `Pending` must arrange its own wake-up. `Gate` does; `ForgetfulGate` does not, and
//! a task waiting at it hangs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures::task::AtomicWaker;

/// A gate that tasks wait at until some thread opens it: a hand-written future done right.
/// `poll` stores the task's waker *before* it checks the flag, and `open` wakes it, so a
/// task that saw the gate closed is always woken when it opens.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    inner: Arc<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    open: AtomicBool,
    waker: AtomicWaker,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Self::default()
    }

    // ANCHOR: gate_open
    /// Opens the gate, from any thread, and wakes the task waiting at it.
    pub fn open(&self) {
        self.inner.open.store(true, Ordering::Release);
        self.inner.waker.wake();
    }
    // ANCHOR_END: gate_open

    /// A future that is ready once the gate is open (one waiting task at a time).
    pub fn wait(&self) -> GateWait {
        GateWait {
            inner: self.inner.clone(),
        }
    }
}

/// What [`Gate::wait`] returns.
#[derive(Debug)]
pub struct GateWait {
    inner: Arc<GateState>,
}

// ANCHOR: gate
impl Future for GateWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Register first: an `open` between the check and the registration would be missed.
        self.inner.waker.register(cx.waker());
        if self.inner.open.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
// ANCHOR_END: gate

/// The same gate with the classic bug: its future returns `Pending` without keeping the
/// waker, so nothing ever polls it again. A task waiting at it hangs even after the gate
/// opens; no error, no panic. Kept to show the bug: use [`Gate`].
#[derive(Debug, Clone, Default)]
pub struct ForgetfulGate {
    open: Arc<AtomicBool>,
}

impl ForgetfulGate {
    /// A closed gate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens the gate, but cannot wake anyone: nobody left a waker.
    pub fn open(&self) {
        self.open.store(true, Ordering::Release);
    }

    /// A future that is ready if the gate is open *when it is polled*.
    pub fn wait(&self) -> ForgetfulWait {
        ForgetfulWait {
            open: self.open.clone(),
        }
    }
}

/// What [`ForgetfulGate::wait`] returns.
#[derive(Debug)]
pub struct ForgetfulWait {
    open: Arc<AtomicBool>,
}

// ANCHOR: forgetful
impl Future for ForgetfulWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.open.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending // the bug: `_cx.waker()` is dropped, so no wake-up will come
        }
    }
}
// ANCHOR_END: forgetful

/// Spawns a task that awaits `wait`, and returns its handle with a signal that fires once
/// the task has polled `wait` the first time: a lost wake-up can then be shown on purpose,
/// by opening a gate after that first poll.
pub fn spawn_waiter(
    wait: impl Future<Output = ()> + Send + 'static,
) -> (tokio::task::JoinHandle<()>, Arc<tokio::sync::Notify>) {
    let waiting = Arc::new(tokio::sync::Notify::new());
    let signal = waiting.clone();
    let waiter = tokio::spawn(async move {
        signal.notify_one(); // kept as a permit if nobody listens yet
        wait.await; // polled in this same turn, before the task first yields
    });
    (waiter, waiting)
}
