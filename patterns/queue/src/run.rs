//! A whole run: producers and consumers spawned on one queue, and their reports added up.

use std::future::Future;

use tokio::task::{JoinError, JoinSet};

use crate::{Consumer, ConsumerReport, Producer, StopSignal, consume, produce, work_queue};

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
) -> Result<RunReport<T, E>, JoinError>
where
    T: Send + 'static,
    E: Send + 'static,
    Fut: Future<Output = Result<(), (T, E)>> + Send,
{
    let (producer, consumer, _progress) = work_queue(config.capacity);
    // `run` keeps no handle: when the last producer task ends, the queue closes.
    let producers = spawn_producers(producer, config, make, stop);
    let consumers = spawn_consumers(consumer, config, process, stop);
    collect(producers, consumers).await
}
// ANCHOR_END: run

// ANCHOR: run_spawn

/// `config.producers` tasks, each putting `config.items_per_producer` items.
fn spawn_producers<T: Send + 'static>(
    producer: Producer<T>,
    config: RunConfig,
    make: impl Fn(usize, u64) -> T + Clone + Send + 'static,
    stop: &StopSignal,
) -> JoinSet<u64> {
    let mut producers = JoinSet::new();
    for id in 0..config.producers {
        let (producer, make, stop) = (producer.clone(), make.clone(), stop.clone());
        producers.spawn(async move {
            let make = move |i| make(id, i);
            produce(producer, config.items_per_producer, make, &stop).await
        });
    }
    producers
}

/// `config.consumers` tasks, each consuming until the queue is closed and empty.
fn spawn_consumers<T, E, Fut>(
    consumer: Consumer<T>,
    config: RunConfig,
    process: impl Fn(T) -> Fut + Clone + Send + 'static,
    stop: &StopSignal,
) -> JoinSet<ConsumerReport<T, E>>
where
    T: Send + 'static,
    E: Send + 'static,
    Fut: Future<Output = Result<(), (T, E)>> + Send,
{
    let mut consumers = JoinSet::new();
    for _ in 0..config.consumers {
        let (consumer, process, stop) = (consumer.clone(), process.clone(), stop.clone());
        consumers.spawn(async move { consume(consumer, process, &stop).await });
    }
    consumers
}
// ANCHOR_END: run_spawn

// ANCHOR: run_report
/// Waits for every producer and consumer, and adds up what they did.
async fn collect<T: 'static, E: 'static>(
    producers: JoinSet<u64>,
    mut consumers: JoinSet<ConsumerReport<T, E>>,
) -> Result<RunReport<T, E>, JoinError> {
    let produced = producers.join_all().await.into_iter().sum();
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
