//! The middleware, as layers from tower and tower-http around the routes: what a FastAPI
//! service adds with `app.add_middleware(...)` and Starlette's middleware classes.
//!
//! | layer | does | Python |
//! |---|---|---|
//! | `SetRequestIdLayer`, `PropagateRequestIdLayer` | an `x-request-id` on each request and its response | `asgi-correlation-id` |
//! | `TraceLayer` | a tracing span per request, with its id, method, path, status and latency | uvicorn's access log |
//! | `CatchPanicLayer` | a panicking handler answers 500; the server keeps serving | Starlette's `ServerErrorMiddleware` |
//! | `LoadShedLayer` + `ConcurrencyLimitLayer` | at most `concurrency` requests at once; more get 503 at once | uvicorn's `--limit-concurrency` |
//! | `TimeoutLayer` | a request not answered in time gets 408 | `asyncio.timeout` in a middleware |
//! | `RequestBodyLimitLayer` | a body over the limit gets 413 before it is read | a reverse proxy's limit |
//! | `CorsLayer` | the browser origins allowed to call the API | `CORSMiddleware` |
//! | `CompressionLayer` | gzip for clients that accept it | `GZipMiddleware` |
//! | `close_if_body_unread` | `connection: close` on an answer sent before the request's body was read | left to uvicorn |

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::{ApiError, json_error_bodies};

/// The limits the middleware enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Requests handled at once; more are answered 503 at once.
    pub concurrency: usize,
    /// Time a request may take to be answered; then 408.
    pub request_timeout: Duration,
    /// The largest body accepted, in bytes; larger gets 413.
    pub max_body: usize,
    /// Browser origins allowed to call the API (CORS); none allows no cross-origin calls.
    pub allowed_origins: Vec<HeaderValue>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            concurrency: 512,
            request_timeout: Duration::from_secs(10),
            max_body: 64 * 1024,
            allowed_origins: Vec::new(),
        }
    }
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

// ANCHOR: layers
/// Wraps `router` in the middleware. Each `.layer` wraps everything before it, so the
/// last one is the outermost: it sees the request first and the response last.
pub fn with_middleware(router: Router, limits: &Limits) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(limits.allowed_origins.clone()))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([axum::http::header::CONTENT_TYPE]);
    // Global: `Router::layer` wraps each route on its own, and one limit must count the
    // requests of every route. The shedder answers at once when the limit is reached.
    let shed_over_limit = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(limits.concurrency));
    router
        .layer(CompressionLayer::new())
        .layer(cors)
        .layer(RequestBodyLimitLayer::new(limits.max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(shed_over_limit)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(json_error_bodies))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(axum::middleware::from_fn(close_if_body_unread))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
}
// ANCHOR_END: layers

/// The request's span: its id (set by the outer layer) with the method and path.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", %id, method = %request.method(), path = %request.uri().path())
}

/// The load shedder's refusal, as a 503.
async fn overloaded(error: tower::BoxError) -> Response {
    if error.is::<tower::load_shed::error::Overloaded>() {
        return ApiError::Busy.into_response();
    }
    ApiError::Internal(anyhow::anyhow!("middleware failed: {error}")).into_response()
}

/// A handler's panic, as the same 500 any other fault gets; the message is logged.
fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = patterns_core::error::panic_message(&*payload);
    ApiError::Internal(anyhow::anyhow!("handler panicked: {message}")).into_response()
}

// ANCHOR: close_if_body_unread
/// Marks `connection: close` on an HTTP/1 answer that leaves before its request's body
/// was read to the end: a 413 from the body limit, or a rejection that never looked at
/// the body. hyper will not read the rest of a large body, so it closes the connection
/// after such an answer; without the header, a client pooling connections would send its
/// next request down a socket the server has closed, and fail with a broken pipe.
async fn close_if_body_unread(request: Request, next: Next) -> Response {
    // HTTP/2 closes a stream, never the connection; an empty body has nothing to read.
    if request.version() >= Version::HTTP_2 || http_body::Body::is_end_stream(request.body()) {
        return next.run(request).await;
    }
    let read_to_end = Arc::new(AtomicBool::new(false));
    let flag = read_to_end.clone();
    let request = request.map(|body| {
        Body::new(ReadToEnd {
            body,
            read_to_end: flag,
        })
    });
    let mut response = next.run(request).await;
    if !read_to_end.load(Ordering::Acquire) {
        let close = HeaderValue::from_static("close");
        response.headers_mut().insert(header::CONNECTION, close);
    }
    response
}
// ANCHOR_END: close_if_body_unread

/// A request body that records when it has been read to its end.
struct ReadToEnd {
    body: Body,
    read_to_end: Arc<AtomicBool>,
}

impl http_body::Body for ReadToEnd {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let frame = Pin::new(&mut self.body).poll_frame(cx);
        // The last frame, or the end after it: either way nothing is left unread.
        if matches!(frame, Poll::Ready(None)) || self.body.is_end_stream() {
            self.read_to_end.store(true, Ordering::Release);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
