//! The accept loop, the echo and the line handler over real loopback sockets.

use std::time::Duration;

use sockets::{Accepted, LineCounts, accept_loop, echo, shout};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

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
        shout(stream, 16).await.unwrap()
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
            refused: 2
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
