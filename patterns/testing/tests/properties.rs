//! Property-based tests (proptest): for any sequence of lookups and clock moves, the cache
//! asks the origin exactly when a simple model says an entry is missing or expired, and
//! always answers with the user asked for. Each case runs on a paused runtime of its own.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{ScriptedOrigin, calls};
use proptest::prelude::*;
use testing::{Policy, UserCache};
use tokio::time::{Instant, advance};

const TTL: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
enum Op {
    Get(u32),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1u32..6).prop_map(Op::Get),
        1 => (0u64..25_000).prop_map(Op::Advance),
    ]
}

// ANCHOR: property
proptest! {
    #[test]
    fn the_origin_is_asked_exactly_when_the_model_says_the_entry_is_stale(
        ops in proptest::collection::vec(op(), 1..60)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let origin = ScriptedOrigin::answering(Duration::ZERO);
            let fetched = origin.calls();
            let policy = Policy { ttl: TTL, ..Policy::default() };
            let cache = UserCache::new(origin, policy);
            let mut expires: HashMap<u32, Instant> = HashMap::new(); // the model
            let mut expected_fetches = 0;
            for op in ops {
                match op {
                    Op::Advance(ms) => advance(Duration::from_millis(ms)).await,
                    Op::Get(id) => {
                        let now = Instant::now();
                        if expires.get(&id).is_none_or(|&at| now >= at) {
                            expected_fetches += 1;
                            expires.insert(id, now + TTL);
                        }
                        let user = cache.get(id).await.unwrap();
                        prop_assert_eq!(user.id, id);
                        prop_assert_eq!(calls(&fetched), expected_fetches);
                    }
                }
            }
            Ok(())
        })?;
    }
}
// ANCHOR_END: property
