//! Every public async fn, polled until it waits and then dropped (a losing `select!`
//! branch), and what the drop left behind: what each `# Cancel safety` section says.

use std::time::Duration;

use cancel_check::{drop_pending, drop_pending_after};
use sockets::tls::{self, upgrade_client, upgrade_server};
use sockets::{
    LineLimits, Lines, Retry, SelfSigned, TlsError, accept_loop, answer_loop, connector_trusting,
    echo, request, shout,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

/// A connected pair of loopback TCP streams: (client, server side).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Reads until the peer closes; Ok(bytes) or the reset it saw.
async fn read_until_closed(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.map(|_| rest)
}

#[tokio::test]
async fn a_dropped_accept_loop_aborts_its_handlers_and_closes_their_connections() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (started, mut handling) = tokio::sync::mpsc::unbounded_channel();
    let holding = move |stream, _| {
        let started = started.clone();
        async move {
            let _held: TcpStream = stream;
            started.send(()).unwrap();
            std::future::pending::<Result<(), std::io::Error>>().await
        }
    };
    let mut client = TcpStream::connect(addr).await.unwrap();
    // Pending once the connection's handler runs and holds it.
    let stop = CancellationToken::new();
    drop_pending_after(accept_loop(listener, stop, holding), handling.recv()).await;
    let closed =
        tokio::time::timeout(Duration::from_secs(10), read_until_closed(&mut client)).await;
    assert!(
        closed.is_ok(),
        "the handler's socket was closed with the loop"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener is closed too"
    );
}

#[tokio::test]
async fn a_dropped_echo_closes_the_connection_and_loses_what_it_had_not_written() {
    let (mut client, server) = tcp_pair().await;
    drop_pending(echo(server)).await; // waits for the first byte
    client.write_all(b"late").await.ok();
    let rest = read_until_closed(&mut client).await.unwrap_or_default();
    assert!(rest.is_empty(), "nothing echoed after the drop");
}

#[tokio::test]
async fn a_dropped_shout_closes_the_connection() {
    let (mut client, server) = tcp_pair().await;
    drop_pending(shout(
        server,
        LineLimits {
            max_line: 16,
            idle: Duration::from_secs(10),
        },
    ))
    .await;
    client.write_all(b"hello\n").await.ok();
    let rest = read_until_closed(&mut client).await.unwrap_or_default();
    assert!(rest.is_empty(), "no answer after the drop");
}

#[tokio::test]
async fn a_dropped_request_leaves_its_late_answer_to_be_ignored_by_the_next() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect(server.local_addr().unwrap()).await.unwrap();
    let retry = Retry {
        per_try: Duration::from_secs(5),
        tries: 1,
    };
    // Dropped once its datagram has reached the server, while it waits for the answer.
    let mut buf = [0; 64];
    let (n, peer) = drop_pending_after(
        request(&client, 1, b"first", retry),
        server.recv_from(&mut buf),
    )
    .await
    .unwrap();
    // The server answers the dropped request late, then the next one.
    server.send_to(&buf[..n], peer).await.unwrap();
    let answering = async {
        let (n, peer) = server.recv_from(&mut buf).await.unwrap();
        server.send_to(&buf[..n], peer).await.unwrap();
    };
    let (answer, ()) = tokio::join!(request(&client, 2, b"second", retry), answering);
    assert_eq!(answer.unwrap().0, b"second");
}

#[tokio::test]
async fn a_dropped_answer_loop_leaves_the_next_datagram_in_the_socket() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect(server.local_addr().unwrap()).await.unwrap();
    let echo = |d: &[u8], _| Some(d.to_vec());
    drop_pending(answer_loop(&server, 64, CancellationToken::new(), echo)).await;
    client.send(b"\0\0\0\x05kept").await.unwrap();
    let retry = Retry {
        per_try: Duration::from_secs(5),
        tries: 1,
    };
    let stop = CancellationToken::new();
    let serving = answer_loop(&server, 64, stop.clone(), echo);
    let asking = async {
        // The datagram sent while no loop ran is answered by the next loop.
        let mut buf = [0; 64];
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[4..n], b"kept");
        let answer = request(&client, 6, b"next", retry).await.unwrap();
        stop.cancel();
        answer
    };
    let (served, answer) = tokio::join!(serving, asking);
    assert_eq!(answer.0, b"next");
    assert_eq!(served.unwrap().answered, 2);
}

#[tokio::test]
async fn a_dropped_unix_accept_leaves_the_connection_for_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let server = sockets::UnixServer::bind(dir.path().join("s.sock"), 0o600)
        .await
        .unwrap();
    drop_pending(server.accept()).await;
    let _client = tokio::net::UnixStream::connect(server.path())
        .await
        .unwrap();
    server.accept().await.unwrap();
}

// The TLS handshakes: dropped while they wait for the peer, the connection is closed,
// and the peer's side of the handshake fails instead of hanging.

const WITHIN: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_dropped_tls_accept_closes_the_connection() {
    let identity = SelfSigned::generate(&["localhost"]).unwrap();
    let acceptor = identity.acceptor().unwrap();
    let connector = connector_trusting(identity.certificate()).unwrap();
    let (client, server) = tcp_pair().await;
    drop_pending(tls::accept(&acceptor, server, WITHIN)).await; // waits for a ClientHello
    let failed = tls::connect(&connector, "localhost", client, WITHIN).await;
    assert!(matches!(failed, Err(TlsError::Handshake(_))), "{failed:?}");
}

#[tokio::test]
async fn a_dropped_tls_connect_closes_the_connection() {
    let identity = SelfSigned::generate(&["localhost"]).unwrap();
    let acceptor = identity.acceptor().unwrap();
    let connector = connector_trusting(identity.certificate()).unwrap();
    let (client, server) = tcp_pair().await;
    // Pending once its ClientHello is sent: waiting for the server's answer.
    drop_pending(tls::connect(&connector, "localhost", client, WITHIN)).await;
    let failed = tls::accept(&acceptor, server, WITHIN).await;
    assert!(
        failed.is_err(),
        "the server's handshake ended with the client's drop"
    );
}

#[tokio::test]
async fn dropped_upgrades_close_the_connection() {
    let identity = SelfSigned::generate(&["localhost"]).unwrap();
    let acceptor = identity.acceptor().unwrap();
    let connector = connector_trusting(identity.certificate()).unwrap();

    let (mut client, server) = tcp_pair().await;
    let plain = Framed::new(server, Lines::new(64));
    drop_pending(upgrade_server(plain, &acceptor, WITHIN)).await;
    assert!(
        read_until_closed(&mut client)
            .await
            .is_ok_and(|b| b.is_empty())
    );

    let (client, server) = tcp_pair().await;
    let plain = Framed::new(client, Lines::new(64));
    drop_pending(upgrade_client(plain, &connector, "localhost", WITHIN)).await;
    assert!(tls::accept(&acceptor, server, WITHIN).await.is_err());
}

/// `UnixServer::bind` waits while it asks whether a server answers on a file already at
/// the path; dropped there, it has removed nothing, and the live server serves on.
#[tokio::test]
async fn a_dropped_unix_bind_removes_nothing_and_the_live_server_serves_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    let live = sockets::UnixServer::bind(&path, 0o600).await.unwrap();
    drop_pending(sockets::UnixServer::bind(&path, 0o600)).await;
    assert!(path.exists());
    let _client = tokio::net::UnixStream::connect(&path).await.unwrap();
    live.accept().await.unwrap();
}
