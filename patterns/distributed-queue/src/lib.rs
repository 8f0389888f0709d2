//! A work queue that outlives its processes: producers and consumers on a Redis Stream
//! with a consumer group. The in-process `queue` pattern's calls, with Redis holding the
//! items, so a crash loses nothing and the workers may sit on other machines.
//!
//! | asyncio.Queue          | here                          | Redis                     |
//! |------------------------|-------------------------------|---------------------------|
//! | `Queue()`              | [`Queue::open`]               | `XGROUP CREATE … MKSTREAM` |
//! | `put(item)`            | [`Producer::put`]             | `XADD`                    |
//! | `get()`                | [`Consumer::get`]             | `XREADGROUP … BLOCK`      |
//! | `task_done()`          | [`Consumer::done`]            | `XACK`                    |
//! | `join()`               | [`Queue::wait_drained`]       | `XINFO GROUPS` (lag, pending) |
//! | (none: a crash loses it) | [`Consumer::reclaim`]       | `XAUTOCLAIM`              |
//!
//! Delivery is **at least once**: an item is acknowledged only after it is processed, so a
//! consumer that dies leaves its items pending, and another claims them. The effect is
//! exactly once when the sink deduplicates on the item's id ([`IdempotentSink`]).
//!
//! ```text
//! cargo run -p distributed-queue        # a throwaway Redis, 2 producers, 3 consumers, 1 killed
//! ```

use std::collections::HashMap;
use std::fmt::Display;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};
use futures::FutureExt as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamInfoGroupsReply,
    StreamPendingCountReply, StreamPendingReply, StreamRangeReply, StreamReadOptions,
    StreamReadReply,
};
use redis::{
    AsyncConnectionConfig, Client, Cmd, ErrorKind, FromRedisValue, Pipeline, RedisError,
    ServerErrorKind,
};
use tokio_util::sync::CancellationToken;

/// Where a queue lives in Redis, and how its consumers read, claim and give up.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// The stream's key.
    pub stream: String,
    /// The consumer group: its consumers share the stream's entries between them.
    pub group: String,
    /// The stream poison items are moved to.
    pub dead_letter: String,
    /// Entries one read asks for (`COUNT`).
    pub batch: usize,
    /// How long a read waits on an empty stream (`BLOCK`).
    pub block: Duration,
    /// How long an entry sits unacknowledged before another consumer may claim it.
    pub claim_idle: Duration,
    /// Deliveries an item gets; the next claim moves it to [`QueueConfig::dead_letter`].
    pub max_deliveries: u64,
    /// One `XACK` per batch, or one per item.
    pub ack: AckMode,
    /// Retries of a command whose connection failed.
    pub retry: RetryPolicy,
}

impl QueueConfig {
    /// The defaults for the stream `stream`: group `workers`, dead letters in
    /// `<stream>:dead`, batches of 100, 1 s blocks, claims after 5 s, 3 deliveries.
    pub fn new(stream: impl Into<String>) -> Self {
        let stream = stream.into();
        Self {
            dead_letter: format!("{stream}:dead"),
            stream,
            group: "workers".into(),
            batch: 100,
            block: Duration::from_secs(1),
            claim_idle: Duration::from_secs(5),
            max_deliveries: 3,
            ack: AckMode::Batch,
            retry: RetryPolicy::default(),
        }
    }
}

/// When a consumer acknowledges what it processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckMode {
    /// One `XACK` for the whole batch, after its last item: one round trip per batch.
    Batch,
    /// One `XACK` after each item: one round trip per item, and less to redo after a crash.
    EachItem,
}

/// One unit of work. `id` is the producer's, and the sink deduplicates on it: a Redis
/// entry id names one delivery of the item, and a retried `XADD` makes a second one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The item's own id, unique per item.
    pub id: String,
    /// What the consumer processes.
    pub body: Vec<u8>,
}

impl Item {
    /// An item with a text body.
    pub fn new(id: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self {
            id: id.into(),
            body: body.into(),
        }
    }
}

/// An item as a consumer received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The stream entry's id: what [`Consumer::done`] acknowledges.
    pub entry: String,
    /// The item.
    pub item: Item,
    /// 1 for the first delivery, 2 after one claim, and so on.
    pub attempt: u64,
}

