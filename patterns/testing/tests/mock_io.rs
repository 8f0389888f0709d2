//! Mocked I/O: `tokio_test::io::Builder` scripts what the "socket" gives the server to read
//! and what the server must write, in order; a write that differs, or a read left unread,
//! fails the test. The origin is scripted too (`common::ScriptedOrigin`).

mod common;

use std::io;
use std::time::Duration;

use common::{ScriptedOrigin, calls};
use testing::{Policy, UserCache, serve_connection};
use tokio_test::io::Builder;
use tokio_util::codec::LinesCodecError;

fn cache() -> (
    UserCache<ScriptedOrigin>,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    let origin = ScriptedOrigin::answering(Duration::ZERO);
    let fetched = origin.calls();
    (UserCache::new(origin, Policy::default()), fetched)
}

const USER_1: &str = r#"OK {"id":1,"name":"User 1","email":"user1@example.com"}"#;

// ANCHOR: mock
#[tokio::test]
async fn each_request_line_gets_its_reply_line() {
    let (cache, fetched) = cache();
    let socket = Builder::new()
        .read(b"GET 1\n")
        .write(format!("{USER_1}\n").as_bytes())
        .read(b"GET 1\n")
        .write(format!("{USER_1}\n").as_bytes())
        .build();
    serve_connection(socket, cache).await.unwrap();
    assert_eq!(calls(&fetched), 1, "the second came from the cache");
}
// ANCHOR_END: mock

#[tokio::test]
async fn a_request_split_across_reads_is_one_request() {
    let (cache, _) = cache();
    let socket = Builder::new()
        .read(b"GE")
        .read(b"T 1")
        .read(b"\n")
        .write(format!("{USER_1}\n").as_bytes())
        .build();
    serve_connection(socket, cache).await.unwrap();
}

#[tokio::test]
async fn a_bad_line_gets_an_error_and_the_connection_goes_on() {
    let (cache, fetched) = cache();
    let socket = Builder::new()
        .read(b"PUT 1\n")
        .write(b"ERR bad request \"PUT 1\": expected GET <id>\n")
        .read(b"GET 99999999999\n")
        .write(b"ERR bad request \"GET 99999999999\": expected GET <id>\n")
        .read(b"GET 1\n")
        .write(format!("{USER_1}\n").as_bytes())
        .build();
    serve_connection(socket, cache).await.unwrap();
    assert_eq!(calls(&fetched), 1);
}

#[tokio::test]
async fn a_line_too_long_gets_an_error_and_the_connection_is_closed() {
    let (cache, fetched) = cache();
    // 100 bytes and no newline yet: the codec gives up at 64 rather than buffer without end
    let socket = Builder::new()
        .read(&[b'7'; 100])
        .write(b"ERR a request is at most 64 bytes\n")
        .build();
    serve_connection(socket, cache).await.unwrap();
    assert_eq!(calls(&fetched), 0);
}

// ANCHOR: mock_error
#[tokio::test]
async fn a_read_error_ends_the_connection_with_that_error() {
    let (cache, _) = cache();
    let socket = Builder::new()
        .read(b"GET 1\n")
        .write(format!("{USER_1}\n").as_bytes())
        .read_error(io::Error::new(io::ErrorKind::ConnectionReset, "peer reset"))
        .build();
    let error = serve_connection(socket, cache).await.unwrap_err();
    match error {
        LinesCodecError::Io(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
        other => panic!("expected the I/O error, got {other:?}"),
    }
}
// ANCHOR_END: mock_error

#[tokio::test]
async fn a_write_error_ends_the_connection_with_that_error() {
    let (cache, _) = cache();
    let socket = Builder::new()
        .read(b"GET 1\n")
        .write_error(io::Error::new(io::ErrorKind::BrokenPipe, "gone"))
        .build();
    let error = serve_connection(socket, cache).await.unwrap_err();
    assert!(matches!(error, LinesCodecError::Io(e) if e.kind() == io::ErrorKind::BrokenPipe));
}
