//! An HTTP client the way production code needs one: what the tutorials do with
//! `aiohttp.ClientSession`, in reqwest.
//!
//! - one `reqwest::Client`, built once with its three timeouts ([`timeout::client`]) and
//!   shared: it is a connection pool, and cloning it is cheap;
//! - [`get_json`]: a typed JSON API into serde structs; [`user_and_posts`] fetches a user and
//!   five posts at once;
//! - [`HttpError`]: every way a request fails, as a value that names its URL and its kind:
//!   invalid URL, DNS failure, connection refused, timeout, error status, body cut off,
//!   invalid JSON;
//! - [`send_with_retry`]: retries with backoff and a total budget, for idempotent requests
//!   only.
//!
//! Run the demo with `cargo run -p http-client`.

use std::error::Error as _;
use std::io;

use bytes::Bytes;
use fixture_server::api::{Post, User};
use futures::future::try_join_all;
use reqwest::{Client, Method, Request, StatusCode, Url};
use serde::de::DeserializeOwned;
use timeout::{Backoff, RetryError, retry};

pub use timeout::{HttpTimeouts, client};

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

    /// Sorts a reqwest error into a kind, by what reqwest says and by its causes.
    pub fn classify(url: &str, error: reqwest::Error) -> Self {
        let url = url.to_owned();
        let detail = causes(&error);
        if error.is_timeout() {
            Self::Timeout { url }
        } else if let Some(status) = error.status() {
            Self::Status { url, status }
        } else if error.is_connect() && detail.contains("dns error") {
            Self::Dns {
                url,
                detail: root_cause(&error),
            }
        } else if error.is_connect() && has_io_kind(&error, io::ErrorKind::ConnectionRefused) {
            Self::Refused { url }
        } else if error.is_body() || error.is_decode() {
            Self::BodyCut {
                url,
                detail: root_cause(&error),
            }
        } else {
            Self::Other { url, detail }
        }
    }
}
// ANCHOR_END: errors

fn causes(error: &reqwest::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

fn root_cause(error: &reqwest::Error) -> String {
    let mut deepest: &dyn std::error::Error = error;
    while let Some(cause) = deepest.source() {
        deepest = cause;
    }
    deepest.to_string()
}

fn has_io_kind(error: &reqwest::Error, kind: io::ErrorKind) -> bool {
    let mut source = error.source();
    while let Some(cause) = source {
        if cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == kind)
        {
            return true;
        }
        source = cause.source();
    }
    false
}

// ANCHOR: get
/// GETs `url` and returns its body; any failure becomes an [`HttpError`].
pub async fn get_bytes(client: &Client, url: &str) -> Result<Bytes, HttpError> {
    let parsed = Url::parse(url).map_err(|e| HttpError::InvalidUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    let response = client
        .get(parsed)
        .send()
        .await
        .map_err(|e| HttpError::classify(url, e))?;
    let response = response
        .error_for_status()
        .map_err(|e| HttpError::classify(url, e))?;
    response
        .bytes()
        .await
        .map_err(|e| HttpError::classify(url, e))
}

/// GETs `url` and decodes its JSON body into `T`. Reading the body and decoding it are two
/// steps, so a body cut off and a body that is not the expected JSON stay two errors.
pub async fn get_json<T: DeserializeOwned>(client: &Client, url: &str) -> Result<T, HttpError> {
    let body = get_bytes(client, url).await?;
    serde_json::from_slice(&body).map_err(|e| HttpError::InvalidJson {
        url: url.to_owned(),
        detail: e.to_string(),
    })
}
// ANCHOR_END: get

// ANCHOR: typed
/// One user and the first `posts` posts, all requested at once, decoded into structs.
pub async fn user_and_posts(
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
/// Sends `request`, retrying transient failures with `policy`, but only if the method is
/// idempotent (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) and the body can be replayed: a POST
/// that timed out may already have happened, so it is sent once.
pub async fn send_with_retry(
    client: &Client,
    request: Request,
    policy: &Backoff,
) -> Result<Bytes, RetryError<HttpError>> {
    let url = request.url().to_string();
    // The first try sends the request itself; retries send clones of this template.
    let template = request
        .try_clone()
        .filter(|_| is_idempotent(request.method()));
    let policy = if template.is_some() {
        *policy
    } else {
        Backoff {
            attempts: 1,
            ..*policy
        }
    };
    let mut first = Some(request);
    let attempt = |_try_number| {
        let next = first
            .take()
            .or_else(|| template.as_ref().and_then(Request::try_clone));
        let url = url.clone();
        async move {
            let Some(request) = next else {
                return Err(HttpError::Other {
                    url,
                    detail: "the request cannot be sent again".into(),
                });
            };
            let response = client
                .execute(request)
                .await
                .map_err(|e| HttpError::classify(&url, e))?;
            let response = response
                .error_for_status()
                .map_err(|e| HttpError::classify(&url, e))?;
            response
                .bytes()
                .await
                .map_err(|e| HttpError::classify(&url, e))
        }
    };
    retry(&policy, attempt, HttpError::is_transient).await
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
// ANCHOR_END: retry
