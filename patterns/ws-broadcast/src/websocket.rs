//! The hub over WebSocket, with tokio-tungstenite: one reader task and one writer task per
//! client, a ping every few seconds, size limits, and Close frames that say why.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use crate::pair::{self, FromReader, ReaderPanicked};
use crate::{Inbox, LeaveReason, SharedEvent, Speaker};

// ANCHOR: limits
/// How long a client may be silent or slow, and how large its messages may be.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A ping is sent this often; a client that has not answered the previous one by then
    /// is gone (browsers and tungstenite clients answer on their own).
    pub ping_every: Duration,
    /// A send to a client that takes longer than this disconnects it: it stopped reading.
    pub write_timeout: Duration,
    /// The largest message (and frame) a client may send, in bytes.
    pub max_message: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            ping_every: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
            max_message: 4096,
        }
    }
}

impl Limits {
    /// tokio-tungstenite's settings for these limits. The read buffer is allocated up
    /// front for every connection (128 KiB by default); 4 KiB keeps an idle client cheap.
    /// The write buffer grows only as frames are queued, and every frame fed before a
    /// flush waits in it, so a batch of events leaves in one write (at 0, each frame
    /// would be its own system call).
    pub fn config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(64 * 1024)
            .max_message_size(Some(self.max_message))
            .max_frame_size(Some(self.max_message))
    }
}
// ANCHOR_END: limits

/// How a WebSocket client's connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The client closed it, or the connection failed.
    ClientGone,
    /// The server closed it with this code and reason.
    Closed { code: u16, reason: String },
    /// The client did not answer a ping in time.
    NoPong,
    /// A send did not finish within [`Limits::write_timeout`].
    WriteTimeout,
    /// The server's writer task panicked (a bug); the connection was dropped.
    WriterPanicked(String),
}

// ANCHOR: serve
/// Serves one joined member over `ws` until either side ends: the reader turns the
/// client's text messages into [`Speaker::say`], the writer sends the member's events as
/// JSON. Returns how it ended; the member has left the hub by then.
///
/// # Cancel safety
///
/// This function is not cancel safe: a drop aborts both tasks and drops the socket without
/// a Close frame, and the events still in the member's outbox are lost; the member leaves
/// the hub at once.
pub async fn serve<S>(
    ws: WebSocketStream<S>,
    speaker: Speaker,
    inbox: Inbox,
    limits: Limits,
) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sink, stream) = ws.split();
    let (pongs_tx, pongs_rx) = watch::channel(Instant::now());
    let ended = pair::run_reader_and_writer(read(stream, speaker, pongs_tx), |from_reader| {
        write(sink, inbox, from_reader, pongs_rx, limits)
    })
    .await;
    ended.unwrap_or_else(|panic| {
        tracing::error!(%panic, "WebSocket writer panicked");
        Ended::WriterPanicked(panic.to_string())
    })
}
// ANCHOR_END: serve

/// Reads until the client closes or misbehaves; returns the Close frame to answer with, if
/// the client broke a rule.
// ANCHOR: read
async fn read<S>(
    mut stream: SplitStream<WebSocketStream<S>>,
    speaker: Speaker,
    pongs: watch::Sender<Instant>,
) -> Option<CloseFrame>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    while let Some(message) = stream.next().await {
        match message {
            Ok(Message::Text(text)) => {
                let text = text.trim();
                if !text.is_empty() {
                    speaker.say(text);
                }
            }
            Ok(Message::Binary(_)) => return Some(close(CloseCode::Unsupported, "text only")),
            Ok(Message::Pong(_)) => _ = pongs.send_replace(Instant::now()),
            // tungstenite queues the Pong (or the Close reply) itself; the writer's next
            // flush sends it.
            Ok(Message::Ping(_) | Message::Frame(_)) => {}
            Ok(Message::Close(_)) => return None,
            Err(WsError::Capacity(why)) => {
                tracing::info!(name = speaker.name(), %why, "message too big");
                return Some(close(CloseCode::Size, "message too big"));
            }
            Err(WsError::Utf8(_)) => return Some(close(CloseCode::Invalid, "invalid UTF-8")),
            Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => return None,
            Err(WsError::Protocol(why)) => {
                tracing::info!(name = speaker.name(), %why, "protocol error");
                return Some(close(CloseCode::Protocol, "protocol error"));
            }
            Err(why) => {
                tracing::debug!(name = speaker.name(), %why, "connection failed");
                return None;
            }
        }
    }
    None
}
// ANCHOR_END: read

/// Where the writer's loop ended: a frame to close with, or nothing more to send.
enum Goodbye {
    Close(CloseFrame),
    Silent(Ended),
}

