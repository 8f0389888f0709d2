//! Serving the app: what `axum::serve(listener, app).with_graceful_shutdown(signal)`
//! does, plus the two things a service exposed to real clients needs and `axum::serve`
//! leaves out (uvicorn has both as flags):
//!
//! - a **header read timeout**: a client that sends its request line and headers a byte
//!   at a time (slowloris) is cut off after `header_read_timeout`, instead of holding a
//!   connection forever (uvicorn's `--timeout-keep-alive` and h11's limits);
//! - a **grace period**: at shutdown, requests in flight get `grace` to finish; then their
//!   connections are cut, and the report says how many (uvicorn's
//!   `--timeout-graceful-shutdown`).
//!
//! Each connection is served by hyper through hyper-util's `auto::Builder` (HTTP/1.1 and
//! HTTP/2), in a task of its own.

use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower_http::metrics::InFlightRequestsLayer;

/// How connections are served and stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeConfig {
    /// Time a client has to send a request's line and headers.
    pub header_read_timeout: Duration,
    /// Time requests in flight at shutdown have to finish before their connections are
    /// cut.
    pub grace: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            grace: Duration::from_secs(10),
        }
    }
}

/// What [`serve`] did, told when it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// Connections accepted.
    pub connections: u64,
    /// Requests being handled when the stop came.
    pub in_flight_at_stop: usize,
    /// Connections still busy when the grace period ran out, and cut.
    pub connections_cut: usize,
    /// Requests being handled when `serve` returned: 0, unless a handler outlives its
    /// connection.
    pub in_flight_at_end: usize,
}

// ANCHOR: serve
/// Accepts connections on `listener` and serves `app` on each, until `stop` is
/// cancelled; then stops accepting, lets the requests in flight finish within the grace
/// period, cuts the connections still busy, and returns what happened.
///
/// # Cancel safety
///
/// This method is not cancel safe: dropped, it stops accepting at once, and the
/// connections it had accepted are aborted (each with its request in flight, whose
/// future is dropped: a transaction it had open rolls back), with no grace period and no
/// report. Cancel `stop` instead.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: ServeConfig,
    stop: CancellationToken,
) -> Served {
    let (counting, in_flight) = InFlightRequestsLayer::pair();
    // The connections' tasks live in a `JoinSet`: dropping it aborts them all.
    let mut connections = JoinSet::new();
    let stopping = CancellationToken::new();
    let app = app.layer(counting);
    let accepted = accept(&listener, &mut connections, &app, config, &stopping, &stop).await;
    drop(listener);
    let in_flight_at_stop = in_flight.get();
    stopping.cancel();
    let connections_cut = drain(connections, config.grace).await;
    Served {
        connections: accepted,
        in_flight_at_stop,
        connections_cut,
        in_flight_at_end: in_flight.get(),
    }
}
// ANCHOR_END: serve

// ANCHOR: accept
/// Accepts until `stop`, each connection a task in `connections`; returns how many.
async fn accept(
    listener: &TcpListener,
    connections: &mut JoinSet<()>,
    app: &Router,
    config: ServeConfig,
    stopping: &CancellationToken,
    stop: &CancellationToken,
) -> u64 {
    let mut accepted = 0;
    loop {
        while connections.try_join_next().is_some() {} // forget finished connections
        let stream = tokio::select! {
            () = stop.cancelled() => return accepted,
            result = listener.accept() => match result {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Out of file descriptors, say: wait a little, do not spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        accepted += 1;
        connections.spawn(serve_connection(
            stream,
            app.clone(),
            config,
            stopping.clone(),
        ));
    }
}
// ANCHOR_END: accept

// ANCHOR: serve_connection
/// One connection: HTTP/1.1 or HTTP/2, with the header read timeout; at the stop, hyper
/// finishes the request in flight and closes the connection (an idle one at once).
async fn serve_connection(
    stream: TcpStream,
    app: Router,
    config: ServeConfig,
    stopping: CancellationToken,
) {
    // Small responses leave at once instead of waiting for Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let service = TowerToHyperService::new(app);
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let served = tokio::select! {
        served = connection.as_mut() => served,
        () = stopping.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = served {
        tracing::debug!(%error, "connection ended with an error");
    }
}
// ANCHOR_END: serve_connection

// ANCHOR: drain
/// Waits up to `grace` for the connections to finish, then aborts the rest; returns how
/// many were cut.
async fn drain(mut connections: JoinSet<()>, grace: Duration) -> usize {
    let finished = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if finished.is_ok() {
        return 0;
    }
    connections.abort_all();
    let mut cut = 0;
    while let Some(ended) = connections.join_next().await {
        cut += usize::from(ended.is_err_and(|e| e.is_cancelled()));
    }
    tracing::warn!(
        cut,
        ?grace,
        "connections still busy after the grace period were cut"
    );
    cut
}
// ANCHOR_END: drain
