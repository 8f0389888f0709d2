//! What each primitive guarantees, with time paused: the asyncio behaviour a reader expects,
//! shown on the tokio side. The library's types first, then tokio's own primitives as the
//! chapter uses them.

use std::sync::Arc;
use std::time::Duration;

use cancel_check::DropCounter;
use coordination::{
    Event, Failure, LifoQueue, PriorityQueue, PutError, TaskGroup, until_first_failure,
};
use futures::FutureExt;
use tokio::sync::{Barrier, Notify, Semaphore, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, timeout};

const SOON: Duration = Duration::from_millis(10);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[tokio::test(start_paused = true)]
async fn an_event_wakes_every_waiter_and_lets_later_ones_through_until_cleared() {
    let event = Event::new();
    let mut waiters = JoinSet::new();
    for _ in 0..3 {
        let event = event.clone();
        waiters.spawn(async move { event.wait().await });
    }
    cancel_check::drop_pending_after(event.wait(), tokio::time::sleep(SOON)).await; // not set: wait waits
    event.set();
    assert_eq!(waiters.join_all().await.len(), 3);
    assert!(event.is_set());
    event.wait().await; // set: returns at once
    event.clear();
    cancel_check::drop_pending_after(event.wait(), tokio::time::sleep(SOON)).await; // cleared: wait waits
}

#[tokio::test(start_paused = true)]
async fn a_waiter_wakes_for_a_set_cleared_before_it_ran_as_in_asyncio() {
    let event = Event::new();
    let mut wait = Box::pin(event.wait());
    assert!((&mut wait).now_or_never().is_none());
    event.set();
    event.clear();
    assert_eq!(wait.now_or_never(), Some(()), "a pulse wakes the waiter");
}

#[tokio::test(start_paused = true)]
async fn a_priority_queue_hands_out_the_smallest_and_a_lifo_queue_the_newest() {
    let priority = PriorityQueue::unbounded();
    let lifo = LifoQueue::unbounded();
    for item in [(2, "write"), (0, "urgent"), (1, "read")] {
        priority.put(item).await.unwrap();
        lifo.put(item).await.unwrap();
    }
    let mut order = Vec::new();
    while let Some((_, name)) = priority.try_get() {
        order.push(name);
    }
    assert_eq!(order, ["urgent", "read", "write"]);
    assert_eq!(lifo.get().await, Some((1, "read")));
}

#[tokio::test(start_paused = true)]
async fn a_bounded_queue_makes_put_wait_for_a_get_and_try_put_hands_the_item_back() {
    let queue = Arc::new(PriorityQueue::bounded(2));
    queue.put(5).await.unwrap();
    queue.put(6).await.unwrap();
    assert_eq!(queue.try_put(7), Err(PutError::Full(7)));
    let putter = tokio::spawn({
        let queue = queue.clone();
        async move { queue.put(1).await }
    });
    sleep(secs(1)).await;
    assert!(!putter.is_finished(), "full: put waits");
    assert_eq!(queue.get().await, Some(5));
    timeout(SOON, putter).await.unwrap().unwrap().unwrap();
    assert_eq!(queue.try_get(), Some(1));
}