/// What went wrong, said so that the one line a user sees names the cause.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The URL is not a Redis URL.
    #[error("not a Redis URL ({0})")]
    BadUrl(RedisError),
    /// Nothing answered there.
    #[error("cannot reach Redis at {addr}: {source}")]
    Unreachable { addr: String, source: RedisError },
    /// Redis refused the credentials, or asked for some.
    #[error("Redis at {addr} refused the credentials: {source}")]
    Auth { addr: String, source: RedisError },
    /// The stream's key holds something else.
    #[error("key {key:?} holds a {found}, not a stream")]
    WrongType { key: String, found: String },
    /// Any other error from Redis, after the retries transient ones get.
    #[error(transparent)]
    Redis(#[from] RedisError),
}

/// A queue in Redis: a stream, its consumer group and its dead-letter stream. Cheap to
/// clone; every clone shares one multiplexed connection that reconnects by itself.
#[derive(Debug, Clone)]
pub struct Queue {
    client: Client,
    commands: ConnectionManager,
    config: QueueConfig,
}

impl Queue {
    // ANCHOR: open
    /// Connects, checks that the stream's key is free or a stream, and creates the
    /// consumer group if it is missing (at entry 0, so it sees every item ever put).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropped, it leaves at most an empty stream with its
    /// group, which the next `open` finds and keeps.
    pub async fn open(url: &str, config: QueueConfig) -> Result<Self, QueueError> {
        let client = Client::open(url).map_err(QueueError::BadUrl)?;
        let addr = client.get_connection_info().addr().to_string();
        // One plain connection first: it fails at once, where the manager below would
        // retry for seconds, and its error says what is wrong.
        let mut probe = client
            .get_multiplexed_async_connection_with_config(&connection_config(RESPONSE))
            .await
            .map_err(|e| classify(e, &addr))?;
        check_is_stream(&mut probe, &config.stream, &addr).await?;
        let created: Result<(), RedisError> = redis::cmd("XGROUP")
            .arg(&["CREATE", &config.stream, &config.group, "0", "MKSTREAM"])
            .query_async(&mut probe)
            .await;
        match created {
            Err(e) if e.code() != Some("BUSYGROUP") => return Err(classify(e, &addr)),
            _ => {} // created, or there already
        }
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT))
            .set_response_timeout(Some(RESPONSE))
            .set_max_delay(config.retry.max_delay);
        let commands = ConnectionManager::new_with_config(client.clone(), manager).await?;
        Ok(Self {
            client,
            commands,
            config,
        })
    }
    // ANCHOR_END: open

    /// The configuration it was opened with.
    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// A producer on the shared connection.
    pub fn producer(&self) -> Producer {
        Producer {
            commands: self.commands.clone(),
            config: self.config.clone(),
        }
    }

    /// A consumer named `name`, with a connection of its own for its blocking reads.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropped, it leaves an open connection being closed,
    /// nothing else.
    pub async fn consumer(&self, name: impl Into<String>) -> Result<Consumer, QueueError> {
        let reader = Reader::connect(&self.client, &self.config).await?;
        Ok(Consumer {
            name: name.into(),
            config: self.config.clone(),
            commands: self.commands.clone(),
            reader,
            client: self.client.clone(),
            claim_from: "0-0".into(),
        })
    }

    /// A sink that records each item id once, in the hash `key`.
    pub fn sink(&self, key: impl Into<String>) -> IdempotentSink {
        IdempotentSink {
            commands: self.commands.clone(),
            key: key.into(),
            retry: self.config.retry,
        }
    }

    /// How far the group has got: entries not yet delivered, delivered but not
    /// acknowledged, and dead-lettered.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only reads.
    pub async fn progress(&self) -> Result<Progress, QueueError> {
        let config = &self.config;
        let mut pipe = redis::pipe();
        pipe.cmd("XINFO").arg(&["GROUPS", &config.stream]);
        pipe.cmd("XLEN").arg(&config.dead_letter);
        let (groups, dead): (StreamInfoGroupsReply, u64) =
            run_pipe(&self.commands, &config.retry, &pipe).await?;
        let group = groups.groups.iter().find(|g| g.name == config.group);
        Ok(Progress {
            lag: group.and_then(|g| g.lag).map(|n| n as u64),
            pending: group.map_or(0, |g| g.pending as u64),
            dead_lettered: dead,
        })
    }

    // ANCHOR: wait_drained
    /// `queue.join()` across processes: polls [`Queue::progress`] every `every` until
    /// every entry has been delivered and acknowledged (or dead-lettered).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only reads, and the queue goes on without it.
    pub async fn wait_drained(&self, every: Duration) -> Result<Progress, QueueError> {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let progress = self.progress().await?;
            if progress.drained() {
                return Ok(progress);
            }
        }
    }
    // ANCHOR_END: wait_drained

    /// The dead-letter stream's items, oldest first, with how often each was delivered.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only reads.
    pub async fn dead_letters(&self) -> Result<Vec<(Item, u64)>, QueueError> {
        let range = redis::cmd("XRANGE")
            .arg(&[&self.config.dead_letter, "-", "+"])
            .to_owned();
        let entries: StreamRangeReply = run_cmd(&self.commands, &self.config.retry, &range).await?;
        Ok(entries
            .ids
            .iter()
            .map(|e| (item_of(e), e.get("deliveries").unwrap_or(0)))
            .collect())
    }
    /// How many entries `consumer` has been given and not acknowledged.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only reads.
    pub async fn pending_of(&self, consumer: &str) -> Result<u64, QueueError> {
        let summary = redis::cmd("XPENDING")
            .arg(&[&self.config.stream, &self.config.group])
            .to_owned();
        let reply: StreamPendingReply =
            run_cmd(&self.commands, &self.config.retry, &summary).await?;
        Ok(match reply {
            StreamPendingReply::Data(data) => data
                .consumers
                .iter()
                .find(|c| c.name == consumer)
                .map_or(0, |c| c.pending as u64),
            _ => 0, // empty
        })
    }

    /// Deletes the stream (its group with it), the dead-letter stream, and `others`.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped, the keys are deleted or not, and the caller
    /// cannot tell. Deleting again is harmless, so call it again.
    pub async fn delete(&self, others: &[&str]) -> Result<(), QueueError> {
        let delete = redis::cmd("DEL")
            .arg(&[&self.config.stream, &self.config.dead_letter])
            .arg(others)
            .to_owned();
        run_cmd::<u64>(&self.commands, &self.config.retry, &delete).await?;
        Ok(())
    }
}

