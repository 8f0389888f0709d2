//! Each public async fn dropped mid-await does what its `# Cancel safety` section says.

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
    // The client is connected and idle: `serve` waits. Drop it after a (virtual) second.
    let served = timeout(
        Duration::from_secs(1),
        websocket::serve(server_ws, speaker, inbox, Limits::default()),
    )
    .await;
    assert!(served.is_err(), "serve ended by itself");
    until_empty(&hub).await;
    // The socket was dropped with the tasks: the client reads its welcome, then the end
    // of the stream, and no Close frame.
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
    let serving = tokio::spawn(tcp_lines::serve(stream, hub.clone(), Default::default()));
    let welcome = timeout(LIMIT, client.next_line()).await.unwrap().unwrap();
    assert_eq!(
        welcome.as_deref(),
        Some("* welcome bob; nobody else is here")
    );
    serving.abort(); // drops the future mid-await
    assert!(serving.await.unwrap_err().is_cancelled());
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
    let server = Server::start(config).await.unwrap();
    let mut ada = WsClient::connect(&server.ws_url(), "ada").await.unwrap();
    // Polled once, then dropped: the clients are told all the same.
    let once = futures::poll!(Box::pin(server.shut_down(Duration::from_secs(5))));
    assert!(once.is_pending());
    loop {
        match timeout(LIMIT, ada.next()).await.unwrap().unwrap() {
            Received::Closed { code, .. } => break assert_eq!(code, Some(1001)),
            Received::Event(_) => {}
        }
    }
    assert!(server.hub().members().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_next_and_next_line_dropped_mid_await_lose_nothing() {
    let server = Server::start(ServerConfig::loopback()).await.unwrap();
    let mut ada = WsClient::connect(&server.ws_url(), "ada").await.unwrap();
    let mut bob = LineClient::connect(server.tcp_addr(), "bob").await.unwrap();
    let mut cy = WsClient::connect(&server.ws_url(), "cy").await.unwrap();
    // Read everything queued so far, then drop one waiting `next` of each kind.
    while timeout(Duration::from_millis(200), ada.next())
        .await
        .is_ok()
    {}
    while timeout(Duration::from_millis(200), bob.next_line())
        .await
        .is_ok()
    {}
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_connect_dropped_mid_handshake_closes_the_socket() {
    // A listener that accepts but never answers the handshake.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let connecting = tokio::spawn(async move { WsClient::connect(&url, "ada").await });
    let (accepted, _): (TcpStream, _) = listener.accept().await.unwrap();
    // Wait for the whole request: the client is now waiting for the server's answer.
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
    connecting.abort();
    assert!(connecting.await.unwrap_err().is_cancelled());
    // Then the end of the stream: the client let go of the socket.
    let mut rest = Vec::new();
    let read = timeout(LIMIT, accepted.read_to_end(&mut rest)).await;
    assert_eq!(
        read.unwrap().unwrap(),
        0,
        "nothing after the request, then EOF"
    );
}
