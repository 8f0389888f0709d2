//! Blocking the runtime, named: the detector reports the task whose poll blocked, and
//! nothing for tasks that await. (How late other tasks ran is the `blocking` pattern's
//! measurement, which the demo prints.)

use std::time::Duration;

use blocking::busy_for;
use pitfalls::SlowPolls;

#[tokio::test]
async fn the_task_that_blocks_is_named_with_its_one_slow_poll() {
    let detector = SlowPolls::new(Duration::from_millis(20));
    let polite = tokio::spawn(detector.instrument("fetcher", async {
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
    }));
    let rude =
        tokio::spawn(detector.instrument("hasher", async { busy_for(Duration::from_millis(60)) }));
    let _ = tokio::join!(polite, rude);
    let report = detector.report();
    assert!(!report.is_empty(), "nothing reported");
    let slowest = &report[0];
    assert_eq!(slowest.name, "hasher", "{report:?}");
    assert_eq!((slowest.slow_polls, slowest.polls), (1, 1), "{report:?}");
    assert!(slowest.slow_time >= Duration::from_millis(60), "{report:?}");
}

#[tokio::test]
async fn a_task_that_only_awaits_is_not_reported() {
    let detector = SlowPolls::new(Duration::from_secs(1));
    detector
        .instrument("sleeper", tokio::time::sleep(Duration::from_millis(1)))
        .await;
    assert_eq!(detector.report(), vec![]);
}

#[tokio::test]
async fn a_task_that_panics_reaches_its_join_handle_and_its_last_poll_goes_unmeasured() {
    let detector = SlowPolls::new(Duration::from_millis(20));
    let task = tokio::spawn(detector.instrument("crasher", async {
        busy_for(Duration::from_millis(30));
        panic!("the user's task failed");
    }));
    let error = task.await.unwrap_err();
    assert!(error.is_panic());
    let message = patterns_core::error::panic_message(error.into_panic().as_ref());
    assert_eq!(message, "the user's task failed");
    // tokio-metrics records a poll when it returns; this one unwound instead.
    assert_eq!(detector.report(), vec![]);
}
