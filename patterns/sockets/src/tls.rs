//! TLS with rustls through tokio-rustls, beside asyncio's `ssl=` argument and `start_tls`:
//! a self-signed certificate made at run time (rcgen), a server that presents it, a
//! client that trusts only it, handshakes bounded by a timeout, and a plain connection
//! upgraded in place.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{CertificateParams, IsCa, KeyPair};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};
use tokio_util::codec::Framed;

/// Why a TLS connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The handshake did not finish in time: a peer that connects and says nothing
    /// holds a task and a socket until this fires.
    #[error("the TLS handshake did not finish within {0:?}")]
    Timeout(Duration),
    /// The peer's first bytes are not a TLS record: it speaks plain TCP (or HTTP) to a
    /// TLS port.
    #[error("the peer does not speak TLS: {0}")]
    NotTls(io::Error),
    /// The handshake failed; the message names rustls's reason, such as
    /// `invalid peer certificate: UnknownIssuer`.
    #[error("the TLS handshake failed: {0}")]
    Handshake(io::Error),
    /// Bytes came after the request to upgrade and before the handshake. They were sent
    /// in the clear and would be read as if they had come over TLS, so the upgrade is
    /// refused.
    #[error("{0} bytes came in the clear after the request to upgrade")]
    BytesBeforeHandshake(usize),
    /// The name the client checks the certificate against is not a DNS name or an IP
    /// address.
    #[error("{0:?} is not a server name")]
    ServerName(String),
    /// The certificate could not be made.
    #[error("cannot make the certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("rustls refused the configuration: {0}")]
    Config(#[from] rustls::Error),
}

impl TlsError {
    /// rustls's own error, when the handshake ended with one: match on it to tell an
    /// untrusted certificate from a protocol error.
    pub fn rustls_error(&self) -> Option<&rustls::Error> {
        match self {
            Self::NotTls(e) | Self::Handshake(e) => e.get_ref()?.downcast_ref(),
            _ => None,
        }
    }

    /// Sorts a failed handshake: a record that is not TLS at all means the peer does not
    /// speak it.
    fn from_handshake(error: io::Error) -> Self {
        let not_tls = matches!(
            error.get_ref().and_then(|e| e.downcast_ref()),
            Some(rustls::Error::InvalidMessage(
                rustls::InvalidMessage::InvalidContentType
                    | rustls::InvalidMessage::UnknownProtocolVersion
            ))
        );
        if not_tls {
            Self::NotTls(error)
        } else {
            Self::Handshake(error)
        }
    }
}

/// rustls on aws-lc-rs, named rather than taken from the process default, so the same
/// code works whichever providers other crates in the build turn on.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// A certificate and its key, signed by itself.
pub struct SelfSigned {
    certificate: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

/// The key stays out of logs.
impl std::fmt::Debug for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfSigned")
            .field(
                "certificate",
                &format_args!("{} bytes", self.certificate.len()),
            )
            .finish_non_exhaustive()
    }
}

impl SelfSigned {
    // ANCHOR: generate
    /// A new key and a certificate for `names` (DNS names or IP addresses), made now.
    /// It is an end-entity certificate (`CA:FALSE`), which is what rustls requires of a
    /// server's certificate.
    pub fn generate(names: &[&str]) -> Result<Self, TlsError> {
        let names = names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        Self::with_params(CertificateParams::new(names)?)
    }

    fn with_params(mut params: CertificateParams) -> Result<Self, TlsError> {
        // Named after the server rather than rcgen's fixed default, so two certificates
        // for different servers have different issuers.
        if let Some(rcgen::SanType::DnsName(name)) = params.subject_alt_names.first() {
            let name = name.to_string();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, name);
        }
        let key = KeyPair::generate()?;
        let certificate = params.self_signed(&key)?;
        Ok(Self {
            certificate: certificate.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }
    // ANCHOR_END: generate

    /// A certificate that says it is a CA, as `openssl req -x509` makes by default.
    /// rustls refuses it as a server certificate (`CaUsedAsEndEntity`).
    pub fn generate_as_ca(names: &[&str]) -> Result<Self, TlsError> {
        let names = names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let mut params = CertificateParams::new(names)?;
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        Self::with_params(params)
    }

    /// The certificate, to give to the clients that should trust it.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.certificate
    }

