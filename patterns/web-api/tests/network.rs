//! The server over real sockets: a slowloris cut off by the header read timeout, event
//! streams that end when the client leaves and when the server stops, and the graceful
//! shutdown, which lets a request in flight finish, cuts what outlives the grace period,
//! and says so.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;
use web_api::{AppState, Limits, ServeConfig, Served, app, serve};

/// A server on a free loopback port, stopped by its token.
struct Running {
    addr: std::net::SocketAddr,
    stop: CancellationToken,
    served: JoinHandle<Served>,
    state: AppState,
    _scratch: tempfile::TempDir,
}

async fn running(config: ServeConfig, extra: OpenApiRouter<AppState>) -> Running {
    let (state, lifespan, scratch) = common::started(None).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = lifespan.stopping();
    let router = app(state.clone(), &Limits::default(), extra);
    let served = tokio::spawn(serve(listener, router, config, stop.clone()));
    // The lifespan's task is not what these tests look at; it stops with the token.
    std::mem::forget(lifespan);
    Running {
        addr,
        stop,
        served,
        state,
        _scratch: scratch,
    }
}

/// Pauses the clock once the database is open: sqlx's SQLite driver answers from a thread
/// of its own, and a paused clock would jump past its timeouts while the runtime waits.
/// From here on time moves only when every task waits for a timer.
fn paused() {
    tokio::time::pause();
}

/// Waits (yielding, then napping a millisecond) until `check` holds; fails after 10 s.
async fn until(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

// ANCHOR: slowloris
#[tokio::test]
async fn a_client_sending_its_headers_a_byte_at_a_time_is_cut_off() {
    let config = ServeConfig {
        header_read_timeout: Duration::from_secs(2),
        ..ServeConfig::default()
    };
    let server = running(config, OpenApiRouter::new()).await;
    paused();
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    let request = b"GET /items HTTP/1.1\r\nHost: shop\r\nX-Padding: aaaaaaaaaaaaaaa\r\n\r\n";
    let mut sent = 0;
    for byte in request {
        // One byte every 100 ms: the whole request would take 6.3 s.
        if client.write_all(&[*byte]).await.is_err() {
            break;
        }
        sent += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut answer = Vec::new();
    let _ = client.read_to_end(&mut answer).await;
    assert!(
        sent < request.len(),
        "the server waited for all {sent} bytes"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    server.stop.cancel();
    assert_eq!(server.served.await.unwrap().connections_cut, 0);
}
// ANCHOR_END: slowloris

// ANCHOR: graceful
#[tokio::test]
async fn the_shutdown_lets_a_request_in_flight_finish() {
    let (entered, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Semaphore::new(0)));
    let server = running(
        ServeConfig::default(),
        common::held(entered.clone(), gate.clone()),
    )
    .await;
    let url = format!("http://{}/held", server.addr);
    let request = tokio::spawn(async move { reqwest::get(url).await?.text().await });
    until("the request is in its handler", || {
        entered.load(Ordering::SeqCst) == 1
    })
    .await;
    server.stop.cancel();
    // The server no longer accepts...
    until("the listener is closed", || {
        std::net::TcpStream::connect(server.addr).is_err()
    })
    .await;
    // ...but the request in flight still gets its answer.
    gate.add_permits(1);
    assert_eq!(request.await.unwrap().unwrap(), "released");
    let served = server.served.await.unwrap();
    assert_eq!(
        (
            served.in_flight_at_stop,
            served.connections_cut,
            served.in_flight_at_end
        ),
        (1, 0, 0)
    );
}
// ANCHOR_END: graceful

#[tokio::test]
async fn what_outlives_the_grace_period_is_cut_and_counted() {
    let (entered, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Semaphore::new(0)));
    let config = ServeConfig {
        grace: Duration::from_secs(5),
        ..ServeConfig::default()
    };
    let server = running(config, common::held(entered.clone(), gate)).await;
    paused();
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    let mut busy = TcpStream::connect(server.addr).await.unwrap();
    busy.write_all(b"GET /held HTTP/1.1\r\nHost: shop\r\n\r\n")
        .await
        .unwrap();
    until("the request is in its handler", || {
        entered.load(Ordering::SeqCst) == 1
    })
    .await;
    let started = tokio::time::Instant::now();
    server.stop.cancel();
    let served = server.served.await.unwrap();
    // The whole grace period, to the timer's resolution of a millisecond.
    let took = started.elapsed();
    assert!(
        (Duration::from_secs(5)..=Duration::from_millis(5001)).contains(&took),
        "{took:?}"
    );
    assert_eq!(
        (
            served.connections,
            served.in_flight_at_stop,
            served.connections_cut,
            served.in_flight_at_end
        ),
        (2, 1, 1, 0),
        "the idle connection closed at once; the busy one was cut"
    );
    let mut rest = Vec::new();
    assert_eq!(
        busy.read_to_end(&mut rest).await.unwrap_or(0),
        0,
        "no answer: cut"
    );
    assert_eq!(
        idle.read_to_end(&mut rest).await.unwrap(),
        0,
        "closed, not cut"
    );
}

// ANCHOR: events
#[tokio::test]
async fn an_event_stream_ends_when_its_client_leaves_and_when_the_server_stops() {
    let server = running(ServeConfig::default(), OpenApiRouter::new()).await;
    let url = format!("http://{}/events", server.addr);
    let events = server.state.events.clone();
    let leaving = reqwest::get(&url).await.unwrap();
    let mut staying = reqwest::get(&url).await.unwrap();
    until("two listeners", || events.listeners() == 2).await;
    drop(leaving);
    until("the one that left is gone", || events.listeners() == 1).await;
    server.stop.cancel();
    // The stream ends cleanly (no error) and the server stops without cutting it.
    while let Some(_keep_alive) = staying.chunk().await.unwrap() {}
    let served = server.served.await.unwrap();
    assert_eq!((served.connections_cut, events.listeners()), (0, 0));
}
// ANCHOR_END: events

/// A POST of `body` as JSON, as a client writes it on the wire.
fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: shop\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads one answer: its head, lowercased, then as many body bytes as it announces.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut chunk = [0; 4096];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await.expect("an answer");
        assert!(n > 0, "closed before an answer");
        received.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&received[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |n| n.trim().parse().unwrap());
    while received.len() < head_end + length {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed inside the body");
        received.extend_from_slice(&chunk[..n]);
    }
    head
}