/// How far a group has got through its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Entries not yet delivered to any consumer (`None`: Redis cannot tell).
    pub lag: Option<u64>,
    /// Entries delivered and not yet acknowledged.
    pub pending: u64,
    /// Items moved to the dead-letter stream.
    pub dead_lettered: u64,
}

impl Progress {
    /// Nothing left to deliver and nothing in anyone's hands.
    pub fn drained(&self) -> bool {
        self.lag == Some(0) && self.pending == 0
    }
}

/// Puts items on the stream. Clones share the connection.
#[derive(Debug, Clone)]
pub struct Producer {
    commands: ConnectionManager,
    config: QueueConfig,
}

impl Producer {
    // ANCHOR: put
    /// `XADD`s one item and returns its entry id. A connection failure is retried with
    /// backoff, so after a lost reply the item may be on the stream twice: the sink's
    /// deduplication on [`Item::id`] is what makes that harmless.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped after the command was sent, the item may or
    /// may not be on the stream. Put it again; a second copy is deduplicated by its id.
    pub async fn put(&mut self, item: &Item) -> Result<String, QueueError> {
        let mut ids = self.put_many(std::slice::from_ref(item)).await?;
        Ok(ids.pop().unwrap_or_default())
    }

    /// `XADD`s every item in one pipeline: one round trip for the lot.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe, as [`Producer::put`] is not: dropped, any prefix of
    /// the items may be on the stream.
    pub async fn put_many(&mut self, items: &[Item]) -> Result<Vec<String>, QueueError> {
        let stream = &self.config.stream;
        let mut pipe = redis::pipe();
        for item in items {
            let fields: [(&str, &[u8]); 2] = [("id", item.id.as_bytes()), ("body", &item.body)];
            pipe.cmd("XADD").arg(stream).arg("*").arg(&fields[..]);
        }
        Ok(run_pipe(&self.commands, &self.config.retry, &pipe).await?)
    }
    // ANCHOR_END: put
}