    // ANCHOR: acceptor
    /// A server configuration that presents this certificate.
    pub fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![self.certificate.clone()], self.key.clone_key().into())?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
    // ANCHOR_END: acceptor
}

// ANCHOR: connector
/// A client configuration that trusts `certificate` and nothing else: not the system's
/// roots, so a certificate from anywhere else fails with `UnknownIssuer`.
pub fn connector_trusting(certificate: &CertificateDer<'static>) -> Result<TlsConnector, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.add(certificate.clone())?;
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
// ANCHOR_END: connector

// ANCHOR: handshake
/// The server's side of the handshake, given at most `within`. Call it inside the
/// connection's task, not in the accept loop: a slow client then holds only its own task.
///
/// # Cancel safety
///
/// This method is not cancel safe: dropped mid-handshake, it drops the stream it took,
/// which closes the connection; the client sees its handshake fail.
pub async fn accept<S>(
    acceptor: &TlsAcceptor,
    stream: S,
    within: Duration,
) -> Result<server::TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    bounded(within, acceptor.accept(stream)).await
}
// ANCHOR_END: handshake

/// The client's side of the handshake with `server_name` (the name the certificate
/// must carry), given at most `within`.
///
/// # Cancel safety
///
/// This method is not cancel safe: dropped mid-handshake, it drops the stream it took,
/// which closes the connection.
pub async fn connect<S>(
    connector: &TlsConnector,
    server_name: &str,
    stream: S,
    within: Duration,
) -> Result<client::TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|_| TlsError::ServerName(server_name.to_owned()))?;
    bounded(within, connector.connect(name, stream)).await
}

// ANCHOR: bounded
/// A handshake given at most `within`, its failure sorted into a [`TlsError`].
async fn bounded<T>(
    within: Duration,
    handshake: impl Future<Output = io::Result<T>>,
) -> Result<T, TlsError> {
    match tokio::time::timeout(within, handshake).await {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err(failed)) => Err(TlsError::from_handshake(failed)),
        Err(_) => Err(TlsError::Timeout(within)),
    }
}
// ANCHOR_END: bounded

// ANCHOR: start_tls
/// asyncio's `start_tls` on the server's side: a connection that spoke a plain framed
/// protocol (say, lines until `STARTTLS`) continues over TLS. Anything the codec has
/// already read past the request came in the clear, so the upgrade is refused rather
/// than let those bytes pass for encrypted ones.
///
/// # Cancel safety
///
/// This method is not cancel safe: dropped mid-handshake, the connection is closed.
pub async fn upgrade_server<S, C>(
    framed: Framed<S, C>,
    acceptor: &TlsAcceptor,
    within: Duration,
) -> Result<server::TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept(acceptor, plain_stream(framed).await?, within).await
}
// ANCHOR_END: start_tls

/// asyncio's `start_tls` on the client's side, with the same refusal.
///
/// # Cancel safety
///
/// This method is not cancel safe: dropped mid-handshake, the connection is closed.
pub async fn upgrade_client<S, C>(
    framed: Framed<S, C>,
    connector: &TlsConnector,
    server_name: &str,
    within: Duration,
) -> Result<client::TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    connect(connector, server_name, plain_stream(framed).await?, within).await
}

// ANCHOR: plain_stream
/// The socket under a codec, with what the codec still had to write written out, and
/// refused if the peer sent anything past the request.
async fn plain_stream<S, C>(framed: Framed<S, C>) -> Result<S, TlsError>
where
    S: AsyncWrite + Unpin,
{
    let mut parts = framed.into_parts();
    if !parts.read_buf.is_empty() {
        return Err(TlsError::BytesBeforeHandshake(parts.read_buf.len()));
    }
    parts
        .io
        .write_all(&parts.write_buf)
        .await
        .map_err(TlsError::Handshake)?;
    Ok(parts.io)
}
// ANCHOR_END: plain_stream
