//! Each public async fn of the queue, dropped mid-await: what its `# Cancel safety` section
//! promises holds, and the counts behind `join()` stay true.

use std::future::Future;
use std::time::Duration;

use futures::FutureExt;
use queue::{RunConfig, StopSignal, consume, produce, run, work_queue};
use tokio::time::{sleep, timeout};

const A_WHILE: Duration = Duration::from_secs(60);

/// Polls `future` once and reports whether it is still waiting.
fn pending_after_one_poll<F: Future>(future: std::pin::Pin<&mut F>) -> bool {
    future.now_or_never().is_none()
}

#[tokio::test(start_paused = true)]
async fn a_put_dropped_while_the_queue_is_full_queues_and_counts_nothing() {
    let (producer, consumer, progress) = work_queue::<u64>(2);
    producer.put(1).await.unwrap();
    producer.put(2).await.unwrap();
    cancel_check::drop_pending_after(producer.put(3), tokio::time::sleep(A_WHILE)).await; // full: put waits
    assert_eq!((consumer.len(), progress.put()), (2, 2));
    for _ in 0..2 {
        consumer.get().await.unwrap();
        consumer.done().unwrap();
    }
    // Nothing waits for the dropped item: join returns.
    timeout(A_WHILE, progress.join())
        .await
        .expect("join returns");
}

#[tokio::test(start_paused = true)]
async fn a_put_dropped_after_room_appeared_but_before_its_next_poll_queued_nothing() {
    let (producer, consumer, progress) = work_queue::<u64>(1);
    producer.put(1).await.unwrap();
    let mut waiting = Box::pin(producer.put(2));
    assert!(pending_after_one_poll(waiting.as_mut()));
    assert_eq!(consumer.get().await, Some(1)); // room for the waiting put...
    drop(waiting); // ...which is dropped before it runs again
    consumer.done().unwrap();
    assert_eq!(
        (consumer.len(), progress.put()),
        (0, 1),
        "item 2 was never queued"
    );
    timeout(A_WHILE, progress.join())
        .await
        .expect("join returns");
}

#[tokio::test(start_paused = true)]
async fn a_get_dropped_while_waiting_takes_nothing() {
    let (producer, consumer, _progress) = work_queue::<u64>(4);
    let mut waiting = Box::pin(consumer.get());
    assert!(pending_after_one_poll(waiting.as_mut()));
    drop(waiting);
    producer.put(7).await.unwrap();
    assert_eq!(
        consumer.get().await,
        Some(7),
        "the item goes to the next get"
    );
}

#[tokio::test(start_paused = true)]
async fn join_dropped_and_called_again_waits_the_same() {
    let (producer, consumer, progress) = work_queue::<u64>(4);
    producer.put(1).await.unwrap();
    cancel_check::drop_pending_after(progress.join(), tokio::time::sleep(A_WHILE)).await; // one unfinished
    consumer.get().await.unwrap();
    consumer.done().unwrap();
    timeout(A_WHILE, progress.join())
        .await
        .expect("join returns");
}

#[tokio::test(start_paused = true)]
async fn produce_dropped_mid_way_leaves_exactly_the_counted_items_queued() {
    let (producer, consumer, progress) = work_queue::<u64>(3);
    let stop = StopSignal::new();
    cancel_check::drop_pending_after(
        produce(producer, 10, |i| i, &stop),
        tokio::time::sleep(A_WHILE),
    )
    .await; // blocked on the 4th
    assert_eq!(progress.put(), 3);
    let mut received = Vec::new();
    while let Some(item) = consumer.get().await {
        received.push(item);
        consumer.done().unwrap();
    }
    assert_eq!(received, [0, 1, 2], "the queue closed with the producer");
    timeout(A_WHILE, progress.join())
        .await
        .expect("join returns");
}

#[tokio::test(start_paused = true)]
async fn consume_dropped_mid_item_loses_it_and_join_shows_it() {
    let (producer, consumer, progress) = work_queue::<u64>(4);
    producer.put(1).await.unwrap();
    producer.put(2).await.unwrap();
    drop(producer);
    let other = consumer.clone();
    let slow = |_item: u64| async move {
        sleep(Duration::from_secs(3600)).await;
        Ok::<(), (u64, ())>(())
    };
    let stop = StopSignal::new();
    cancel_check::drop_pending_after(consume(consumer, slow, &stop), tokio::time::sleep(A_WHILE))
        .await; // stuck on item 1
    // Item 1 went down with the dropped consumer; item 2 is still there for another.
    assert_eq!(other.get().await, Some(2));
    other.done().unwrap();
    assert_eq!(other.get().await, None);
    assert_eq!((progress.put(), progress.finished()), (2, 1));
    cancel_check::drop_pending_after(progress.join(), tokio::time::sleep(A_WHILE)).await; // join keeps waiting for the lost item, as the section says
}

#[tokio::test(start_paused = true)]
async fn run_dropped_aborts_every_task_and_the_items_they_held() {
    // Each item in hand holds a oneshot sender: its receiver ends when the item is dropped.
    let (held_tx, mut held_rx) = tokio::sync::mpsc::unbounded_channel();
    let process = move |item: u64| {
        let (alive, gone) = tokio::sync::oneshot::channel::<()>();
        held_tx.send((item, gone)).unwrap();
        async move {
            let _alive = alive;
            sleep(Duration::from_secs(3600)).await;
            Ok::<(), (u64, ())>(())
        }
    };
    let config = RunConfig {
        producers: 2,
        consumers: 3,
        capacity: 4,
        items_per_producer: 100,
    };
    let stop = StopSignal::new();
    cancel_check::drop_pending_after(
        run(config, |_, i| i, process, &stop),
        tokio::time::sleep(A_WHILE),
    )
    .await;
    let mut in_hand = 0;
    while let Ok((_item, gone)) = held_rx.try_recv() {
        in_hand += 1;
        let dropped = timeout(A_WHILE, gone)
            .await
            .expect("dropped, not still running");
        assert!(dropped.is_err(), "the item was dropped, not finished");
    }
    assert_eq!(in_hand, 3, "one item in hand per consumer");
}

/// A producer waiting on a full queue is woken when the last consumer goes, and gets its
/// item back instead of waiting for ever.
#[tokio::test(start_paused = true)]
async fn a_put_waiting_on_a_full_queue_gets_its_item_back_when_the_last_consumer_goes() {
    let (producer, consumer, _progress) = work_queue::<u64>(1);
    producer.put(1).await.unwrap();
    let waiting = tokio::spawn(async move { producer.put(2).await });
    tokio::task::yield_now().await; // the put is waiting for room
    drop(consumer);
    let returned = timeout(A_WHILE, waiting)
        .await
        .expect("woken by the last consumer's drop")
        .unwrap();
    assert_eq!(returned.map_err(|back| back.0), Err(2));
}

#[test]
fn a_report_that_lost_an_item_says_so() {
    let mut report = queue::RunReport::<u64, String> {
        produced: 3,
        consumed: queue::ConsumerReport::default(),
    };
    report.consumed.processed = 2;
    assert!(!report.nothing_lost(), "one of three is missing");
    report.consumed.processed = 3;
    assert!(report.nothing_lost());
}
