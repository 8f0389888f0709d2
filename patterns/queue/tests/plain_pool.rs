//! The plain idiom, before this crate: a bounded async-channel, workers that take items
//! until the channel is closed and empty, and a `JoinSet` to wait for them.

use tokio::task::JoinSet;

// ANCHOR: plain_pool
/// Doubles every item on `workers` tasks and returns the sum. Closing the channel is the
/// only "everything is processed" signal: each worker's `recv` fails once the channel is
/// closed and empty, and the workers' end is the end of the work.
async fn process_all(items: impl IntoIterator<Item = u64>, workers: usize) -> u64 {
    let (queue, taken) = async_channel::bounded::<u64>(16); // put waits when full
    let mut pool = JoinSet::new();
    for _ in 0..workers {
        let taken = taken.clone();
        pool.spawn(async move {
            let mut sum = 0;
            while let Ok(item) = taken.recv().await {
                sum += item * 2;
            }
            sum
        });
    }
    for item in items {
        queue
            .send(item)
            .await
            .expect("a worker is still taking items");
    }
    drop(queue); // closed: the workers finish what is left, then stop
    pool.join_all().await.into_iter().sum()
}
// ANCHOR_END: plain_pool

#[tokio::test]
async fn every_item_is_processed_once_by_the_pool() {
    assert_eq!(process_all(1..=1000, 4).await, 1000 * 1001);
}
