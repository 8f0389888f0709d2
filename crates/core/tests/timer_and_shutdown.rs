//! The timer measures virtual time exactly and reports through tracing; shutdown waits
//! for cooperative tasks and aborts the stubborn ones at the deadline.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cancel_check::DropCounter;
use patterns_core::{Shutdown, Timer, timed};
use tokio::time::{Instant, sleep};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

#[tokio::test(start_paused = true)]
async fn timer_measures_the_scope() {
    let timer = Timer::start("sleep");
    sleep(Duration::from_millis(1500)).await;
    assert_eq!(timer.stop(), Duration::from_millis(1500));
}

#[tokio::test(start_paused = true)]
async fn timed_returns_output_and_duration() {
    let (out, took) = timed("work", async {
        sleep(Duration::from_millis(250)).await;
        7
    })
    .await;
    assert_eq!((out, took), (7, Duration::from_millis(250)));
}

/// Records the fields of every event as `name=value` strings.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>, Arc<Mutex<Vec<String>>>);

/// Writes a span's or event's fields as `name=value` strings.
struct Fields<'a>(&'a mut Vec<String>);
impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push(format!("{}={value:?}", field.name()));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.push(format!("{}={value}", field.name()));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        let mut fields = vec![attrs.metadata().name().to_owned()];
        attrs.record(&mut Fields(&mut fields));
        self.1.lock().unwrap().push(fields.join(" "));
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(fields.join(" "));
    }
}

#[tokio::test(start_paused = true)]
async fn timer_reports_elapsed_through_tracing_on_drop() {
    let capture = Capture::default();
    let subscriber = Registry::default().with(capture.clone());
    let _default = tracing::subscriber::set_default(subscriber);
    {
        let _timer = Timer::start("fetch");
        sleep(Duration::from_millis(40)).await;
    }
    let events = capture.0.lock().unwrap().clone();
    assert_eq!(capture.1.lock().unwrap().as_slice(), ["timer label=fetch"]);
    assert!(
        events.contains(&"message=finished elapsed_ms=40".to_owned()),
        "{events:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn timer_reports_milliseconds_to_the_microsecond() {
    let capture = Capture::default();
    let subscriber = Registry::default().with(capture.clone());
    let _default = tracing::subscriber::set_default(subscriber);
    let timer = Timer::start("parse");
    assert_eq!(timer.label(), "parse");
    // `advance` moves the paused clock exactly; a sleep would round up to whole milliseconds.
    tokio::time::advance(Duration::from_micros(1_500)).await;
    assert_eq!(timer.stop(), Duration::from_micros(1_500));
    let events = capture.0.lock().unwrap().clone();
    assert!(
        events.contains(&"message=finished elapsed_ms=1.5".to_owned()),
        "{events:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_cooperative_tasks() {
    let shutdown = Shutdown::new();
    let finished = Arc::new(AtomicUsize::new(0));
    for cleanup_ms in [100, 300] {
        let token = shutdown.token();
        let finished = finished.clone();
        shutdown.spawn(async move {
            token.cancelled().await;
            sleep(Duration::from_millis(cleanup_ms)).await; // an async cleanup step
            finished.fetch_add(1, Ordering::SeqCst);
        });
    }
    let report = shutdown.shutdown(Duration::from_secs(5)).await;
    assert!(report.is_clean());
    assert_eq!(report.elapsed, Duration::from_millis(300));
    assert_eq!(finished.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn shutdown_aborts_stragglers_at_the_deadline() {
    let shutdown = Shutdown::new();
    let dropped = DropCounter::new();
    let polite = shutdown.token();
    shutdown.spawn(async move { polite.cancelled().await });
    let guard = dropped.guard();
    shutdown.spawn(async move {
        let _guard = guard;
        sleep(Duration::from_secs(3600)).await; // ignores the token
    });
    let started = Instant::now();
    let report = shutdown.shutdown(Duration::from_secs(2)).await;
    assert_eq!(report.aborted, 1);
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(dropped.dropped(), 1, "the aborted task's destructors ran");
}

#[tokio::test]
async fn trigger_wakes_everyone_waiting() {
    let shutdown = Shutdown::new();
    let waiter = shutdown.clone();
    let task = tokio::spawn(async move { waiter.triggered().await });
    shutdown.trigger();
    task.await.unwrap();
    assert!(shutdown.token().is_cancelled());
}

#[tokio::test(start_paused = true)]
async fn shutdown_dropped_mid_grace_aborts_nothing_and_a_later_one_finishes_the_job() {
    let shutdown = Shutdown::new();
    let drops = DropCounter::new();
    let guard = drops.guard();
    // A task that ignores the signal: only an abort ends it.
    shutdown.spawn(async move {
        let _guard = guard;
        sleep(Duration::from_secs(3600)).await;
    });
    // Dropped one second into a ten-second grace period.
    cancel_check::drop_pending_after(
        shutdown.shutdown(Duration::from_secs(10)),
        sleep(Duration::from_secs(1)),
    )
    .await;
    tokio::time::timeout(Duration::from_secs(1), shutdown.triggered())
        .await
        .expect("the trigger stayed");
    assert_eq!(drops.dropped(), 0, "nothing was aborted");
    let report = shutdown.shutdown(Duration::from_secs(1)).await;
    assert_eq!((report.aborted, drops.dropped()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn triggered_dropped_misses_no_trigger() {
    let shutdown = Shutdown::new();
    cancel_check::drop_pending(shutdown.triggered()).await;
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(1), shutdown.triggered())
        .await
        .expect("a later call sees the trigger that came in between");
}

/// `spawn` forgets finished tasks once its list is full (four here, then eight...): the
/// running ones must stay in it, or the shutdown could not abort them.
#[tokio::test(start_paused = true)]
async fn tasks_spawned_past_the_lists_first_growth_are_all_aborted() {
    let shutdown = Shutdown::new();
    let drops = DropCounter::new();
    for _ in 0..5 {
        let guard = drops.guard();
        shutdown.spawn(async move {
            let _guard = guard;
            sleep(Duration::from_secs(3600)).await; // ignores the signal
        });
    }
    let report = shutdown.shutdown(Duration::from_secs(1)).await;
    assert_eq!((report.aborted, drops.dropped()), (5, 5));
    assert_eq!(report.elapsed, Duration::from_secs(1));
    assert!(!report.is_clean(), "aborted tasks make it unclean");
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_whose_tasks_all_finish_is_clean() {
    let shutdown = Shutdown::new();
    let token = shutdown.token();
    shutdown.spawn(async move { token.cancelled().await });
    let report = shutdown.shutdown(Duration::from_secs(1)).await;
    assert!(report.is_clean());
    assert_eq!(report.elapsed, Duration::ZERO);
}
