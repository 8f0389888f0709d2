//! Where a queue lives in Redis, and how its consumers read, acknowledge and give up.

use std::time::Duration;

use crate::RetryPolicy;

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
