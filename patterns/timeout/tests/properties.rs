//! The retry budget as a property: for random policies and random servers (each try takes
//! a random time and fails, fails fatally or succeeds), `retry` never runs past its budget,
//! never makes more tries than allowed, and says truthfully why it stopped. Paused time, so
//! the clock is exact.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use timeout::{Backoff, RetryError, retry};
use tokio::time::{Instant, sleep};

/// One try of the random server: how long it takes and how it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Ok,
    Transient,
    Fatal,
}

fn answers() -> impl Strategy<Value = Vec<(u64, Answer)>> {
    let answer = prop_oneof![
        6 => Just(Answer::Transient),
        2 => Just(Answer::Ok),
        1 => Just(Answer::Fatal),
    ];
    proptest::collection::vec((0..2_000u64, answer), 12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn retry_keeps_to_its_budget_and_its_tries(
        retries in 0..10u32,
        first_ms in 1..1_000u64,
        max_ms in 1..5_000u64,
        budget_ms in 0..10_000u64,
        jitter in any::<bool>(),
        script in answers(),
    ) {
        let policy = Backoff {
            retries,
            first_delay: Duration::from_millis(first_ms),
            max_delay: Duration::from_millis(max_ms),
            budget: Duration::from_millis(budget_ms),
            jitter,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let tries = Arc::new(Mutex::new(Vec::new()));
        let log = tries.clone();
        let (outcome, took) = runtime.block_on(async {
            let started = Instant::now();
            let attempt = move |n: u32| {
                let (took, answer) = script[(n as usize - 1) % script.len()];
                log.lock().unwrap().push(answer);
                async move {
                    sleep(Duration::from_millis(took)).await;
                    match answer {
                        Answer::Ok => Ok(n),
                        Answer::Transient => Err(Answer::Transient),
                        Answer::Fatal => Err(Answer::Fatal),
                    }
                }
            };
            let outcome = retry(&policy, attempt, |e| *e == Answer::Transient).await;
            (outcome, started.elapsed())
        });
        let tries = tries.lock().unwrap().clone();
        prop_assert!(took <= policy.budget, "ran {took:?} of a {:?} budget", policy.budget);
        prop_assert!(!tries.is_empty(), "the first try is always made");
        prop_assert!(tries.len() as u32 <= retries + 1);
        match outcome {
            Ok(n) => {
                prop_assert_eq!(n as usize, tries.len());
                prop_assert_eq!(tries.last(), Some(&Answer::Ok));
            }
            Err(RetryError::Fatal { attempts: made, .. }) => {
                prop_assert_eq!(made as usize, tries.len());
                prop_assert_eq!(tries.last(), Some(&Answer::Fatal));
            }
            Err(RetryError::Exhausted { attempts: made, last }) => {
                prop_assert_eq!(made, retries + 1);
                prop_assert_eq!(last, Answer::Transient);
                prop_assert!(tries.iter().all(|a| *a == Answer::Transient));
            }
            Err(RetryError::OutOfTime { attempts: made, .. }) => {
                prop_assert_eq!(made as usize, tries.len());
                prop_assert!(tries[..tries.len() - 1].iter().all(|a| *a == Answer::Transient));
            }
        }
    }
}
