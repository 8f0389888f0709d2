//! What travels through the queue: an item with an id of its own, and one delivery of it.

use redis::streams::{StreamId, StreamReadReply};

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
    /// The stream entry's id: what [`Consumer::done`](crate::Consumer::done) acknowledges.
    pub entry: String,
    /// The item.
    pub item: Item,
    /// 1 for the first delivery, 2 after one claim, and so on.
    pub attempt: u64,
}

/// The deliveries in an `XREADGROUP` reply: first deliveries, attempt 1.
pub(crate) fn deliveries(reply: Option<StreamReadReply>) -> Vec<Delivery> {
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

/// The item an entry carries (its `id` and `body` fields).
pub(crate) fn item_of(entry: &StreamId) -> Item {
    Item {
        id: entry.get("id").unwrap_or_default(),
        body: entry.get("body").unwrap_or_default(),
    }
}
