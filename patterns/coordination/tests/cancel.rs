//! Each public async fn dropped mid-await, proving what its `# Cancel safety` section says.

use std::future::pending;
use std::time::Duration;

use coordination::{Event, Failure, PriorityQueue, TaskGroup, until_first_failure};
use futures::FutureExt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};

const SOON: Duration = Duration::from_millis(10);

#[tokio::test(start_paused = true)]
async fn a_dropped_wait_takes_no_wake_up_from_the_other_waiters() {
    let event = Event::new();
    let staying = tokio::spawn({
        let event = event.clone();
        async move { event.wait().await }
    });
    cancel_check::drop_pending_after(event.wait(), tokio::time::sleep(SOON)).await; // not set yet
    event.set();
    timeout(SOON, staying).await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_dropped_get_leaves_every_item_in_the_queue() {
    let queue = PriorityQueue::unbounded();
    cancel_check::drop_pending_after(queue.get(), tokio::time::sleep(SOON)).await; // empty: get waits
    queue.try_put(7).unwrap();
    assert_eq!(queue.try_get(), Some(7), "the dropped get took nothing");

    // The hard case: the item arrives while a get waits, so its permit is handed to that
    // get, which is dropped before it runs again. The semaphore takes the permit back.
    let mut get = Box::pin(queue.get());
    assert!((&mut get).now_or_never().is_none(), "waiting");
    queue.try_put(8).unwrap();
    drop(get);
    assert_eq!(
        queue.try_get(),
        Some(8),
        "the woken, dropped get took nothing"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dropped_put_puts_nothing_and_leaks_no_place() {
    let queue = PriorityQueue::bounded(1);
    queue.try_put(1).unwrap();
    cancel_check::drop_pending_after(queue.put(2), tokio::time::sleep(SOON)).await; // full: put waits
    assert_eq!(queue.len(), 1, "the dropped put did not put its item");
    assert_eq!(queue.get().await, Some(1));
    // The one place is free again: neither the dropped put nor the get kept it.
    queue.try_put(3).unwrap();
    assert!(queue.try_put(4).is_err(), "still one place, not two");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_join_aborts_every_task_and_each_is_dropped_soon_after() {
    // Each task holds a sender; when all are dropped, every task's future is gone.
    let (alive, mut all_gone) = mpsc::channel::<()>(1);
    let mut group: TaskGroup<(), ()> = TaskGroup::new();
    for _ in 0..3 {
        let alive = alive.clone();
        group.spawn(async move {
            let _alive = alive;
            pending().await
        });
    }
    drop(alive);
    cancel_check::drop_pending(group.join()).await;
    let gone = timeout(Duration::from_secs(60), all_gone.recv()).await;
    assert_eq!(gone, Ok(None), "every task was dropped");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_cancel_leaves_the_tasks_aborted() {
    let ends = cancel_check::DropCounter::new();
    let mut group: TaskGroup<(), ()> = TaskGroup::new();
    for _ in 0..3 {
        let guard = ends.guard();
        group.spawn(async move {
            let _guard = guard;
            pending().await
        });
    }
    tokio::task::yield_now().await;
    cancel_check::drop_pending(group.cancel()).await;
    timeout(Duration::from_secs(60), async {
        while ends.dropped() < 3 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("every task was dropped");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_until_first_failure_loses_no_value_and_can_be_called_again() {
    let mut tasks = JoinSet::new();
    for (secs, outcome) in [(1, Ok(1)), (2, Ok(2)), (3, Err("three"))] {
        tasks.spawn(async move {
            sleep(Duration::from_secs(secs)).await;
            outcome
        });
    }
    let mut done = Vec::new();
    cancel_check::drop_pending_after(
        until_first_failure(&mut tasks, &mut done),
        sleep(Duration::from_millis(1_500)),
    )
    .await;
    assert_eq!(done, [1], "the value taken before the drop is kept");
    let failure = until_first_failure(&mut tasks, &mut done).await;
    assert_eq!((done, failure), (vec![1, 2], Some(Failure::Error("three"))));
}
