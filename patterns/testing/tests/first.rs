//! The first two tests to write: an async fn awaited in a test, and a timeout that fires
//! at once because the clock is paused.

use std::time::Duration;

// ANCHOR: first_tests
async fn double(n: u32) -> u32 {
    tokio::task::yield_now().await;
    2 * n
}

#[tokio::test] // a runtime for this test: `async fn` tests, as pytest-asyncio gives
async fn an_async_fn_is_awaited_in_a_test() {
    assert_eq!(double(21).await, 42);
}

#[tokio::test(start_paused = true)] // tokio's clock, paused: an hour passes at once
async fn a_timeout_fires_without_waiting_for_it() {
    let sleep = tokio::time::sleep(Duration::from_secs(3600));
    let waited = tokio::time::timeout(Duration::from_secs(1), sleep).await;
    assert!(waited.is_err());
}
// ANCHOR_END: first_tests
