//! The blocking helpers dropped mid-await: rayon work runs to its end regardless; batched
//! and windowed work is dropped with the future, and nothing more starts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use blocking::{in_fixed_batches, in_sliding_window, on_rayon};
use cancel_check::DropCounter;
use tokio::time::{sleep, timeout};

#[tokio::test]
async fn on_rayon_dropped_stops_the_waiting_not_the_work() {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (finished, was_finished) = tokio::sync::oneshot::channel();
    cancel_check::drop_pending(on_rayon(move || {
        released.recv().unwrap(); // blocks a rayon thread until the test says go
        finished.send(()).unwrap();
        42
    }))
    .await;
    release.send(()).unwrap();
    timeout(Duration::from_secs(60), was_finished)
        .await
        .expect("the work ran to its end after the waiter was dropped")
        .unwrap();
}

/// Work that counts its starts and holds a guard until it is dropped or done.
fn slow_work(
    started: &Arc<AtomicUsize>,
    dropped: &DropCounter,
) -> impl Fn(u64) -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> {
    let (started, dropped) = (started.clone(), dropped.clone());
    move |item| {
        started.fetch_add(1, Ordering::SeqCst);
        let guard = dropped.guard();
        Box::pin(async move {
            let _guard = guard;
            sleep(Duration::from_secs(3600)).await;
            item
        })
    }
}

#[tokio::test(start_paused = true)]
async fn batches_and_windows_dropped_drop_their_items_and_start_no_more() {
    for (name, size) in [("batches", 3), ("window", 4)] {
        let (started, dropped) = (Arc::new(AtomicUsize::new(0)), DropCounter::new());
        let work = slow_work(&started, &dropped);
        let items: Vec<u64> = (0..20).collect();
        let one_second = sleep(Duration::from_secs(1));
        if name == "batches" {
            cancel_check::drop_pending_after(in_fixed_batches(items, size, work), one_second).await;
        } else {
            cancel_check::drop_pending_after(in_sliding_window(items, size, work), one_second)
                .await;
        }
        sleep(Duration::from_secs(7200)).await; // long enough for any detached item
        assert_eq!(
            started.load(Ordering::SeqCst),
            size,
            "{name}: one round started"
        );
        assert_eq!(dropped.dropped(), size, "{name}: and all of it dropped");
    }
}
