//! Both transports over one hub in one process: an HTTP listener that serves the chat page
//! at `/` and WebSocket clients at `/ws?name=NAME`, and a TCP listener for line clients.
//! Shutdown stops accepting, closes every client with a goodbye, and waits for their tasks.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use patterns_core::shutdown::{Shutdown, ShutdownReport};
use tokio::net::TcpListener;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::origin::Origins;
use crate::websocket::{self, Limits};
use crate::{Hub, Inbox, JoinRefused, Speaker, tcp_lines};

/// The chat page, embedded in the binary. It connects to the host it was loaded from.
pub const PAGE: &str = include_str!("page.html");

/// Where to listen and how strict to be.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The page and the WebSocket endpoint.
    pub http: SocketAddr,
    /// Line clients.
    pub tcp: SocketAddr,
    /// How many events a member may fall behind before it is disconnected.
    pub outbox: usize,
    pub limits: Limits,
    /// The pages whose WebSocket connections are accepted (default: this server's own).
    pub origins: Origins,
}

impl ServerConfig {
    /// Both listeners on free loopback ports.
    pub fn loopback() -> Self {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            http: any_port,
            tcp: any_port,
            outbox: 256,
            limits: Limits::default(),
            origins: Origins::SameHost,
        }
    }
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    hub: Hub,
    shutdown: Shutdown,
    http_addr: SocketAddr,
    tcp_addr: SocketAddr,
}

#[derive(Debug, Clone)]
struct App {
    hub: Hub,
    shutdown: Shutdown,
    limits: Limits,
    origins: Arc<Origins>,
}

impl Server {
    // ANCHOR: start
    /// Binds both listeners and starts accepting (`asyncio.start_server`). Binding to a
    /// socket address never waits, so this is a plain function, where Python awaits; it
    /// must be called inside a Tokio runtime, which runs the accept loops.
    pub fn start(config: ServerConfig) -> io::Result<Self> {
        let hub = Hub::new(config.outbox);
        let shutdown = Shutdown::new();
        let http = bind(config.http)?;
        let tcp = bind(config.tcp)?;
        let (http_addr, tcp_addr) = (http.local_addr()?, tcp.local_addr()?);
        let app = App {
            hub: hub.clone(),
            shutdown: shutdown.clone(),
            limits: config.limits,
            origins: Arc::new(config.origins),
        };
        let router = Router::new()
            .route("/", get(|| async { Html(PAGE) }))
            .route("/ws", get(upgrade))
            .with_state(app);
        let stop = shutdown.token();
        // Small messages must leave at once, not wait for Nagle's algorithm.
        let http = http.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        shutdown.spawn(async move {
            // Upgraded connections leave hyper, so this returns once accepting stops.
            let serving = axum::serve(http, router).with_graceful_shutdown(stop.cancelled_owned());
            if let Err(why) = serving.await {
                tracing::error!(%why, "HTTP server failed");
            }
        });
        shutdown.spawn(accept_lines(tcp, hub.clone(), shutdown.clone()));
        tracing::info!(%http_addr, %tcp_addr, "listening");
        Ok(Self {
            hub,
            shutdown,
            http_addr,
            tcp_addr,
        })
    }
    // ANCHOR_END: start

    /// The hub both transports share.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The page is at `http://{http_addr}/`.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// `ws://{http_addr}/ws`: add `?name=NAME`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.http_addr)
    }

    /// Line clients connect here.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    // ANCHOR: shut_down
    /// Stops accepting, tells every client goodbye (Close 1001 on WebSocket, a last line on
    /// TCP), and waits up to `grace` for every connection task to end; those still running
    /// then are aborted, and the report counts them.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: once polled, the shutdown has begun and cannot be
    /// undone, so a losing `select!` branch has still stopped the listeners and told the
    /// clients goodbye. The drop only stops the waiting for the tasks; call `shut_down`
    /// again to wait for those still running.
    pub async fn shut_down(&self, grace: Duration) -> ShutdownReport {
        self.shutdown.trigger();
        self.hub.shut_down();
        self.shutdown.shutdown(grace).await
    }
    // ANCHOR_END: shut_down
}

/// A listener on `addr`, bound at once: an address needs no lookup, so nothing waits.
fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    TcpListener::from_std(listener)
}

