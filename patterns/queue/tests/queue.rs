//! The queue loses nothing and doubles nothing, holds producers back when full, drains or
//! sets aside on shutdown, reports failures, and join() waits for processing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue::{RunConfig, RunReport, StopSignal, TryPutError, consume, run, work_queue};
use tokio::time::{Instant, sleep, timeout};

/// Items are their own ids: producer p makes p * per + i.
fn id(per: u64) -> impl Fn(usize, u64) -> u64 + Clone + Send + 'static {
    move |producer, i| producer as u64 * per + i
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_is_processed_exactly_once_for_any_shape() {
    for (producers, consumers) in [(1, 1), (4, 4), (3, 7), (8, 2)] {
        let per = 5_000;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let process = move |item: u64| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push(item);
                Ok::<(), (u64, ())>(())
            }
        };
        let config = RunConfig {
            producers,
            consumers,
            capacity: 64,
            items_per_producer: per,
        };
        let report = run(config, id(per), process, &StopSignal::new())
            .await
            .unwrap();
        let n = producers as u64 * per;
        assert_eq!((report.produced, report.consumed.processed), (n, n));
        let mut ids = seen.lock().unwrap().clone();
        ids.sort_unstable();
        assert_eq!(
            ids,
            (0..n).collect::<Vec<_>>(),
            "{producers}x{consumers}: each id once"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_holds_the_producer_back_and_never_grows() {
    let (producer, consumer, progress) = work_queue::<u64>(8);
    let filler = tokio::spawn(async move {
        for i in 0..100 {
            producer.put(i).await.unwrap();
        }
    });
    // With nobody consuming, the producer cannot finish: it waits on the ninth put.
    let mut filler = filler;
    let blocked = timeout(Duration::from_secs(60), &mut filler).await.is_err();
    assert!(blocked, "the producer should be blocked by the full queue");
    assert_eq!(
        (consumer.len(), progress.put()),
        (8, 8),
        "8 queued and counted; the ninth waits, not counted until it is in (as in Python)"
    );
    let mut largest = 0;
    let mut received = 0;
    while let Some(_item) = consumer.get().await {
        largest = largest.max(consumer.len());
        received += 1;
        consumer.done().unwrap();
    }
    assert_eq!(received, 100);
    assert!(largest <= 8, "the queue held {largest} items");
    filler.await.unwrap();
}

/// What `slow_process` returns for one item.
type Processing = std::pin::Pin<Box<dyn Future<Output = Result<(), (u64, String)>> + Send>>;

/// Processing that takes 10 ms per item and fails where `fails` says.
fn slow_process(fails: fn(u64) -> bool) -> impl Fn(u64) -> Processing + Clone + Send + 'static {
    move |item| {
        Box::pin(async move {
            sleep(Duration::from_millis(10)).await;
            if fails(item) {
                Err((item, format!("item {item} is cursed")))
            } else {
                Ok(())
            }
        })
    }
}

async fn stopped_run(stop_with: fn(&StopSignal)) -> RunReport<u64, String> {
    let stop = StopSignal::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        sleep(Duration::from_millis(500)).await;
        stop_with(&signal);
    });
    let config = RunConfig {
        producers: 2,
        consumers: 2,
        capacity: 16,
        items_per_producer: 10_000,
    };
    run(config, id(10_000), slow_process(|_| false), &stop)
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_drain_stops_the_producers_and_processes_everything_queued() {
    let report = stopped_run(StopSignal::drain).await;
    assert!(report.produced < 20_000, "producers stopped early");
    assert_eq!(
        report.consumed.processed, report.produced,
        "everything put was processed"
    );
    assert!(report.consumed.unprocessed.is_empty());
    assert!(report.nothing_lost());
}

#[tokio::test(start_paused = true)]
async fn an_abort_sets_the_rest_aside_and_reports_it() {
    let report = stopped_run(StopSignal::abort).await;
    assert!(
        !report.consumed.unprocessed.is_empty(),
        "the queued items were set aside"
    );
    assert!(report.consumed.processed < report.produced);
    assert!(
        report.nothing_lost(),
        "{} produced, {} accounted",
        report.produced,
        report.consumed.accounted()
    );
}

#[tokio::test(start_paused = true)]
async fn failed_items_are_reported_with_their_error_and_the_rest_go_on() {
    let config = RunConfig {
        producers: 2,
        consumers: 3,
        capacity: 8,
        items_per_producer: 50,
    };
    let report = run(
        config,
        id(50),
        slow_process(|item| item % 7 == 0),
        &StopSignal::new(),
    )
    .await
    .unwrap();
    let mut failed: Vec<u64> = report
        .consumed
        .failed
        .iter()
        .map(|(item, _)| *item)
        .collect();
    failed.sort_unstable();
    assert_eq!(failed, (0..100).filter(|i| i % 7 == 0).collect::<Vec<_>>());
    assert!(
        report
            .consumed
            .failed
            .iter()
            .all(|(item, error)| *error == format!("item {item} is cursed"))
    );
    assert_eq!(report.consumed.processed, 100 - failed.len() as u64);
    assert!(report.nothing_lost());
}

