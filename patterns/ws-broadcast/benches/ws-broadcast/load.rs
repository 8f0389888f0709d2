//! The load client: N receivers and one sender on WebSocket connections to the server,
//! the sender kept at most a window ahead of the slowest receiver.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use futures::{Sink, SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_with_config};

use crate::Plan;
use bench_harness::ServerProcess;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) struct Outcome {
    pub(crate) elapsed: Duration,
    pub(crate) server_cpu: Duration,
    pub(crate) client_cpu: Duration,
    pub(crate) latencies_ns: Vec<u64>,
    pub(crate) idle_kib_per_connection: f64,
}

/// What the receivers tell the sender: how many messages each has, and how many saw the
/// sender join.
struct Progress {
    received: Vec<AtomicU64>,
    /// Set by the sender before it waits, so receivers only take `Notify`'s lock then.
    waiting: AtomicBool,
    ready: AtomicUsize,
    /// A receiver failed: its error, for the sender to stop waiting and report.
    failed: std::sync::Mutex<Option<String>>,
    changed: Notify,
}

impl Progress {
    fn slowest(&self) -> u64 {
        self.received
            .iter()
            .map(|n| n.load(Ordering::Acquire))
            .min()
            .unwrap_or(0)
    }

    /// Waits until `done()` holds, woken by the receivers rather than polling; fails as
    /// soon as a receiver does.
    async fn until(&self, done: impl Fn(&Self) -> bool) -> anyhow::Result<()> {
        loop {
            let changed = self.changed.notified();
            self.waiting.store(true, Ordering::SeqCst);
            if let Some(why) = self
                .failed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
            {
                bail!("{why}");
            }
            if done(self) {
                return Ok(());
            }
            changed.await;
        }
    }

    fn wake_sender(&self) {
        if self.waiting.swap(false, Ordering::SeqCst) {
            self.changed.notify_waiters();
        }
    }

