//! Server-Sent Events: `GET /events` streams every [`Update`] to each client that listens
//! (FastAPI's `StreamingResponse` of `text/event-stream`, sse-starlette's
//! `EventSourceResponse`).
//!
//! One `broadcast` channel fans the updates out. A client that hangs up drops its stream,
//! and with it its receiver: nothing is left behind. A client too slow to keep up loses
//! the oldest updates and is told how many (a `lagged` event), instead of slowing the
//! others. When the server stops, every stream ends, so no connection holds the shutdown.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::model::Update;

/// The updates' channel and the signal that ends every stream. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct Events {
    sender: broadcast::Sender<Update>,
    stop: CancellationToken,
}

impl Events {
    /// A channel that keeps up to `backlog` updates for a slow listener, ended by `stop`.
    pub fn new(backlog: usize, stop: CancellationToken) -> Self {
        let (sender, _) = broadcast::channel(backlog.max(1));
        Self { sender, stop }
    }

    /// Sends an update to every listener; returns how many there were.
    pub fn publish(&self, update: Update) -> usize {
        self.sender.send(update).unwrap_or(0)
    }

    /// Listeners now: each open `GET /events`.
    pub fn listeners(&self) -> usize {
        self.sender.receiver_count()
    }

    // ANCHOR: stream
    /// The updates from now on, as SSE events, until the server stops.
    pub fn stream(&self) -> impl Stream<Item = Result<Event, Infallible>> + Send + use<> {
        BroadcastStream::new(self.sender.subscribe())
            .map(|received| Ok(event_of(received)))
            .take_until(self.stop.clone().cancelled_owned())
    }
    // ANCHOR_END: stream
}

fn event_of(received: Result<Update, BroadcastStreamRecvError>) -> Event {
    match received {
        Ok(update) => Event::default()
            .event("update")
            .json_data(&update)
            .unwrap_or_else(|_| Event::default().event("error")),
        Err(BroadcastStreamRecvError::Lagged(missed)) => {
            Event::default().event("lagged").data(missed.to_string())
        }
    }
}

// ANCHOR: handler
/// Streams updates as Server-Sent Events; a comment every 15 s keeps proxies from
/// closing a quiet stream.
#[utoipa::path(
    get,
    path = "/events",
    tag = "events",
    responses((status = 200, description = "text/event-stream of updates", body = Update,
        content_type = "text/event-stream"))
)]
pub(crate) async fn updates(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    Sse::new(state.events.stream()).keep_alive(KeepAlive::default())
}
// ANCHOR_END: handler