#[tokio::test(start_paused = true)]
async fn join_waits_until_items_are_processed_not_just_received() {
    let (producer, consumer, progress) = work_queue::<u64>(4);
    let worker = tokio::spawn(async move {
        let slow = |_item| async move {
            sleep(Duration::from_secs(1)).await;
            Ok::<(), (u64, ())>(())
        };
        consume(consumer, slow, &StopSignal::new()).await
    });
    let started = Instant::now();
    for i in 0..3 {
        producer.put(i).await.unwrap();
    }
    progress.join().await;
    // One consumer, one second per item: all three processed, not merely taken.
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    assert_eq!(progress.finished(), 3);
    drop(producer);
    assert_eq!(worker.await.unwrap().processed, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_panics_costs_that_item_only_and_is_counted() {
    let config = RunConfig {
        producers: 2,
        consumers: 3,
        capacity: 4,
        items_per_producer: 50,
    };
    let process = |item: u64| async move {
        if item.is_multiple_of(5) {
            panic!("item {item} broke the consumer's code");
        }
        Ok::<(), (u64, String)>(())
    };
    let report = run(config, id(50), process, &StopSignal::new())
        .await
        .expect("no consumer task died");
    assert_eq!(report.consumed.panicked.len(), 20);
    assert!(
        report
            .consumed
            .panicked
            .iter()
            .all(|m| m.ends_with("broke the consumer's code"))
    );
    assert_eq!(report.consumed.processed, 80);
    assert!(report.nothing_lost());
}

// ANCHOR: queue_api
#[tokio::test(start_paused = true)]
async fn one_item_goes_through_put_get_done_and_join() {
    let (producer, consumer, progress) = work_queue(4);
    producer.put("job").await.unwrap(); // waits while the queue is full
    let item = consumer.get().await; // waits while it is empty; None once closed
    consumer.done().unwrap(); // this item is finished
    progress.join().await; // waits until every item put is finished
    assert_eq!(item, Some("job"));
    assert_eq!((progress.put(), progress.finished()), (1, 1));
}
// ANCHOR_END: queue_api

// ANCHOR: put_nowait
#[test]
fn try_put_is_put_nowait_and_a_full_queue_gives_the_item_back() {
    let (producer, consumer, _progress) = work_queue::<&str>(2);
    producer.try_put("a").unwrap();
    producer.try_put("b").unwrap();
    // Python raises QueueFull and the caller still holds the item; here it comes back.
    match producer.try_put("c") {
        Err(TryPutError::Full(back)) => assert_eq!(back, "c"),
        other => panic!("expected Full(\"c\"), got {other:?}"),
    }
    drop(consumer);
    match producer.try_put("d") {
        Err(TryPutError::NoConsumers(back)) => assert_eq!(back, "d"),
        other => panic!("expected NoConsumers(\"d\"), got {other:?}"),
    }
}
// ANCHOR_END: put_nowait

/// A failing `try_put` counts its item as put for a moment, then takes the count back. A
/// `join()` that looks in that moment sees one item unfinished and waits; taking the count
/// back must wake it, or it waits for ever on a queue with nothing left to do.
#[test]
fn a_join_that_saw_a_failed_put_counted_is_woken_when_the_count_is_taken_back() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context, Poll};

    // No consumers: every try_put fails, and nothing is ever put for good.
    let (producer, consumer, progress) = work_queue::<u32>(1);
    drop(consumer);
    let stop = Arc::new(AtomicBool::new(false));
    let failing_puts = std::thread::spawn({
        let stop = stop.clone();
        move || {
            while !stop.load(Ordering::Relaxed) {
                assert!(matches!(
                    producer.try_put(1),
                    Err(TryPutError::NoConsumers(1))
                ));
            }
        }
    });

    // Poll join() until one poll lands inside a failed put's moment (it is Pending then).
    // The waker does nothing: only the counts and the notification decide the next poll.
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    let mut caught = None;
    for _ in 0..10_000_000 {
        let mut join = Box::pin(progress.join());
        if join.as_mut().poll(&mut cx).is_pending() {
            caught = Some(join);
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    failing_puts.join().unwrap();
    let mut join = caught.expect("no poll of join() landed inside a failed try_put");
    // Every failed put has taken its count back, and the one this join() saw woke it.
    assert_eq!((progress.put(), progress.finished()), (0, 0));
    assert_eq!(join.as_mut().poll(&mut cx), Poll::Ready(()));
}

/// `panic!("literal")` carries a `&str`, `panic!("{x}")` a `String`, and
/// `std::panic::panic_any(7)` neither: each is reported by what it says.
#[tokio::test(start_paused = true)]
async fn a_panic_is_reported_by_its_message_whatever_its_payload() {
    let (producer, consumer, _progress) = work_queue(4);
    for item in 0..4 {
        producer.try_put(item).unwrap();
    }
    drop(producer);
    let process = |item: u32| async move {
        match item {
            0 => panic!("a literal"),
            1 => panic!("formatted {item}"),
            2 => std::panic::panic_any(item),
            _ => Ok::<(), (u32, String)>(()),
        }
    };
    let report = consume(consumer, process, &StopSignal::new()).await;
    assert_eq!(report.processed, 1);
    assert_eq!(
        report.panicked,
        ["a literal", "formatted 1", "a panic without a message"]
    );
}
