//! An HTTP client the way production code needs one: what the tutorials do with
//! `aiohttp.ClientSession`, in reqwest.
//!
//! - one `reqwest::Client`, built once with its three timeouts ([`client`]) and shared: it
//!   is a connection pool, and cloning it is cheap;
//! - [`get_json`]: a typed JSON API into serde structs; [`user_and_first_posts`] fetches a
//!   user and their first posts at once;
//! - [`HttpError`]: every way a request fails, as a value that names its URL and its kind:
//!   invalid URL, DNS failure, connection refused, timeout, error status, body cut off,
//!   invalid JSON;
//! - [`send_with_retry`]: retries with exponential backoff ([backon](https://docs.rs/backon)),
//!   for idempotent requests only.
//!
//! Run the demo with `cargo run -p http-client`.

use std::io;
use std::time::Duration;

use backon::Retryable as _;
use bytes::Bytes;
use futures::future::try_join_all;
use patterns_core::error::{chain, has_io_kind, root_cause};
use reqwest::{Client, Method, Request, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use backon::ExponentialBuilder;

// ANCHOR: client
/// The three limits of an HTTP request (aiohttp's `ClientTimeout(connect=, sock_read=, total=)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpTimeouts {
    /// Opening the TCP connection (and TLS).
    pub connect: Duration,
    /// The longest wait for the next bytes of the response; a slow but steady body passes.
    pub read: Duration,
    /// The whole request, body included; a slow but steady body fails.
    pub total: Duration,
}

/// A client that enforces all three. Build it once and share it: it is the connection pool.
pub fn client(limits: HttpTimeouts) -> reqwest::Result<Client> {
    Client::builder()
        .connect_timeout(limits.connect)
        .read_timeout(limits.read)
        .timeout(limits.total)
        .build()
}
// ANCHOR_END: client

// ANCHOR: errors
/// Why a request failed. Every variant names the URL; `Display` is one line.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL does not parse (aiohttp: `InvalidURL`).
    #[error("{url}: invalid URL: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The host name does not resolve (aiohttp: `ClientConnectorDNSError`).
    #[error("{url}: DNS lookup failed: {detail}")]
    Dns { url: String, detail: String },
    /// Nothing listens there (aiohttp: `ClientConnectorError`).
    #[error("{url}: connection refused")]
    Refused { url: String },
    /// A connect, read or total timeout fired (aiohttp: `asyncio.TimeoutError`).
    #[error("{url}: timed out")]
    Timeout { url: String },
    /// The server answered with a 4xx or 5xx status (aiohttp: `ClientResponseError`).
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: StatusCode },
    /// The connection broke before the body was complete (aiohttp: `ClientPayloadError`).
    #[error("{url}: response body cut off: {detail}")]
    BodyCut { url: String, detail: String },
    /// The body is not the JSON expected (aiohttp: `ContentTypeError`, `JSONDecodeError`).
    #[error("{url}: invalid JSON: {detail}")]
    InvalidJson { url: String, detail: String },
    /// Anything else reqwest reports (a redirect loop, a TLS failure...).
    #[error("{url}: {detail}")]
    Other { url: String, detail: String },
}
// ANCHOR_END: errors

impl HttpError {
    /// The URL the failed request was for.
    pub fn url(&self) -> &str {
        match self {
            Self::InvalidUrl { url, .. }
            | Self::Dns { url, .. }
            | Self::Refused { url }
            | Self::Timeout { url }
            | Self::Status { url, .. }
            | Self::BodyCut { url, .. }
            | Self::InvalidJson { url, .. }
            | Self::Other { url, .. } => url,
        }
    }

    /// Whether trying again may succeed: timeouts, refused connections, broken bodies
    /// and 5xx statuses may; a 4xx, a bad URL or bad JSON will not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Refused { .. } | Self::BodyCut { .. } => true,
            Self::Status { status, .. } => status.is_server_error(),
            _ => false,
        }
    }

    // ANCHOR: classify
    /// Sorts a reqwest error into a kind, by what reqwest says and by its causes.
    pub fn classify(url: &str, error: reqwest::Error) -> Self {
        let url = url.to_owned();
        let detail = chain(&error);
        if error.is_timeout() {
            Self::Timeout { url }
        } else if let Some(status) = error.status() {
            Self::Status { url, status }
        } else if error.is_connect() && detail.contains("dns error") {
            Self::Dns {
                url,
                detail: root_cause(&error).to_string(),
            }
        } else if error.is_connect() && has_io_kind(&error, io::ErrorKind::ConnectionRefused) {
            Self::Refused { url }
        } else if error.is_body() || error.is_decode() {
            Self::BodyCut {
                url,
                detail: root_cause(&error).to_string(),
            }
        } else {
            Self::Other { url, detail }
        }
    }
    // ANCHOR_END: classify
}

