//! One error type for every handler, answered as JSON in FastAPI's shape: `{"detail":
//! "..."}`, or for a request that does not fit its model, a 422 whose `detail` lists each
//! field with its reason (FastAPI's `RequestValidationError`). Responses made by the
//! middleware (413, 404, 405, 408, 503, a panic's 500) get the same body from
//! [`json_error_bodies`].

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::store::StoreError;

// ANCHOR: field_error
/// One reason a request does not fit its model, as FastAPI reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Where: `["body", "price_cents"]`, `["query", "limit"]`, `["path", "id"]`.
    pub loc: Vec<String>,
    /// Why, for a person.
    pub msg: String,
    /// Why, for a program: `missing`, `type`, `range`, `length`.
    #[serde(rename = "type")]
    pub kind: String,
}
// ANCHOR_END: field_error

impl FieldError {
    /// A reason about `field` of the request's `part` (`body`, `query`, `path`), where
    /// `field` is a serde path: `items[2].name` gives `["body", "items", "2", "name"]`.
    pub fn new(part: &str, field: &str, kind: &str, msg: impl Into<String>) -> Self {
        let mut loc = vec![part.to_owned()];
        let segments = field.split(['.', '[', ']']).filter(|f| !f.is_empty());
        loc.extend(segments.map(str::to_owned));
        Self {
            loc,
            msg: msg.into(),
            kind: kind.to_owned(),
        }
    }
}

// ANCHOR: api_error
/// Everything a handler can answer instead of its result (FastAPI's `HTTPException`).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404: no such row.
    #[error("{what} {id} not found")]
    NotFound {
        /// `item` or `order`.
        what: &'static str,
        /// The id asked for.
        id: i64,
    },
    /// 409: the request clashes with what is stored (a taken name, too little stock).
    #[error("{0}")]
    Conflict(String),
    /// 422: well-formed JSON (or query, or path) that does not fit the model.
    #[error("the request does not fit its model")]
    Invalid(Vec<FieldError>),
    /// 400: a body that is not JSON at all.
    #[error("{0}")]
    Malformed(String),
    /// 415: a body sent without `Content-Type: application/json`.
    #[error("expected Content-Type: application/json")]
    NotJson,
    /// 413: a body over the limit.
    #[error("payload too large")]
    TooLarge,
    /// 503: no database connection came free in time; the client may try again.
    #[error("the service is busy; try again")]
    Busy,
    /// 500: a fault of the service. The cause is logged, never sent.
    #[error("internal server error")]
    Internal(#[source] anyhow::Error),
}
// ANCHOR_END: api_error

impl ApiError {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

// ANCHOR: into_response
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            Self::Invalid(fields) => (status, Json(Detail { detail: fields })).into_response(),
            Self::Internal(cause) => {
                tracing::error!(cause = %format!("{cause:#}"), "request failed");
                detail(status, &status_reason(status))
            }
            other => detail(status, &other.to_string()),
        }
    }
}
// ANCHOR_END: into_response

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { what, id } => Self::NotFound { what, id },
            StoreError::NameTaken(name) => Self::Conflict(format!("an item named {name:?} exists")),
            StoreError::OutOfStock { item_id, stock } => {
                Self::Conflict(format!("item {item_id} has {stock} in stock"))
            }
            StoreError::Ordered(id) => Self::Conflict(format!("item {id} has orders")),
            StoreError::Busy => Self::Busy,
            StoreError::Database(cause) => Self::Internal(cause.into()),
        }
    }
}

/// The JSON body of every error: a message, or the list of field errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Detail<T> {
    /// What went wrong.
    pub detail: T,
}

fn detail(status: StatusCode, message: &str) -> Response {
    (status, Json(Detail { detail: message })).into_response()
}

fn status_reason(status: StatusCode) -> String {
    status
        .canonical_reason()
        .unwrap_or("error")
        .to_ascii_lowercase()
}

// ANCHOR: json_error_bodies
/// Middleware that gives an error response made without a JSON body (axum's 404 and 405,
/// tower-http's 413 and 408, the load shedder's 503) the same `{"detail": ...}` body the
/// handlers' errors have, so a client parses one shape.
pub(crate) async fn json_error_bodies(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let body = serde_json::to_vec(&Detail {
        detail: status_reason(status),
    })
    .expect("a string serializes");
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}
// ANCHOR_END: json_error_bodies
