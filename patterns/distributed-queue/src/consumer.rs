//! Reading and acknowledging: a consumer's blocking reads on a connection of its own
//! (`XREADGROUP … BLOCK`), and `XACK`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use redis::Client;
use redis::aio::{ConnectionManager, MultiplexedConnection};
use redis::streams::{StreamReadOptions, StreamReadReply};

use crate::admin::connection_config;
use crate::item::deliveries;
use crate::retry::{is_transient, run_cmd, with_retry};
use crate::{Delivery, QueueConfig, QueueError, Unblocker};

/// A consumer's blocking connection, and its client id for `CLIENT UNBLOCK`. The id is
/// shared with every [`Unblocker`] taken from the consumer, and moves to the new
/// connection when a lost one is replaced.
#[derive(Debug)]
pub(crate) struct Reader {
    pub(crate) conn: MultiplexedConnection,
    pub(crate) client_id: Arc<AtomicI64>,
}

impl Reader {
    pub(crate) async fn connect(client: &Client, config: &QueueConfig) -> Result<Self, QueueError> {
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
    pub(crate) name: String,
    pub(crate) config: QueueConfig,
    pub(crate) commands: ConnectionManager,
    pub(crate) reader: Reader,
    pub(crate) client: Client,
    pub(crate) claim_from: String,
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
}
