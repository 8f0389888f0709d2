//! `asyncio.Event` on a `watch` channel.

use tokio::sync::watch;

/// What the channel holds: the flag, and how many times it was set.
#[derive(Debug, Clone, Copy, Default)]
struct State {
    set: bool,
    /// Counts `set` calls, so that a waiter also wakes for a set that was cleared again
    /// before the waiter ran (asyncio wakes every waiter at `set()`, whatever follows).
    sets: u64,
}

// ANCHOR: event
/// A flag tasks wait for, like `asyncio.Event`. [`set`](Self::set) wakes every waiter, and
/// [`wait`](Self::wait) returns at once while the flag is set. Clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct Event {
    state: watch::Sender<State>,
}

impl Event {
    /// Sets the flag and wakes every task waiting for it.
    pub fn set(&self) {
        self.state.send_modify(|state| {
            state.set = true;
            state.sets += 1;
        });
    }

    /// Waits until the flag is set, or was set since this call began.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: waiting takes nothing from the event, so a dropped
    /// `wait` loses no wake-up for the other waiters.
    pub async fn wait(&self) {
        let mut changes = self.state.subscribe();
        let sets_before = changes.borrow().sets;
        // `wait_for` looks at the current value first, so a flag already set returns at once.
        // It fails only when every sender is gone, and `self` is one.
        let _ = changes
            .wait_for(|state| state.set || state.sets != sets_before)
            .await;
    }
}
// ANCHOR_END: event

impl Event {
    pub fn new() -> Self {
        Self::default()
    }

    /// Clears the flag: later waiters wait for the next [`set`](Self::set).
    pub fn clear(&self) {
        self.state.send_modify(|state| state.set = false);
    }

    pub fn is_set(&self) -> bool {
        self.state.borrow().set
    }
}
