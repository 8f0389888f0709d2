//! Items that always fail, by an error or a panic, are redelivered and then moved to the
//! dead-letter stream after `max_deliveries`, with the others processed once.

mod common;

use std::time::Duration;

use distributed_queue::{Item, run_consumer};
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_item_lands_in_the_dead_letter_stream_after_n_deliveries() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let queue = common::queue(&server, "jobs", |c| {
        c.claim_idle = Duration::from_millis(50);
        c.max_deliveries = 3;
    })
    .await;
    let mut items: Vec<Item> = (0..20)
        .map(|i| Item::new(format!("item-{i}"), "ok"))
        .collect();
    items.push(Item::new("bad-error", "fails"));
    items.push(Item::new("bad-panic", "panics"));
    queue.producer().put_many(&items).await.unwrap();

    let mut consumer = queue.consumer("c1").await.unwrap();
    let shutdown = CancellationToken::new();
    let sink = queue.sink("jobs:sink");
    let run = run_consumer(&mut consumer, &shutdown, |item| {
        let mut sink = sink.clone();
        async move {
            match &item.body[..] {
                b"fails" => anyhow::bail!("{} cannot be processed", item.id),
                b"panics" => panic!("{} broke the handler", item.id),
                _ => sink
                    .record(&item.id, "done")
                    .await
                    .map(|_| ())
                    .map_err(Into::into),
            }
        }
    });
    let stop = async {
        let progress = queue.wait_drained(Duration::from_millis(10)).await;
        shutdown.cancel();
        progress
    };
    let (report, progress) = tokio::time::timeout(LIMIT, async { tokio::join!(run, stop) })
        .await
        .expect("drained in time");
    let (report, progress) = (report.unwrap(), progress.unwrap());

    assert_eq!(progress.dead_lettered, 2, "{progress:?}");
    let mut dead = queue.dead_letters().await.unwrap();
    dead.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let ids: Vec<(&str, u64)> = dead
        .iter()
        .map(|(item, n)| (item.id.as_str(), *n))
        .collect();
    assert_eq!(ids, [("bad-error", 3), ("bad-panic", 3)]);
    assert_eq!(dead[0].0.body, b"fails", "the item itself is kept");
    assert_eq!(report.processed, 20);
    assert_eq!(
        (report.failed, report.panicked, report.dead_lettered),
        (3, 3, 2)
    );
    // Each poison item: read once, claimed back twice, then dead-lettered at the third claim.
    assert_eq!(report.reclaimed, 4);
    assert_eq!(queue.sink("jobs:sink").count().await.unwrap(), 20);
}