// ANCHOR: get
/// GETs `url` and returns its body; any failure becomes an [`HttpError`].
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops the GET; reqwest closes a
/// connection whose response is not complete, so nothing stays open or half-read.
pub async fn get_bytes(client: &Client, url: &str) -> Result<Bytes, HttpError> {
    let parsed = Url::parse(url).map_err(|e| HttpError::InvalidUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    send_once(client, Request::new(Method::GET, parsed), url).await
}

/// GETs `url` and decodes its JSON body into `T`. Reading the body and decoding it are two
/// steps, so a body cut off and a body that is not the expected JSON stay two errors.
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops the GET; reqwest closes a
/// connection whose response is not complete, so nothing stays open or half-read.
pub async fn get_json<T: DeserializeOwned>(client: &Client, url: &str) -> Result<T, HttpError> {
    let body = get_bytes(client, url).await?;
    serde_json::from_slice(&body).map_err(|e| HttpError::InvalidJson {
        url: url.to_owned(),
        detail: e.to_string(),
    })
}
// ANCHOR_END: get

/// A user of the JSON API, every field decoded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: u32,
    /// Full name.
    pub name: String,
    /// Lower-case login.
    pub username: String,
    /// E-mail address.
    pub email: String,
}

/// A post of the JSON API, every field decoded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Post {
    /// The post's id.
    pub id: u32,
    /// The author's id.
    pub user_id: u32,
    /// One line.
    pub title: String,
    /// A few sentences.
    pub body: String,
}

// ANCHOR: typed
/// One user and the posts numbered 1 to `posts`, all requested at once, decoded into
/// structs.
///
/// # Cancel safety
///
/// This method is cancel safe: a losing `select!` branch drops every GET; reqwest closes a
/// connection whose response is not complete, so nothing stays open or half-read.
pub async fn user_and_first_posts(
    client: &Client,
    base_url: &str,
    user_id: u32,
    posts: u32,
) -> Result<(User, Vec<Post>), HttpError> {
    let user_url = format!("{base_url}/users/{user_id}");
    let post_urls: Vec<String> = (1..=posts)
        .map(|id| format!("{base_url}/posts/{id}"))
        .collect();
    let user = get_json::<User>(client, &user_url);
    let posts = try_join_all(post_urls.iter().map(|url| get_json::<Post>(client, url)));
    tokio::try_join!(user, posts)
}
// ANCHOR_END: typed

// ANCHOR: retry
/// Sends `request`, retrying transient failures ([`HttpError::is_transient`]) as `backoff`
/// says, but only if the method is idempotent (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) and
/// the body can be replayed: a POST that timed out may already have happened, so it is
/// sent once. Returns the body, or the last failure.
///
/// `backoff` bounds the tries and the waits between them (`with_max_times`,
/// `with_total_delay`); the client's own timeouts bound each try.
///
/// # Cancel safety
///
/// This method is not cancel safe for a request with an effect: a dropped POST may have
/// reached the server, as any request cut short may, and the caller cannot tell. A losing
/// `select!` branch drops the try in flight, or the wait before the next, and no later try
/// is sent; reqwest closes a connection whose response is not complete, so nothing stays
/// open or half-read. For an idempotent request, sending it again is safe.
pub async fn send_with_retry(
    client: &Client,
    request: Request,
    backoff: ExponentialBuilder,
) -> Result<Bytes, HttpError> {
    let url = request.url().to_string();
    let replayable = is_idempotent(request.method()) && request.try_clone().is_some();
    if !replayable {
        return send_once(client, request, &url).await;
    }
    // Every try sends a fresh clone: `execute` consumes the request it is given.
    let attempt = || async {
        let copy = request.try_clone().ok_or_else(|| HttpError::Other {
            url: url.clone(),
            detail: "the request body cannot be replayed".into(),
        })?;
        send_once(client, copy, &url).await
    };
    attempt
        .retry(backoff)
        .when(HttpError::is_transient)
        .notify(|error, wait| tracing::debug!(%error, ?wait, "retrying"))
        .await
}
// ANCHOR_END: retry

async fn send_once(client: &Client, request: Request, url: &str) -> Result<Bytes, HttpError> {
    let response = client
        .execute(request)
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| HttpError::classify(url, e))?;
    response
        .bytes()
        .await
        .map_err(|e| HttpError::classify(url, e))
}

fn is_idempotent(method: &Method) -> bool {
    [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
    ]
    .contains(method)
}
