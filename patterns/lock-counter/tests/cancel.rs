//! `hammer` and `increment` dropped mid-await: aborted workers add nothing more, and a
//! dropped increment is done or not, never half done with its lock still held.

use std::sync::Arc;
use std::time::Duration;

use lock_counter::{AsyncCounter, Counter, TokioMutexCounter, hammer};
use tokio::time::sleep;

#[tokio::test(start_paused = true)]
async fn hammer_dropped_aborts_its_workers() {
    let counter = Arc::new(TokioMutexCounter::default());
    // Workers spawned, not yet run, when the drop comes.
    cancel_check::drop_pending(hammer(counter.clone(), 4, 1000)).await;
    sleep(Duration::from_secs(1)).await; // paused: ends once nothing else can run
    assert_eq!(
        counter.get().await,
        0,
        "aborted before their first increment"
    );
}

#[tokio::test(start_paused = true)]
async fn an_increment_dropped_inside_its_critical_section_adds_nothing_and_frees_the_lock() {
    let counter = AsyncCounter::default();
    {
        // First poll: the lock is taken, the value read, and the yield inside is pending.
        let mut inside = std::pin::pin!(counter.increment());
        assert!(futures::poll!(inside.as_mut()).is_pending());
        // A `get` waiting for that lock, dropped: it took nothing.
        cancel_check::drop_pending(counter.get()).await;
    } // the increment is dropped inside its critical section
    cancel_check::drop_pending(counter.increment()).await;
    assert_eq!(
        counter.get().await,
        0,
        "nothing added, and get() found the lock free"
    );
    counter.increment().await;
    assert_eq!(counter.get().await, 1);
}
