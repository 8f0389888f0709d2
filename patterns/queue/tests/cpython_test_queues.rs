//! CPython's own tests of `asyncio.Queue` (`Lib/test/test_asyncio/test_queues.py`, 3.11),
//! translated onto [`work_queue`]: each test is named after its original and checks what
//! that original asserts, where a translation can observe it. `asyncio.Queue()` is
//! `work_queue(0)`, `put_nowait` is `try_put`, `get_nowait` is `try_get`, `task_done` is
//! `done`, and a task cancelled while it waits is a future dropped while it waits.
//!
//! Left out: `repr`/`str` (no such text here), `test_float_maxsize` (a capacity is a
//! `usize`), and the tests of private lists (`_getters`, `_putters`), whose observable
//! effect is what the `..._not_being_held_...` translations check.
//!
//! Time is paused, so the originals' `asyncio.sleep(0.01)` steps are exact.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::FutureExt;
use queue::{TooManyDone, TryPutError, work_queue};
use tokio::sync::Mutex;
use tokio::time::{Instant, sleep};

const TICK: Duration = Duration::from_millis(10);

/// Lets every spawned task run until it waits (`test_utils.run_briefly`).
async fn run_briefly() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

// QueueBasicTests

#[tokio::test(start_paused = true)]
async fn test_empty() {
    let (producer, consumer, _) = work_queue::<u32>(0);
    assert!(consumer.is_empty());
    producer.try_put(1).unwrap();
    assert!(!consumer.is_empty());
    assert_eq!(consumer.try_get(), Some(1));
    assert!(consumer.is_empty());
}

#[tokio::test(start_paused = true)]
async fn test_full() {
    // maxsize 0: never full, however much is put.
    let (producer, _consumer, _) = work_queue::<u32>(0);
    for item in 0..1000 {
        producer.try_put(item).unwrap();
    }
    let (producer, _consumer, _) = work_queue::<u32>(1);
    producer.try_put(1).unwrap();
    assert!(matches!(producer.try_put(2), Err(TryPutError::Full(2))));
}

#[tokio::test(start_paused = true)]
async fn test_order() {
    let (producer, consumer, _) = work_queue::<u32>(0);
    for item in [1, 3, 2] {
        producer.try_put(item).unwrap();
    }
    let items: Vec<_> = (0..3).map(|_| consumer.try_get().unwrap()).collect();
    assert_eq!(items, [1, 3, 2]);
}

#[tokio::test(start_paused = true)]
async fn test_maxsize() {
    let start = Instant::now();
    let (producer, consumer, _) = work_queue::<u32>(2);
    let have_been_put = Arc::new(Mutex::new(Vec::new()));
    let putter = tokio::spawn({
        let have_been_put = have_been_put.clone();
        async move {
            for item in 0..3 {
                producer.put(item).await.unwrap();
                have_been_put.lock().await.push(item);
            }
        }
    });
    sleep(TICK).await;
    assert_eq!(*have_been_put.lock().await, [0, 1], "blocked after two");
    assert_eq!(consumer.try_get(), Some(0));
    sleep(TICK).await;
    assert_eq!(*have_been_put.lock().await, [0, 1, 2]);
    assert_eq!(consumer.try_get(), Some(1));
    assert_eq!(consumer.try_get(), Some(2));
    assert!(putter.is_finished());
    assert_eq!(start.elapsed(), 2 * TICK);
}

// QueueGetTests

#[tokio::test(start_paused = true)]
async fn test_blocking_get() {
    let (producer, consumer, _) = work_queue::<u32>(0);
    producer.try_put(1).unwrap();
    assert_eq!(consumer.get().await, Some(1));
}

#[tokio::test(start_paused = true)]
async fn test_get_with_putters() {
    let (producer, consumer, _) = work_queue::<u32>(1);
    producer.try_put(1).unwrap();
    let waiting = tokio::spawn(async move { producer.put(2).await.is_ok() });
    run_briefly().await;
    assert_eq!(consumer.get().await, Some(1));
    assert!(waiting.await.unwrap(), "the waiting putter got the room");
    assert_eq!(consumer.try_get(), Some(2));
}

#[tokio::test(start_paused = true)]
async fn test_blocking_get_wait() {
    let start = Instant::now();
    let (producer, consumer, _) = work_queue::<u32>(0);
    tokio::spawn(async move {
        sleep(TICK).await;
        producer.try_put(1).unwrap();
    });
    assert_eq!(consumer.get().await, Some(1));
    assert_eq!(start.elapsed(), TICK);
}

#[tokio::test(start_paused = true)]
async fn test_nonblocking_get() {
    let (producer, consumer, _) = work_queue::<u32>(0);
    producer.try_put(1).unwrap();
    assert_eq!(consumer.try_get(), Some(1));
}

