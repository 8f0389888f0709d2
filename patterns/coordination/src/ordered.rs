//! `asyncio.PriorityQueue` and `asyncio.LifoQueue`: a queue whose order is not first in,
//! first out.
//!
//! Channels (`tokio::sync::mpsc`, `flume`) are FIFO by construction. A queue in another
//! order is a plain collection behind a `std` mutex, never held across an `.await`, with a
//! `Semaphore` whose permits count the items: `get` waits for a permit, then pops. A second
//! semaphore counts the free places of a bounded queue. The `async-priority-channel` crate
//! is a packaged priority channel; this one is written out because how it works is the
//! lesson, and it is 100 lines.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Mutex;

use tokio::sync::{Semaphore, TryAcquireError};

/// The order in which an [`OrderedQueue`] hands its items out.
pub trait Order<T>: Default {
    /// Adds an item.
    fn push(&mut self, item: T);
    /// Takes the next item in this order.
    fn pop(&mut self) -> Option<T>;
    /// Items held.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Smallest first, as `asyncio.PriorityQueue` (a heap of `(priority, item)` tuples).
#[derive(Debug)]
pub struct LowestFirst<T>(BinaryHeap<Reverse<T>>);

/// Last in, first out, as `asyncio.LifoQueue`.
#[derive(Debug)]
pub struct NewestFirst<T>(Vec<T>);

impl<T: Ord> Default for LowestFirst<T> {
    fn default() -> Self {
        Self(BinaryHeap::new())
    }
}

impl<T: Ord> Order<T> for LowestFirst<T> {
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Default for NewestFirst<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> Order<T> for NewestFirst<T> {
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// `asyncio.PriorityQueue`: [`get`](OrderedQueue::get) returns the smallest item.
pub type PriorityQueue<T> = OrderedQueue<T, LowestFirst<T>>;
/// `asyncio.LifoQueue`: [`get`](OrderedQueue::get) returns the newest item.
pub type LifoQueue<T> = OrderedQueue<T, NewestFirst<T>>;

/// Why an item was not put; the item comes back, so nothing is lost.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PutError<T> {
    /// The queue is at its capacity (`asyncio.QueueFull`, from `try_put` only).
    #[error("the queue is full")]
    Full(T),
    /// The queue was closed (`asyncio.QueueShutDown`).
    #[error("the queue is closed")]
    Closed(T),
}

impl<T> PutError<T> {
    pub fn into_item(self) -> T {
        match self {
            Self::Full(item) | Self::Closed(item) => item,
        }
    }
}

// ANCHOR: queue
/// A queue shared by reference (put it in an `Arc`), handing items out in the order `O`.
#[derive(Debug)]
pub struct OrderedQueue<T, O> {
    items: Mutex<O>,
    /// One permit per item in `items`; closed by [`close`](Self::close).
    ready: Semaphore,
    /// One permit per free place, for a bounded queue.
    room: Option<Semaphore>,
    _item: std::marker::PhantomData<fn(T) -> T>,
}
// ANCHOR_END: queue

impl<T, O: Order<T>> OrderedQueue<T, O> {
    /// A queue with no capacity limit (`maxsize=0`).
    pub fn unbounded() -> Self {
        Self::with_room(None)
    }

    /// A queue holding at most `capacity` items: `put` waits while it is full.
    ///
    /// # Panics
    ///
    /// When `capacity` is 0, as `tokio::sync::mpsc::channel(0)` does: such a queue could
    /// never take an item.
    pub fn bounded(capacity: usize) -> Self {
        assert!(capacity > 0, "a bounded queue needs room for one item");
        Self::with_room(Some(Semaphore::new(capacity)))
    }

    fn with_room(room: Option<Semaphore>) -> Self {
        Self {
            items: Mutex::new(O::default()),
            ready: Semaphore::new(0),
            room,
            _item: std::marker::PhantomData,
        }
    }

    // ANCHOR: get
    /// Waits for an item and takes it. Returns `None` once the queue is closed and empty;
    /// items put before [`close`](Self::close) are still handed out.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: the item is taken only after the wait, with no `.await`
    /// between taking it and returning it, so a losing `select!` branch leaves every item
    /// in the queue.
    pub async fn get(&self) -> Option<T> {
        match self.ready.acquire().await {
            // The permit stands for one item: it is used up, not given back.
            Ok(permit) => permit.forget(),
            // Closed: the permits are gone, the items are not. Hand out what is left.
            Err(_closed) => return self.lock().pop(),
        }
        let item = self.lock().pop();
        self.free_one_place();
        item
    }
    // ANCHOR_END: get

    /// `get_nowait()`: an item if one is ready, `None` otherwise (`asyncio.QueueEmpty`).
    pub fn try_get(&self) -> Option<T> {
        match self.ready.try_acquire() {
            Ok(permit) => permit.forget(),
            Err(TryAcquireError::NoPermits) => return None,
            Err(TryAcquireError::Closed) => return self.lock().pop(),
        }
        let item = self.lock().pop();
        self.free_one_place();
        item
    }

    /// Puts `item`, waiting while a bounded queue is full.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe, as `tokio::sync::mpsc::Sender::send` is: a losing
    /// `select!` branch has not put the item, and the item is dropped with the future. To
    /// keep it, use [`try_put`](Self::try_put), which hands it back.
    pub async fn put(&self, item: T) -> Result<(), PutError<T>> {
        if let Some(room) = &self.room {
            match room.acquire().await {
                Ok(place) => place.forget(),
                Err(_closed) => return Err(PutError::Closed(item)),
            }
        }
        self.push(item)
    }

    /// `put_nowait()`: puts `item` if there is room now, or hands it back.
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        if let Some(room) = &self.room {
            match room.try_acquire() {
                Ok(place) => place.forget(),
                Err(TryAcquireError::NoPermits) => return Err(PutError::Full(item)),
                Err(TryAcquireError::Closed) => return Err(PutError::Closed(item)),
            }
        }
        self.push(item)
    }

    /// Closes the queue (`Queue.shutdown()` in Python 3.13): puts fail with
    /// [`PutError::Closed`], gets drain what is left, then return `None`.
    pub fn close(&self) {
        self.ready.close();
        if let Some(room) = &self.room {
            room.close();
        }
    }

    /// Items in the queue now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&self, item: T) -> Result<(), PutError<T>> {
        if self.ready.is_closed() {
            return Err(PutError::Closed(item));
        }
        self.lock().push(item);
        self.ready.add_permits(1);
        Ok(())
    }

    fn free_one_place(&self) {
        if let Some(room) = &self.room {
            room.add_permits(1);
        }
    }

    /// The lock is held for one push or pop, never across an `.await`. The only user code
    /// run under it is the items' `Ord`. If that panics, the panic reaches the caller of
    /// `put`, and the heap is still a valid heap, so a poisoned lock is used as it is; the
    /// item is in the queue but uncounted, and comes out after [`close`](Self::close).
    fn lock(&self) -> std::sync::MutexGuard<'_, O> {
        self.items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
