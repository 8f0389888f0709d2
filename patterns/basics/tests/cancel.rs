//! Each async fn of the basics, dropped mid-await: what is stopped and what runs on, as
//! their `# Cancel safety` sections say. Tasks are counted with the runtime's own metric
//! (`num_alive_tasks`), after a paused-time sleep that lets the runtime finish all it can.

use std::time::Duration;

use basics::{
    greet, greet_in_tasks, greet_one_after_another, greet_with_join_all, spawn_and_await_each,
    spawn_and_join_all, spawn_with_join_set, threads_used,
};
use tokio::runtime::Handle;
use tokio::time::sleep;

const PAUSE: Duration = Duration::from_secs(10);

fn names() -> Vec<String> {
    ["Ada", "Bob", "Cy"].map(String::from).to_vec()
}

fn alive() -> usize {
    Handle::current().metrics().num_alive_tasks()
}

/// Lets the runtime run everything that is ready (time is paused: the sleep ends only
/// when nothing else can run).
async fn settle() {
    sleep(Duration::from_millis(1)).await;
}

#[tokio::test(start_paused = true)]
async fn coroutines_dropped_mid_pause_leave_nothing_running() {
    cancel_check::drop_pending_after(greet("Ada", PAUSE), tokio::time::sleep(PAUSE / 2)).await;
    let names = names();
    cancel_check::drop_pending_after(
        greet_one_after_another(&names, PAUSE),
        tokio::time::sleep(PAUSE / 2),
    )
    .await;
    cancel_check::drop_pending_after(
        greet_with_join_all(&names, PAUSE),
        tokio::time::sleep(PAUSE / 2),
    )
    .await;
    settle().await;
    assert_eq!(alive(), 0, "no task was ever spawned");
}

#[tokio::test(start_paused = true)]
async fn greet_in_tasks_dropped_leaves_its_tasks_running_to_the_end() {
    let names = names();
    cancel_check::drop_pending_after(greet_in_tasks(&names, PAUSE), tokio::time::sleep(PAUSE / 2))
        .await;
    settle().await;
    assert_eq!(alive(), 3, "detached, not stopped");
    sleep(PAUSE).await;
    assert_eq!(alive(), 0, "they ran to the end");
}

#[tokio::test(start_paused = true)]
async fn a_join_set_dropped_leaves_no_task_behind() {
    // Spawned, not yet run, when the drop comes: the set aborts all 1000.
    cancel_check::drop_pending(spawn_with_join_set(1000)).await;
    settle().await;
    assert_eq!(alive(), 0);
    cancel_check::drop_pending(threads_used(50)).await;
    settle().await;
    assert_eq!(alive(), 0);
}

#[tokio::test(start_paused = true)]
async fn spawned_handles_dropped_leave_their_tasks_running() {
    // The no-op tasks are detached, not aborted: they are alive after the drop, and end
    // on their own once the runtime gets to them.
    cancel_check::drop_pending(spawn_and_join_all(10)).await;
    assert_eq!(alive(), 10, "detached, still to run");
    settle().await;
    assert_eq!(alive(), 0);
    cancel_check::drop_pending(spawn_and_await_each(20)).await;
    assert_eq!(alive(), 20, "detached, still to run");
    settle().await;
    assert_eq!(alive(), 0);
}
