// A std `MutexGuard` cannot cross threads, and a spawned task may move between threads at
// any `.await`: holding the guard across one makes the task's future not `Send`.
use std::sync::{Arc, Mutex};

fn main() {
    let hits = Arc::new(Mutex::new(0));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        tokio::spawn(async move {
            let mut count = hits.lock().unwrap();
            tokio::task::yield_now().await; // the guard is still alive here
            *count += 1;
        })
        .await
        .unwrap();
    });
}
