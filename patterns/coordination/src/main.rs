//! Demo: every asyncio coordination primitive, in tokio, each run once and checked.
//!
//! ```text
//! cargo run -p coordination
//! cargo run -p coordination -- --tasks 100
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clap::Parser;
use coordination::{Event, Failure, LifoQueue, PriorityQueue, PutError, TaskGroup};
use futures::FutureExt;
use patterns_core::app;
use tokio::sync::{AcquireError, Barrier, Notify, Semaphore, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

/// Run Event, Condition, Barrier, Notify, futures, ordered queues, TaskGroup, task ids and
/// semaphores once each, printing what each one guarantees.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Tasks that wait on the event, the condition and the barrier.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    tasks: u16,
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let tasks = usize::from(args.tasks);
    event(tasks).await?;
    condition(tasks).await?;
    barrier(tasks).await?;
    notify().await?;
    future_and_callback().await?;
    ordered_queues()?;
    task_group().await;
    first_failure().await?;
    let ticks = tokio::task::spawn_blocking(yield_now_on_one_thread).await??;
    println!("yield_now: the ticker ran {ticks} times between 100 slices of work");
    // On a runtime of its own, so no task of the sections before it is still counted.
    tokio::task::spawn_blocking(move || task_ids_on_one_thread(tasks)).await??;
    semaphore().await?;
    Ok(())
}

async fn event(tasks: usize) -> anyhow::Result<()> {
    let event = Event::new();
    let mut waiters = JoinSet::new();
    for _ in 0..tasks {
        let event = event.clone();
        waiters.spawn(async move { event.wait().await });
    }
    event.set();
    let woke = waiters.join_all().await.len();
    println!("event: {woke} of {tasks} waiters woke at set()");
    // asyncio wakes the waiters of a set() even when clear() follows at once.
    event.clear();
    let mut waiter = std::pin::pin!(event.wait());
    let waiting = (&mut waiter).now_or_never().is_none(); // polled once: it waits
    event.set();
    event.clear();
    let woke = waiter.now_or_never().is_some();
    println!(
        "event set then cleared at once: the waiter woke: {}",
        waiting && woke
    );
    Ok(())
}

async fn condition(tasks: usize) -> anyhow::Result<()> {
    let (_stock, buyers) = buyers_and_stock(tasks);
    let saw: Vec<usize> = buyers
        .join_all()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let all_satisfied = saw.iter().enumerate().all(|(i, &n)| n > i);
    println!("condition: {tasks} waiters, each woke when its predicate held: {all_satisfied}");
    Ok(())
}

async fn barrier(tasks: usize) -> anyhow::Result<()> {
    let parties = parties_at_a_barrier(tasks);
    let passed = parties.join_all().await;
    let leaders = passed.iter().filter(|(leader, _)| *leader).count();
    let together = passed.iter().all(|&(_, arrived)| arrived == tasks);
    println!("barrier: {tasks} tasks passed after all arrived: {together}, leaders: {leaders}");
    Ok(())
}

async fn notify() -> anyhow::Result<()> {
    let kept = a_wake_up_is_kept();
    println!("notify_one before anyone waits: the wake-up is kept: {kept}");
    Ok(())
}

async fn future_and_callback() -> anyhow::Result<()> {
    let (callback, awaiters) = future_with_callback()?;
    let mut got = Vec::new();
    for awaiter in awaiters {
        got.push(awaiter.await??);
    }
    println!("future: 3 awaiters got {got:?}; {}", callback.await?);
    Ok(())
}

fn ordered_queues() -> anyhow::Result<()> {
    let urgent_first = PriorityQueue::unbounded();
    let newest_first = LifoQueue::unbounded();
    for n in [5, 1, 3] {
        urgent_first.try_put(n)?;
        newest_first.try_put(n)?;
    }
    let drain = |take: &dyn Fn() -> Option<i32>| std::iter::from_fn(take).collect::<Vec<_>>();
    println!(
        "priority queue, put 5 1 3: {:?}",
        drain(&|| urgent_first.try_get())
    );
    println!(
        "lifo queue, put 5 1 3: {:?}",
        drain(&|| newest_first.try_get())
    );
    let full = PriorityQueue::bounded(1);
    full.try_put(1)?;
    let refused = full.try_put(9);
    println!("put_nowait on a full queue: {refused:?}, the item handed back");
    let empty = LifoQueue::<i32>::unbounded();
    println!("get_nowait on an empty queue: {:?}", empty.try_get());
    anyhow::ensure!(
        matches!(refused, Err(PutError::Full(9))),
        "the full queue took an item"
    );
    Ok(())
}