// ANCHOR: accept
/// The TCP accept loop: one task per client, until shutdown.
async fn accept_lines(listener: TcpListener, hub: Hub, shutdown: Shutdown) {
    let stop = shutdown.token();
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                let _ = stream.set_nodelay(true);
                let ended = tcp_lines::serve(stream, hub.clone(), stop.clone());
                shutdown.spawn(async move {
                    let how = ended.await;
                    tracing::debug!(how, "TCP client ended");
                });
            }
            // Out of file descriptors, say: the listener itself is fine, so wait a little
            // and accept again rather than end the server.
            Err(why) => {
                tracing::warn!(%why, "accept failed");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
        }
    }
}
// ANCHOR_END: accept

#[derive(Debug, serde::Deserialize)]
struct JoinQuery {
    name: String,
}

/// `GET /ws?name=NAME`: checks the page's `Origin`, joins the hub, answers `101 Switching Protocols`, and hands the
/// upgraded connection to tokio-tungstenite. A refused name gets a plain HTTP error, so
/// the page can show why. (axum's own `WebSocketUpgrade` does the same handshake; this is
/// tokio-tungstenite's `server-custom-accept` example, so the socket is tokio-tungstenite's
/// `WebSocketStream` with its `WebSocketConfig`.)
// ANCHOR: upgrade
async fn upgrade(
    State(app): State<App>,
    Query(query): Query<JoinQuery>,
    mut request: Request,
) -> Response {
    let Some(accept) = accept_key(request.headers()) else {
        return (StatusCode::BAD_REQUEST, "expected a WebSocket upgrade").into_response();
    };
    // A page on another site must not chat in its visitor's name (see `origin`).
    if let Err(why) = app.origins.allow(request.headers()) {
        tracing::warn!(%why, "upgrade refused");
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let (speaker, inbox) = match app.hub.join(&query.name) {
        Ok(member) => member,
        Err(why) => return (refused_status(&why), why.to_string()).into_response(),
    };
    let on_upgrade = hyper::upgrade::on(&mut request);
    app.shutdown
        .spawn(serve_upgraded(on_upgrade, speaker, inbox, app.limits));
    switching_protocols(accept)
}

/// The HTTP status for a refused name: the page shows it.
fn refused_status(why: &JoinRefused) -> StatusCode {
    match why {
        JoinRefused::InvalidName(_) => StatusCode::BAD_REQUEST,
        JoinRefused::NameTaken(_) => StatusCode::CONFLICT,
        JoinRefused::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
    }
}
// ANCHOR_END: upgrade

// ANCHOR: upgrade_spawn
/// Serves the member over the connection once hyper has handed it over. The member is
/// joined already: if the upgrade fails, dropping its halves leaves.
async fn serve_upgraded(on_upgrade: OnUpgrade, speaker: Speaker, inbox: Inbox, limits: Limits) {
    match on_upgrade.await {
        Ok(upgraded) => {
            let io = TokioIo::new(upgraded);
            let ws =
                WebSocketStream::from_raw_socket(io, Role::Server, Some(limits.config())).await;
            let ended = websocket::serve(ws, speaker, inbox, limits).await;
            tracing::debug!(?ended, "WebSocket client ended");
        }
        Err(why) => tracing::debug!(%why, "upgrade failed"),
    }
}

/// `101 Switching Protocols`, with the key that proves the server read the request.
fn switching_protocols(accept: HeaderValue) -> Response {
    (
        StatusCode::SWITCHING_PROTOCOLS,
        [
            (header::CONNECTION, HeaderValue::from_static("upgrade")),
            (header::UPGRADE, HeaderValue::from_static("websocket")),
            (header::SEC_WEBSOCKET_ACCEPT, accept),
        ],
    )
        .into_response()
}
// ANCHOR_END: upgrade_spawn

/// `Sec-WebSocket-Accept` for a valid upgrade request, `None` for anything else.
fn accept_key(headers: &HeaderMap) -> Option<HeaderValue> {
    let has_token = |name, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value
                .to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    let version_13 = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v == "13");
    if !has_token(header::CONNECTION, "upgrade")
        || !has_token(header::UPGRADE, "websocket")
        || !version_13
    {
        return None;
    }
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?;
    HeaderValue::from_str(&derive_accept_key(key.as_bytes())).ok()
}
