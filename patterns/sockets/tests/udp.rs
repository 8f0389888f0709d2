//! The datagram server and the retrying client over loopback. Time is paused in the
//! retry tests: the timeouts run on tokio's clock, the datagrams on the real socket.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sockets::{Answered, Retry, UdpError, answer_loop, request};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

const RETRY: Retry = Retry {
    per_try: Duration::from_millis(200),
    tries: 3,
};

/// A server answering each datagram with its bytes in capitals, except the ones `skip`
/// says to leave unanswered.
struct Pair {
    /// Connected to the server.
    client: UdpSocket,
    stop: CancellationToken,
    server: tokio::task::JoinHandle<Answered>,
    /// Datagrams the handler has seen.
    seen: Arc<AtomicU32>,
}

async fn pair(mut skip: impl FnMut(u32) -> bool + Send + 'static) -> Pair {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect(socket.local_addr().unwrap()).await.unwrap();
    let stop = CancellationToken::new();
    let seen = Arc::new(AtomicU32::new(0));
    let server = tokio::spawn({
        let (stop, seen) = (stop.clone(), seen.clone());
        async move {
            answer_loop(&socket, 1024, stop, move |datagram, _| {
                let n = seen.fetch_add(1, Ordering::Relaxed);
                if datagram.ends_with(b"panic") {
                    panic!("a handler bug");
                }
                (!skip(n)).then(|| datagram.to_ascii_uppercase())
            })
            .await
            .unwrap()
        }
    });
    Pair {
        client,
        stop,
        server,
        seen,
    }
}

impl Pair {
    /// Stops the server once its handler has seen `datagrams`, and says what it did.
    async fn stop_after(self, datagrams: u32) -> Answered {
        while self.seen.load(Ordering::Relaxed) < datagrams {
            tokio::task::yield_now().await;
        }
        self.stop.cancel();
        self.server.await.unwrap()
    }
}

#[tokio::test]
async fn a_request_is_answered_on_the_first_try() {
    let pair = pair(|_| false).await;
    let (answer, tries) = request(&pair.client, 7, b"ping", RETRY).await.unwrap();
    assert_eq!((answer.as_slice(), tries), (&b"PING"[..], 1));
    assert_eq!(pair.stop_after(1).await.answered, 1);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_datagram_is_sent_again_and_answered() {
    let pair = pair(|n| n == 0).await;
    let (answer, tries) = request(&pair.client, 1, b"ping", RETRY).await.unwrap();
    assert_eq!((answer.as_slice(), tries), (&b"PING"[..], 2));
    let answered = pair.stop_after(2).await;
    assert_eq!((answered.answered, answered.dropped), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_costs_exactly_the_tries_and_their_timeouts() {
    let pair = pair(|_| true).await;
    let started = tokio::time::Instant::now();
    let failed = request(&pair.client, 1, b"ping", RETRY).await.unwrap_err();
    assert!(
        matches!(failed, UdpError::NoAnswer { tries: 3, .. }),
        "{failed}"
    );
    assert_eq!(started.elapsed(), Duration::from_millis(600));
    assert_eq!(pair.stop_after(3).await.dropped, 3);
}

#[tokio::test]
async fn an_answer_to_another_request_is_ignored() {
    let pair = pair(|_| false).await;
    // An older request, answered before this one: its answer comes first.
    pair.client.send(&9u32.to_be_bytes()).await.unwrap();
    let (answer, tries) = request(&pair.client, 10, b"mine", RETRY).await.unwrap();
    assert_eq!((answer.as_slice(), tries), (&b"MINE"[..], 1));
    assert_eq!(pair.stop_after(2).await.answered, 2);
}

#[tokio::test]
async fn a_datagram_over_the_limit_is_counted_as_truncated_and_a_panic_as_panicked() {
    let pair = pair(|_| false).await;
    pair.client.send(&[b'x'; 2000]).await.unwrap();
    pair.client.send(b"\0\0\0\x01panic").await.unwrap();
    // The server goes on: this request is answered after both.
    let (answer, _) = request(&pair.client, 2, b"after", RETRY).await.unwrap();
    assert_eq!(answer, b"AFTER");
    let answered = pair.stop_after(2).await;
    assert_eq!(
        (answered.truncated, answered.panicked, answered.answered),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_request_too_long_for_a_datagram_is_refused_before_sending() {
    let pair = pair(|_| false).await;
    let too_long = vec![0; sockets::udp::MAX_DATAGRAM];
    assert!(matches!(
        request(&pair.client, 1, &too_long, RETRY).await,
        Err(UdpError::TooLong(_))
    ));
    assert_eq!(pair.stop_after(0).await, Answered::default());
}

/// The receiver cannot see a datagram the kernel dropped; the sender counts the loss by
/// the tags that never came back.
#[tokio::test(start_paused = true)]
async fn a_burst_over_the_receive_buffer_loses_datagrams_the_sender_counts_and_the_server_serves_on()
 {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect(socket.local_addr().unwrap()).await.unwrap();
    // The server is bound but not reading yet: 5 MB meets a receive buffer of about 200 KB.
    const SENT: u32 = 5000;
    for tag in 0..SENT {
        let mut datagram = tag.to_be_bytes().to_vec();
        datagram.resize(1000, b'.');
        client.send(&datagram).await.unwrap();
    }
    let stop = CancellationToken::new();
    let server = tokio::spawn({
        let stop = stop.clone();
        async move {
            // Answers with the tag alone, so the answers fit the client's buffer.
            answer_loop(&socket, 1024, stop, |datagram, _| {
                Some(datagram[..4].to_vec())
            })
            .await
        }
    });
    let mut back = std::collections::HashSet::new();
    let mut answer = [0u8; 64];
    while let Ok(Ok(n)) =
        tokio::time::timeout(Duration::from_secs(1), client.recv(&mut answer)).await
    {
        assert_eq!(n, 4);
        back.insert(u32::from_be_bytes(answer[..4].try_into().unwrap()));
    }
    let lost = SENT - back.len() as u32;
    assert!(lost > 0 && !back.is_empty(), "{lost} of {SENT} lost");
    // The burst over, a request is answered as usual.
    let (reply, tries) = request(&client, SENT, b"after", RETRY).await.unwrap();
    assert_eq!((&reply[..], tries), (&b""[..], 1));
    stop.cancel();
    let served = server.await.unwrap().unwrap();
    assert_eq!(
        served.answered,
        back.len() as u64 + 1,
        "every datagram that came was answered"
    );
}
