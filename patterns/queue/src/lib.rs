//! Producers and consumers: Python's `asyncio.Queue(maxsize)` in Tokio.
//!
//! - [`work_queue`]: a bounded multi-producer, multi-consumer queue. `put` waits while it is
//!   full (backpressure); it completes when every [`Producer`] is dropped, so no `None`
//!   sentinels are needed;
//! - [`Progress::join`]: `queue.join()`, which waits until every item put has been
//!   *processed*, not only received;
//! - [`produce`] and [`consume`]: the two loops, with a graceful stop (producers stop,
//!   consumers drain what is queued) and a hard stop (consumers set aside what is left and
//!   report it).
//!
//! Nothing is lost: for every run, `produced = processed + failed + unprocessed`.
//!
//! The channel is [flume](https://docs.rs/flume): bounded, MPMC, async. Each consumer holds a
//! receiver of its own, with no lock shared around one receiver, and it was the fastest
//! MPMC channel measured here (see the chapter). Run the demo with `cargo run -p queue`.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use futures::FutureExt;
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

    /// StopSignal producing; process what is queued.
    pub fn drain(&self) {
        self.0.draining.store(true, Ordering::Release);
    }

    /// StopSignal producing; set aside what is queued, unprocessed. (An abort is also a drain.)
    pub fn abort(&self) {
        self.0.aborted.store(true, Ordering::Release);
        self.drain();
    }

    fn producing_stopped(&self) -> bool {
        self.0.draining.load(Ordering::Acquire)
    }

    fn processing_stopped(&self) -> bool {
        self.0.aborted.load(Ordering::Acquire)
    }
}
// ANCHOR_END: stop

// ANCHOR: produce
/// Puts `make(0)`, `make(1)`, ... up to `count` items, stopping early on a drain or an
/// abort. A put in progress is never cancelled, so no item is dropped half-sent. Returns
/// how many items were put.
///
/// # Cancel safety
///
/// This method is not cancel safe: a losing `select!` branch stops producing at once, the
/// count it would have returned is lost, and calling it again would make the items from 0
/// again. The item whose `put` was waiting for room is dropped, uncounted (see
/// [`Producer::put`]); every item counted is in the queue, and [`Progress::put`] says how
/// many. To stop without losing anything, use [`StopSignal::drain`], checked between items.
pub async fn produce<T>(
    producer: Producer<T>,
    count: u64,
    mut make: impl FnMut(u64) -> T,
    stop: &StopSignal,
) -> u64 {
    for index in 0..count {
        if stop.producing_stopped() {
            return index;
        }
        if producer.put(make(index)).await.is_err() {
            return index;
        }
    }
    count
}
// ANCHOR_END: produce

/// What one consumer did with the items it received.
#[derive(Debug)]
pub struct ConsumerReport<T, E> {
    /// Items processed successfully.
    pub processed: u64,
    /// Items whose processing failed, each with its error: reported, never dropped.
    pub failed: Vec<(T, E)>,
    /// Items received after a hard stop, set aside unprocessed: reported, never dropped.
    pub unprocessed: Vec<T>,
    /// Items whose `process` panicked, as the panic messages: the item went down with the
    /// panic, so only its message is left, but it is counted, and the loop goes on.
    pub panicked: Vec<String>,
}

impl<T, E> Default for ConsumerReport<T, E> {
    fn default() -> Self {
        Self {
            processed: 0,
            failed: Vec::new(),
            unprocessed: Vec::new(),
            panicked: Vec::new(),
        }
    }
}

impl<T, E> ConsumerReport<T, E> {
    /// Adds another consumer's report to this one.
    pub fn merge(&mut self, other: Self) {
        self.processed += other.processed;
        self.failed.extend(other.failed);
        self.unprocessed.extend(other.unprocessed);
        self.panicked.extend(other.panicked);
    }

    /// Every item this report accounts for.
    pub fn accounted(&self) -> u64 {
        let set_aside = self.failed.len() + self.unprocessed.len() + self.panicked.len();
        self.processed + set_aside as u64
    }
}