/// A consumer's blocking connection, and its client id for `CLIENT UNBLOCK`. The id is
/// shared with every [`Unblocker`] taken from the consumer, and moves to the new
/// connection when a lost one is replaced.
#[derive(Debug)]
struct Reader {
    conn: MultiplexedConnection,
    client_id: Arc<AtomicI64>,
}

impl Reader {
    async fn connect(client: &Client, config: &QueueConfig) -> Result<Self, QueueError> {
        let (conn, client_id) = Self::open(client, config).await?;
        Ok(Self {
            conn,
            client_id: Arc::new(AtomicI64::new(client_id)),
        })
    }

    /// Replaces a lost connection. An [`Unblocker`] taken before still reaches the read.
    async fn reconnect(&mut self, client: &Client, config: &QueueConfig) -> Result<(), QueueError> {
        let (conn, client_id) = Self::open(client, config).await?;
        self.conn = conn;
        self.client_id.store(client_id, Ordering::Relaxed);
        Ok(())
    }

    // ANCHOR: reader
    /// A blocked `XREADGROUP` holds its connection until it returns: every command
    /// pipelined behind it would wait too, so the reads get a connection of their own.
    /// redis-rs times a reply out after 500 ms by default, which would cut every `BLOCK`
    /// longer than that short: this connection waits for the block, and a margin.
    async fn open(
        client: &Client,
        config: &QueueConfig,
    ) -> Result<(MultiplexedConnection, i64), QueueError> {
        let reads = connection_config(config.block + Duration::from_secs(2));
        let mut conn = with_retry(&config.retry, || {
            client.get_multiplexed_async_connection_with_config(&reads)
        })
        .await?;
        let client_id = redis::cmd("CLIENT")
            .arg("ID")
            .query_async(&mut conn)
            .await?;
        Ok((conn, client_id))
    }
    // ANCHOR_END: reader
}

/// Reads, acknowledges and claims items, as one member of the group.
#[derive(Debug)]
pub struct Consumer {
    name: String,
    config: QueueConfig,
    commands: ConnectionManager,
    reader: Reader,
    client: Client,
    claim_from: String,
}

impl Consumer {
    /// The consumer's name in its group.
    pub fn name(&self) -> &str {
        &self.name
    }

