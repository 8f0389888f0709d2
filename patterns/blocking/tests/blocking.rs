//! Blocking inline stalls the runtime; moved off it, the runtime keeps running. Proven by
//! counting a ticker's ticks, not by timing: the off-runtime work below can only finish if
//! the ticker kept ticking while it blocked. Batches versus window run under paused time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use blocking::{Ticker, WorkPanicked, busy_for, in_fixed_batches, in_sliding_window, on_rayon};
use tokio::time::{Instant, sleep, timeout};

const TICK: Duration = Duration::from_millis(1);
const GIVE_UP: Duration = Duration::from_secs(30);

/// Blocks its thread until the ticker has ticked `more` times.
fn block_until_ticked(ticks: &AtomicU64, more: u64) -> u64 {
    let target = ticks.load(Ordering::Acquire) + more;
    while ticks.load(Ordering::Acquire) < target {
        std::thread::yield_now();
    }
    target
}

#[tokio::test(flavor = "current_thread")]
async fn blocking_inside_a_task_stops_every_other_task_on_its_thread() {
    let ticker = Ticker::start(TICK);
    sleep(Duration::from_millis(5)).await; // let it tick once it is running
    let before = ticker.ticks();
    busy_for(Duration::from_millis(50)); // no .await: nothing else can run
    assert_eq!(
        ticker.ticks(),
        before,
        "not a single tick while the thread was blocked"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn spawn_blocking_leaves_the_runtime_free() {
    let ticker = Ticker::start(TICK);
    let ticks = ticker.tick_counter();
    let blocked = tokio::task::spawn_blocking(move || block_until_ticked(&ticks, 20));
    let reached = timeout(GIVE_UP, blocked)
        .await
        .expect("the runtime kept ticking")
        .unwrap();
    assert!(ticker.ticks() >= reached);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_in_place_hands_the_other_tasks_to_another_worker() {
    let ticker = Ticker::start(TICK);
    let ticks = ticker.tick_counter();
    let blocked =
        tokio::spawn(async move { tokio::task::block_in_place(|| block_until_ticked(&ticks, 20)) });
    timeout(GIVE_UP, blocked)
        .await
        .expect("the runtime kept ticking")
        .unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn rayon_work_leaves_the_runtime_free_and_reports_a_panic() {
    let ticker = Ticker::start(TICK);
    let ticks = ticker.tick_counter();
    let reached = timeout(GIVE_UP, on_rayon(move || block_until_ticked(&ticks, 20)))
        .await
        .expect("ticking");
    assert!(reached.is_ok());
    let panicked = on_rayon(|| -> u64 { panic!("bad input") }).await;
    assert_eq!(panicked, Err(WorkPanicked));
}

/// Sleeps `ms` (virtual) while counting how many items are in flight at once.
fn gauged(
    in_flight: &Arc<AtomicUsize>,
    peak: &Arc<AtomicUsize>,
) -> impl Fn(u64) -> std::pin::Pin<Box<dyn Future<Output = u64>>> {
    let (in_flight, peak) = (in_flight.clone(), peak.clone());
    move |ms| {
        let (in_flight, peak) = (in_flight.clone(), peak.clone());
        Box::pin(async move {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            sleep(Duration::from_millis(ms)).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            ms
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_sliding_window_refills_at_once_where_batches_wait_for_their_slowest() {
    // One slow item in each batch of four.
    let durations = vec![1000, 100, 100, 100, 100, 100, 100, 1000];
    for (window, expected_ms) in [(false, 2000), (true, 1200)] {
        let (in_flight, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let work = gauged(&in_flight, &peak);
        let started = Instant::now();
        let results = if window {
            in_sliding_window(durations.clone(), 4, work).await
        } else {
            in_fixed_batches(durations.clone(), 4, work).await
        };
        assert_eq!(results, durations, "input order");
        assert_eq!(
            started.elapsed().as_millis(),
            expected_ms,
            "window: {window}"
        );
        assert_eq!(
            peak.load(Ordering::SeqCst),
            4,
            "never more than 4 in flight, and 4 reached"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn buffered_holds_finished_items_behind_a_slow_first_one_like_batches() {
    use futures::StreamExt as _;
    // The same items as above: `buffered` keeps input order, so the three quick items
    // behind the slow first one keep their slots until it is done.
    let durations = vec![1000, 100, 100, 100, 100, 100, 100, 1000];
    let (in_flight, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let started = Instant::now();
    let results: Vec<u64> = futures::stream::iter(durations.clone())
        .map(gauged(&in_flight, &peak))
        .buffered(4)
        .collect()
        .await;
    assert_eq!(results, durations, "input order");
    assert_eq!(
        started.elapsed().as_millis(),
        2000,
        "as slow as fixed batches, not the window's 1,200 ms"
    );
    assert_eq!(
        peak.load(Ordering::SeqCst),
        4,
        "never more than 4 in flight"
    );
}
