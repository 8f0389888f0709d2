//! Each public async fn dropped mid-await does what its `# Cancel safety` section says.

mod common;

use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncReadExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use ws_broadcast::client::{LineClient, Received, WsClient};
use ws_broadcast::server::{Server, ServerConfig};
use ws_broadcast::websocket::Limits;
use ws_broadcast::{Event, Hub, tcp_lines, websocket};

const LIMIT: Duration = Duration::from_secs(20);

/// Waits until the hub is empty, yielding to the tasks being aborted.
async fn until_empty(hub: &Hub) {
    timeout(LIMIT, async {
        while !hub.members().is_empty() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the member never left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_serve_dropped_mid_await_leaves_the_hub() {
    let hub = Hub::new(8);
    let (server_io, client_io) = tokio::io::duplex(4096);
    let server_ws = WebSocketStream::from_raw_socket(server_io, Role::Server, None).await;
    let mut client_ws = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
    let (speaker, inbox) = hub.join("ada").unwrap();
    // Dropped once the client has its welcome: `serve` is idle, waiting.
    let welcome = cancel_check::drop_pending_after(
        websocket::serve(server_ws, speaker, inbox, Limits::default()),
        client_ws.next(),
    )
    .await;
    assert!(welcome.unwrap().unwrap().is_text());
    until_empty(&hub).await;
    // The socket was dropped with the tasks: the end of the stream, and no Close frame.
    while let Some(Ok(message)) = client_ws.next().await {
        assert!(!message.is_close(), "a Close frame: {message:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_serve_dropped_mid_await_leaves_the_hub_and_closes() {
    let hub = Hub::new(8);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = LineClient::connect(listener.local_addr().unwrap(), "bob")
        .await
        .unwrap();
    let (stream, _) = listener.accept().await.unwrap();
    // Dropped once the client has its welcome: `serve` is idle, waiting.
    let welcome = cancel_check::drop_pending_after(
        tcp_lines::serve(stream, hub.clone(), Default::default()),
        client.next_line(),
    )
    .await;
    assert_eq!(
        welcome.unwrap().as_deref(),
        Some("* welcome bob; nobody else is here")
    );
    until_empty(&hub).await;
    assert_eq!(
        timeout(LIMIT, client.next_line()).await.unwrap().unwrap(),
        None,
        "closed, no last line"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shut_down_dropped_mid_await_has_still_begun() {
    let mut config = ServerConfig::loopback();
    config.limits.write_timeout = Duration::from_secs(5);
    let server = Server::start(config).unwrap();
    let mut ada = WsClient::connect(&server.ws_url(), "ada").await.unwrap();
    // Polled once, then dropped: the clients are told all the same.
    cancel_check::drop_pending(server.shut_down(Duration::from_secs(5))).await;
    loop {
        match timeout(LIMIT, ada.next()).await.unwrap().unwrap() {
            Received::Closed { code, .. } => break assert_eq!(code, Some(1001)),
            Received::Event(_) => {}
        }
    }
    assert!(server.hub().members().is_empty());
    // Called again, it waits for what is still running.
    let report = timeout(LIMIT, server.shut_down(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(report.aborted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_next_and_next_line_dropped_mid_await_lose_nothing() {
    let server = Server::start(ServerConfig::loopback()).unwrap();
    let mut ada = WsClient::connect(&server.ws_url(), "ada").await.unwrap();
    let mut bob = LineClient::connect(server.tcp_addr(), "bob").await.unwrap();
    let mut cy = WsClient::connect(&server.ws_url(), "cy").await.unwrap();
    // Read everything queued so far (up to cy's arrival), then drop one waiting `next` of
    // each kind.
    let cy_joined = Received::Event(Event::Joined { name: "cy".into() });
    while timeout(LIMIT, ada.next()).await.unwrap().unwrap() != cy_joined {}
    while timeout(LIMIT, bob.next_line())
        .await
        .unwrap()
        .unwrap()
        .as_deref()
        != Some("* cy joined")
    {}
    cancel_check::drop_pending(ada.next()).await;
    cancel_check::drop_pending(bob.next_line()).await;
    cy.say("after the drops").await.unwrap();
    let message = Event::Message {
        from: "cy".into(),
        text: "after the drops".into(),
    };
    assert_eq!(
        timeout(LIMIT, ada.next()).await.unwrap().unwrap(),
        Received::Event(message)
    );
    let line = timeout(LIMIT, bob.next_line()).await.unwrap().unwrap();
    assert_eq!(line.as_deref(), Some("cy: after the drops"));
}

/// Accepts one connection and reads its whole HTTP request: the client is then waiting
/// for the answer, which never comes.
async fn accept_request(listener: &TcpListener) -> tokio::io::BufReader<TcpStream> {
    let (accepted, _) = listener.accept().await.unwrap();
    let mut accepted = tokio::io::BufReader::new(accepted);
    let mut request = Vec::new();
    while !request.ends_with(b"\r\n\r\n") {
        let read = timeout(LIMIT, accepted.read_until(b'\n', &mut request)).await;
        assert!(
            read.unwrap().unwrap() > 0,
            "the client closed before its request"
        );
    }
    assert!(request.starts_with(b"GET /ws?name=ada"));
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_connect_dropped_mid_handshake_closes_the_socket() {
    // A listener that accepts but never answers the handshake.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    for own_stream in [false, true] {
        let mut accepted = if own_stream {
            let stream = common::small_buffer_stream(listener.local_addr().unwrap()).await;
            cancel_check::drop_pending_after(
                WsClient::over(stream, &url, "ada"),
                accept_request(&listener),
            )
            .await
        } else {
            cancel_check::drop_pending_after(
                WsClient::connect(&url, "ada"),
                accept_request(&listener),
            )
            .await
        };
        // Then the end of the stream: the client let go of the socket.
        let mut rest = Vec::new();
        let read = timeout(LIMIT, accepted.read_to_end(&mut rest)).await;
        assert_eq!(
            read.unwrap().unwrap(),
            0,
            "nothing after the request, then EOF"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_client_dropped_while_connecting_sends_no_name() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    cancel_check::drop_pending(LineClient::connect(addr, "bob")).await;
    // The kernel may have completed the connection; nothing was sent on it.
    let (mut accepted, _) = timeout(LIMIT, listener.accept()).await.unwrap().unwrap();
    let mut sent = Vec::new();
    let _ = timeout(LIMIT, accepted.read_to_end(&mut sent))
        .await
        .unwrap();
    assert!(sent.is_empty(), "{sent:?}");
}

// One thread: the server's tasks cannot answer the Close while `close` is first polled.
#[tokio::test]
async fn a_dropped_close_still_leaves_the_hub() {
    let server = Server::start(ServerConfig::loopback()).unwrap();
    let ada = WsClient::connect(&server.ws_url(), "ada").await.unwrap();
    cancel_check::drop_pending(ada.close()).await;
    until_empty(server.hub()).await;
}

/// More than the kernel's socket buffers can hold, so a send to a peer that does not read
/// has to wait.
const HUGE: usize = 48 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_dropped_mid_write_arrives_in_part() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = LineClient::connect(listener.local_addr().unwrap(), "bob")
        .await
        .unwrap();
    let (mut accepted, _) = listener.accept().await.unwrap(); // and does not read yet
    let line = "x".repeat(HUGE);
    cancel_check::drop_pending(client.say(&line)).await;
    drop(client);
    let mut sent = Vec::new();
    timeout(LIMIT, accepted.read_to_end(&mut sent))
        .await
        .unwrap()
        .unwrap();
    let of_the_line = sent.len() - b"bob\n".len();
    assert!(
        of_the_line > 0 && of_the_line < HUGE + 1,
        "part of the line, {of_the_line} of {} bytes, and never the rest",
        HUGE + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_dropped_while_flushing_goes_out_whole_with_the_next() {
    use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let (client, accepted) = tokio::join!(WsClient::connect(&url, "ada"), async {
        let (stream, _) = listener.accept().await.unwrap();
        let config = WebSocketConfig::default()
            .max_message_size(None)
            .max_frame_size(None);
        tokio_tungstenite::accept_async_with_config(stream, Some(config))
            .await
            .unwrap()
    });
    let (mut client, mut server) = (client.unwrap(), accepted);
    let big = "x".repeat(HUGE);
    // The server does not read yet: the send queues the message and waits to flush it.
    cancel_check::drop_pending(client.say(&big)).await;
    // The next send flushes the queued message first, whole, while the server reads.
    let (sent, first) = tokio::join!(client.say("after"), server.next());
    sent.unwrap();
    let first = first.unwrap().unwrap();
    assert_eq!(first.len(), HUGE, "the dropped message, whole");
    let after = timeout(LIMIT, server.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(after.into_text().unwrap().as_str(), "after");
}
