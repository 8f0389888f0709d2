//! Where `Pin` shows up in everyday async Rust: a future awaited by reference more than
//! once, a recursive `async fn`, and futures of different types kept together.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

// ANCHOR: recursion
/// An `async fn` that calls itself would be a future that contains itself: infinitely
/// large. `Box::pin` puts the inner call on the heap, at a fixed address.
fn sum_tree(depth: u32) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            return 1;
        }
        sum_tree(depth - 1).await + sum_tree(depth - 1).await
    })
}
// ANCHOR_END: recursion

// ANCHOR: mixed
/// Futures of different types in one `Vec`: each `async` block has a type of its own, so
/// they are boxed behind one trait object, pinned because a future may point into itself.
fn steps() -> Vec<Pin<Box<dyn Future<Output = &'static str> + Send>>> {
    vec![
        Box::pin(async { "at once" }),
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            "after a sleep"
        }),
    ]
}
// ANCHOR_END: mixed

#[tokio::test]
async fn a_recursive_async_fn_runs_boxed() {
    assert_eq!(sum_tree(10).await, 1024);
}

#[tokio::test(start_paused = true)]
async fn boxed_futures_of_different_types_run_together() {
    let done = futures::future::join_all(steps()).await;
    assert_eq!(done, ["at once", "after a sleep"]);
}