/// Sends the member's events, batched while more are queued; pings; and ends with a Close
/// frame when the reader reports a broken rule, the hub removes the member, or the server
/// shuts down. One `batch` buffer is reused for every batch: it grows to the largest batch
/// once, and an idle client's costs nothing. When the pair is being dropped, the reader's
/// outcome is an error and this task goes too, with no Close frame.
// ANCHOR: write
async fn write<S: AsyncRead + AsyncWrite + Unpin>(
    mut sink: SplitSink<WebSocketStream<S>, Message>,
    mut inbox: Inbox,
    mut from_reader: FromReader<Option<CloseFrame>>,
    pongs: watch::Receiver<Instant>,
    limits: Limits,
) -> Ended {
    let mut ping = tokio::time::interval(limits.ping_every);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ping.tick().await; // the first tick is immediate
    let mut unanswered_since: Option<Instant> = None;
    let mut batch = Vec::new();
    let goodbye = loop {
        tokio::select! {
            biased;
            from_reader = &mut from_reader => match from_reader {
                Ok(Ok(Some(frame))) => break Goodbye::Close(frame),
                Ok(Ok(None)) => break Goodbye::Silent(Ended::ClientGone),
                Ok(Err(ReaderPanicked)) => break Goodbye::Close(close(CloseCode::Error, "internal error")),
                Err(_) => break Goodbye::Silent(Ended::ClientGone),
            },
            event = inbox.recv() => match event {
                Ok(event) => batch_up(event, &mut inbox, &mut batch),
                Err(reason) => break Goodbye::Close(close_for(reason)),
            },
            _ = ping.tick() => {
                if unanswered_since.is_some_and(|sent| *pongs.borrow() < sent) {
                    break Goodbye::Silent(Ended::NoPong);
                }
                unanswered_since = Some(Instant::now());
                batch.push(Message::Ping(Default::default()));
            }
        }
        if let Err(bye) = send_batch(&mut sink, &mut inbox, &mut batch, limits.write_timeout).await
        {
            break bye;
        }
    };
    say_goodbye(&mut sink, goodbye, limits.write_timeout).await
}
// ANCHOR_END: write

/// Sends the batch within `patience`, leaving it empty. A client that stopped reading
/// blocks the send, so it races the member's removal: a removed member gets its Close
/// frame, not a stuck write.
async fn send_batch<S>(
    sink: &mut SplitSink<WebSocketStream<S>, Message>,
    inbox: &mut Inbox,
    batch: &mut Vec<Message>,
    patience: Duration,
) -> Result<(), Goodbye>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let sent = tokio::select! {
        sent = timeout(patience, send_all(sink, batch)) => sent,
        reason = inbox.removed() => return Err(Goodbye::Close(close_for(reason))),
    };
    match sent {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Goodbye::Silent(Ended::ClientGone)),
        Err(_) => Err(Goodbye::Silent(Ended::WriteTimeout)),
    }
}

/// The most events one write carries.
const BATCH: usize = 64;

/// Adds the event just received to `batch`, and those already queued behind it, up to
/// [`BATCH`].
fn batch_up(first: Arc<SharedEvent>, inbox: &mut Inbox, batch: &mut Vec<Message>) {
    batch.push(to_message(&first));
    while batch.len() < BATCH {
        match inbox.try_recv() {
            Some(event) => batch.push(to_message(&event)),
            None => break,
        }
    }
}

/// Writes every message, then flushes once. The batch is empty afterwards, even when the
/// write fails or is cancelled part-way.
async fn send_all<S>(
    sink: &mut SplitSink<WebSocketStream<S>, Message>,
    batch: &mut Vec<Message>,
) -> Result<(), WsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    for message in batch.drain(..) {
        sink.feed(message).await?;
    }
    sink.flush().await
}

async fn say_goodbye<S>(
    sink: &mut SplitSink<WebSocketStream<S>, Message>,
    goodbye: Goodbye,
    within: Duration,
) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match goodbye {
        Goodbye::Close(frame) => {
            let ended = Ended::Closed {
                code: frame.code.into(),
                reason: frame.reason.to_string(),
            };
            // Best effort: the client may be gone, or not reading.
            let _ = timeout(within, sink.send(Message::Close(Some(frame)))).await;
            let _ = timeout(within, sink.close()).await;
            ended
        }
        Goodbye::Silent(ended) => {
            // Flushes a queued Close reply, if the client started the close.
            let _ = timeout(within, sink.close()).await;
            ended
        }
    }
}

/// The JSON text frame for an event: the bytes encoded once for every member.
pub fn to_message(event: &SharedEvent) -> Message {
    let json = Utf8Bytes::try_from(event.json()).expect("JSON is UTF-8");
    Message::Text(json)
}

// ANCHOR: close_for
/// The Close frame for a member the hub removed.
fn close_for(reason: LeaveReason) -> CloseFrame {
    match reason {
        LeaveReason::Shutdown => close(CloseCode::Away, "server shutting down"),
        // 1008: the client broke the room's policy by not keeping up.
        LeaveReason::TooSlow { .. } => close(CloseCode::Policy, &reason.to_string()),
        LeaveReason::Quit => close(CloseCode::Normal, "bye"),
    }
}
// ANCHOR_END: close_for

fn close(code: CloseCode, reason: &str) -> CloseFrame {
    CloseFrame {
        code,
        reason: reason.into(),
    }
}
