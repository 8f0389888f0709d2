//! Redis killed and restarted mid-run, its append-only file on: producers and consumers
//! reconnect with backoff, and nothing Redis acknowledged is lost.

mod common;

use std::time::Duration;

use distributed_queue::{Item, run_consumer};
use external_tools::redis::Options;
use tokio_util::sync::CancellationToken;

const ITEMS: u64 = 20_000;
const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_redis_loses_nothing_it_acknowledged() {
    let options = Options {
        append_only: true,
        ..Default::default()
    };
    let Some(mut server) = common::redis(&options) else {
        return;
    };
    let queue = common::queue(&server, "jobs", |c| {
        c.claim_idle = Duration::from_millis(300)
    })
    .await;
    let shutdown = CancellationToken::new();
    let mut consumers = tokio::task::JoinSet::new();
    for c in 0..2 {
        let mut consumer = queue.consumer(format!("c{c}")).await.unwrap();
        let (sink, shutdown) = (queue.sink("jobs:sink"), shutdown.clone());
        consumers.spawn(async move {
            run_consumer(&mut consumer, &shutdown, |item| {
                let mut sink = sink.clone();
                async move { sink.record(&item.id, "done").await.map(|_| ()) }
            })
            .await
        });
    }
    let mut producer = queue.producer();
    let mut paced = queue.sink("jobs:sink");
    let produce = tokio::spawn(async move {
        for start in (0..ITEMS).step_by(100) {
            // Kept at most 2,000 items ahead of the sink, so the restart comes mid-run
            // for the producer too.
            while paced.count().await.unwrap() + 2_000 < start {
                tokio::task::yield_now().await;
            }
            let items: Vec<Item> = (start..start + 100)
                .map(|i| Item::new(format!("item-{i}"), "x"))
                .collect();
            // Ok means Redis wrote them to its append-only file: they must survive.
            producer.put_many(&items).await.unwrap();
        }
    });

    let mut sink = queue.sink("jobs:sink");
    common::until("a third of the items", LIMIT, || {
        let mut sink = sink.clone();
        async move { sink.count().await.unwrap() >= ITEMS / 3 }
    })
    .await;
    assert!(!produce.is_finished(), "the producer is still putting");
    server.kill(); // SIGKILL: no shutdown, no final flush
    server.restart().unwrap();

    produce
        .await
        .expect("every put succeeded, across the restart");
    let progress = tokio::time::timeout(LIMIT, queue.wait_drained(Duration::from_millis(20)))
        .await
        .expect("drained in time")
        .unwrap();
    assert!(progress.drained(), "{progress:?}");
    assert_eq!(sink.count().await.unwrap(), ITEMS, "every item in the sink");
    shutdown.cancel();
    while let Some(report) = consumers.join_next().await {
        let report = report.unwrap().unwrap();
        assert_eq!(report.failed + report.panicked, 0, "{report:?}");
    }
}