#[tokio::test(start_paused = true)]
async fn test_nonblocking_get_exception() {
    let (_producer, consumer, _) = work_queue::<u32>(0);
    assert_eq!(consumer.try_get(), None, "QueueEmpty");
}

#[tokio::test(start_paused = true)]
async fn test_get_cancelled() {
    // A get inside a timeout of 51 ms gets the item put at 10 ms.
    let start = Instant::now();
    let (producer, consumer, _) = work_queue::<u32>(0);
    let get = tokio::spawn(async move {
        tokio::time::timeout(Duration::from_millis(51), consumer.get()).await
    });
    sleep(TICK).await;
    producer.try_put(1).unwrap();
    assert_eq!(get.await.unwrap(), Ok(Some(1)));
    assert_eq!(start.elapsed(), TICK);
}

#[tokio::test(start_paused = true)]
async fn test_get_cancelled_race() {
    let (producer, consumer, _) = work_queue::<&str>(0);
    let first = tokio::spawn({
        let consumer = consumer.clone();
        async move { consumer.get().await }
    });
    let second = tokio::spawn(async move { consumer.get().await });
    run_briefly().await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    producer.try_put("a").unwrap();
    assert_eq!(second.await.unwrap(), Some("a"));
}

#[tokio::test(start_paused = true)]
async fn test_get_with_waiting_putters() {
    let (producer, consumer, _) = work_queue::<&str>(1);
    for item in ["a", "b"] {
        let producer = producer.clone();
        tokio::spawn(async move { producer.put(item).await.unwrap() });
        run_briefly().await;
    }
    assert_eq!(consumer.get().await, Some("a"));
    assert_eq!(consumer.get().await, Some("b"));
}