#[tokio::test]
async fn an_answer_sent_before_its_body_was_read_says_the_connection_closes() {
    let server = running(ServeConfig::default(), OpenApiRouter::new()).await;
    // A body read to its end: the connection is kept, and serves the next request.
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    let cup = r#"{"name":"cup","price_cents":1,"stock":1}"#;
    kept.write_all(post("/items", cup).as_bytes())
        .await
        .unwrap();
    let created = read_answer(&mut kept).await;
    assert!(created.starts_with("http/1.1 201"), "{created}");
    assert!(!created.contains("connection: close"), "{created}");
    kept.write_all(b"GET /items/1 HTTP/1.1\r\nHost: shop\r\n\r\n")
        .await
        .unwrap();
    let found = read_answer(&mut kept).await;
    assert!(found.starts_with("http/1.1 200"), "{found}");
    assert!(
        !found.contains("connection: close"),
        "no body, nothing unread: {found}"
    );
    // A body over the limit is answered before it is read: the answer says the server
    // closes, so a client will not send its next request down this connection.
    let mut refused = TcpStream::connect(server.addr).await.unwrap();
    let huge = format!(
        r#"{{"name":"{}","price_cents":1,"stock":1}}"#,
        "x".repeat(100_000)
    );
    // The server may close before it has all of it; the answer is what matters.
    let _ = refused.write_all(post("/items", &huge).as_bytes()).await;
    let too_large = read_answer(&mut refused).await;
    assert!(too_large.starts_with("http/1.1 413"), "{too_large}");
    assert!(too_large.contains("connection: close"), "{too_large}");
    let mut rest = Vec::new();
    let after = refused.read_to_end(&mut rest).await;
    assert!(
        matches!(after, Ok(0) | Err(_)),
        "the connection is closed: {after:?}"
    );
    server.stop.cancel();
}