    // ANCHOR: get
    /// Up to [`QueueConfig::batch`] new items, waiting up to [`QueueConfig::block`] for
    /// the first (`XREADGROUP … BLOCK … STREAMS <stream> >`); empty when none came. A
    /// lost connection is reopened, with backoff, and the read tried again.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe, though nothing is lost: entries Redis delivered to a
    /// dropped read stay pending under this consumer's name, and [`Consumer::reclaim`]
    /// returns them after [`QueueConfig::claim_idle`]. To stop a read early without that
    /// wait, use [`Unblocker::unblock`] and await the read.
    pub async fn get(&mut self) -> Result<Vec<Delivery>, QueueError> {
        let options = StreamReadOptions::default()
            .group(&self.config.group, &self.name)
            .count(self.config.batch)
            .block(self.config.block.as_millis() as usize);
        let read = redis::cmd("XREADGROUP")
            .arg(&options)
            .arg(&["STREAMS", &self.config.stream, ">"])
            .to_owned();
        let mut tries = 0;
        loop {
            match read
                .query_async::<Option<StreamReadReply>>(&mut self.reader.conn)
                .await
            {
                Ok(reply) => return Ok(deliveries(reply)),
                Err(e) if is_transient(&e) && tries < self.config.retry.retries => {
                    tries += 1;
                    tracing::warn!(consumer = %self.name, "read failed, reconnecting: {e}");
                    self.reader.reconnect(&self.client, &self.config).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    // ANCHOR_END: get

    /// A handle that ends this consumer's blocked read at once (`CLIENT UNBLOCK`).
    pub fn unblocker(&self) -> Unblocker {
        Unblocker {
            commands: self.commands.clone(),
            client_id: Arc::clone(&self.reader.client_id),
        }
    }

    // ANCHOR: done
    /// `task_done()`: acknowledges the entries (`XACK`), removing them from the pending
    /// list. Returns how many were still pending; acknowledging twice is harmless.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped, the acknowledgement may or may not have
    /// landed, and the caller cannot tell. Acknowledging twice is harmless, so call `done`
    /// again; entries never acknowledged are redelivered.
    pub async fn done(&mut self, entries: &[String]) -> Result<u64, QueueError> {
        if entries.is_empty() {
            return Ok(0);
        }
        let config = &self.config;
        let ack = redis::cmd("XACK")
            .arg(&[&config.stream, &config.group])
            .arg(entries)
            .to_owned();
        Ok(run_cmd(&self.commands, &config.retry, &ack).await?)
    }
    // ANCHOR_END: done

    // ANCHOR: reclaim
    /// Claims entries that other consumers (or this one) left unacknowledged for
    /// [`QueueConfig::claim_idle`] (`XAUTOCLAIM`), and returns them to process again.
    /// Those already delivered [`QueueConfig::max_deliveries`] times are moved to the
    /// dead-letter stream instead, and returned as `dead`.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe, though nothing is lost: entries claimed by a dropped
    /// call stay pending under this consumer, and the next `reclaim` after the idle time
    /// returns them, one delivery further on.
    pub async fn reclaim(&mut self) -> Result<Reclaimed, QueueError> {
        let config = self.config.clone();
        let claim = redis::cmd("XAUTOCLAIM")
            .arg(&[&config.stream, &config.group, &self.name])
            .arg(config.claim_idle.as_millis() as u64)
            .arg(&self.claim_from)
            .arg(StreamAutoClaimOptions::default().count(config.batch))
            .to_owned();
        let claimed: StreamAutoClaimReply = run_cmd(&self.commands, &config.retry, &claim).await?;
        // The cursor walks the pending list; "0-0" means it went round.
        self.claim_from = claimed.next_stream_id.clone();
        let counts = self.delivery_counts(&claimed.claimed).await?;
        let mut reclaimed = Reclaimed::default();
        for entry in &claimed.claimed {
            let attempt = counts.get(&entry.id).copied().unwrap_or(1);
            let delivery = Delivery {
                entry: entry.id.clone(),
                item: item_of(entry),
                attempt,
            };
            if attempt > config.max_deliveries {
                self.dead_letter(&delivery).await?;
                reclaimed.dead.push(delivery);
            } else {
                reclaimed.retry.push(delivery);
            }
        }
        Ok(reclaimed)
    }
    // ANCHOR_END: reclaim

    /// How often each entry has been delivered, claims included: one `XPENDING` per
    /// entry, all in one pipeline.
    async fn delivery_counts(
        &mut self,
        entries: &[StreamId],
    ) -> Result<HashMap<String, u64>, QueueError> {
        if entries.is_empty() {
            return Ok(HashMap::new());
        }
        let mut pipe = redis::pipe();
        for entry in entries {
            pipe.cmd("XPENDING")
                .arg(&[
                    &self.config.stream,
                    &self.config.group,
                    &entry.id,
                    &entry.id,
                ])
                .arg(1);
        }
        let replies: Vec<StreamPendingCountReply> =
            run_pipe(&self.commands, &self.config.retry, &pipe).await?;
        Ok(replies
            .into_iter()
            .flat_map(|r| r.ids)
            .map(|p| (p.id, p.times_delivered as u64))
            .collect())
    }

    // ANCHOR: dead_letter
    /// Moves a poison item to the dead-letter stream and acknowledges it, in one
    /// `MULTI`/`EXEC`: it is in exactly one of the two streams' hands at any time.
    async fn dead_letter(&mut self, delivery: &Delivery) -> Result<(), QueueError> {
        let config = &self.config;
        let item = &delivery.item;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("XADD")
            .arg(&config.dead_letter)
            .arg("*")
            .arg(&[("id", item.id.as_bytes()), ("body", &item.body[..])][..])
            .arg(&[("entry", delivery.entry.as_str())][..])
            .arg("deliveries")
            .arg(delivery.attempt - 1)
            .ignore()
            .cmd("XACK")
            .arg(&[&config.stream, &config.group, &delivery.entry])
            .ignore();
        run_pipe::<()>(&self.commands, &config.retry, &pipe).await?;
        tracing::warn!(item = %item.id, deliveries = delivery.attempt - 1, "dead-lettered");
        Ok(())
    }
    // ANCHOR_END: dead_letter
}

/// What [`Consumer::reclaim`] claimed.
#[derive(Debug, Default)]
pub struct Reclaimed {
    /// Items to process again.
    pub retry: Vec<Delivery>,
    /// Items moved to the dead-letter stream.
    pub dead: Vec<Delivery>,
}

/// Ends a consumer's blocked read from outside it.
#[derive(Debug, Clone)]
pub struct Unblocker {
    commands: ConnectionManager,
    /// The reader's current client id: it changes when the reader reconnects.
    client_id: Arc<AtomicI64>,
}

impl Unblocker {
    // ANCHOR: unblock
    /// `CLIENT UNBLOCK <id>`: the consumer's blocked `XREADGROUP` returns now, as if its
    /// block had run out, with whatever it had been given. Dropping the read instead
    /// would leave anything Redis delivered to it pending until it is claimed.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropped, the read is unblocked or goes on to its block's
    /// end.
    pub async fn unblock(&self) -> Result<(), QueueError> {
        let mut conn = self.commands.clone();
        redis::cmd("CLIENT")
            .arg("UNBLOCK")
            .arg(self.client_id.load(Ordering::Relaxed))
            .query_async::<u8>(&mut conn)
            .await?;
        Ok(())
    }
    // ANCHOR_END: unblock
}

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
/// `process`, acknowledge, until `shutdown` is cancelled. Then the read in progress is
/// unblocked, the items in hand are finished and acknowledged, and it returns; items
/// never read stay in the stream for the others.
///
/// An item whose `process` fails or panics is not acknowledged: it is redelivered after
/// [`QueueConfig::claim_idle`], and dead-lettered after [`QueueConfig::max_deliveries`].
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
        // ANCHOR_END: run_consumer
        // ANCHOR: process
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
    }
    Ok(report)
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

// ANCHOR: sink
/// Where processed items go, deduplicated on [`Item::id`]: a hash field per item,
/// written with `HSETNX`, so a redelivered item is recorded once. This is what turns
/// at-least-once delivery into an exactly-once effect; a SQL sink does the same with a
/// unique key and `INSERT … ON CONFLICT DO NOTHING`.
#[derive(Debug, Clone)]
pub struct IdempotentSink {
    commands: ConnectionManager,
    key: String,
    retry: RetryPolicy,
}

impl IdempotentSink {
    /// Records `value` for `item_id`; `true` the first time, `false` for a duplicate.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped, the record may or may not be written, and
    /// the caller cannot tell. Writing it again is harmless (`HSETNX` keeps the first), so
    /// call it again.
    pub async fn record(&mut self, item_id: &str, value: &str) -> Result<bool, QueueError> {
        let set = redis::cmd("HSETNX")
            .arg(&[self.key.as_str(), item_id, value])
            .to_owned();
        Ok(run_cmd(&self.commands, &self.retry, &set).await?)
    }
    // ANCHOR_END: sink

    /// How many distinct items it holds.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only reads.
    pub async fn count(&mut self) -> Result<u64, QueueError> {
        let count = redis::cmd("HLEN").arg(&self.key).to_owned();
        Ok(run_cmd(&self.commands, &self.retry, &count).await?)
    }
}

// ANCHOR: retry_policy
/// How a command whose connection failed is retried: exponential backoff from
/// `first_delay` up to `max_delay`, `retries` times, with jitter so that many clients
/// reconnecting to a restarted Redis do not all arrive in the same millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first wait.
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// Retries after the first try.
    pub retries: u32,
    /// Each wait is drawn between itself and twice itself.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    /// 50 ms doubling to 2 s, 15 retries: about 20 s, long enough for a restart.
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(2),
            retries: 15,
            jitter: true,
        }
    }
}

