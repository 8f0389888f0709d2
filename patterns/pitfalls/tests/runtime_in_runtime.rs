//! "This event loop is already running": Tokio's panic when `block_on` runs on a thread
//! that drives a runtime, caught; then each fix, and where `block_in_place` panics.

use pitfalls::{SyncBridge, expect_panic};
use tokio::runtime::Handle;

async fn answer() -> u32 {
    42
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_on_inside_a_runtime_panics_with_tokios_message() {
    let bridge = SyncBridge::new().unwrap();
    let message = expect_panic(|| bridge.block_on(answer())).unwrap_err();
    assert!(
        message.starts_with("Cannot start a runtime from within a runtime."),
        "{message}"
    );
    // The bridge is dropped on a blocking thread: dropping a runtime in async code panics too.
    tokio::task::spawn_blocking(move || drop(bridge))
        .await
        .unwrap();
}

#[tokio::test]
async fn dropping_a_runtime_inside_async_code_panics_too() {
    let bridge = SyncBridge::new().unwrap();
    let message = expect_panic(move || drop(bridge)).unwrap_err();
    assert!(message.starts_with("Cannot drop a runtime"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fix_runs_the_future_without_a_second_runtime() {
    assert_eq!(answer().await, 42, "just .await");
    assert_eq!(Handle::current().spawn(answer()).await.unwrap(), 42);
    let handle = Handle::current();
    let blocking = tokio::task::spawn_blocking(move || handle.block_on(answer()));
    assert_eq!(blocking.await.unwrap(), 42);
    let handle = Handle::current();
    assert_eq!(
        tokio::task::block_in_place(|| handle.block_on(answer())),
        42
    );
}

#[tokio::test(flavor = "current_thread")]
async fn block_in_place_panics_on_the_current_thread_runtime() {
    let message = expect_panic(|| tokio::task::block_in_place(|| 42)).unwrap_err();
    assert_eq!(
        message,
        "can call blocking only when running on the multi-threaded runtime"
    );
}

#[test]
fn the_bridge_serves_sync_code_on_a_thread_without_a_runtime() {
    let bridge = SyncBridge::new().unwrap();
    let got = std::thread::scope(|s| s.spawn(|| bridge.block_on(answer())).join().unwrap());
    assert_eq!(got, 42);
    // and again: the bridge's runtime outlives each call
    assert_eq!(bridge.block_on(answer()), 42);
}

#[test]
fn expect_panic_returns_the_value_when_nothing_panics_and_the_text_when_it_does() {
    assert_eq!(expect_panic(|| 7), Ok(7));
    assert_eq!(
        expect_panic(|| panic!("on purpose {}", 1)),
        Err::<(), _>("on purpose 1".to_owned())
    );
}
