//! CPython's own tests (3.11) of the primitives this chapter maps, translated onto the
//! Rust it names: `asyncio.TaskGroup` (`test_taskgroups.py`) onto [`TaskGroup`], and
//! `asyncio.Event`, `asyncio.Semaphore` and `asyncio.Barrier` (`test_locks.py`) onto
//! [`Event`], `tokio::sync::Semaphore` and `tokio::sync::Barrier`. Each test is named after
//! its original. Where the Rust differs, the test asserts what the Rust does and says so
//! (`DIFFERENCE:`); the chapter says the same beside the mapping.
//!
//! Left out: `repr`, `locked()`, `n_waiting`, `broken`, `reset()` and `abort()` (tokio's
//! barrier has none of them), task names and contexts, and the private waiter lists.
//! Time is paused; `run_briefly` is asyncio's `await asyncio.sleep(0)` for every task.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cancel_check::DropCounter;
use coordination::{Event, Failure, TaskGroup};
use futures::FutureExt;
use tokio::sync::{Barrier, Semaphore};
use tokio::time::sleep;

/// Lets every spawned task run until it waits.
async fn run_briefly() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

fn secs(tenths: u64) -> Duration {
    Duration::from_millis(100 * tenths)
}

/// A task that sleeps `for_` and then returns `value`; its guard counts its end, however
/// it ends (finished, or cancelled: Python's `except CancelledError:` cleanup).
fn sleeper(
    for_: Duration,
    value: u32,
    ends: &DropCounter,
) -> impl Future<Output = Result<u32, String>> + Send + 'static {
    let guard = ends.guard();
    async move {
        let _guard = guard;
        sleep(for_).await;
        Ok(value)
    }
}

// test_taskgroups.py

#[tokio::test(start_paused = true)]
async fn test_taskgroup_01() {
    let ends = DropCounter::new();
    let mut group = TaskGroup::new();
    group.spawn(sleeper(secs(10), 42, &ends));
    group.spawn(sleeper(secs(20), 11, &ends));
    assert_eq!(group.join().await.unwrap(), [42, 11]);
}

