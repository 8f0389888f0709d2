//! What several test files share: a client that is slow to read.
#![allow(dead_code, unreachable_pub)] // each test file uses its own part

use std::net::SocketAddr;

use tokio::net::{TcpSocket, TcpStream};
use ws_broadcast::client::WsClient;

/// A TCP connection to `addr` whose receive buffer is about 4 KiB (the kernel may round
/// it): a client on it that stops reading fills its buffers after a few messages.
pub async fn small_buffer_stream(addr: SocketAddr) -> TcpStream {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4().unwrap()
    } else {
        TcpSocket::new_v6().unwrap()
    };
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(addr).await.unwrap()
}

/// A member named `name` on a small-buffer connection to the server at `addr`.
pub async fn slow_client(addr: SocketAddr, ws_url: &str, name: &str) -> WsClient {
    let stream = small_buffer_stream(addr).await;
    WsClient::over(stream, ws_url, name).await.unwrap()
}