/// A task's cleanup: counts itself when dropped, as a cancelled task drops it.
struct Cleanup(Arc<AtomicUsize>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

async fn task_group() {
    let cleanups = Arc::new(AtomicUsize::new(0));
    let mut group = TaskGroup::new();
    group.spawn(async { Ok("quick") });
    group.spawn(async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        Err("a failure")
    });
    let guard = Cleanup(cleanups.clone());
    group.spawn(async move {
        let _cleanup = guard; // runs when the task is cancelled
        std::future::pending::<Result<&str, &str>>().await
    });
    match group.join().await {
        Ok(values) => println!("task group: all succeeded, {values:?}"),
        Err(error) => println!(
            "task group: {error}: failures {:?}, finished {:?}, cancelled {:?}, cleanups run {}",
            error.failures,
            error.finished,
            error.cancelled,
            cleanups.load(Ordering::SeqCst)
        ),
    }
}

async fn first_failure() -> anyhow::Result<()> {
    let mut tasks = JoinSet::new();
    tasks.spawn(async { Ok(1) });
    tasks.spawn(async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        Err("a failure")
    });
    tasks.spawn(std::future::pending());
    let mut done = Vec::new();
    let failure = coordination::until_first_failure(&mut tasks, &mut done).await;
    println!(
        "wait(FIRST_EXCEPTION): done {done:?}, failure {failure:?}, still running {}",
        tasks.len()
    );
    anyhow::ensure!(
        failure == Some(Failure::Error("a failure")),
        "no failure seen"
    );
    tasks.shutdown().await;
    Ok(())
}

/// On one thread, as asyncio's loop, a task runs until it awaits. A busy loop that awaits
/// `yield_now` between slices of work lets the other tasks run, as `sleep(0)` does.
/// (Its own runtime: one cannot start inside another, so the demo runs it off the runtime.)
fn yield_now_on_one_thread() -> anyhow::Result<usize> {
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    Ok(runtime.block_on(ticks_while_yielding()))
}

/// (A runtime that holds only these tasks: the count of tasks alive is the runtime's.)
fn task_ids_on_one_thread(tasks: usize) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(task_ids(tasks))
}

async fn task_ids(tasks: usize) -> anyhow::Result<()> {
    let (release, running, alive) = tasks_waiting_for_release(tasks);
    release.send_replace(true);
    let mut ids = running.join_all().await;
    ids.sort_unstable();
    ids.dedup();
    println!(
        "task ids: {} distinct of {tasks}; tasks alive while they waited: {alive}",
        ids.len()
    );
    Ok(())
}

async fn semaphore() -> anyhow::Result<()> {
    let semaphore = Semaphore::new(2);
    acquire_and_drop(&semaphore, 3).await?;
    println!(
        "semaphore: 3 acquire-and-drop rounds leave {} of 2 permits",
        semaphore.available_permits()
    );
    Ok(())
}

// ANCHOR: condition
/// asyncio.Condition's `wait_for(predicate)` is a watch channel's `wait_for`: the value and
/// the lock are one, and a waiter checks the predicate on every change. Buyer `n` waits
/// until the stock reaches `n`, and the stock then rises one by one.
fn buyers_and_stock(
    tasks: usize,
) -> (
    watch::Sender<usize>,
    JoinSet<Result<usize, watch::error::RecvError>>,
) {
    let (stock, _) = watch::channel(0_usize);
    let mut buyers = JoinSet::new();
    for wanted in 1..=tasks {
        let mut stock = stock.subscribe();
        buyers.spawn(async move { stock.wait_for(|&n| n >= wanted).await.map(|n| *n) });
    }
    for _ in 0..tasks {
        stock.send_modify(|n| *n += 1); // `async with cond: n += 1; cond.notify_all()`
    }
    (stock, buyers)
}
// ANCHOR_END: condition

