//! Drop tests: each public async fn dropped mid-await does what its `# Cancel safety`
//! section says, against a real Redis. The waits are on Redis's own state (a client
//! blocked, an entry pending), never on the clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use distributed_queue::{Item, Queue, QueueConfig, run_consumer};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(20);

/// Claims at once and blocks for long: a test that returns quickly did not wait a block out.
fn eager(config: &mut QueueConfig) {
    config.claim_idle = Duration::ZERO;
    config.block = Duration::from_secs(30);
}

#[tokio::test]
async fn a_dropped_get_leaves_its_delivery_pending_and_reclaim_returns_it() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let queue = common::queue(&server, "jobs", eager).await;
    let conn = common::conn(&server).await;
    let mut consumer = queue.consumer("c1").await.unwrap();
    // Dropped once Redis blocks on it: Redis keeps blocking, and delivers to it.
    cancel_check::drop_pending_after(
        consumer.get(),
        common::until("the read to block", LIMIT, || {
            let mut conn = conn.clone();
            async move { common::blocked_clients(&mut conn).await == 1 }
        }),
    )
    .await;
    queue.producer().put(&Item::new("a", "x")).await.unwrap();
    common::until("Redis to deliver it", LIMIT, || async {
        queue.pending_of("c1").await.unwrap() == 1
    })
    .await;

    let reclaimed = consumer.reclaim().await.unwrap();
    let ids: Vec<(&str, u64)> = reclaimed
        .retry
        .iter()
        .map(|d| (d.item.id.as_str(), d.attempt))
        .collect();
    assert_eq!(ids, [("a", 2)], "the same item, one delivery further on");
    assert_eq!(
        consumer
            .done(&[reclaimed.retry[0].entry.clone()])
            .await
            .unwrap(),
        1
    );

    // The reader's connection still serves reads: the dropped reply confused nothing.
    queue.producer().put(&Item::new("b", "y")).await.unwrap();
    let next = consumer.get().await.unwrap();
    assert_eq!(
        next.iter().map(|d| d.item.id.as_str()).collect::<Vec<_>>(),
        ["b"]
    );
}

#[tokio::test]
async fn a_dropped_put_is_put_again_and_recorded_once() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let queue = common::queue(&server, "jobs", eager).await;
    let mut producer = queue.producer();
    let item = Item::new("a", "x");
    cancel_check::drop_pending(producer.put(&item)).await; // sent or not
    cancel_check::drop_pending(producer.put_many(std::slice::from_ref(&item))).await;
    producer.put(&item).await.unwrap(); // so the producer puts it again

    let mut consumer = queue.consumer("c1").await.unwrap();
    let mut sink = queue.sink("sink");
    let mut entries = Vec::new();
    while entries.is_empty() || queue.progress().await.unwrap().lag != Some(0) {
        for delivery in consumer.get().await.unwrap() {
            sink.record(&delivery.item.id, "done").await.unwrap();
            entries.push(delivery.entry);
        }
    }
    assert!(matches!(entries.len(), 1 | 2), "{entries:?}");
    consumer.done(&entries).await.unwrap();
    assert_eq!(sink.count().await.unwrap(), 1, "the sink holds it once");
    assert!(queue.progress().await.unwrap().drained());
}

#[tokio::test]
async fn a_dropped_done_is_done_again_harmlessly() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let queue = common::queue(&server, "jobs", eager).await;
    queue
        .producer()
        .put_many(&[Item::new("a", "x")])
        .await
        .unwrap();
    let mut consumer = queue.consumer("c1").await.unwrap();
    let entries: Vec<String> = consumer
        .get()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.entry)
        .collect();
    cancel_check::drop_pending(consumer.done(&entries)).await;
    let acked = consumer.done(&entries).await.unwrap();
    assert!(
        acked <= 1,
        "acknowledged by the dropped call or this one: {acked}"
    );
    assert_eq!(queue.progress().await.unwrap().pending, 0);
}

#[tokio::test]
async fn a_dropped_reclaim_leaves_its_claims_pending_for_the_next() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let queue = common::queue(&server, "jobs", eager).await;
    queue.producer().put(&Item::new("a", "x")).await.unwrap();
    let mut c1 = queue.consumer("c1").await.unwrap();
    assert_eq!(c1.get().await.unwrap().len(), 1); // c1 holds it, and "crashes"
    let mut c2 = queue.consumer("c2").await.unwrap();
    cancel_check::drop_pending(c2.reclaim()).await;
    let reclaimed = c2.reclaim().await.unwrap();
    assert_eq!(
        reclaimed.retry.len(),
        1,
        "claimed once, whoever holds it now"
    );
    assert!(reclaimed.retry[0].attempt >= 2);
    c2.done(&[reclaimed.retry[0].entry.clone()]).await.unwrap();
    assert!(queue.progress().await.unwrap().drained());
}

#[tokio::test]
async fn a_dropped_consumer_run_leaves_its_batch_to_the_others() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let queue = common::queue(&server, "jobs", eager).await;
    let items: Vec<Item> = (0..3)
        .map(|i| Item::new(format!("item-{i}"), "x"))
        .collect();
    queue.producer().put_many(&items).await.unwrap();
    let started = Arc::new(Notify::new());
    let mut c1 = queue.consumer("c1").await.unwrap();
    let shutdown = CancellationToken::new();
    // Dropped once it holds the batch, stuck on its first item.
    cancel_check::drop_pending_after(
        run_consumer(&mut c1, &shutdown, |_item| {
            let started = started.clone();
            async move {
                started.notify_one();
                std::future::pending::<anyhow::Result<()>>().await
            }
        }),
        started.notified(),
    )
    .await;
    assert_eq!(queue.pending_of("c1").await.unwrap(), 3);

    let mut c2 = queue.consumer("c2").await.unwrap();
    let reclaimed = c2.reclaim().await.unwrap();
    assert_eq!(reclaimed.retry.len(), 3, "the whole batch comes back");
    let entries: Vec<String> = reclaimed.retry.into_iter().map(|d| d.entry).collect();
    c2.done(&entries).await.unwrap();
    assert!(queue.progress().await.unwrap().drained());
}

