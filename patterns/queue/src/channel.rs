//! The queue itself: `asyncio.Queue(maxsize)` on a flume channel, with `put` that waits
//! while it is full, `get`, `task_done` and `join`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// Counts what was put and what was finished, so [`Progress::join`] knows when all is done.
#[derive(Debug, Default)]
pub struct Progress {
    put: AtomicU64,
    finished: AtomicU64,
    all_finished: Notify,
}

impl Progress {
    /// Items put so far.
    pub fn put(&self) -> u64 {
        self.put.load(Ordering::Acquire)
    }

    /// Items finished so far (processed, failed or set aside).
    pub fn finished(&self) -> u64 {
        self.finished.load(Ordering::Acquire)
    }

    // ANCHOR: join
    /// `queue.join()`: waits until every item put so far has been finished.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only watches the counts. A losing `select!` branch
    /// changes nothing, and a later call waits as this one would have.
    pub async fn join(&self) {
        loop {
            let notified = self.all_finished.notified();
            if self.finished() == self.put() {
                return;
            }
            notified.await;
        }
    }
    // ANCHOR_END: join

    /// Takes back the count of an item that was not queued after all.
    fn unput(&self) {
        let put = self.put.fetch_sub(1, Ordering::AcqRel) - 1;
        if put == self.finished.load(Ordering::Acquire) {
            self.all_finished.notify_waiters();
        }
    }

    /// Counts one more item finished, unless every item put is finished already.
    fn finish_one(&self) -> Result<(), TooManyDone> {
        let counted = self
            .finished
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |finished| {
                (finished < self.put.load(Ordering::Acquire)).then_some(finished + 1)
            });
        let finished = counted.map_err(|_| TooManyDone)? + 1;
        if finished == self.put.load(Ordering::Acquire) {
            self.all_finished.notify_waiters();
        }
        Ok(())
    }
}

/// The sending side. Clone one per producer; the queue closes when all are dropped.
#[derive(Debug)]
pub struct Producer<T> {
    sender: flume::Sender<T>,
    progress: Arc<Progress>,
    room: Arc<Room>,
}

/// How a full queue's producers wait for room: woken by `get` when a consumer takes an
/// item, and by the drop of a consumer. `get` signals only when someone waits, so the
/// common path, a queue with room, costs one load.
#[derive(Debug, Default)]
struct Room {
    notify: Notify,
    waiting: AtomicUsize,
}

/// One producer counted in [`Room::waiting`] until dropped, however its `put` ends.
struct Waiting<'a>(&'a Room);

impl<'a> Waiting<'a> {
    fn register(room: &'a Room) -> Self {
        room.waiting.fetch_add(1, Ordering::SeqCst);
        Self(room)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<T> Clone for Producer<T> {
    fn clone(&self) -> Self {
        Self {
            sender: self.sender.clone(),
            progress: self.progress.clone(),
            room: self.room.clone(),
        }
    }
}

/// [`Consumer::done`] was called more times than items were put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("done() called more times than items were put")]
pub struct TooManyDone;

/// Every consumer is gone: the item comes back instead of vanishing.
#[derive(Debug, thiserror::Error)]
#[error("the queue has no consumers left")]
pub struct NoConsumers<T>(pub T);

/// Why [`Producer::try_put`] gave the item back.
#[derive(Debug, thiserror::Error)]
pub enum TryPutError<T> {
    /// The queue is full (Python's `QueueFull`).
    #[error("the queue is full")]
    Full(T),
    /// Every consumer is gone.
    #[error("the queue has no consumers left")]
    NoConsumers(T),
}

impl<T> Producer<T> {
    // ANCHOR: put
    /// `await queue.put(item)`: waits while the queue is full.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe, as Python's `put` and tokio's `Sender::send` are: an
    /// item is queued at once or not at all, never half-way. A losing `select!` branch has
    /// not queued the item: it is dropped with the future and never counted, so
    /// [`Progress::join`] does not wait for it. To keep the item, race
    /// [`Producer::try_put`] instead. (flume's own `send_async` can hand the item over
    /// after its future was last polled, which would leave the counts unknowable: that is
    /// why `put` waits on a [`Notify`] of its own.)
    pub async fn put(&self, mut item: T) -> Result<(), NoConsumers<T>> {
        match self.try_put(item) {
            Ok(()) => return Ok(()),
            Err(TryPutError::NoConsumers(back)) => return Err(NoConsumers(back)),
            Err(TryPutError::Full(back)) => item = back,
        }
        // Full. Counted as waiting and registered with `notify` before each new try, so a
        // `get` that makes room between the try and the wait still wakes this producer.
        let _waiting = Waiting::register(&self.room);
        loop {
            let room = self.room.notify.notified();
            let mut room = std::pin::pin!(room);
            room.as_mut().enable();
            match self.try_put(item) {
                Ok(()) => return Ok(()),
                Err(TryPutError::Full(back)) => item = back,
                Err(TryPutError::NoConsumers(back)) => return Err(NoConsumers(back)),
            }
            room.await;
        }
    }
    // ANCHOR_END: put

    // ANCHOR: try_put
    /// `queue.put_nowait(item)`: queues the item if there is room now, else gives it back.
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        // Counted before it is visible, so join() can never see it done before it is put.
        self.progress.put.fetch_add(1, Ordering::AcqRel);
        self.sender.try_send(item).map_err(|error| {
            self.progress.unput();
            match error {
                flume::TrySendError::Full(item) => TryPutError::Full(item),
                flume::TrySendError::Disconnected(item) => TryPutError::NoConsumers(item),
            }
        })
    }
    // ANCHOR_END: try_put
}

/// The receiving side. Clone one per consumer.
#[derive(Debug)]
pub struct Consumer<T> {
    receiver: flume::Receiver<T>,
    progress: Arc<Progress>,
    /// Declared after `receiver`, so it is dropped after it: waiting producers wake to a
    /// queue whose last consumer is really gone, and get their item back.
    room: WakeOnDrop,
}

/// Wakes every waiting producer when dropped.
#[derive(Debug)]
struct WakeOnDrop(Arc<Room>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.notify.notify_waiters();
    }
}