// ANCHOR: barrier
/// `tasks` parties at one barrier: each says it arrived, waits, and reports whether it was
/// the leader and how many had arrived when it passed.
fn parties_at_a_barrier(tasks: usize) -> JoinSet<(bool, usize)> {
    let barrier = Arc::new(Barrier::new(tasks));
    let (arrived, arrivals) = watch::channel(0_usize);
    let mut parties = JoinSet::new();
    for _ in 0..tasks {
        let (barrier, arrived, arrivals) = (barrier.clone(), arrived.clone(), arrivals.clone());
        parties.spawn(async move {
            arrived.send_modify(|n| *n += 1);
            let leader = barrier.wait().await.is_leader();
            (leader, *arrivals.borrow()) // how many had arrived when this one passed
        });
    }
    parties
}
// ANCHOR_END: barrier

// ANCHOR: notify
/// A `notify_one` before anyone waits stores one permit: the next `notified()` takes it
/// at once.
fn a_wake_up_is_kept() -> bool {
    let notify = Notify::new();
    notify.notify_one(); // nobody waits yet: one permit is stored
    notify.notified().now_or_never().is_some()
}
// ANCHOR_END: notify

/// What awaiting a shared oneshot gives each awaiter.
type Awaited = Result<u64, oneshot::error::RecvError>;

// ANCHOR: future
/// loop.create_future(): a oneshot channel. `.shared()` lets many tasks await it, as many
/// coroutines can await one asyncio Future. add_done_callback(cb): a task that awaits the
/// future, then calls the callback. The result is set once everyone waits.
fn future_with_callback() -> anyhow::Result<(JoinHandle<String>, Vec<JoinHandle<Awaited>>)> {
    let (set_result, result) = oneshot::channel::<u64>();
    let result = result.shared();
    let callback = tokio::spawn(
        result
            .clone()
            .map(|value| format!("callback saw {value:?}")),
    );
    let awaiters: Vec<_> = (0..3).map(|_| tokio::spawn(result.clone())).collect();
    set_result
        .send(42)
        .map_err(|_| anyhow::anyhow!("no one awaits"))?;
    Ok((callback, awaiters))
}
// ANCHOR_END: future

// ANCHOR: yield_now
/// A ticker task and a loop of CPU work on one thread: the loop awaits `yield_now` between
/// slices, as `await asyncio.sleep(0)` does, so the ticker runs too. Returns its ticks.
async fn ticks_while_yielding() -> usize {
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            loop {
                ticks.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        }
    });
    for _ in 0..100 {
        std::hint::black_box((0..1_000).sum::<u64>()); // a slice of CPU work
        tokio::task::yield_now().await; // `await asyncio.sleep(0)`
    }
    ticker.abort();
    ticks.load(Ordering::Relaxed)
}
// ANCHOR_END: yield_now

// ANCHOR: task_ids
/// `tasks` tasks that wait for a release and then return their own id; with them, how many
/// tasks the runtime has alive while they wait.
fn tasks_waiting_for_release(
    tasks: usize,
) -> (watch::Sender<bool>, JoinSet<tokio::task::Id>, usize) {
    let (release, released) = watch::channel(false);
    let mut running = JoinSet::new();
    for _ in 0..tasks {
        let mut released = released.clone();
        // asyncio.current_task(): tokio::task::id(), inside the task.
        running.spawn(async move {
            let _ = released.wait_for(|&go| go).await;
            tokio::task::id()
        });
    }
    // len(asyncio.all_tasks()): the runtime's count of tasks alive.
    let alive = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    (release, running, alive)
}
// ANCHOR_END: task_ids

// ANCHOR: semaphore
/// asyncio.BoundedSemaphore raises at a release too many. A tokio permit is a guard: it is
/// released once, when dropped, so there is no release too many to make.
async fn acquire_and_drop(semaphore: &Semaphore, rounds: usize) -> Result<(), AcquireError> {
    for _ in 0..rounds {
        let _permit = semaphore.acquire().await?;
    }
    Ok(())
}
// ANCHOR_END: semaphore