    fn fail(&self, why: &anyhow::Error) {
        *self.failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{why:#}"));
        self.changed.notify_waiters();
    }
}

pub(crate) async fn one_run(
    server: &ServerProcess,
    run: u32,
    plan: &Plan,
) -> anyhow::Result<Outcome> {
    let started = Instant::now(); // the timestamps' epoch
    let before = server.rss_kib()?;
    let progress = Arc::new(Progress {
        received: (0..plan.clients).map(|_| AtomicU64::new(0)).collect(),
        waiting: AtomicBool::new(false),
        ready: AtomicUsize::new(0),
        failed: std::sync::Mutex::new(None),
        changed: Notify::new(),
    });
    let mut receivers = JoinSet::new();
    for index in 0..plan.clients {
        let (socket, _) = connect(format!("ws://{}/ws?name=r{run}-{index}", server.addr)).await?;
        let (progress, messages) = (Arc::clone(&progress), plan.messages);
        receivers.spawn(async move {
            let received = receive(socket, index, &progress, messages, started).await;
            if let Err(why) = &received {
                progress.fail(why);
            }
            received
        });
    }
    let sender_name = format!("sender{run}");
    let (sender, _) = connect(format!("ws://{}/ws?name={sender_name}", server.addr)).await?;
    // The sender reads too (the notices of those who leave), or it would be dropped.
    let (mut sender, mut notices) = sender.split();
    let draining = tokio::spawn(async move { while let Some(Ok(_)) = notices.next().await {} });
    // Every receiver saw the sender join, so every join notice before it was delivered.
    within(progress.until(|p| p.ready.load(Ordering::Acquire) == plan.clients)).await??;
    let idle_kib_per_connection = (server.rss_kib()? - before) / (plan.clients + 1) as f64;

    let cpu_before = server.cpu_secs()?;
    let client_before = bench_harness::cpu_time()
        .context("this process's CPU time")?
        .own;
    let sending = Instant::now();
    send_within_window(&mut sender, &progress, plan, started).await?;
    let mut latencies_ns = Vec::with_capacity(plan.clients * plan.messages as usize);
    let mut last = sending;
    let mut sockets = Vec::with_capacity(plan.clients);
    while let Some(received) = within(receivers.join_next()).await? {
        let (finished, latencies, socket) = received??;
        last = last.max(finished);
        latencies_ns.extend(latencies);
        sockets.push(socket);
    }
    let elapsed = last - sending;
    let server_cpu = Duration::from_secs_f64(server.cpu_secs()? - cpu_before);
    let client_cpu = bench_harness::cpu_time().context("CPU time")?.own - client_before;
    // Only now may they leave: a receiver that left earlier would have sent every other
    // one a notice, and 100 notices on top of the window fill an outbox of 64.
    within(futures::future::join_all(
        sockets.into_iter().map(close_politely),
    ))
    .await?;
    sender.close().await?;
    within(draining).await??;
    Ok(Outcome {
        elapsed,
        server_cpu,
        client_cpu,
        latencies_ns,
        idle_kib_per_connection,
    })
}

// ANCHOR: send
/// Sends `plan.messages` messages, each with its send time, never more than `plan.window`
/// ahead of the slowest receiver, so that no outbox fills and nobody is dropped.
async fn send_within_window(
    sender: &mut (impl Sink<Message, Error = tungstenite::Error> + Unpin),
    progress: &Progress,
    plan: &Plan,
    started: Instant,
) -> anyhow::Result<()> {
    for seq in 0..plan.messages {
        if seq >= plan.window {
            let behind = seq - plan.window;
            within(progress.until(|p| p.slowest() > behind)).await??;
        }
        let sent_at = started.elapsed().as_nanos();
        sender
            .send(Message::text(format!("{seq} {sent_at}")))
            .await?;
    }
    Ok(())
}
// ANCHOR_END: send

/// A client socket with Nagle's algorithm off, as the servers have it: small messages go
/// out at once instead of waiting for the previous one's ACK.
async fn connect(
    url: String,
) -> Result<(Socket, impl Sized), tokio_tungstenite::tungstenite::Error> {
    connect_async_with_config(url, None, true).await
}

/// Reads until all `messages` have come, in order; returns when the last came, the latency
/// of each, and the socket, to close once everyone is done.
async fn receive(
    mut socket: Socket,
    index: usize,
    progress: &Progress,
    messages: u64,
    started: Instant,
) -> anyhow::Result<(Instant, Vec<u64>, Socket)> {
    let mut latencies = Vec::with_capacity(messages as usize);
    let mut next = 0;
    while next < messages {
        let Some(message) = socket.next().await else {
            bail!("receiver {index}: the server closed after {next} messages");
        };
        let Message::Text(json) = message? else {
            continue;
        };
        let Some(text) = text_field(&json) else {
            if json.contains("\"joined\"") && json.contains("\"sender") {
                progress.ready.fetch_add(1, Ordering::AcqRel);
                progress.wake_sender();
            } else if json.contains("too_slow") {
                bail!("receiver {index}: someone was dropped: {json}");
            }
            continue;
        };
        let (seq, sent_at) = text.split_once(' ').context("seq and time")?;
        ensure!(
            seq.parse::<u64>()? == next,
            "receiver {index}: {seq} came when {next} was due"
        );
        let sent_at: u128 = sent_at.parse()?;
        latencies.push((started.elapsed().as_nanos() - sent_at) as u64);
        next += 1;
        progress.received[index].store(next, Ordering::SeqCst);
        progress.wake_sender();
    }
    Ok((Instant::now(), latencies, socket))
}

/// Close 1000, then read until the server's reply, so it has let go before the next run.
async fn close_politely(mut socket: Socket) {
    let _ = socket.close(None).await;
    while let Some(Ok(_)) = socket.next().await {}
}

/// The `text` of a `message` event, from Rust's (`"text":"…"`) or Python's (`"text": "…"`)
/// JSON, without a full parse: the load client must not be the bottleneck.
fn text_field(json: &str) -> Option<&str> {
    if !json.contains("\"message\"") {
        return None;
    }
    let rest = json
        .split_once("\"text\":")?
        .1
        .trim_start()
        .strip_prefix('"')?;
    rest.split_once('"').map(|(text, _)| text)
}

async fn within<T>(future: impl Future<Output = T>) -> anyhow::Result<T> {
    timeout(Duration::from_secs(120), future)
        .await
        .context("no progress within 120 s")
}

/// Two descriptors per client in this process is plenty; the servers inherit the limit.
pub(crate) fn raise_open_files_limit(clients: usize) -> anyhow::Result<()> {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
    let wanted = (clients as u64 * 2 + 256).min(hard);
    if soft < wanted {
        rlimit::setrlimit(rlimit::Resource::NOFILE, wanted, hard)?;
    }
    ensure!(
        wanted >= clients as u64 + 64,
        "the open-files limit {hard} is too low for {clients} clients"
    );
    Ok(())
}