impl<T> Clone for Consumer<T> {
    fn clone(&self) -> Self {
        Self {
            receiver: self.receiver.clone(),
            progress: self.progress.clone(),
            room: WakeOnDrop(self.room.0.clone()),
        }
    }
}

impl<T> Consumer<T> {
    // ANCHOR: get
    /// `await queue.get()`: the next item, or `None` once every producer is gone and the
    /// queue is empty. Call [`Consumer::done`] when the item is finished (`task_done`).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: an item is taken only when this returns it. A losing
    /// `select!` branch takes nothing, and the item goes to the next `get`.
    pub async fn get(&self) -> Option<T> {
        let item = self.receiver.recv_async().await.ok()?;
        self.made_room();
        Some(item)
    }

    /// `queue.get_nowait()`: the next item if one is queued now, else `None` (Python
    /// raises `QueueEmpty`).
    pub fn try_get(&self) -> Option<T> {
        let item = self.receiver.try_recv().ok()?;
        self.made_room();
        Some(item)
    }

    /// Room for one more: wakes a waiting producer, if any (see `Room`).
    fn made_room(&self) {
        if self.room.0.waiting.load(Ordering::SeqCst) > 0 {
            self.room.0.notify.notify_one();
        }
    }

    /// `queue.task_done()`: one item is finished. More `done` calls than items put is a
    /// bug in the caller, refused as Python refuses it (`ValueError: task_done() called
    /// too many times`), so that [`Progress::join`] keeps counting right.
    pub fn done(&self) -> Result<(), TooManyDone> {
        self.progress.finish_one()
    }
    // ANCHOR_END: get

    /// Items waiting in the queue now (never more than its capacity).
    pub fn len(&self) -> usize {
        self.receiver.len()
    }

    /// Whether nothing waits in the queue now.
    pub fn is_empty(&self) -> bool {
        self.receiver.is_empty()
    }
}

// ANCHOR: work_queue
/// A queue of at most `capacity` items: `asyncio.Queue(maxsize=capacity)`. As in Python,
/// a `capacity` of 0 is no bound at all: `put` never waits, and nothing limits memory.
pub fn work_queue<T>(capacity: usize) -> (Producer<T>, Consumer<T>, Arc<Progress>) {
    let (sender, receiver) = match capacity {
        0 => flume::unbounded(),
        _ => flume::bounded(capacity),
    };
    let progress = Arc::new(Progress::default());
    let room = Arc::new(Room::default());
    let producer = Producer {
        sender,
        progress: progress.clone(),
        room: room.clone(),
    };
    (
        producer,
        Consumer {
            receiver,
            progress: progress.clone(),
            room: WakeOnDrop(room),
        },
        progress,
    )
}
// ANCHOR_END: work_queue
