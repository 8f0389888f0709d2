//! TLS over real loopback sockets: a trusted exchange, an untrusted client refused with
//! its reason, a CA certificate refused as a server's, a silent client timed out, plain
//! TCP sent to a TLS port, and `start_tls` with and without bytes sent in the clear.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sockets::tls::{self, upgrade_client, upgrade_server};
use sockets::{Lines, SelfSigned, TlsError, connector_trusting};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::{self, CertificateError};
use tokio_util::codec::Framed;

const WITHIN: Duration = Duration::from_secs(5);

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap());
    let (client, accepted) = tokio::join!(client, listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

#[tokio::test]
async fn a_client_that_trusts_the_certificate_talks_to_the_server() {
    let identity = SelfSigned::generate(&["localhost"]).unwrap();
    let acceptor = identity.acceptor().unwrap();
    let connector = connector_trusting(identity.certificate()).unwrap();
    let (client, server) = pair().await;
    let server = tokio::spawn(async move {
        let mut tls = tls::accept(&acceptor, server, WITHIN).await.unwrap();
        let mut request = [0; 5];
        tls.read_exact(&mut request).await.unwrap();
        tls.write_all(&request.to_ascii_uppercase()).await.unwrap();
        tls.shutdown().await.unwrap();
    });
    let mut tls = tls::connect(&connector, "localhost", client, WITHIN)
        .await
        .unwrap();
    tls.write_all(b"hello").await.unwrap();
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer).await.unwrap();
    assert_eq!(answer, b"HELLO");
    server.await.unwrap();
}

#[tokio::test]
async fn a_client_that_trusts_another_certificate_is_refused_with_its_reason() {
    let identity = SelfSigned::generate(&["localhost"]).unwrap();
    let stranger = SelfSigned::generate(&["other.example"]).unwrap();
    let acceptor = identity.acceptor().unwrap();
    let connector = connector_trusting(stranger.certificate()).unwrap();
    let (client, server) = pair().await;
    let server = tokio::spawn(async move { tls::accept(&acceptor, server, WITHIN).await });
    let refused = tls::connect(&connector, "localhost", client, WITHIN)
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused.rustls_error(),
            Some(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))
        ),
        "{refused}"
    );
    assert!(refused.to_string().contains("UnknownIssuer"), "{refused}");
    // The server hears why: the client's alert.
    let heard = server.await.unwrap().unwrap_err();
    assert!(matches!(heard, TlsError::Handshake(_)), "{heard}");
}

/// A server presenting `identity`, a client that trusts it and expects `name`: the
/// client's handshake error.
async fn refused_by_the_client(identity: &SelfSigned, name: &str) -> TlsError {
    let acceptor = identity.acceptor().unwrap();
    let connector = connector_trusting(identity.certificate()).unwrap();
    let (client, server) = pair().await;
    tokio::spawn(async move { tls::accept(&acceptor, server, WITHIN).await });
    tls::connect(&connector, name, client, WITHIN)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let identity = SelfSigned::generate(&["localhost"]).unwrap();
    let refused = refused_by_the_client(&identity, "example.org").await;
    assert!(
        matches!(
            refused.rustls_error(),
            Some(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            ))
        ),
        "{refused}"
    );
}