#[tokio::test(start_paused = true)]
async fn test_why_are_getters_waiting() {
    let (producer, consumer, _) = work_queue::<u32>(0);
    let getters: Vec<_> = (0..2)
        .map(|_| {
            let consumer = consumer.clone();
            tokio::spawn(async move { consumer.get().await })
        })
        .collect();
    run_briefly().await;
    producer.try_put(1).unwrap();
    producer.try_put(2).unwrap();
    let mut got = Vec::new();
    for getter in getters {
        got.push(getter.await.unwrap().unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, [1, 2]);
}

#[tokio::test(start_paused = true)]
async fn test_cancelled_getters_not_being_held_in_self_getters() {
    // Gets dropped while they wait leave nothing behind that could take an item.
    let (producer, consumer, _) = work_queue::<u32>(0);
    for _ in 0..5 {
        cancel_check::drop_pending(consumer.get()).await;
    }
    producer.try_put(1).unwrap();
    assert_eq!(consumer.try_get(), Some(1));
}

#[tokio::test(start_paused = true)]
async fn test_get_cancel_drop_one_pending_reader() {
    let (producer, consumer, _) = work_queue::<u32>(0);
    let reader = tokio::spawn({
        let consumer = consumer.clone();
        async move { consumer.get().await }
    });
    run_briefly().await;
    producer.try_put(1).unwrap();
    reader.abort();
    // Either the reader took the item before the abort, or the item is still queued.
    match reader.await {
        Ok(got) => assert_eq!(got, Some(1)),
        Err(cancelled) => {
            assert!(cancelled.is_cancelled());
            assert_eq!(consumer.try_get(), Some(1), "the item was not lost");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn test_get_cancel_drop_many_pending_readers() {
    let (producer, consumer, _) = work_queue::<u32>(0);
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let consumer = consumer.clone();
            tokio::spawn(async move { consumer.get().await })
        })
        .collect();
    run_briefly().await;
    producer.try_put(1).unwrap();
    producer.try_put(2).unwrap();
    let mut seen = Vec::new();
    for reader in readers {
        reader.abort();
        if let Ok(Some(item)) = reader.await {
            seen.push(item);
        }
    }
    while let Some(item) = consumer.try_get() {
        seen.push(item);
    }
    seen.sort_unstable();
    assert_eq!(seen, [1, 2], "every item read or still queued, none lost");
}

// QueuePutTests

#[tokio::test(start_paused = true)]
async fn test_blocking_put() {
    // maxsize 0: a put never waits.
    let (producer, _consumer, _) = work_queue::<u32>(0);
    for item in 0..100 {
        assert!(
            producer.put(item).now_or_never().is_some(),
            "put {item} waited"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn test_blocking_put_wait() {
    let start = Instant::now();
    let (producer, consumer, _) = work_queue::<u32>(1);
    tokio::spawn(async move {
        sleep(TICK).await;
        consumer.try_get().unwrap();
        std::future::pending::<()>().await; // keeps the consumer
    });
    producer.put(1).await.unwrap();
    producer.put(2).await.unwrap();
    assert_eq!(start.elapsed(), TICK);
}

#[tokio::test(start_paused = true)]
async fn test_nonblocking_put() {
    let (producer, consumer, _) = work_queue::<u32>(0);
    producer.try_put(1).unwrap();
    assert_eq!(consumer.try_get(), Some(1));
}

#[tokio::test(start_paused = true)]
async fn test_put_cancel_drop() {
    let (producer, consumer, progress) = work_queue::<u32>(1);
    producer.try_put(1).unwrap();
    cancel_check::drop_pending(producer.put(2)).await;
    assert_eq!(consumer.try_get(), Some(1));
    assert_eq!(consumer.try_get(), None, "the cancelled put queued nothing");
    assert_eq!(progress.put(), 1);
}

#[tokio::test(start_paused = true)]
async fn test_nonblocking_put_exception() {
    let (producer, _consumer, _) = work_queue::<u32>(1);
    producer.try_put(1).unwrap();
    assert!(matches!(producer.try_put(2), Err(TryPutError::Full(2))));
}

#[tokio::test(start_paused = true)]
async fn test_put_cancelled() {
    let (producer, consumer, _) = work_queue::<u32>(0);
    let put = tokio::spawn(async move { producer.put(1).await.is_ok() });
    assert_eq!(consumer.get().await, Some(1));
    assert!(put.await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn test_put_cancelled_race() {
    let (producer, consumer, _) = work_queue::<&str>(1);
    let mut puts = Vec::new();
    for item in ["a", "b", "X"] {
        let producer = producer.clone();
        puts.push(tokio::spawn(
            async move { producer.put(item).await.unwrap() },
        ));
        run_briefly().await;
    }
    let [put_a, put_b, put_c] = <[_; 3]>::try_from(puts).unwrap();
    assert!(put_a.is_finished());
    assert!(!put_b.is_finished());
    put_c.abort();
    assert!(put_c.await.unwrap_err().is_cancelled());
    assert_eq!(consumer.try_get(), Some("a"));
    run_briefly().await;
    assert_eq!(consumer.try_get(), Some("b"));
    put_b.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn test_put_with_waiting_getters() {
    let (producer, consumer, _) = work_queue::<&str>(0);
    let get = tokio::spawn(async move { consumer.get().await });
    run_briefly().await;
    producer.put("a").await.unwrap();
    assert_eq!(get.await.unwrap(), Some("a"));
}

#[tokio::test(start_paused = true)]
async fn test_why_are_putters_waiting() {
    let (producer, consumer, _) = work_queue::<u32>(2);
    producer.try_put(0).unwrap();
    producer.try_put(1).unwrap();
    let putters: Vec<_> = [2, 3]
        .into_iter()
        .map(|item| {
            let producer = producer.clone();
            tokio::spawn(async move { producer.put(item).await.unwrap() })
        })
        .collect();
    run_briefly().await;
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(consumer.get().await.unwrap());
    }
    for putter in putters {
        putter.await.unwrap();
    }
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn test_cancelled_puts_not_being_held_in_self_putters() {
    let (producer, consumer, _) = work_queue::<u32>(1);
    producer.try_put(1).unwrap();
    for item in 2..7 {
        cancel_check::drop_pending(producer.put(item)).await;
    }
    assert_eq!(consumer.try_get(), Some(1));
    producer
        .try_put(7)
        .expect("room, and no dropped put took it");
    assert_eq!(consumer.try_get(), Some(7));
}

// _QueueJoinTestMixin

#[tokio::test(start_paused = true)]
async fn test_task_done_underflow() {
    let (_producer, consumer, progress) = work_queue::<u32>(0);
    assert_eq!(consumer.done(), Err(TooManyDone), "ValueError");
    assert_eq!(progress.finished(), 0, "the count is unchanged");
}

#[tokio::test(start_paused = true)]
async fn test_task_done() {
    let (producer, consumer, progress) = work_queue::<u64>(0);
    for item in 0..100 {
        producer.try_put(item).unwrap();
    }
    let total = Arc::new(AtomicU64::new(0));
    for _ in 0..2 {
        let (consumer, total) = (consumer.clone(), total.clone());
        tokio::spawn(async move {
            while let Some(item) = consumer.get().await {
                total.fetch_add(item, Ordering::Relaxed);
                consumer.done().unwrap();
            }
        });
    }
    progress.join().await;
    assert_eq!(total.load(Ordering::Relaxed), (0..100).sum::<u64>());
    // One more done than items put is refused, so the next join still waits for its item.
    assert_eq!(consumer.done(), Err(TooManyDone));
    assert_eq!((progress.put(), progress.finished()), (100, 100));
    producer.try_put(100).unwrap();
    progress.join().await;
    assert_eq!(total.load(Ordering::Relaxed), (0..=100).sum::<u64>());
}

#[tokio::test(start_paused = true)]
async fn test_join_empty_queue() {
    let (_producer, _consumer, progress) = work_queue::<u32>(0);
    assert!(progress.join().now_or_never().is_some());
    assert!(progress.join().now_or_never().is_some());
}
