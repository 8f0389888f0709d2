//! What a crash leaves behind: entries idle too long are claimed by another consumer
//! (`XAUTOCLAIM`), and an item delivered too often goes to the dead-letter stream.

use std::collections::HashMap;

use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamPendingCountReply,
};

use crate::item::item_of;
use crate::retry::{run_cmd, run_pipe};
use crate::{Consumer, Delivery, QueueError};

impl Consumer {
    // ANCHOR: reclaim
    /// Claims entries that other consumers (or this one) left unacknowledged for
    /// [`QueueConfig::claim_idle`](crate::QueueConfig::claim_idle) (`XAUTOCLAIM`), and returns them to process again.
    /// Those already delivered [`QueueConfig::max_deliveries`](crate::QueueConfig::max_deliveries) times are moved to the
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
