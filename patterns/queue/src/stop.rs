//! How a run is told to stop: drain (finish what is queued) or abort (set it aside).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How a run is told to stop. `drain` stops the producers and lets the consumers finish
/// what is queued; `abort` also makes the consumers set aside, unprocessed, whatever is
/// left. Both are reported, neither loses an item. Cheap to clone; clones share the signal.
///
/// Two atomic flags, not `CancellationToken`s: the loops read them once per item and never
/// wait on them, and a flag read costs a plain load where a token takes a lock.
// ANCHOR: stop
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<StopFlags>);

#[derive(Debug, Default)]
struct StopFlags {
    draining: AtomicBool,
    aborted: AtomicBool,
}

impl StopSignal {
    /// Signals not yet given.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops the producers; the consumers process what is queued, then stop.
    pub fn drain(&self) {
        self.0.draining.store(true, Ordering::Release);
    }

    /// Stops the producers; the consumers set aside what is queued, unprocessed, and stop.
    /// (An abort is also a drain.)
    pub fn abort(&self) {
        self.0.aborted.store(true, Ordering::Release);
        self.drain();
    }

    pub(crate) fn producing_stopped(&self) -> bool {
        self.0.draining.load(Ordering::Acquire)
    }

    pub(crate) fn processing_stopped(&self) -> bool {
        self.0.aborted.load(Ordering::Acquire)
    }
}
// ANCHOR_END: stop