/// Graceful shutdown: the batch in hand is finished and acknowledged, the unread items
/// stay in the stream, and a blocked read is ended at once by `CLIENT UNBLOCK`.
#[tokio::test]
async fn shutdown_finishes_the_batch_in_hand_and_leaves_the_rest_unread() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let queue = common::queue(&server, "jobs", |c| {
        eager(c);
        c.batch = 4;
    })
    .await;
    let items: Vec<Item> = (0..10)
        .map(|i| Item::new(format!("item-{i}"), "x"))
        .collect();
    queue.producer().put_many(&items).await.unwrap();
    let mut consumer = queue.consumer("c1").await.unwrap();
    let shutdown = CancellationToken::new();
    let sink = queue.sink("sink");
    let report = run_consumer(&mut consumer, &shutdown, |item| {
        let (mut sink, shutdown) = (sink.clone(), shutdown.clone());
        async move {
            shutdown.cancel(); // Ctrl-C arrives during the first item
            sink.record(&item.id, "done").await.map(|_| ())
        }
    });
    let report = tokio::time::timeout(LIMIT, report)
        .await
        .expect("stops at once")
        .unwrap();
    assert_eq!(report.processed, 4, "the batch in hand, finished");
    let progress = queue.progress().await.unwrap();
    assert_eq!(
        (progress.pending, progress.lag),
        (0, Some(6)),
        "acknowledged; 6 unread"
    );
}

#[tokio::test]
async fn unblock_ends_a_blocked_read_at_once_with_nothing_lost() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let queue = common::queue(&server, "jobs", eager).await;
    let mut conn = common::conn(&server).await;
    let mut consumer = queue.consumer("c1").await.unwrap();
    let unblocker = consumer.unblocker();
    let read = consumer.get();
    let unblock = async {
        common::until("the read to block", LIMIT, || {
            let mut conn = conn.clone();
            async move { common::blocked_clients(&mut conn).await == 1 }
        })
        .await;
        cancel_check::drop_pending(unblocker.unblock()).await; // sent or not
        unblocker.unblock().await.unwrap();
    };
    // The block is 30 s; the read returns long before.
    let (got, ()) = tokio::time::timeout(LIMIT, async { tokio::join!(read, unblock) })
        .await
        .expect("the read returned before its block ran out");
    assert!(got.unwrap().is_empty());
    assert_eq!(common::blocked_clients(&mut conn).await, 0);
}

/// Reads, and connections being opened, dropped after a poll: nothing changes.
#[tokio::test]
async fn dropped_reads_and_opens_change_nothing() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    cancel_check::drop_pending(Queue::open(&server.url(), QueueConfig::new("jobs"))).await;
    let queue = common::queue(&server, "jobs", eager).await;
    cancel_check::drop_pending(queue.consumer("c1")).await;
    queue.producer().put(&Item::new("a", "x")).await.unwrap();
    let mut sink = queue.sink("sink");
    cancel_check::drop_pending(queue.progress()).await;
    cancel_check::drop_pending(queue.pending_of("c1")).await;
    cancel_check::drop_pending(queue.dead_letters()).await;
    cancel_check::drop_pending(queue.wait_drained(Duration::from_millis(1))).await;
    cancel_check::drop_pending(sink.record("a", "done")).await;
    cancel_check::drop_pending(sink.count()).await;
    cancel_check::drop_pending(queue.delete(&[])).await;
    // The dropped record may or may not have been written; recording again, as its cancel
    // safety section says to, leaves it there once.
    sink.record("a", "done").await.unwrap();
    assert_eq!(sink.count().await.unwrap(), 1);

    queue.delete(&["sink"]).await.unwrap();
    let mut conn = common::conn(&server).await;
    let left: u64 = redis::cmd("EXISTS")
        .arg(&["jobs", "jobs:dead", "sink"])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0, "delete removed the queue's keys");
}

/// The reader's connection killed while it blocks: the consumer reconnects and blocks
/// again under a new client id. A shutdown still ends that new read at once, not after its
/// 30 s block, and the report loses nothing.
#[tokio::test]
async fn shutdown_unblocks_a_read_that_reconnected() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let queue = common::queue(&server, "jobs", eager).await;
    let conn = common::conn(&server).await;
    let mut consumer = queue.consumer("c1").await.unwrap();
    let shutdown = CancellationToken::new();
    let run = run_consumer(&mut consumer, &shutdown, async |_item| Ok::<_, String>(()));
    let kill_then_stop = async {
        let mut conn = conn.clone();
        common::until("the read to block", LIMIT, || {
            let mut conn = conn.clone();
            async move { common::blocked_reader(&mut conn).await.is_some() }
        })
        .await;
        let first = common::blocked_reader(&mut conn).await.unwrap();
        let _: () = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(first)
            .query_async(&mut conn)
            .await
            .unwrap();
        common::until("the read to block again, reconnected", LIMIT, || {
            let mut conn = conn.clone();
            async move {
                common::blocked_reader(&mut conn)
                    .await
                    .is_some_and(|id| id != first)
            }
        })
        .await;
        shutdown.cancel();
    };
    let (report, ()) = tokio::time::timeout(LIMIT, async { tokio::join!(run, kill_then_stop) })
        .await
        .expect("the reconnected read was unblocked before its block ran out");
    assert_eq!(report.unwrap(), Default::default());
}
