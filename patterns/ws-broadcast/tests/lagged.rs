//! The pitfall of the other design, `tokio::sync::broadcast`: a receiver that falls more
//! than the channel's capacity behind gets `Err(Lagged(n))` from `recv`, and the loop
//! everyone writes first, `while let Ok(msg) = rx.recv().await`, ends right there. The
//! client stays connected and silently receives nothing more.

use tokio::sync::broadcast::{self, error::RecvError};

// ANCHOR: pitfall
#[tokio::test(start_paused = true)]
async fn while_let_ok_stops_delivering_after_a_lag() {
    let (tx, mut rx) = broadcast::channel(4);
    for n in 0..10 {
        tx.send(n).unwrap(); // never waits: the oldest messages are overwritten
    }
    let mut delivered = Vec::new();
    while let Ok(n) = rx.recv().await {
        delivered.push(n);
    }
    // The loop ended at once, on Lagged, though the sender is alive and 4 messages wait.
    assert!(delivered.is_empty());
    assert_eq!(rx.len(), 4);
    drop(tx);
}

#[tokio::test(start_paused = true)]
async fn handling_lagged_says_what_was_missed_and_goes_on() {
    let (tx, mut rx) = broadcast::channel(4);
    for n in 0..10 {
        tx.send(n).unwrap();
    }
    drop(tx);
    let (mut delivered, mut missed) = (Vec::new(), 0);
    loop {
        match rx.recv().await {
            Ok(n) => delivered.push(n),
            Err(RecvError::Lagged(n)) => missed += n, // tell the client, or disconnect it
            Err(RecvError::Closed) => break,
        }
    }
    assert_eq!((missed, delivered), (6, vec![6, 7, 8, 9]));
}
// ANCHOR_END: pitfall
