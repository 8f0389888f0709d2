//! A consumer's whole life: claim, read, process, acknowledge, and a shutdown that
//! unblocks its read and finishes the batch in hand.

use std::fmt::Display;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt as _;
use tokio_util::sync::CancellationToken;

use crate::{AckMode, Consumer, Delivery, Item, QueueError};

/// What one consumer did until it stopped.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ConsumerReport {
    /// Items processed and acknowledged.
    pub processed: u64,
    /// Items whose processing returned an error: left pending, to be redelivered.
    pub failed: u64,
    /// Items whose processing panicked: left pending, to be redelivered.
    pub panicked: u64,
    /// Items this consumer moved to the dead-letter stream.
    pub dead_lettered: u64,
    /// Items that came back through a claim.
    pub reclaimed: u64,
}

// ANCHOR: run_consumer
/// A consumer's whole life: claim what others left idle, read, process each item with
/// `process`, acknowledge, until `shutdown` is cancelled; then finish the items in hand,
/// acknowledge them and return. Items never read stay in the stream for the others. An
/// item whose `process` fails or panics is not acknowledged: it comes back after the
/// [`QueueConfig`](crate::QueueConfig)'s `claim_idle` and is dead-lettered after its
/// `max_deliveries`.
///
/// # Cancel safety
///
/// This function is not cancel safe, though nothing is lost: the items in hand stay pending
/// and are claimed by another consumer after the idle time. Cancel `shutdown` to stop
/// without the wait.
pub async fn run_consumer<F, Fut, E>(
    consumer: &mut Consumer,
    shutdown: &CancellationToken,
    mut process: F,
) -> Result<ConsumerReport, QueueError>
where
    F: FnMut(Item) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let mut report = ConsumerReport::default();
    let mut next_claim = tokio::time::Instant::now();
    while !shutdown.is_cancelled() {
        let mut batch = Vec::new();
        if tokio::time::Instant::now() >= next_claim {
            let reclaimed = consumer.reclaim().await?;
            report.dead_lettered += reclaimed.dead.len() as u64;
            report.reclaimed += reclaimed.retry.len() as u64;
            batch = reclaimed.retry;
            next_claim = tokio::time::Instant::now() + consumer.config.claim_idle / 2;
        }
        if batch.is_empty() {
            batch = read_or_unblock(consumer, shutdown).await?;
        }
        process_batch(consumer, batch, &mut process, &mut report).await?;
    }
    Ok(report)
}
// ANCHOR_END: run_consumer

/// Processes each delivery in turn and acknowledges the ones that succeeded, per batch or
/// per item ([`QueueConfig::ack`]). A failure or a panic is counted and logged, and its
/// entry is left pending, so it comes back through a claim.
// ANCHOR: process
async fn process_batch<F, Fut, E>(
    consumer: &mut Consumer,
    batch: Vec<Delivery>,
    process: &mut F,
    report: &mut ConsumerReport,
) -> Result<(), QueueError>
where
    F: FnMut(Item) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let mut processed = Vec::with_capacity(batch.len());
    for delivery in batch {
        let item_id = delivery.item.id.clone();
        let outcome = AssertUnwindSafe(async { process(delivery.item).await })
            .catch_unwind()
            .await;
        match outcome {
            Ok(Ok(())) => {
                report.processed += 1;
                processed.push(delivery.entry);
            }
            Ok(Err(e)) => {
                report.failed += 1;
                tracing::warn!(item = %item_id, attempt = delivery.attempt, "failed: {e}");
            }
            Err(panic) => {
                report.panicked += 1;
                let why = patterns_core::error::panic_message(panic.as_ref());
                tracing::warn!(item = %item_id, attempt = delivery.attempt, "panicked: {why}");
            }
        }
        if consumer.config.ack == AckMode::EachItem {
            consumer.done(&processed).await?;
            processed.clear();
        }
    }
    consumer.done(&processed).await?;
    Ok(())
}
// ANCHOR_END: process

/// How long a shutdown waits for an unblocked read before it sends `CLIENT UNBLOCK` again.
const UNBLOCK_AGAIN: Duration = Duration::from_millis(100);

/// The next batch, or what the read had when `shutdown` came: the read is unblocked and
/// awaited, never dropped, so nothing it was given is left pending.
async fn read_or_unblock(
    consumer: &mut Consumer,
    shutdown: &CancellationToken,
) -> Result<Vec<Delivery>, QueueError> {
    let unblocker = consumer.unblocker();
    let read = consumer.get();
    tokio::pin!(read);
    tokio::select! {
        batch = &mut read => batch,
        () = shutdown.cancelled() => {
            // A read between two connections (reconnecting after a loss) has nothing
            // blocked for `CLIENT UNBLOCK` to end yet: ask again until the read returns.
            loop {
                unblocker.unblock().await?;
                if let Ok(batch) = tokio::time::timeout(UNBLOCK_AGAIN, &mut read).await {
                    return batch;
                }
            }
        }
    }
}
