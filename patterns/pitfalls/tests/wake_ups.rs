//! The nearest Rust mistakes to asyncio's "Task got bad yield": a hand-written future that
//! returns `Pending` without arranging a wake-up (it hangs, and a deadline catches it), and
//! a future polled after it completed.

use std::future::Future;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt;
use futures::future::FusedFuture;
use pitfalls::{ForgetfulGate, Gate, expect_panic, spawn_waiter};

const PATIENCE: Duration = Duration::from_secs(5);

#[tokio::test(start_paused = true)]
async fn a_future_that_forgets_its_waker_hangs_and_a_deadline_catches_it() {
    let gate = ForgetfulGate::new();
    let (waiter, waiting) = spawn_waiter(gate.wait());
    waiting.notified().await; // the waiter ran once: Pending
    gate.open();
    let hung = tokio::time::timeout(PATIENCE, waiter).await;
    assert!(hung.is_err(), "the waiter should never have been woken");
}

#[tokio::test(start_paused = true)]
async fn a_future_that_keeps_its_waker_is_woken() {
    let gate = Gate::new();
    let (waiter, waiting) = spawn_waiter(gate.wait());
    waiting.notified().await;
    gate.open();
    tokio::time::timeout(PATIENCE, waiter)
        .await
        .expect("woken")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_is_woken_from_another_thread_however_the_race_falls() {
    for _ in 0..1_000 {
        let gate = Gate::new();
        let opener = gate.clone();
        let waiter = tokio::spawn(gate.wait()); // a task: only its waker can poll it again
        let thread = std::thread::spawn(move || opener.open());
        tokio::time::timeout(PATIENCE, waiter)
            .await
            .expect("a lost wake-up")
            .unwrap();
        thread.join().unwrap();
    }
}

#[test]
fn an_async_block_polled_after_it_completed_panics() {
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut future = Box::pin(async { 42 });
    assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(42));
    let message = expect_panic(|| future.as_mut().poll(&mut cx)).unwrap_err();
    assert_eq!(message, "`async fn` resumed after completion");
}

#[test]
fn a_fused_future_stays_pending_and_says_it_is_done() {
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut future = Box::pin(async { 42 }.fuse());
    assert!(!future.is_terminated());
    assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(42));
    assert!(future.is_terminated());
    assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
}
