//! The demo's TLS part: a server with a certificate made at start-up, a client that
//! trusts it, one that trusts another certificate, and one that speaks plain TCP.

use std::time::Duration;

use sockets::tls::{self, SelfSigned};
use sockets::{TlsError, accept_loop, connector_trusting};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// How long a handshake may take before the server gives up on the client.
const HANDSHAKE: Duration = Duration::from_secs(5);

pub(crate) async fn demo() -> anyhow::Result<()> {
    let identity = SelfSigned::generate(&["localhost"])?;
    let acceptor = identity.acceptor()?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let stop = CancellationToken::new();
    // Each connection's outcome, so the demo knows when the server is done with it.
    let (outcomes, mut finished) = tokio::sync::mpsc::unbounded_channel();
    // Each connection's handshake runs in its own task, inside the handler.
    let serving = tokio::spawn(accept_loop(listener, stop.clone(), move |stream, _| {
        let (acceptor, outcomes) = (acceptor.clone(), outcomes.clone());
        async move {
            let outcome = shout_over_tls(&acceptor, stream).await;
            let _ = outcomes.send(outcome.is_ok());
            outcome
        }
    }));

    let trusting = connector_trusting(identity.certificate())?;
    let mut client = tls::connect(
        &trusting,
        "localhost",
        TcpStream::connect(address).await?,
        HANDSHAKE,
    )
    .await?;
    client.write_all(b"hello over tls").await?;
    client.shutdown().await?;
    let mut answer = String::new();
    client.read_to_string(&mut answer).await?;
    println!("tls: trusted client -> {answer}");

    let stranger = SelfSigned::generate(&["other.example"])?;
    let untrusting = connector_trusting(stranger.certificate())?;
    let stream = TcpStream::connect(address).await?;
    match tls::connect(&untrusting, "localhost", stream, HANDSHAKE).await {
        Ok(_) => println!("tls: a client that does not trust the certificate: connected"),
        Err(refused) => {
            println!("tls: a client that does not trust the certificate: refused");
            println!("tls:   ({refused})");
        }
    }

    let mut plain = TcpStream::connect(address).await?;
    plain.write_all(b"hello in the clear\n").await?;
    let mut back = Vec::new();
    let _ = plain.read_to_end(&mut back).await; // an alert, then the close (or a reset)
    println!(
        "tls: a client speaking plain tcp: {}",
        if back.starts_with(b"HELLO") {
            "answered"
        } else {
            "refused"
        }
    );

    let (mut served, mut refused) = (0, 0);
    for _ in 0..3 {
        match finished.recv().await {
            Some(true) => served += 1,
            Some(false) => refused += 1, // the accept loop logs why
            None => anyhow::bail!("the TLS server stopped early"),
        }
    }
    stop.cancel();
    let accepted = serving.await??;
    println!(
        "tls: {} connections, {served} served, {refused} refused",
        accepted.connections
    );
    Ok(())
}

/// The server's side of one connection: the handshake, then the request in capitals.
async fn shout_over_tls(
    acceptor: &tokio_rustls::TlsAcceptor,
    stream: TcpStream,
) -> Result<(), TlsError> {
    let mut tls = tls::accept(acceptor, stream, HANDSHAKE).await?;
    let mut request = Vec::new();
    tls.read_to_end(&mut request)
        .await
        .map_err(TlsError::Handshake)?;
    tls.write_all(&request.to_ascii_uppercase())
        .await
        .map_err(TlsError::Handshake)?;
    tls.shutdown().await.map_err(TlsError::Handshake)
}
