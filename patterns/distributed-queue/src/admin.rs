//! The queue in Redis, administered: opening it (stream, group, dead-letter stream), handing out
//! producers, consumers and sinks, and watching how far the group has got.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::streams::{StreamInfoGroupsReply, StreamPendingReply, StreamRangeReply};
use redis::{AsyncConnectionConfig, Client, RedisError};

use crate::consumer::Reader;
use crate::error::classify;
use crate::item::item_of;
use crate::retry::{run_cmd, run_pipe};
use crate::{Consumer, IdempotentSink, Item, Producer, QueueConfig, QueueError};

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

/// How long a connection attempt may take.
pub(crate) const CONNECT: Duration = Duration::from_secs(2);
/// How long a command's reply may take (a blocking read gets its own).
pub(crate) const RESPONSE: Duration = Duration::from_secs(10);

pub(crate) fn connection_config(response: Duration) -> AsyncConnectionConfig {
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
