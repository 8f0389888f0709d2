//! Events queued for a member leave in one write: the writer feeds the whole batch into
//! tungstenite's write buffer and flushes once, so a burst costs one system call, not one
//! per event.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use ws_broadcast::websocket::Limits;
use ws_broadcast::{Hub, websocket};

const BURST: usize = 20;
/// Each message's length: the burst (about 4 KiB) outgrows a write buffer of a few hundred
/// bytes or one KiB, which would write it in pieces, and fits the configured 64 KiB.
const MESSAGE_BYTES: usize = 200;

/// The server's end of the connection, counting the writes that carried bytes.
struct CountingWrites {
    inner: DuplexStream,
    writes: Arc<AtomicUsize>,
}

impl AsyncRead for CountingWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountingWrites {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written
            && n > 0
        {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn a_queued_burst_leaves_in_one_write() {
    let hub = Hub::new(64);
    let (speaker, inbox) = hub.join("ada").unwrap();
    let (bob, _bob_inbox) = hub.join("bob").unwrap();
    // The burst is queued before the writer runs, so its first wake finds all of it.
    for n in 0..BURST {
        bob.say(format!("message {n:02} {}", "x".repeat(MESSAGE_BYTES - 11)));
    }
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let writes = Arc::new(AtomicUsize::new(0));
    let counted = CountingWrites {
        inner: server_io,
        writes: Arc::clone(&writes),
    };
    let limits = Limits::default();
    let server_ws =
        WebSocketStream::from_raw_socket(counted, Role::Server, Some(limits.config())).await;
    let mut client_ws = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
    let serving = tokio::spawn(websocket::serve(server_ws, speaker, inbox, limits));

    let mut from_bob = 0;
    while from_bob < BURST {
        let message = timeout(Duration::from_secs(10), client_ws.next())
            .await
            .expect("the burst arrives")
            .expect("the connection stays open")
            .unwrap();
        if message.to_text().unwrap().contains(r#""from":"bob""#) {
            from_bob += 1;
        }
    }
    // Everything queued (ada's welcome, bob's join, the burst) fits one batch.
    assert_eq!(
        writes.load(Ordering::Relaxed),
        1,
        "one write for the queued events"
    );
    serving.abort();
}