// ANCHOR_END: retry_policy

// ANCHOR: retry
/// Runs `attempt` until it succeeds, fails with an error that is not transient
/// ([`is_transient`]), or has been retried `policy.retries` times.
///
/// # Cancel safety
///
/// This function is cancel safe when `attempt` is: dropped during a wait, nothing is in
/// flight and no further try is made; dropped during a try, that try is dropped with it.
pub async fn with_retry<T, F, Fut>(policy: &RetryPolicy, attempt: F) -> Result<T, RedisError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RedisError>>,
{
    let mut backoff = ExponentialBuilder::default()
        .with_min_delay(policy.first_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.retries as usize);
    if policy.jitter {
        backoff = backoff.with_jitter();
    }
    attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(is_transient)
        .notify(|e, wait| tracing::warn!("redis: {e}; retrying in {wait:?}"))
        .await
}

/// An error worth a retry: the connection failed or timed out, or Redis is still loading
/// its data after a restart.
pub fn is_transient(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || matches!(
            error.kind(),
            ErrorKind::Server(ServerErrorKind::BusyLoading | ServerErrorKind::TryAgain)
        )
}
// ANCHOR_END: retry

/// One command, retried by [`with_retry`] on a clone of the shared connection.
async fn run_cmd<T: FromRedisValue>(
    conn: &ConnectionManager,
    policy: &RetryPolicy,
    cmd: &Cmd,
) -> Result<T, RedisError> {
    with_retry(policy, || {
        let mut conn = conn.clone();
        async move { cmd.query_async(&mut conn).await }
    })
    .await
}

