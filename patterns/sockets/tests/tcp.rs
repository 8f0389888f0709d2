//! The accept loop, the echo and the line handler over real loopback sockets.

use std::time::Duration;

use sockets::{Accepted, Ended, LineCounts, LineLimits, accept_loop, echo, shout};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

const LIMITS: LineLimits = LineLimits {
    max_line: 16,
    idle: Duration::from_secs(10),
};

async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    (listener, addr)
}

#[tokio::test]
async fn echo_returns_every_byte_then_closes_after_the_peer_half_closes() {
    let (listener, addr) = listener().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        echo(stream).await.unwrap()
    });
    let mut client = TcpStream::connect(&addr).await.unwrap();
    let sent: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    client.write_all(&sent).await.unwrap();
    client.shutdown().await.unwrap(); // write_eof(): the server's read sees the end
    let mut back = Vec::new();
    client.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, sent);
    assert_eq!(server.await.unwrap(), 100_000);
}

#[tokio::test]
async fn the_line_server_answers_and_refuses_bad_lines_without_dropping_the_connection() {
    let (listener, addr) = listener().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        shout(stream, LIMITS).await.unwrap()
    });
    let client = TcpStream::connect(&addr).await.unwrap();
    let (reader, mut writer) = client.into_split();
    writer
        .write_all(b"hello\nthis line is longer than sixteen\n\xff\nbye\n")
        .await
        .unwrap();
    writer.shutdown().await.unwrap();
    let mut answers = BufReader::new(reader).lines();
    let mut got = Vec::new();
    while let Some(line) = answers.next_line().await.unwrap() {
        got.push(line);
    }
    assert_eq!(
        got,
        [
            "HELLO",
            "error: a line is over the limit of 16 bytes",
            "error: a line is not UTF-8",
            "BYE"
        ]
    );
    assert_eq!(
        server.await.unwrap(),
        LineCounts {
            answered: 2,
            refused: 2,
            ended: Ended::PeerClosed,
        }
    );
}

#[tokio::test]
async fn the_accept_loop_counts_failures_and_panics_and_keeps_serving() {
    let (listener, addr) = listener().await;
    let stop = CancellationToken::new();
    let server = tokio::spawn(accept_loop(
        listener,
        stop.clone(),
        |mut stream, _| async move {
            let mut first = [0u8; 1];
            stream.read_exact(&mut first).await?;
            match first[0] {
                b'p' => panic!("a handler bug"),
                b'e' => Err(std::io::Error::other("refused")),
                _ => stream.write_all(b"ok").await,
            }
        },
    ));
    for first in [b"p", b"e", b"o"] {
        let mut client = TcpStream::connect(&addr).await.unwrap();
        client.write_all(first).await.unwrap();
        let mut answer = Vec::new();
        // The panicking and failing handlers close without answering.
        let _ = client.read_to_end(&mut answer).await;
        assert_eq!(answer, if first == b"o" { &b"ok"[..] } else { &b""[..] });
    }
    stop.cancel();
    assert_eq!(
        server.await.unwrap().unwrap(),
        Accepted {
            connections: 3,
            failed: 1,
            panicked: 1
        }
    );
}

#[tokio::test]
async fn at_the_stop_handlers_still_running_are_aborted_and_their_sockets_closed() {
    let (listener, addr) = listener().await;
    let stop = CancellationToken::new();
    let (started, mut handling) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(accept_loop(listener, stop.clone(), move |stream, _| {
        let started = started.clone();
        async move {
            // Holds the connection until aborted.
            let _held = stream;
            started.send(()).unwrap();
            std::future::pending::<Result<(), std::io::Error>>().await
        }
    }));
    let mut client = TcpStream::connect(&addr).await.unwrap();
    handling.recv().await.unwrap(); // the handler holds the connection
    stop.cancel();
    let accepted = server.await.unwrap().unwrap();
    assert_eq!(accepted.connections, 1);
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "the server side is closed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_slowloris_sending_a_byte_at_a_time_is_closed_when_its_line_is_late() {
    let (listener, addr) = listener().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let started = tokio::time::Instant::now();
        (shout(stream, LIMITS).await.unwrap(), started.elapsed())
    });
    let mut client = TcpStream::connect(&addr).await.unwrap();
    client.write_all(b"ok\n").await.unwrap();
    // One byte every second: each read comes well within `idle`, the line never does.
    let dripping = tokio::spawn(async move {
        let mut sent = 0;
        while client.write_all(b"a").await.is_ok() && sent < 1000 {
            sent += 1;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        sent
    });
    let (counts, took) = server.await.unwrap();
    assert_eq!(counts.ended, Ended::Idle);
    assert_eq!(counts.answered, 1);
    // The clock is paused: the first line came at once, the second was given `idle`.
    assert_eq!(took, LIMITS.idle);
    assert!(
        dripping.await.unwrap() < 20,
        "the server closed the connection"
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_reads_is_closed_and_the_server_serves_the_others() {
    let (listener, addr) = listener().await;
    let stop = CancellationToken::new();
    let (ended, mut endings) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(accept_loop(listener, stop.clone(), move |stream, _| {
        let ended = ended.clone();
        async move {
            let counts = shout(stream, LIMITS).await?;
            ended.send(counts).unwrap();
            Ok::<_, sockets::FrameError>(())
        }
    }));
    // Sends lines and never reads the answers, until its own writes stop.
    let mut deaf = TcpStream::connect(&addr).await.unwrap();
    let flooding = tokio::spawn(async move {
        let lines = b"a line to answer\n".repeat(1024);
        let mut sent = 0usize;
        while let Ok(Ok(())) =
            tokio::time::timeout(Duration::from_secs(60), deaf.write_all(&lines)).await
        {
            sent += lines.len();
        }
        sent
    });
    // Meanwhile another client is answered.
    let mut polite = TcpStream::connect(&addr).await.unwrap();
    polite.write_all(b"hi\n").await.unwrap();
    polite.shutdown().await.unwrap();
    let mut answer = String::new();
    polite.read_to_string(&mut answer).await.unwrap();
    assert_eq!(answer, "HI\n");
    let first = endings.recv().await.unwrap();
    assert_eq!(first.ended, Ended::PeerClosed);
    let deaf = endings.recv().await.unwrap();
    assert_eq!(deaf.ended, Ended::Stalled);
    assert!(deaf.answered > 0, "{deaf:?}");
    // What the server took in is bounded by the socket buffers, not by the client.
    let sent = flooding.await.unwrap();
    assert!(sent < 64 << 20, "{sent} bytes went in");
    stop.cancel();
    assert_eq!(server.await.unwrap().unwrap().failed, 0);
}
