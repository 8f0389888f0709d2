//! `select!` in a loop, with a branch that is not cancel safe: when the timer wins, the
//! `read_exact` future is dropped with the bytes it had read, and every message after it
//! is cut in the wrong place. The fixes: resume one pinned future across turns, or give
//! the reads a task of their own and select on its channel. Time is paused.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc;
use tokio::time::{interval, sleep};

const SIZE: usize = 8;
const COUNT: usize = 10;

/// Ten 8-byte messages, each written in two halves 10 ms apart.
fn writer_in_halves(mut stream: DuplexStream) -> tokio::task::JoinHandle<Vec<[u8; SIZE]>> {
    tokio::spawn(async move {
        let sent: Vec<[u8; SIZE]> = (0..COUNT as u8).map(|n| [n; SIZE]).collect();
        for message in &sent {
            stream.write_all(&message[..SIZE / 2]).await.unwrap();
            sleep(Duration::from_millis(10)).await;
            stream.write_all(&message[SIZE / 2..]).await.unwrap();
        }
        sent // dropped with the stream: the reader sees the end
    })
}

// ANCHOR: naive
/// Reads messages while a 5 ms timer ticks. Each turn makes a new `read_exact`; when the
/// tick wins, the dropped one takes the bytes it had read with it.
async fn read_while_ticking(mut reader: impl AsyncRead + Unpin) -> Vec<[u8; SIZE]> {
    let mut tick = interval(Duration::from_millis(5));
    let mut messages = Vec::new();
    while messages.len() < COUNT {
        let mut message = [0; SIZE];
        tokio::select! {
            read = reader.read_exact(&mut message) => match read {
                Ok(_) => messages.push(message),
                Err(_) => break, // the end of the stream
            },
            _ = tick.tick() => {}
        }
    }
    messages
}
// ANCHOR_END: naive

// ANCHOR: pinned
/// The same loop with one `read_exact` per message, pinned, and polled by reference on
/// every turn: a tick that wins leaves it where it was.
async fn read_while_ticking_pinned(mut reader: impl AsyncRead + Unpin) -> Vec<[u8; SIZE]> {
    let mut tick = interval(Duration::from_millis(5));
    let mut messages = Vec::new();
    while messages.len() < COUNT {
        let mut message = [0; SIZE];
        {
            let read = reader.read_exact(&mut message);
            tokio::pin!(read);
            loop {
                tokio::select! {
                    read = &mut read => match read {
                        Ok(_) => break,
                        Err(_) => return messages,
                    },
                    _ = tick.tick() => {}
                }
            }
        }
        messages.push(message);
    }
    messages
}
// ANCHOR_END: pinned

// ANCHOR: task
/// The reads in a task of their own, sending whole messages; `recv` is cancel safe, so
/// the loop may lose any race.
async fn read_while_ticking_in_a_task(
    mut reader: impl AsyncRead + Unpin + Send + 'static,
) -> Vec<[u8; SIZE]> {
    let (whole, mut messages_in) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut message = [0; SIZE];
        while reader.read_exact(&mut message).await.is_ok() {
            if whole.send(message).await.is_err() {
                break;
            }
        }
    });
    let mut tick = interval(Duration::from_millis(5));
    let mut messages = Vec::new();
    while messages.len() < COUNT {
        tokio::select! {
            message = messages_in.recv() => match message {
                Some(message) => messages.push(message),
                None => break,
            },
            _ = tick.tick() => {}
        }
    }
    messages
}
// ANCHOR_END: task

#[tokio::test(start_paused = true)]
async fn a_read_exact_that_loses_the_race_loses_its_bytes() {
    let (reader, writer) = tokio::io::duplex(64);
    let writing = writer_in_halves(writer);
    let got = read_while_ticking(reader).await;
    let sent = writing.await.unwrap();
    assert_ne!(got, sent, "every message came whole");
    assert!(
        got.iter().any(|m| m[0] != m[SIZE - 1]),
        "no message was cut: {got:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_pinned_read_resumed_across_turns_loses_nothing() {
    let (reader, writer) = tokio::io::duplex(64);
    let writing = writer_in_halves(writer);
    let got = read_while_ticking_pinned(reader).await;
    assert_eq!(got, writing.await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn reads_in_a_task_of_their_own_lose_nothing() {
    let (reader, writer) = tokio::io::duplex(64);
    let writing = writer_in_halves(writer);
    let got = read_while_ticking_in_a_task(reader).await;
    assert_eq!(got, writing.await.unwrap());
}
