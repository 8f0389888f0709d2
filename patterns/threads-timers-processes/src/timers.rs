//! `loop.call_later` and `loop.call_at`: a task that sleeps, then calls; and for many timers
//! that move, one `DelayQueue`.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use futures::StreamExt;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::time::{DelayQueue, delay_queue};

// ANCHOR: call_at
/// Calls `callback` at `deadline`, as `loop.call_at(when, callback)`. The handle is the
/// `TimerHandle`: `abort()` cancels a call not yet made, and awaiting it gives the
/// callback's result, or its panic as a `JoinError`, so a failing callback is never silent.
/// Dropping the handle does not cancel the call, as in asyncio.
pub fn call_at<T, F>(deadline: Instant, callback: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(async move {
        tokio::time::sleep_until(deadline).await;
        callback()
    })
}

/// Calls `callback` after `delay`, as `loop.call_later(delay, callback)`.
pub fn call_later<T, F>(delay: Duration, callback: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    call_at(Instant::now() + delay, callback)
}
// ANCHOR_END: call_at

// ANCHOR: deadlines
/// Many timers that move: sessions that expire unless touched, retries due later. One
/// `tokio_util::time::DelayQueue` holds them all; each key has at most one deadline.
#[derive(Debug)]
pub struct Deadlines<K> {
    queue: DelayQueue<K>,
    keys: HashMap<K, delay_queue::Key>,
}

impl<K: Clone + Eq + Hash> Deadlines<K> {
    pub fn new() -> Self {
        Self {
            queue: DelayQueue::new(),
            keys: HashMap::new(),
        }
    }

    /// Sets `key` to expire after `delay`, replacing any deadline it had (`touch`).
    pub fn set(&mut self, key: K, delay: Duration) {
        match self.keys.get(&key) {
            Some(slot) => self.queue.reset(slot, delay),
            None => {
                let slot = self.queue.insert(key.clone(), delay);
                self.keys.insert(key, slot);
            }
        }
    }

    /// Forgets `key`'s deadline, as `TimerHandle.cancel()`; true if it had one.
    pub fn cancel(&mut self, key: &K) -> bool {
        match self.keys.remove(key) {
            Some(slot) => {
                self.queue.remove(&slot);
                true
            }
            None => false,
        }
    }

    /// Waits for the next key to expire and returns it; `None` when no deadline is left.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a key leaves the queue in the same poll that returns it,
    /// so a dropped call loses no expired key.
    pub async fn next_expired(&mut self) -> Option<K> {
        let expired = self.queue.next().await?.into_inner();
        self.keys.remove(&expired);
        Some(expired)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
// ANCHOR_END: deadlines

impl<K: Clone + Eq + Hash> Default for Deadlines<K> {
    fn default() -> Self {
        Self::new()
    }
}
