//! The two loops: a producer that puts until told to stop, and a consumer that processes
//! until the queue is closed and empty, reporting every item it did not process.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};

use futures::FutureExt;

use crate::{Consumer, Producer, StopSignal};

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
/// [`Producer::put`]); every item counted is in the queue, and [`Progress::put`](crate::Progress::put) says how
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
/// done, so [`Progress::join`](crate::Progress::join) keeps waiting; stop consumers with [`StopSignal`].
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
                Err(panic) => report.panicked.push(panic_text(panic.as_ref())),
            }
        }
        let counted = consumer.done(); // put and not yet finished: never refused
        debug_assert_eq!(counted, Ok(()));
    }
    report
}
// ANCHOR_END: consume

/// The text a panic carried: `panic!` with a literal makes a `&str`, with arguments a
/// `String`.
fn panic_text(panic: &(dyn Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(text), _) => (*text).to_owned(),
        (_, Some(text)) => text.clone(),
        _ => "a panic without a message".to_owned(),
    }
}
