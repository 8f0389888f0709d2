//! A std `MutexGuard` held across `.await`: spawned, it does not compile
//! (`compile_fail/std_guard_across_await.rs`); where it compiles (one thread, or a
//! `!Send`-tolerant executor) the lock stays taken while the task is suspended, and every
//! other task that wants it blocks its thread. Clippy's `await_holding_lock` names it:
//! the `#[expect]` below fails `cargo clippy -D warnings` if the lint ever stops firing.

use std::sync::Mutex;

#[expect(clippy::await_holding_lock, reason = "the mistake, shown on purpose")]
async fn count_holding_the_guard(hits: &Mutex<u32>) {
    let mut count = hits.lock().unwrap();
    tokio::task::yield_now().await;
    *count += 1;
}

async fn count_with_the_guard_scoped(hits: &Mutex<u32>) {
    tokio::task::yield_now().await;
    *hits.lock().unwrap() += 1; // taken and released with no `.await` between
}

#[tokio::test]
async fn the_guard_stays_taken_while_the_task_is_suspended() {
    let hits = Mutex::new(0);
    let other_task_could_lock = async {
        tokio::task::yield_now().await; // runs while the first task is suspended
        hits.try_lock().is_ok()
    };
    let ((), could) = tokio::join!(count_holding_the_guard(&hits), other_task_could_lock);
    assert!(!could, "a std lock() here would block the thread for good");
    assert_eq!(*hits.lock().unwrap(), 1);
}

#[tokio::test]
async fn scoped_the_guard_is_free_at_every_await() {
    let hits = Mutex::new(0);
    let other_task_could_lock = async {
        tokio::task::yield_now().await;
        hits.try_lock().is_ok()
    };
    let ((), could) = tokio::join!(count_with_the_guard_scoped(&hits), other_task_could_lock);
    assert!(could);
    assert_eq!(*hits.lock().unwrap(), 1);
}
