//! The exit stack, `Guarded::release`, `timed`, `interruptible` and `background_releases`,
//! each dropped mid-await: what their `# Cancel safety` sections promise holds. (`scoped`'s
//! cancellation is in `scoped.rs`.)

mod common;

use std::time::Duration;

use cancel_check::DropCounter;
use common::{Journal, Probe};
use patterns_core::AsyncResource;
use patterns_core::resource::background_releases;
use patterns_core::{ExitStack, Guarded, app, timed, with_exit_stack};
use tokio::time::{sleep, timeout};

const A_WHILE: Duration = Duration::from_secs(1);

#[tokio::test(start_paused = true)]
async fn enter_dropped_while_opening_leaves_the_stack_unchanged() {
    let journal = Journal::default();
    let mut stack = ExitStack::new();
    stack.enter(Probe::open("a", &journal)).await.unwrap();
    let dropped = DropCounter::new();
    let guard = dropped.guard();
    let never_opens = async move {
        let _guard = guard;
        std::future::pending::<anyhow::Result<Probe>>().await
    };
    cancel_check::drop_pending_after(stack.enter(never_opens), tokio::time::sleep(A_WHILE)).await;
    assert_eq!(
        (stack.len(), dropped.dropped()),
        (1, 1),
        "open dropped, nothing pushed"
    );
    stack.close().await.unwrap();
    assert_eq!(journal.releases(), ["a"]);
}

#[tokio::test(start_paused = true)]
async fn close_dropped_mid_release_still_releases_everything_in_order() {
    let journal = Journal::default();
    let mut stack = ExitStack::new();
    for name in ["a", "b"] {
        let probe = Probe::open(name, &journal).await.unwrap();
        stack.push(probe.slow_release(Duration::from_secs(5)));
    }
    cancel_check::drop_pending_after(stack.close(), tokio::time::sleep(A_WHILE)).await;
    assert_eq!(
        journal.releases(),
        Vec::<String>::new(),
        "b still releasing"
    );
    timeout(
        Duration::from_secs(60),
        background_or_close_task(&journal, 2),
    )
    .await
    .expect("both released");
    assert_eq!(journal.releases(), ["b", "a"]);
}

/// Waits for `n` releases in all.
async fn background_or_close_task(journal: &Journal, n: usize) {
    while journal.releases().len() < n {
        journal.next_release().await;
    }
}

#[tokio::test(start_paused = true)]
async fn with_exit_stack_dropped_in_the_body_releases_in_the_background() {
    let journal = Journal::default();
    cancel_check::drop_pending_after(
        with_exit_stack(async |stack| {
            stack.enter(Probe::open("a", &journal)).await?;
            stack.enter(Probe::open("b", &journal)).await?;
            std::future::pending::<anyhow::Result<()>>().await
        }),
        tokio::time::sleep(A_WHILE),
    )
    .await;
    background_releases().await;
    assert_eq!(journal.releases(), ["b", "a"]);
}

#[tokio::test(start_paused = true)]
async fn release_dropped_while_waiting_does_not_cut_the_release_short() {
    let journal = Journal::default();
    let probe = Probe::open("a", &journal).await.unwrap();
    let guarded = Guarded::new(probe.slow_release(Duration::from_secs(5)));
    cancel_check::drop_pending_after(guarded.release(), tokio::time::sleep(A_WHILE)).await;
    assert_eq!(journal.count("release a"), 0, "still running");
    journal.next_release().await;
    assert_eq!(journal.count("release a"), 1);
}

#[tokio::test(start_paused = true)]
async fn background_releases_can_be_dropped_and_awaited_again() {
    let journal = Journal::default();
    let probe = Probe::open("a", &journal).await.unwrap();
    drop(Guarded::new(probe.slow_release(Duration::from_secs(5))));
    cancel_check::drop_pending_after(background_releases(), tokio::time::sleep(A_WHILE)).await;
    assert_eq!(journal.count("release a"), 0);
    background_releases().await;
    assert_eq!(journal.count("release a"), 1);
}

#[tokio::test(start_paused = true)]
async fn timed_dropped_drops_its_work() {
    let dropped = DropCounter::new();
    let guard = dropped.guard();
    let work = async move {
        let _guard = guard;
        sleep(Duration::from_secs(3600)).await;
    };
    cancel_check::drop_pending_after(timed("work", work), tokio::time::sleep(A_WHILE)).await;
    assert_eq!(dropped.dropped(), 1);
}

#[tokio::test(start_paused = true)]
async fn interruptible_dropped_drops_the_demo() {
    let dropped = DropCounter::new();
    let guard = dropped.guard();
    let demo = async move {
        let _guard = guard;
        std::future::pending::<anyhow::Result<()>>().await
    };
    cancel_check::drop_pending_after(app::interruptible(demo), tokio::time::sleep(A_WHILE)).await;
    assert_eq!(dropped.dropped(), 1);
}

#[tokio::test(start_paused = true)]
async fn run_dropped_drops_the_demo() {
    let dropped = DropCounter::new();
    let guard = dropped.guard();
    let demo = async move {
        let _guard = guard;
        std::future::pending::<anyhow::Result<()>>().await
    };
    cancel_check::drop_pending_after(app::run(demo), tokio::time::sleep(A_WHILE)).await;
    assert_eq!(dropped.dropped(), 1);
}

/// Awaited directly and dropped mid-way, a release is left half done: why `scoped`,
/// `Guarded` and `ExitStack` never await it in place but in a task of its own.
#[tokio::test(start_paused = true)]
async fn a_release_awaited_in_place_and_dropped_is_left_half_done() {
    let journal = Journal::default();
    let probe = Probe::open("a", &journal).await.unwrap();
    cancel_check::drop_pending(probe.slow_release(Duration::from_secs(5)).release()).await;
    assert_eq!(journal.count("start release a"), 1);
    sleep(Duration::from_secs(60)).await;
    assert_eq!(journal.count("release a"), 0, "and never finished");
}