// ANCHOR: consume
/// Takes items until the queue is closed and empty, processing each (or, after an abort,
/// setting it aside). A failed item comes back with its error and a panic is counted in
/// [`ConsumerReport::panicked`]; either way the loop goes on, and every item is marked done.
///
/// # Cancel safety
///
/// This method is not cancel safe: the item in hand is dropped half done and never marked
/// done, so [`Progress::join`] keeps waiting; stop consumers with [`StopSignal`].
pub async fn consume<T, E, Fut>(
    consumer: Consumer<T>,
    process: impl Fn(T) -> Fut,
    stop: &StopSignal,
) -> ConsumerReport<T, E>
where
    Fut: Future<Output = Result<(), (T, E)>>,
{
    let mut report = ConsumerReport::default();
    while let Some(item) = consumer.get().await {
        if stop.processing_stopped() {
            report.unprocessed.push(item);
        } else {
            // A panic is this item's failure, not the end of the consumer and its report.
            // (Calling `process` can panic too, before there is a future to poll.)
            let outcome = match catch_unwind(AssertUnwindSafe(|| process(item))) {
                Ok(processing) => AssertUnwindSafe(processing).catch_unwind().await,
                Err(panic) => Err(panic),
            };
            match outcome {
                Ok(Ok(())) => report.processed += 1,
                Ok(Err(failure)) => report.failed.push(failure),
                Err(panic) => report
                    .panicked
                    .push(patterns_core::error::panic_message(panic.as_ref())),
            }
        }
        let counted = consumer.done(); // put and not yet finished: never refused
        debug_assert_eq!(counted, Ok(()));
    }
    report
}
// ANCHOR_END: consume

/// The shape of a run: how many producers and consumers, how big the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunConfig {
    /// Producer tasks.
    pub producers: usize,
    /// Consumer tasks.
    pub consumers: usize,
    /// Items the queue holds before `put` waits.
    pub capacity: usize,
    /// Items each producer makes, unless stopped.
    pub items_per_producer: u64,
}

/// What a whole run did.
#[derive(Debug)]
pub struct RunReport<T, E> {
    /// Items put by all producers.
    pub produced: u64,
    /// What all consumers did with them.
    pub consumed: ConsumerReport<T, E>,
}

impl<T, E> RunReport<T, E> {
    /// `produced = processed + failed + unprocessed`: nothing lost, nothing doubled.
    pub fn nothing_lost(&self) -> bool {
        self.produced == self.consumed.accounted()
    }
}

// ANCHOR: run
/// Spawns the producers and consumers of `config` on one queue and waits for all of them.
/// `make(producer, index)` builds an item; `process` handles one.
///
/// # Cancel safety
///
/// This method is not cancel safe: a drop aborts every producer and consumer (they live in
/// `JoinSet`s), and the items queued or in hand are dropped unreported. To keep the report,
/// call [`StopSignal::drain`] or [`StopSignal::abort`] and keep awaiting it.
pub async fn run<T, E, Fut>(
    config: RunConfig,
    make: impl Fn(usize, u64) -> T + Clone + Send + 'static,
    process: impl Fn(T) -> Fut + Clone + Send + 'static,
    stop: &StopSignal,
) -> Result<RunReport<T, E>, tokio::task::JoinError>
where
    T: Send + 'static,
    E: Send + 'static,
    Fut: Future<Output = Result<(), (T, E)>> + Send,
{
    let (producer, consumer, _progress) = work_queue(config.capacity);
    let mut producers = tokio::task::JoinSet::new();
    for id in 0..config.producers {
        let (producer, make, stop) = (producer.clone(), make.clone(), stop.clone());
        producers.spawn(async move {
            produce(
                producer,
                config.items_per_producer,
                move |i| make(id, i),
                &stop,
            )
            .await
        });
    }
    drop(producer); // the queue closes when the last producer task ends
    let mut consumers = tokio::task::JoinSet::new();
    for _ in 0..config.consumers {
        let (consumer, process, stop) = (consumer.clone(), process.clone(), stop.clone());
        consumers.spawn(async move { consume(consumer, process, &stop).await });
    }
    drop(consumer);
    // ANCHOR_END: run
    // ANCHOR: run_report
    let mut produced = 0;
    for put in producers.join_all().await {
        produced += put;
    }
    let mut report = ConsumerReport::default();
    while let Some(one) = consumers.join_next().await {
        report.merge(one?);
    }
    Ok(RunReport {
        produced,
        consumed: report,
    })
}
// ANCHOR_END: run_report