#[tokio::test]
async fn a_ca_certificate_is_refused_as_a_server_certificate() {
    let identity = SelfSigned::generate_as_ca(&["localhost"]).unwrap();
    let refused = refused_by_the_client(&identity, "localhost").await;
    assert!(
        refused.to_string().contains("CaUsedAsEndEntity"),
        "{refused}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_starts_its_handshake_is_timed_out() {
    let identity = SelfSigned::generate(&["localhost"]).unwrap();
    let acceptor = identity.acceptor().unwrap();
    let (_silent, server) = pair().await;
    let started = tokio::time::Instant::now();
    let refused = tls::accept(&acceptor, server, WITHIN).await.unwrap_err();
    assert!(
        matches!(refused, TlsError::Timeout(w) if w == WITHIN),
        "{refused}"
    );
    assert_eq!(started.elapsed(), WITHIN);
}

#[tokio::test]
async fn plain_tcp_sent_to_a_tls_port_is_named_as_such_and_the_server_serves_on() {
    let identity = SelfSigned::generate(&["localhost"]).unwrap();
    let acceptor = identity.acceptor().unwrap();
    let connector = connector_trusting(identity.certificate()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut outcomes = Vec::new();
        for _ in 0..2 {
            let (stream, _) = listener.accept().await.unwrap();
            let outcome = tls::accept(&acceptor, stream, WITHIN).await;
            outcomes.push(outcome.map(|_| ()));
        }
        outcomes
    });
    let mut plain = TcpStream::connect(address).await.unwrap();
    plain.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    // The server answers with an alert and closes; whatever comes back is not an echo.
    let mut back = Vec::new();
    let _ = plain.read_to_end(&mut back).await;
    assert!(!back.starts_with(b"HTTP"));
    let client = TcpStream::connect(address).await.unwrap();
    tls::connect(&connector, "localhost", client, WITHIN)
        .await
        .unwrap();
    let outcomes = server.await.unwrap();
    let refused = outcomes[0].as_ref().unwrap_err();
    assert!(matches!(refused, TlsError::NotTls(_)), "{refused}");
    assert!(outcomes[1].is_ok());
}

#[tokio::test]
async fn a_bad_server_name_is_refused_before_anything_is_sent() {
    let identity = SelfSigned::generate(&["localhost"]).unwrap();
    let connector = connector_trusting(identity.certificate()).unwrap();
    let (client, _server) = pair().await;
    let refused = tls::connect(&connector, "not a name", client, WITHIN)
        .await
        .unwrap_err();
    assert!(matches!(refused, TlsError::ServerName(ref n) if n == "not a name"));
}

/// Lines in the clear until `STARTTLS`, then the same socket over TLS.
async fn starttls_server(stream: TcpStream, identity: &SelfSigned) -> Result<String, TlsError> {
    let mut lines = Framed::new(stream, Lines::new(64));
    let request = lines.next().await.unwrap().unwrap().unwrap();
    assert_eq!(request, "STARTTLS");
    lines.send("OK").await.unwrap();
    let mut tls = upgrade_server(lines, &identity.acceptor()?, WITHIN).await?;
    let mut secret = String::new();
    tls.read_to_string(&mut secret)
        .await
        .map_err(TlsError::Handshake)?;
    Ok(secret)
}

#[tokio::test]
async fn start_tls_upgrades_a_plain_connection_in_place() {
    let identity = SelfSigned::generate(&["localhost"]).unwrap();
    let connector = connector_trusting(identity.certificate()).unwrap();
    let (client, server) = pair().await;
    let server = tokio::spawn(async move { starttls_server(server, &identity).await });
    let mut lines = Framed::new(client, Lines::new(64));
    lines.send("STARTTLS").await.unwrap();
    assert_eq!(lines.next().await.unwrap().unwrap().unwrap(), "OK");
    let mut tls = upgrade_client(lines, &connector, "localhost", WITHIN)
        .await
        .unwrap();
    tls.write_all(b"over tls").await.unwrap();
    tls.shutdown().await.unwrap();
    assert_eq!(server.await.unwrap().unwrap(), "over tls");
}

#[tokio::test]
async fn bytes_sent_in_the_clear_after_starttls_refuse_the_upgrade() {
    let identity = SelfSigned::generate(&["localhost"]).unwrap();
    let (mut client, server) = pair().await;
    let server = tokio::spawn(async move { starttls_server(server, &identity).await });
    // A man in the middle appends a command to the plain request: it must not be read
    // as if it had come over TLS.
    client
        .write_all(b"STARTTLS\nDELETE everything\n")
        .await
        .unwrap();
    let refused = server.await.unwrap().unwrap_err();
    assert!(
        matches!(refused, TlsError::BytesBeforeHandshake(18)),
        "{refused}"
    );
}