#[tokio::test(start_paused = true)]
async fn a_closed_queue_refuses_puts_and_drains_before_returning_none() {
    let queue = Arc::new(LifoQueue::<char>::bounded(4));
    let waiting = tokio::spawn({
        let queue = queue.clone();
        async move { queue.get().await }
    });
    sleep(secs(1)).await;
    queue.close();
    assert_eq!(waiting.await.unwrap(), None, "a waiting get ends at close");

    let queue = LifoQueue::bounded(4);
    queue.put('a').await.unwrap();
    queue.put('b').await.unwrap();
    queue.close();
    assert_eq!(queue.put('c').await, Err(PutError::Closed('c')));
    assert_eq!(queue.try_put('d').unwrap_err().into_item(), 'd');
    assert_eq!(queue.get().await, Some('b'));
    assert_eq!(queue.try_get(), Some('a'));
    assert_eq!(queue.get().await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_producers_and_consumers_lose_no_item() {
    let queue = Arc::new(PriorityQueue::bounded(8));
    let mut producers = JoinSet::new();
    for p in 0..4_u64 {
        let queue = queue.clone();
        producers.spawn(async move {
            for i in 0..2_500 {
                queue.put(i * 4 + p).await.unwrap();
            }
        });
    }
    let mut consumers = JoinSet::new();
    for _ in 0..4 {
        let queue = queue.clone();
        consumers.spawn(async move {
            let mut got = Vec::new();
            while let Some(item) = queue.get().await {
                got.push(item);
            }
            got
        });
    }
    producers.join_all().await;
    queue.close();
    let mut all: Vec<u64> = consumers.join_all().await.concat();
    all.sort_unstable();
    assert_eq!(all, (0..10_000).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn a_task_group_returns_values_in_spawn_order() {
    let mut group: TaskGroup<u64, ()> = TaskGroup::new();
    for n in 1..=3 {
        // The first spawned ends last.
        group.spawn(async move {
            sleep(secs(4 - n)).await;
            Ok(n)
        });
    }
    assert_eq!(group.join().await.unwrap(), [1, 2, 3]);
}

// ANCHOR: group_fails_fast
#[tokio::test(start_paused = true)]
async fn the_first_failure_cancels_the_rest_and_join_waits_for_their_cleanup() {
    let started = Instant::now();
    let cleanups = DropCounter::new();
    let mut group = TaskGroup::new();
    group.spawn(async { Ok("fast") });
    group.spawn(async {
        sleep(secs(1)).await;
        Err("broken")
    });
    for _ in 0..2 {
        let cleanup = cleanups.guard();
        group.spawn(async move {
            let _cleanup = cleanup; // dropped when the task is cancelled
            sleep(secs(60)).await;
            Ok("slow")
        });
    }
    let error = group.join().await.unwrap_err();
    assert_eq!(started.elapsed(), secs(1), "no waiting for the slow ones");
    assert_eq!(
        cleanups.dropped(),
        2,
        "both cancelled tasks were cleaned up"
    );
    assert_eq!(error.failures, [(1, Failure::Error("broken"))]);
    assert_eq!(error.finished, [(0, "fast")]);
    assert_eq!(error.cancelled, [2, 3]);
}
// ANCHOR_END: group_fails_fast

#[tokio::test(start_paused = true)]
async fn a_panic_in_a_task_is_a_failure_with_its_message_and_every_task_is_accounted_for() {
    let mut group: TaskGroup<u32, String> = TaskGroup::new();
    group.spawn(async {
        sleep(secs(1)).await;
        panic!("task 0 panicked")
    });
    group.spawn(async {
        sleep(secs(1)).await;
        Err("task 1 failed".to_owned())
    });
    group.spawn(async { Ok(2) });
    group.spawn(std::future::pending());
    let error = group.join().await.unwrap_err();
    // Both failures at 1 s are collected, as an ExceptionGroup holds both exceptions.
    let mut failures = error.failures;
    failures.sort_by_key(|(index, _)| *index);
    assert_eq!(
        failures,
        [
            (0, Failure::Panic("task 0 panicked".into())),
            (1, Failure::Error("task 1 failed".into()))
        ]
    );
    assert_eq!((error.finished, error.cancelled), (vec![(2, 2)], vec![3]));
}

#[tokio::test(start_paused = true)]
async fn until_first_failure_leaves_the_others_running_and_sees_panics() {
    let mut tasks = JoinSet::new();
    tasks.spawn(async { Ok(1) });
    tasks.spawn(async {
        sleep(secs(1)).await;
        panic!("boom")
    });
    tasks.spawn(async {
        sleep(secs(5)).await;
        Ok(3)
    });
    let mut done = Vec::new();
    let failure = until_first_failure(&mut tasks, &mut done).await;
    assert_eq!(failure, Some(Failure::<()>::Panic("boom".into())));
    assert_eq!((done.as_slice(), tasks.len()), ([1].as_slice(), 1));
    assert_eq!(until_first_failure(&mut tasks, &mut done).await, None);
    assert_eq!(done, [1, 3], "the one left ran on, to the end");
}

// tokio's own primitives, as the chapter shows them.

// ANCHOR: barrier_test
#[tokio::test(start_paused = true)]
async fn nobody_passes_a_barrier_before_the_last_party_arrives() {
    let started = Instant::now();
    let barrier = Arc::new(Barrier::new(3));
    let mut parties = JoinSet::new();
    for arrives_at in [1, 2, 3] {
        let barrier = barrier.clone();
        parties.spawn(async move {
            sleep(secs(arrives_at)).await;
            let leader = barrier.wait().await.is_leader();
            (started.elapsed(), leader)
        });
    }
    let passed = timeout(secs(60), parties.join_all())
        .await
        .expect("all passed");
    assert!(passed.iter().all(|&(at, _)| at == secs(3)), "{passed:?}");
    assert_eq!(passed.iter().filter(|&&(_, leader)| leader).count(), 1);
}
// ANCHOR_END: barrier_test

#[tokio::test(start_paused = true)]
async fn notify_one_keeps_one_wake_up_and_notify_waiters_keeps_none() {
    let notify = Notify::new();
    notify.notify_waiters(); // nobody waits: lost
    cancel_check::drop_pending_after(notify.notified(), tokio::time::sleep(SOON)).await;
    notify.notify_one(); // stored for the next waiter
    timeout(SOON, notify.notified())
        .await
        .expect("the wake-up was kept");
    cancel_check::drop_pending_after(notify.notified(), tokio::time::sleep(SOON)).await; // one, not two
}

#[tokio::test(start_paused = true)]
async fn a_condition_waiter_wakes_when_its_predicate_holds_not_before() {
    let (stock, _) = watch::channel(0);
    let mut waiting = stock.subscribe();
    let buyer = tokio::spawn(async move { *waiting.wait_for(|&n| n >= 3).await.unwrap() });
    for _ in 0..2 {
        stock.send_modify(|n| *n += 1);
    }
    sleep(secs(1)).await;
    assert!(!buyer.is_finished(), "2 in stock: still waiting");
    stock.send_modify(|n| *n += 1);
    assert_eq!(buyer.await.unwrap(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_shared_oneshot_is_a_future_many_tasks_await_and_a_callback_follows() {
    let (set_result, result) = oneshot::channel();
    let result = result.shared();
    let callback = tokio::spawn(result.clone().map(|value| value.map(|n: u32| n * 2)));
    let awaiters: Vec<_> = (0..3).map(|_| tokio::spawn(result.clone())).collect();
    set_result.send(21).unwrap();
    for awaiter in awaiters {
        assert_eq!(awaiter.await.unwrap(), Ok(21));
    }
    assert_eq!(callback.await.unwrap(), Ok(42));
    // A future dropped unset is an error to its awaiters, not a hang.
    let (never_set, result) = oneshot::channel::<u32>();
    drop(never_set);
    assert!(result.await.is_err());
}

#[test]
fn yield_now_lets_other_tasks_run_inside_a_busy_loop_like_sleep_0() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let ticks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let ticker = tokio::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tokio::task::yield_now().await;
                }
            }
        });
        for _ in 0..100 {
            std::hint::black_box((0..1_000).sum::<u64>()); // a slice of CPU work
            tokio::task::yield_now().await; // `await asyncio.sleep(0)`
        }
        let ticked = ticks.load(std::sync::atomic::Ordering::Relaxed);
        assert!(ticked >= 99, "the ticker ran between the slices: {ticked}");
        ticker.abort();
    });
}

#[tokio::test(start_paused = true)]
async fn a_permit_goes_back_once_when_dropped_so_there_is_no_release_too_many() {
    let semaphore = Semaphore::new(2);
    let first = semaphore.acquire().await.unwrap();
    let second = semaphore.acquire().await.unwrap();
    assert!(semaphore.try_acquire().is_err());
    drop(first);
    drop(second);
    assert_eq!(semaphore.available_permits(), 2, "back to 2, never 3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_task_has_its_own_id_and_the_runtime_counts_the_live_ones() {
    let (release, released) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for _ in 0..5 {
        let mut released = released.clone();
        tasks.spawn(async move {
            let _ = released.wait_for(|&go| go).await;
            tokio::task::id()
        });
    }
    let metrics = tokio::runtime::Handle::current().metrics();
    assert_eq!(metrics.num_alive_tasks(), 5);
    assert!(tokio::task::try_id().is_none(), "a test body is not a task");
    release.send_replace(true);
    let mut ids = tasks.join_all().await;
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 5);
}
