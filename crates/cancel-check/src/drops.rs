//! Evidence for tests and demos: a counter of drops, the way to prove that a cancelled
//! future (or an aborted task) was really dropped and its destructors ran.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts how many of its guards have been dropped. Cheap to clone; clones share the count.
#[derive(Debug, Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

/// Increments its [`DropCounter`] when dropped. Move it into the future you cancel.
#[derive(Debug)]
pub struct DropGuard(Arc<AtomicUsize>);

impl DropCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A guard to move into a future or task.
    pub fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }

    /// Guards dropped so far.
    pub fn dropped(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