#[tokio::test(start_paused = true)]
async fn test_cancel_children_on_child_error() {
    let ends = DropCounter::new();
    let mut group = TaskGroup::new();
    for _ in 0..3 {
        group.spawn(async {
            sleep(secs(1)).await;
            Err("division by zero".to_owned())
        });
    }
    let long = group.spawn(sleeper(secs(50), 1, &ends));
    let error = group.join().await.unwrap_err();
    assert!(!error.failures.is_empty());
    for (_, failure) in &error.failures {
        assert_eq!(*failure, Failure::Error("division by zero".to_owned()));
    }
    assert_eq!(error.cancelled, [long], "the long task was cancelled");
    assert_eq!(
        ends.dropped(),
        1,
        "and its cleanup ran before join returned"
    );
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_09() {
    // The code before join fails: cancel() aborts both tasks and waits for them, as the
    // `async with` block does before its ExceptionGroup comes out.
    let ends = DropCounter::new();
    let body = async {
        let mut group = TaskGroup::new();
        group.spawn(sleeper(secs(10), 42, &ends));
        group.spawn(sleeper(secs(20), 11, &ends));
        sleep(secs(1)).await;
        let failed: Result<(), &str> = Err("division by zero");
        if let Err(error) = failed {
            group.cancel().await;
            return Err(error);
        }
        group.join().await.map_err(|_| "a task failed")
    };
    assert_eq!(body.await, Err("division by zero"));
    assert_eq!(
        ends.dropped(),
        2,
        "both tasks were gone when the error came out"
    );
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_09_dropped_instead_of_cancelled() {
    // DIFFERENCE: a group left by `?` is dropped, and a drop cannot wait: the tasks are
    // aborted, and their cleanups run only when the runtime next gets to them.
    let ends = DropCounter::new();
    let mut group = TaskGroup::new();
    group.spawn(sleeper(secs(10), 42, &ends));
    group.spawn(sleeper(secs(20), 11, &ends));
    run_briefly().await;
    drop(group);
    assert_eq!(ends.dropped(), 0, "not yet, when the error would come out");
    run_briefly().await;
    assert_eq!(ends.dropped(), 2, "soon after");
}

#[tokio::test(start_paused = true)]
async fn test_cancellation() {
    // The task running the group is cancelled. DIFFERENCE: Python's `await r` returns once
    // the five children's cleanups have run; here `join` is dropped with its task, the
    // children are aborted but not awaited, and their cleanups follow.
    let ends = DropCounter::new();
    let mut group = TaskGroup::new();
    for _ in 0..5 {
        group.spawn(sleeper(secs(50), 0, &ends));
    }
    let runner = tokio::spawn(group.join());
    sleep(secs(1)).await;
    assert!(!runner.is_finished());
    runner.abort();
    assert!(runner.await.unwrap_err().is_cancelled());
    run_briefly().await;
    assert_eq!(ends.dropped(), 5);
}

// test_locks.py: EventTests

#[tokio::test(start_paused = true)]
async fn test_wait() {
    // DIFFERENCE: asyncio wakes waiters first come, first served ([3, 1, 2] in the
    // original, t3 having started before the set). A `watch` channel wakes them in no
    // fixed order, so only who woke is asserted, not in which order.
    let event = Event::new();
    let woke = Arc::new(Mutex::new(Vec::new()));
    let waiter = |tag: u32| {
        let (event, woke) = (event.clone(), woke.clone());
        tokio::spawn(async move {
            event.wait().await;
            woke.lock().unwrap().push(tag);
        })
    };
    let (t1, t2) = (waiter(1), waiter(2));
    run_briefly().await;
    assert!(woke.lock().unwrap().is_empty());
    let t3 = waiter(3);
    event.set();
    for task in [t1, t2, t3] {
        task.await.unwrap();
    }
    let mut woke = woke.lock().unwrap().clone();
    woke.sort_unstable();
    assert_eq!(woke, [1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn test_wait_on_set() {
    let event = Event::new();
    event.set();
    assert!(event.wait().now_or_never().is_some());
}

#[tokio::test(start_paused = true)]
async fn test_wait_cancel() {
    let event = Event::new();
    cancel_check::drop_pending(event.wait()).await;
    event.set();
    assert!(event.is_set());
    assert!(event.wait().now_or_never().is_some());
}

#[tokio::test(start_paused = true)]
async fn test_clear() {
    let event = Event::new();
    assert!(!event.is_set());
    event.set();
    assert!(event.is_set());
    event.clear();
    assert!(!event.is_set());
}

#[tokio::test(start_paused = true)]
async fn test_clear_with_waiters() {
    let event = Event::new();
    let waiter = tokio::spawn({
        let event = event.clone();
        async move { event.wait().await }
    });
    run_briefly().await;
    event.set();
    event.clear();
    assert!(!event.is_set());
    run_briefly().await;
    assert!(waiter.is_finished(), "woken by the set, cleared or not");
}

// test_locks.py: SemaphoreTests, on tokio::sync::Semaphore

#[tokio::test(start_paused = true)]
async fn test_initial_value_zero() {
    let semaphore = Semaphore::new(0);
    assert!(semaphore.try_acquire().is_err());
}

#[tokio::test(start_paused = true)]
async fn test_acquire_fifo_order() {
    let semaphore = Arc::new(Semaphore::new(1));
    let order = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = ["c1", "c2", "c3"]
        .into_iter()
        .map(|tag| {
            let (semaphore, order) = (semaphore.clone(), order.clone());
            tokio::spawn(async move {
                for round in 1..=2 {
                    let permit = semaphore.acquire().await.unwrap();
                    order.lock().unwrap().push(format!("{tag}_{round}"));
                    sleep(Duration::from_millis(10)).await;
                    drop(permit);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let expected = ["c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"];
    assert_eq!(*order.lock().unwrap(), expected);
}

#[tokio::test(start_paused = true)]
async fn test_acquire_fifo_order_2() {
    // DIFFERENCE: asyncio gives [1, 2, 3, 4]. tokio hands released permits to the waiters
    // queued at the moment of the release: `add_permits(2)` serves c2 and c3 at once. When
    // c2 then gives its permit back, no one is queued, and its second acquire takes it
    // straight away, before c3's task has run. Every acquire is served; the order differs.
    let semaphore = Arc::new(Semaphore::new(1));
    let order = Arc::new(Mutex::new(Vec::new()));
    let record = |tag: u32| {
        let order = order.clone();
        move || order.lock().unwrap().push(tag)
    };
    let acquire = |semaphore: Arc<Semaphore>| async move {
        semaphore.acquire().await.unwrap().forget();
    };
    let c1 = tokio::spawn({
        let (semaphore, record) = (semaphore.clone(), record(1));
        async move {
            acquire(semaphore).await;
            record();
        }
    });
    let c2 = tokio::spawn({
        let (semaphore, first, second) = (semaphore.clone(), record(2), record(4));
        async move {
            acquire(semaphore.clone()).await;
            first();
            semaphore.add_permits(1);
            acquire(semaphore).await;
            second();
        }
    });
    let c3 = tokio::spawn({
        let (semaphore, record) = (semaphore.clone(), record(3));
        async move {
            acquire(semaphore).await;
            record();
        }
    });
    run_briefly().await;
    semaphore.add_permits(2);
    for task in [c1, c2, c3] {
        task.await.unwrap();
    }
    let order = order.lock().unwrap().clone();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [1, 2, 3, 4], "every acquire is served");
    assert_eq!(order, [1, 2, 4, 3], "in this order, not asyncio's");
}

#[tokio::test(start_paused = true)]
async fn test_acquire_cancel() {
    let semaphore = Semaphore::new(1);
    let _held = semaphore.acquire().await.unwrap();
    cancel_check::drop_pending(semaphore.acquire()).await;
    drop(_held);
    assert_eq!(
        semaphore.available_permits(),
        1,
        "the dropped acquire took nothing"
    );
}

// test_locks.py: BarrierTests, on tokio::sync::Barrier

#[tokio::test(start_paused = true)]
async fn test_barrier_parties() {
    // DIFFERENCE: asyncio.Barrier(0) raises ValueError; tokio takes 0 as 1, so a barrier
    // of 0 parties lets every wait through at once, as the leader.
    let barrier = Barrier::new(0);
    let waited = barrier.wait().now_or_never().expect("passes at once");
    assert!(waited.is_leader());
}

#[tokio::test(start_paused = true)]
async fn test_filling_one_task() {
    let barrier = Barrier::new(1);
    let waited = barrier.wait().now_or_never().expect("passes at once");
    assert!(waited.is_leader());
}

#[tokio::test(start_paused = true)]
async fn test_filling_task_by_task() {
    let barrier = Arc::new(Barrier::new(3));
    let mut tasks = Vec::new();
    for _ in 0..3 {
        assert!(
            tasks
                .iter()
                .all(|t: &tokio::task::JoinHandle<bool>| !t.is_finished())
        );
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(
            async move { barrier.wait().await.is_leader() },
        ));
        run_briefly().await;
    }
    let mut leaders = 0;
    for task in tasks {
        leaders += u32::from(task.await.unwrap());
    }
    assert_eq!(leaders, 1);
}

#[tokio::test(start_paused = true)]
async fn test_filling_tasks_wait_twice() {
    let barrier = Arc::new(Barrier::new(3));
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let first = barrier.wait().await.is_leader();
                let second = barrier.wait().await.is_leader();
                u32::from(first) + u32::from(second)
            })
        })
        .collect();
    let mut leaders = 0;
    for task in tasks {
        leaders += task.await.unwrap();
    }
    assert_eq!(leaders, 2, "one leader per generation");
}

#[tokio::test(start_paused = true)]
async fn test_filling_tasks_cancel_one() {
    // DIFFERENCE: in asyncio a cancelled wait leaves the barrier (n_waiting goes back to 1),
    // so t2, t3 and t4 pass together. tokio counts a wait as arrived once polled, cancelled
    // or not: t2 and t3 pass one party short, and t4 starts the next generation, alone.
    let barrier = Arc::new(Barrier::new(3));
    let wait = |barrier: &Arc<Barrier>| {
        let barrier = barrier.clone();
        tokio::spawn(async move { barrier.wait().await.is_leader() })
    };
    let t1 = wait(&barrier);
    run_briefly().await;
    let t2 = wait(&barrier);
    run_briefly().await;
    t1.abort();
    assert!(t1.await.unwrap_err().is_cancelled());
    let t3 = wait(&barrier);
    run_briefly().await;
    assert!(
        t2.is_finished() && t3.is_finished(),
        "passed with only two live parties"
    );
    let t4 = wait(&barrier);
    run_briefly().await;
    assert!(!t4.is_finished(), "t4 waits for two more");
    t4.abort();
}