/// [`run_cmd`] for a pipeline: its replies come back together.
async fn run_pipe<T: FromRedisValue>(
    conn: &ConnectionManager,
    policy: &RetryPolicy,
    pipe: &Pipeline,
) -> Result<T, RedisError> {
    with_retry(policy, || {
        let mut conn = conn.clone();
        async move { pipe.query_async(&mut conn).await }
    })
    .await
}

/// How long a connection attempt may take.
const CONNECT: Duration = Duration::from_secs(2);
/// How long a command's reply may take (a blocking read gets its own).
const RESPONSE: Duration = Duration::from_secs(10);

fn connection_config(response: Duration) -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT))
        .set_response_timeout(Some(response))
}

/// Refuses a key that holds another type: `XADD` would fail on every item with
/// `WRONGTYPE`, far from the cause.
async fn check_is_stream(
    conn: &mut MultiplexedConnection,
    key: &str,
    addr: &str,
) -> Result<(), QueueError> {
    let found: String = redis::cmd("TYPE")
        .arg(key)
        .query_async(conn)
        .await
        .map_err(|e| classify(e, addr))?;
    match found.as_str() {
        "stream" | "none" => Ok(()),
        _ => Err(QueueError::WrongType {
            key: key.to_owned(),
            found,
        }),
    }
}

/// Names the cause of a connection's first error.
fn classify(error: RedisError, addr: &str) -> QueueError {
    let addr = addr.to_owned();
    let refused = matches!(error.code(), Some("NOAUTH" | "WRONGPASS"));
    if refused || error.kind() == ErrorKind::AuthenticationFailed {
        QueueError::Auth {
            addr,
            source: error,
        }
    } else if error.is_io_error() || error.is_timeout() || error.is_connection_refusal() {
        QueueError::Unreachable {
            addr,
            source: error,
        }
    } else {
        QueueError::Redis(error)
    }
}

fn deliveries(reply: Option<StreamReadReply>) -> Vec<Delivery> {
    reply
        .into_iter()
        .flat_map(|r| r.keys)
        .flat_map(|k| k.ids)
        .map(|entry| Delivery {
            item: item_of(&entry),
            entry: entry.id,
            attempt: 1,
        })
        .collect()
}

fn item_of(entry: &StreamId) -> Item {
    Item {
        id: entry.get("id").unwrap_or_default(),
        body: entry.get("body").unwrap_or_default(),
    }
}
