//! An upgrade request must carry every part of the WebSocket handshake: `Connection:
//! upgrade`, `Upgrade: websocket`, `Sec-WebSocket-Version: 13` and a key. A request
//! missing any one of them gets 400, and nobody joins. Raw requests on loopback.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use ws_broadcast::server::{Server, ServerConfig};

const LIMIT: Duration = Duration::from_secs(20);

/// The status line's code for `GET /ws?name=ada` with `headers`.
async fn status_of(server: &Server, headers: &[(&str, &str)]) -> u16 {
    let addr = server.ws_url();
    let host = addr
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .unwrap();
    let mut request = format!("GET /ws?name=ada HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut socket = TcpStream::connect(host).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0; 12]; // "HTTP/1.1 400"
    timeout(LIMIT, socket.read_exact(&mut head))
        .await
        .expect("an answer")
        .unwrap();
    String::from_utf8(head[9..12].to_vec())
        .unwrap()
        .parse()
        .unwrap()
}

const COMPLETE: [(&str, &str); 4] = [
    ("Connection", "Upgrade"),
    ("Upgrade", "websocket"),
    ("Sec-WebSocket-Version", "13"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
];

#[tokio::test]
async fn a_handshake_missing_any_one_part_is_refused() {
    let server = Server::start(ServerConfig::loopback()).unwrap();
    for missing in 0..COMPLETE.len() {
        let mut headers = COMPLETE.to_vec();
        let (name, _) = headers.remove(missing);
        assert_eq!(status_of(&server, &headers).await, 400, "without {name}");
    }
    let mut old_version = COMPLETE.to_vec();
    old_version[2].1 = "8";
    assert_eq!(status_of(&server, &old_version).await, 400, "version 8");
    assert!(server.hub().members().is_empty(), "nobody joined");
    assert_eq!(
        status_of(&server, &COMPLETE).await,
        101,
        "the complete handshake"
    );
}
