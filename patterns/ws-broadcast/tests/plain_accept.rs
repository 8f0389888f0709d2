//! The plain form of `websockets.serve(handler, host, port)`: a `TcpListener`, and
//! tokio-tungstenite's `accept_async` on each connection, with no HTTP server around it.

use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{accept_async, connect_async};

// ANCHOR: plain_accept
/// `websockets.serve(echo, host, port)`: accept TCP, then the WebSocket handshake, in a
/// task per connection; every text message is sent back.
async fn serve_echo(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _peer) = listener.accept().await?;
        tokio::spawn(echo(stream));
    }
}

async fn echo(stream: TcpStream) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let mut ws = accept_async(stream).await?; // the HTTP upgrade, read and answered
    while let Some(message) = ws.next().await {
        match message? {
            Message::Text(text) => ws.send(Message::text(text.as_str())).await?,
            Message::Close(_) => break, // tungstenite answers the Close for us
            _ => {}                     // pings are answered by tungstenite too
        }
    }
    Ok(())
}
// ANCHOR_END: plain_accept

#[tokio::test]
async fn a_plain_listener_accepts_a_websocket_client() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve_echo(listener));
    let (mut client, _) = connect_async(format!("ws://{address}/")).await.unwrap();
    client.send(Message::text("hello")).await.unwrap();
    let back = client.next().await.unwrap().unwrap();
    assert_eq!(back, Message::text("hello"));
    client.close(None).await.unwrap();
}
