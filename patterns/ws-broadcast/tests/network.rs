//! The server on real loopback sockets, with real tokio-tungstenite and TCP clients: order
//! and delivery across both transports, clients that break the rules, a thousand clients,
//! pings, and shutdown. Waits are for events (a frame, a line, the hub's member list);
//! each has a generous limit only so that a bug fails the test instead of hanging it.

mod common;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use ws_broadcast::client::{LineClient, Received, WsClient};
use ws_broadcast::server::{Server, ServerConfig};
use ws_broadcast::{Event, Hub};

const LIMIT: Duration = Duration::from_secs(20);

async fn start(outbox: usize) -> Server {
    let mut config = ServerConfig::loopback();
    config.outbox = outbox;
    Server::start(config).unwrap()
}

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing within {LIMIT:?}"))
}

/// Waits until the hub's member list satisfies `check`. The hub is watched, not slept on.
async fn until_members(hub: &Hub, what: &str, check: impl Fn(&[String]) -> bool) {
    within(what, async {
        loop {
            let names: Vec<String> = hub.members().into_iter().map(|m| m.name).collect();
            if check(&names) {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
}

async fn next_message(client: &mut WsClient) -> (String, String) {
    loop {
        match within("a WebSocket message", client.next()).await.unwrap() {
            Received::Event(Event::Message { from, text }) => return (from, text),
            Received::Event(_) => {}
            closed @ Received::Closed { .. } => panic!("closed: {closed:?}"),
        }
    }
}

async fn next_said_line(client: &mut LineClient) -> (String, String) {
    loop {
        let line = within("a line", client.next_line())
            .await
            .unwrap()
            .expect("closed");
        if line.starts_with("* ") {
            continue;
        }
        let (from, text) = line.split_once(": ").expect("name: text");
        return (from.to_owned(), text.to_owned());
    }
}

async fn closed(client: &mut WsClient) -> (Option<u16>, String) {
    loop {
        match within("a Close frame", client.next()).await.unwrap() {
            Received::Closed { code, reason } => return (code, reason),
            Received::Event(_) => {}
        }
    }
}

/// Reads a raw tokio-tungstenite stream up to the server's Close frame; returns its code.
async fn close_code<S>(socket: &mut tokio_tungstenite::WebSocketStream<S>) -> u16
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match within("a Close frame", socket.next()).await {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(_)) => {}
            other => panic!("expected a Close frame, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_gets_every_other_message_in_order_exactly_once_across_transports() {
    const EACH: usize = 200;
    let server = start(4096).await;
    let url = server.ws_url();
    let mut ws = Vec::new();
    let mut lines = Vec::new();
    for n in 0..3 {
        ws.push(WsClient::connect(&url, &format!("ws{n}")).await.unwrap());
        lines.push(
            LineClient::connect(server.tcp_addr(), &format!("tcp{n}"))
                .await
                .unwrap(),
        );
    }
    until_members(server.hub(), "six members", |names| names.len() == 6).await;
    // Everyone talks at once; each message carries its sender's sequence number.
    let mut talking = Vec::new();
    for (n, mut client) in ws.into_iter().enumerate() {
        talking.push(tokio::spawn(async move {
            for seq in 0..EACH {
                client.say(&format!("{seq}")).await.unwrap();
            }
            let mut heard = Vec::new();
            for _ in 0..EACH * 5 {
                heard.push(next_message(&mut client).await);
            }
            (format!("ws{n}"), heard)
        }));
    }
    for (n, mut client) in lines.into_iter().enumerate() {
        talking.push(tokio::spawn(async move {
            for seq in 0..EACH {
                client.say(&format!("{seq}")).await.unwrap();
            }
            let mut heard = Vec::new();
            for _ in 0..EACH * 5 {
                heard.push(next_said_line(&mut client).await);
            }
            (format!("tcp{n}"), heard)
        }));
    }
    for task in talking {
        let (me, heard) = task.await.unwrap();
        assert_heard_each_other_member_in_order(&me, &heard, EACH);
    }
}

// ANCHOR: order
/// What `me` heard: from every other member its messages `0..each`, in order, each once;
/// from itself, nothing.
fn assert_heard_each_other_member_in_order(me: &str, heard: &[(String, String)], each: usize) {
    for other in ["ws0", "ws1", "ws2", "tcp0", "tcp1", "tcp2"] {
        let from_other: Vec<usize> = heard
            .iter()
            .filter(|(from, _)| from == other)
            .map(|(_, text)| text.parse().unwrap())
            .collect();
        let expected: Vec<usize> = if other == me {
            vec![]
        } else {
            (0..each).collect()
        };
        assert_eq!(from_other, expected, "{me} heard from {other}");
    }
}
// ANCHOR_END: order

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped_while_the_others_keep_up() {
    let capacity = 32;
    let server = start(capacity).await;
    let url = server.ws_url();
    let mut sender = WsClient::connect(&url, "sender").await.unwrap();
    let mut reader = WsClient::connect(&url, "reader").await.unwrap();
    let _never_reads = common::slow_client(server.http_addr(), &url, "stuck").await;
    until_members(server.hub(), "three members", |names| names.len() == 3).await;
    let most_queued = send_until_dropped(&server, &mut sender, &mut reader, "stuck").await;
    assert!(
        most_queued <= capacity,
        "an outbox held {most_queued}, more than {capacity}"
    );
    // The reader is told, and still served.
    loop {
        if let Received::Event(Event::Left { name, reason }) =
            within("left", reader.next()).await.unwrap()
        {
            assert_eq!(name, "stuck");
            assert_eq!(reason.to_string(), "too slow: 32 messages behind");
            break;
        }
    }
    sender.say("still here").await.unwrap();
    assert_eq!(next_message(&mut reader).await.1, "still here");
    // `sender` never reads either, but only a few notices were queued for it.
    assert_eq!(server.hub().members().len(), 2);
}

// ANCHOR: slow
/// Sends one message at a time until `stuck` is dropped, checking that `reader` gets each
/// before the next: the reader is never behind, so only the client that never reads can
/// fall behind. Returns the most any outbox held meanwhile.
async fn send_until_dropped(
    server: &Server,
    sender: &mut WsClient,
    reader: &mut WsClient,
    stuck: &str,
) -> usize {
    let padding = "x".repeat(500);
    let mut most_queued = 0;
    let mut sent = 0;
    while server.hub().members().iter().any(|m| m.name == stuck) {
        assert!(sent < 200_000, "{stuck} was never dropped");
        sender.say(&format!("{sent} {padding}")).await.unwrap();
        let (_, text) = next_message(reader).await;
        assert!(
            text.starts_with(&format!("{sent} ")),
            "got {text:.20} for {sent}"
        );
        sent += 1;
        let queued = server
            .hub()
            .members()
            .iter()
            .map(|m| m.queued)
            .max()
            .unwrap_or(0);
        most_queued = most_queued.max(queued);
    }
    most_queued
}
// ANCHOR_END: slow

// ANCHOR: bad_input
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_invalid_utf8_messages_get_their_close_codes() {
    let server = start(64).await;
    let url = server.ws_url();
    let mut witness = WsClient::connect(&url, "witness").await.unwrap();

    let (mut big, _) = connect_async(format!("{url}?name=big")).await.unwrap();
    big.send(Message::text("x".repeat(4097))).await.unwrap();
    assert_eq!(close_code(&mut big).await, 1009);

    let (mut garbled, _) = connect_async(format!("{url}?name=garbled")).await.unwrap();
    let not_utf8 = Frame::message(vec![0xff, 0xfe, 0xfd], OpCode::Data(Data::Text), true);
    garbled.send(Message::Frame(not_utf8)).await.unwrap();
    assert_eq!(close_code(&mut garbled).await, 1007);

    until_members(server.hub(), "only the witness", |names| {
        names == ["witness"]
    })
    .await;
    let mut other = WsClient::connect(&url, "other").await.unwrap();
    other.say("the server still serves").await.unwrap();
    assert_eq!(
        next_message(&mut witness).await.1,
        "the server still serves"
    );
}
// ANCHOR_END: bad_input

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_mid_frame_and_a_handshake_never_finished_leave_the_others_served() {
    let server = start(64).await;
    let url = server.ws_url();
    let mut witness = WsClient::connect(&url, "witness").await.unwrap();

    // Half a masked frame (header says 100 bytes, 3 arrive), then a TCP reset.
    let (mut torn, _) = connect_async(format!("{url}?name=torn")).await.unwrap();
    until_members(server.hub(), "torn joined", |names| names.len() == 2).await;
    let tcp = match torn.get_mut() {
        tokio_tungstenite::MaybeTlsStream::Plain(tcp) => tcp,
        _ => unreachable!("ws:// is plain TCP"),
    };
    tcp.write_all(&[0x81, 0x80 | 100, 1, 2, 3, 4, b'a', b'b', b'c'])
        .await
        .unwrap();
    tcp.set_zero_linger().unwrap(); // close with RST, not FIN
    drop(torn);
    until_members(server.hub(), "torn removed", |names| names == ["witness"]).await;

    // A client that starts the HTTP handshake and never finishes it never joins.
    let mut stalled = TcpStream::connect(server.http_addr()).await.unwrap();
    stalled
        .write_all(b"GET /ws?name=stalled HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    // A TCP client that sends a line over the limit is told and closed.
    let mut long = TcpStream::connect(server.tcp_addr()).await.unwrap();
    long.write_all(b"longliner\n").await.unwrap();
    long.write_all(&vec![b'y'; 10_000]).await.unwrap();
    let mut said = String::new();
    within("the long line's answer", long.read_to_string(&mut said))
        .await
        .unwrap();
    assert!(
        said.contains("* error: lines are at most 4096 bytes"),
        "{said}"
    );

    let mut other = LineClient::connect(server.tcp_addr(), "other")
        .await
        .unwrap();
    other.say("still serving").await.unwrap();
    assert_eq!(
        next_message(&mut witness).await,
        ("other".into(), "still serving".into())
    );
    // longliner leaves once its tasks end, which may be just after its socket closed.
    until_members(server.hub(), "stalled and longliner not members", |names| {
        names == ["other", "witness"]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_names_get_http_errors_and_tcp_error_lines() {
    let server = start(64).await;
    let url = server.ws_url();
    let _ada = WsClient::connect(&url, "ada").await.unwrap();
    let taken = WsClient::connect(&url, "ada").await.unwrap_err();
    assert!(taken.to_string().contains("409"), "{taken}");
    let invalid = WsClient::connect(&url, "a%20b").await.unwrap_err();
    assert!(invalid.to_string().contains("400"), "{invalid}");
    let mut line = LineClient::connect(server.tcp_addr(), "ada").await.unwrap();
    let answer = within("an answer", line.next_line())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer, "* error: the name \"ada\" is taken");
    assert_eq!(within("the close", line.next_line()).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_answer_pings_is_dropped_and_one_that_does_stays() {
    let mut config = ServerConfig::loopback();
    config.limits.ping_every = Duration::from_millis(50);
    let server = Server::start(config).unwrap();
    let url = server.ws_url();
    // tokio-tungstenite answers pings while it reads: read five of them.
    let (mut answers, _) = connect_async(format!("{url}?name=answers")).await.unwrap();
    let _silent = common::slow_client(server.http_addr(), &url, "silent").await;
    let mut pings = 0;
    while pings < 5 {
        if let Message::Ping(_) = within("a ping", answers.next()).await.unwrap().unwrap() {
            pings += 1;
        }
    }
    // `silent` never reads, so it never answered: it is gone; `answers` is not.
    until_members(server.hub(), "silent dropped", |names| names == ["answers"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_websocket_clients_join_hear_a_broadcast_and_leave() {
    const CLIENTS: usize = 1000;
    // Each client is two descriptors here (client and server side).
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    let wanted = (CLIENTS as u64 * 2 + 256).min(hard);
    if soft < wanted {
        rlimit::setrlimit(rlimit::Resource::NOFILE, wanted, hard).unwrap();
    }
    assert!(
        wanted >= CLIENTS as u64 * 2 + 100,
        "the open-files limit {hard} is too low"
    );
    thousand_clients_hear_one_broadcast(CLIENTS).await;
}

// ANCHOR: thousand
/// `count` WebSocket clients join, each hears one line client's message, and all leave.
async fn thousand_clients_hear_one_broadcast(count: usize) {
    let server = start(64).await;
    let url = server.ws_url();
    let mut clients = Vec::with_capacity(count);
    for n in 0..count {
        clients.push(WsClient::connect(&url, &format!("c{n}")).await.unwrap());
    }
    until_members(server.hub(), "everyone joined", |names| {
        names.len() == count
    })
    .await;
    let mut announcer = LineClient::connect(server.tcp_addr(), "announcer")
        .await
        .unwrap();
    announcer.say("hello, everyone").await.unwrap();
    let heard = futures::future::join_all(
        clients
            .iter_mut()
            .map(|client| async { next_message(client).await }),
    )
    .await;
    assert!(
        heard
            .iter()
            .all(|(from, text)| from == "announcer" && text == "hello, everyone")
    );
    futures::future::join_all(clients.into_iter().map(WsClient::close)).await;
    drop(announcer);
    until_members(server.hub(), "everyone left", <[String]>::is_empty).await;
}
// ANCHOR_END: thousand

// ANCHOR: shutdown
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sends_1001_to_every_client_and_ends_every_task() {
    let server = start(64).await;
    let url = server.ws_url();
    let mut ws: Vec<WsClient> = Vec::new();
    for n in 0..5 {
        ws.push(WsClient::connect(&url, &format!("ws{n}")).await.unwrap());
    }
    let mut line = LineClient::connect(server.tcp_addr(), "line")
        .await
        .unwrap();
    until_members(server.hub(), "six members", |names| names.len() == 6).await;
    let report = server.shut_down(Duration::from_secs(5)).await;
    assert_eq!(report.aborted, 0, "every task ended by itself");
    for client in &mut ws {
        assert_eq!(
            closed(client).await,
            (Some(1001), "server shutting down".into())
        );
    }
    let mut last = None;
    while let Some(line) = within("lines", line.next_line()).await.unwrap() {
        last = Some(line);
    }
    assert_eq!(
        last.as_deref(),
        Some("* disconnected: server shutting down")
    );
    assert!(server.hub().members().is_empty());
    // Nobody is accepted any more.
    assert!(TcpStream::connect(server.http_addr()).await.is_err());
}
// ANCHOR_END: shutdown

/// The longest message a WebSocket client may send reaches a line client whole: the line
/// client reads lines as long as the server may write them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_client_hears_the_longest_message_whole() {
    let server = start(64).await;
    let mut ada = WsClient::connect(&server.ws_url(), "ada").await.unwrap();
    let mut bob = LineClient::connect(server.tcp_addr(), "bob").await.unwrap();
    until_members(server.hub(), "ada and bob", |names| names.len() == 2).await;
    let longest = "x".repeat(ws_broadcast::websocket::Limits::default().max_message);
    ada.say(&longest).await.unwrap();
    assert_eq!(next_said_line(&mut bob).await, ("ada".to_owned(), longest));
}

/// A blank line from a line client is not a message: nobody hears it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blank_line_is_not_said() {
    let server = start(64).await;
    let mut ada = WsClient::connect(&server.ws_url(), "ada").await.unwrap();
    let mut bob = LineClient::connect(server.tcp_addr(), "bob").await.unwrap();
    until_members(server.hub(), "ada and bob", |names| names.len() == 2).await;
    bob.say("   ").await.unwrap();
    bob.say("hello").await.unwrap();
    assert_eq!(
        next_message(&mut ada).await,
        ("bob".to_owned(), "hello".to_owned())
    );
}
