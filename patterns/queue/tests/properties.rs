//! The queue's accounting as a property: for random shapes, random failures, random panics
//! and a drain or an abort at a random moment, every item produced is processed, failed,
//! panicked or set aside, exactly once. Each case runs on a paused-time runtime of its own.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use queue::{RunConfig, StopSignal, run};
use tokio::time::sleep;

/// How a random run is stopped.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Never,
    Drain(u64),
    Abort(u64),
}

fn stops() -> impl Strategy<Value = Stop> {
    prop_oneof![
        Just(Stop::Never),
        (0..200u64).prop_map(Stop::Drain),
        (0..200u64).prop_map(Stop::Abort),
    ]
}

/// What happens to an item, decided by its id, so the test knows the answer.
fn fate(item: u64, fail_every: u64, panic_every: u64) -> &'static str {
    if item % panic_every == panic_every - 1 {
        "panic"
    } else if item % fail_every == fail_every - 1 {
        "fail"
    } else {
        "ok"
    }
}

/// The items' own panics are expected by the hundred: keep them off stderr, and every
/// other panic (a failed assertion) as it is.
fn quiet_item_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info.payload().downcast_ref::<String>();
            let expected =
                message.is_some_and(|m| m.starts_with("item ") && m.ends_with(" panicked"));
            if !expected {
                default(info);
            }
        }));
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_item_is_accounted_for_exactly_once(
        producers in 1..5usize,
        consumers in 1..5usize,
        capacity in 1..9usize,
        items_per_producer in 0..40u64,
        work_ms in 0..4u64,
        fail_every in 2..9u64,
        panic_every in 5..13u64,
        stop in stops(),
    ) {
        quiet_item_panics();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let processed = Arc::new(Mutex::new(Vec::new()));
        let seen = processed.clone();
        let process = move |item: u64| {
            let seen = seen.clone();
            async move {
                sleep(Duration::from_millis(work_ms)).await;
                match fate(item, fail_every, panic_every) {
                    "panic" => panic!("item {item} panicked"),
                    "fail" => Err((item, "failed")),
                    _ => {
                        seen.lock().unwrap().push(item);
                        Ok(())
                    }
                }
            }
        };
        let config = RunConfig { producers, consumers, capacity, items_per_producer };
        let per = items_per_producer;
        let report = runtime.block_on(async {
            let signal = StopSignal::new();
            let stopper = signal.clone();
            tokio::spawn(async move {
                match stop {
                    Stop::Never => {}
                    Stop::Drain(ms) => { sleep(Duration::from_millis(ms)).await; stopper.drain() }
                    Stop::Abort(ms) => { sleep(Duration::from_millis(ms)).await; stopper.abort() }
                }
            });
            run(config, move |p, i| p as u64 * per + i, process, &signal).await
        }).expect("no task died");

        prop_assert!(report.nothing_lost(), "{report:?}");
        let processed: Vec<u64> = processed.lock().unwrap().clone();
        let mut everything: Vec<u64> = processed.clone();
        everything.extend(report.consumed.failed.iter().map(|(item, _)| *item));
        everything.extend(report.consumed.unprocessed.iter().copied());
        let panicked = report.consumed.panicked.len() as u64;
        let unique: BTreeSet<u64> = everything.iter().copied().collect();
        prop_assert_eq!(unique.len(), everything.len(), "an item counted twice");
        prop_assert_eq!(everything.len() as u64 + panicked, report.produced);
        // Each item met the fate its id gave it, unless an abort set it aside.
        prop_assert!(processed.iter().all(|i| fate(*i, fail_every, panic_every) == "ok"));
        prop_assert!(report.consumed.failed.iter().all(|(i, _)| fate(*i, fail_every, panic_every) == "fail"));
        if let Stop::Never = stop {
            prop_assert_eq!(report.produced, producers as u64 * per);
            prop_assert!(report.consumed.unprocessed.is_empty());
        }
        if !matches!(stop, Stop::Abort(_)) {
            prop_assert!(report.consumed.unprocessed.is_empty(), "only an abort sets aside");
        }
    }
}
