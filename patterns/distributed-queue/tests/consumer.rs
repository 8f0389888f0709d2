//! A consumer's own rules, against a real Redis: a read whose connection keeps dying gives
//! up after its retries; claims run on their schedule, not at every batch; and the two
//! acknowledgement modes acknowledge when they say.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use distributed_queue::{AckMode, Item, QueueError, is_transient, run_consumer};
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(20);

/// Each time the read blocks on a new connection, that connection is killed. With two
/// retries the third death is returned, not retried: the read ends long before its block.
#[tokio::test]
async fn a_read_whose_connection_keeps_dying_gives_up_after_its_retries() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let queue = common::queue(&server, "jobs", |c| {
        c.block = Duration::from_secs(30);
        c.retry.retries = 2;
    })
    .await;
    let conn = common::conn(&server).await;
    let mut consumer = queue.consumer("c1").await.unwrap();
    let read = consumer.get();
    let kill_each_reader = async {
        let mut killed: Vec<i64> = Vec::new();
        for _ in 0..3 {
            common::until("the read to block on a new connection", LIMIT, || {
                let (mut conn, killed) = (conn.clone(), killed.clone());
                async move {
                    common::blocked_reader(&mut conn)
                        .await
                        .is_some_and(|id| !killed.contains(&id))
                }
            })
            .await;
            let id = common::blocked_reader(&mut conn.clone()).await.unwrap();
            let _: () = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("ID")
                .arg(id)
                .query_async(&mut conn.clone())
                .await
                .unwrap();
            killed.push(id);
        }
        killed.len()
    };
    let (got, killed) = tokio::time::timeout(LIMIT, async { tokio::join!(read, kill_each_reader) })
        .await
        .expect("the read gave up after its retries, not after its block");
    let error = got.expect_err("the third death is returned");
    assert!(
        matches!(&error, QueueError::Redis(e) if is_transient(e)),
        "{error:?}"
    );
    assert_eq!(killed, 3, "the first read and its two retries");
}

/// `INFO commandstats`' count of `XAUTOCLAIM` calls since the server started.
async fn claims(conn: &mut redis::aio::MultiplexedConnection) -> u64 {
    // `cmdstat_xautoclaim:calls=1,usec=…`; absent before the first call.
    let stats = common::info_field(conn, "commandstats", "cmdstat_xautoclaim").await;
    stats
        .and_then(|s| s.strip_prefix("calls=")?.split(',').next()?.parse().ok())
        .unwrap_or(0)
}

/// A consumer looks for abandoned entries when it starts and then every half
/// `claim_idle`: with an hour's `claim_idle`, five batches make one claim, not five.
#[tokio::test]
async fn a_consumer_claims_on_its_schedule_not_at_every_batch() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let queue = common::queue(&server, "jobs", |c| {
        c.claim_idle = Duration::from_secs(3600);
        c.batch = 1;
    })
    .await;
    let items: Vec<Item> = (0..5).map(|i| Item::new(format!("{i}"), "x")).collect();
    queue.producer().put_many(&items).await.unwrap();
    let mut conn = common::conn(&server).await;
    assert_eq!(claims(&mut conn).await, 0);

    let mut consumer = queue.consumer("c1").await.unwrap();
    let shutdown = CancellationToken::new();
    let processed = Mutex::new(0);
    let run = run_consumer(&mut consumer, &shutdown, |_item| {
        let mut count = processed.lock().unwrap();
        *count += 1;
        if *count == items.len() {
            shutdown.cancel();
        }
        async { Ok::<_, String>(()) }
    });
    let report = tokio::time::timeout(LIMIT, run).await.unwrap().unwrap();
    assert_eq!(report.processed, 5);
    assert_eq!(claims(&mut conn).await, 1);
}

/// `AckMode::EachItem` acknowledges an item before the next one starts; `AckMode::Batch`
/// acknowledges the whole batch after its last item. Each item's `process` reads how many
/// entries are still pending.
#[tokio::test]
async fn each_mode_acknowledges_when_it_says() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    for (mode, pending_seen) in [(AckMode::EachItem, [3, 2, 1]), (AckMode::Batch, [3, 3, 3])] {
        let stream = format!("jobs-{mode:?}");
        let queue = common::queue(&server, &stream, |c| {
            c.ack = mode;
            c.batch = 3;
        })
        .await;
        let items: Vec<Item> = (0..3).map(|i| Item::new(format!("{i}"), "x")).collect();
        queue.producer().put_many(&items).await.unwrap();
        let mut consumer = queue.consumer("c1").await.unwrap();
        let shutdown = CancellationToken::new();
        let seen = Mutex::new(Vec::new());
        let run = run_consumer(&mut consumer, &shutdown, |_item| {
            let (queue, seen, shutdown) = (&queue, &seen, &shutdown);
            async move {
                let pending = queue.pending_of("c1").await.map_err(|e| e.to_string())?;
                let mut seen = seen.lock().unwrap();
                seen.push(pending);
                if seen.len() == 3 {
                    shutdown.cancel();
                }
                Ok::<_, String>(())
            }
        });
        let report = tokio::time::timeout(LIMIT, run).await.unwrap().unwrap();
        assert_eq!(report.processed, 3, "{mode:?}");
        assert_eq!(seen.into_inner().unwrap(), pending_seen, "{mode:?}");
        assert_eq!(queue.pending_of("c1").await.unwrap(), 0, "{mode:?}");
    }
}
