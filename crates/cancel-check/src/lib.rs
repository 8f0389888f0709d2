//! The drop test behind every `# Cancel safety` section of the catalogue.
//!
//! A `select!` whose other branch wins drops the losing future at the `.await` where it
//! was waiting. These helpers do exactly that, and nothing else: they poll a future until
//! it returns `Pending`, then drop it, so the test can check what the drop left behind.
//! A future that completes before it can be dropped fails the test: a drop test that
//! never dropped anything proves nothing.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(1);
//! // A `recv` dropped while it waits takes nothing...
//! cancel_check::drop_pending(rx.recv()).await;
//! tx.send(7).await.unwrap();
//! // ...so the value goes to the next one.
//! assert_eq!(rx.recv().await, Some(7));
//! # }
//! ```
//!
//! This crate is a dev-dependency of the tests only; a library copied out of the
//! catalogue never needs it.

mod drops;

pub use drops::{DropCounter, DropGuard};

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

/// Polls `future` once, inside the caller's task (and so inside its runtime), asserts
/// that it is waiting, and drops it there: the drop of a `select!` branch that lost
/// at its first `.await`.
///
/// # Panics
///
/// If `future` completed at that poll.
///
/// # Cancel safety
///
/// This function is cancel safe: it completes at its first poll.
pub async fn drop_pending<F: Future>(future: F) {
    let mut future = pin!(future);
    let waited =
        std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx).is_pending())).await;
    assert!(
        waited,
        "the future completed at its first poll, before it could be dropped: \
         set up the test so that it has to wait"
    );
}

/// Runs `future` and `until` side by side until `until` completes, then drops `future`
/// where it waits, and returns `until`'s output: the drop of a `select!` branch that
/// lost the race to `until`. Use it to drop a future at a later `.await` than its first,
/// with `until` waiting for the moment (a signal from the test, a sleep under paused
/// time, a message from the other side).
///
/// # Panics
///
/// If `future` completes before `until` does. Each round polls `future` first, so
/// `future` has just returned `Pending` whenever it is dropped.
///
/// # Cancel safety
///
/// This function is cancel safe: dropping it drops both futures, as it would have.
pub async fn drop_pending_after<F: Future, U: Future>(future: F, until: U) -> U::Output {
    let mut future = pin!(future);
    let mut until = pin!(until);
    std::future::poll_fn(|cx| {
        assert!(
            future.as_mut().poll(cx).is_pending(),
            "the future completed before `until` did, so it was never dropped: \
             set up the test so that it has to wait"
        );
        until.as_mut().poll(cx)
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_waiting_future_is_dropped() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        drop_pending(rx).await;
        assert!(tx.is_closed(), "the receiver was dropped");
    }

    #[tokio::test]
    #[should_panic(expected = "completed at its first poll")]
    async fn a_future_that_completes_at_once_fails_the_test() {
        drop_pending(std::future::ready(())).await;
    }

    #[tokio::test(start_paused = true)]
    async fn drop_pending_after_drops_when_until_completes() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let out = drop_pending_after(rx, async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            5
        })
        .await;
        assert_eq!(out, 5);
        assert!(tx.is_closed(), "the receiver was dropped");
    }

    #[tokio::test(start_paused = true)]
    #[should_panic(expected = "completed before `until` did")]
    async fn drop_pending_after_fails_when_the_future_wins() {
        drop_pending_after(
            tokio::time::sleep(Duration::from_secs(1)),
            tokio::time::sleep(Duration::from_secs(2)),
        )
        .await;
    }
}
