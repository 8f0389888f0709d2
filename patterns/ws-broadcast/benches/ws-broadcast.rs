//! `fanout-N`: N WebSocket clients and one sender connected to a chat server; the sender
//! sends 1,000 messages, each carrying its send time, and every client must receive every
//! one. Delivered messages per second, p50 and p99 of send-to-delivery latency, and the
//! server's resident memory per idle connection.
//!
//! The servers are separate processes: this crate's binary (`--serve`) and the Python
//! reference (`python/broadcast.py --serve`, on asyncio and on uvloop). This process is
//! the load client for all of them, on its own Tokio runtime. The sender keeps at most
//! `--window` messages ahead of the slowest client, so no client falls a full outbox
//! behind and is dropped: both servers run the same policy and must lose nothing.
//!
//! ```text
//! cargo bench -p ws-broadcast
//! cargo bench -p ws-broadcast -- --clients 100 --messages 5000 --window 16
//! ```

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use bench_harness::{Bench, Options, PythonLoop, Record, python_script};
use clap::Parser;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_with_config};

/// Fan-out of one sender's messages to N WebSocket clients, Rust and Python servers.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    options: Options,
    /// Client counts, one workload each.
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    clients: Vec<usize>,
    /// Messages the sender sends per run.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    messages: u64,
    /// The most messages the sender may be ahead of the slowest client.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=64))]
    window: u64,
    /// Which servers to measure.
    #[arg(long, value_delimiter = ',', default_value = "rust,asyncio,uvloop",
          value_parser = ["rust", "asyncio", "uvloop"])]
    servers: Vec<String>,
}

/// Both servers' outbox capacity. Join and leave notices count too: when 1,000 clients
/// connect at once, each member gets up to 1,000 notices in a burst, and an outbox of 64
/// (the demo's) drops members whose writer had not yet had a turn. The sender's window
/// keeps the messages themselves at most 32 ahead.
const OUTBOX: &str = "2048";

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn main() -> ExitCode {
    bench_harness::main(run)
}

fn run(args: Args) -> anyhow::Result<()> {
    ensure!(
        args.clients.iter().all(|&n| (1..=5000).contains(&n)),
        "--clients: 1 to 5000 each"
    );
    raise_open_files_limit(args.clients.iter().max().copied().unwrap_or(0))?;
    // The load client: one thread, so the server has the other core.
    let (_, runtime) = bench_harness::runtime(0)?;
    for &clients in &args.clients {
        let mut bench = Bench::new(
            env!("CARGO_PKG_NAME"),
            &format!("fanout-{clients}"),
            &args.options,
        )?;
        let clients = if bench.is_quick() {
            clients.min(10)
        } else {
            clients
        };
        let plan = Plan {
            clients,
            messages: bench.items(args.messages, 20, 1_000_000)?,
            window: args.window,
            runs: bench.runs(),
        };
        let wanted = |name: &str| args.servers.iter().any(|s| s == name);
        let mut servers = Vec::new();
        if wanted("rust") {
            servers.push(("tokio-tungstenite", None, rust_server()));
        }
        let script = python_script(env!("CARGO_MANIFEST_DIR"), "broadcast.py");
        for event_loop in PythonLoop::BOTH {
            if !wanted(event_loop.name()) {
                continue;
            }
            if let Some(command) = bench.python_command(&script) {
                servers.push((
                    "python-websockets",
                    Some(event_loop),
                    python_server(command, event_loop),
                ));
            }
        }
        for (variant, event_loop, command) in servers {
            let server = ServerProcess::start(command)
                .with_context(|| format!("starting the {variant} server"))?;
            let record = runtime.block_on(measure(&server, bench.workload(), variant, &plan))?;
            // The Rust server runs on `#[tokio::main]`'s multi-thread runtime.
            let server_runtime = event_loop.map_or("multi_thread", PythonLoop::name);
            bench.record(record.on(server_runtime))?;
        }
        bench.finish()?;
    }
    Ok(())
}

/// One workload's sizes.
#[derive(Debug, Clone, Copy)]
struct Plan {
    clients: usize,
    messages: u64,
    window: u64,
    runs: u32,
}

fn rust_server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ws-broadcast"));
    command
        .args(["--serve", "127.0.0.1:0"])
        .env("RUST_LOG", "warn");
    command
}

fn python_server(mut command: Command, event_loop: PythonLoop) -> Command {
    command.args([
        "--serve",
        "127.0.0.1:0",
        "--outbox",
        OUTBOX,
        "--loop",
        event_loop.name(),
    ]);
    command
}

/// A server in its own process, killed on drop.
struct ServerProcess {
    child: Child,
    ws_url: String,
}

impl ServerProcess {
    /// Starts `command` and reads its `chat page: http://ADDR/` line.
    fn start(mut command: Command) -> anyhow::Result<Self> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let Some(line) = lines.next().transpose()? else {
                bail!("the server exited before it printed its address");
            };
            if let Some(rest) = line.strip_prefix("chat page: http://") {
                break rest.trim_end_matches('/').to_owned();
            }
        };
        // Keep draining its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self {
            child,
            ws_url: format!("ws://{addr}/ws"),
        })
    }

    /// CPU time (user + system) the server process has used so far, in seconds (Linux
    /// `/proc`, in clock ticks of 10 ms: sum it over runs, not within one message).
    fn cpu_secs(&self) -> anyhow::Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // After the command name in parentheses: state, ppid, ... utime is the 12th field.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .context("stat")?
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        Ok(ticks as f64 / 100.0)
    }

    /// Resident memory of the server process, in KiB (Linux `/proc`).
    fn rss_kib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .context("no VmRSS")?;
        let kib = line.split_whitespace().nth(1).context("VmRSS value")?;
        Ok(kib.parse()?)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ANCHOR: measure
/// A warm-up run, which also measures the memory of idle connections on the fresh server,
/// then `plan.runs` timed runs, each with fresh connections.
async fn measure(
    server: &ServerProcess,
    workload: &str,
    variant: &str,
    plan: &Plan,
) -> anyhow::Result<Record> {
    let mut durations = Vec::new();
    let mut latencies = Vec::new();
    let mut idle_kib = 0.0;
    let mut server_cpu = Duration::ZERO;
    let mut client_cpu = Duration::ZERO;
    for run in 0..=plan.runs {
        let outcome = one_run(server, run, plan).await?;
        if run == 0 {
            // A fresh server: later runs reuse memory the allocator kept from this one.
            idle_kib = outcome.idle_kib_per_connection;
        } else {
            durations.push(outcome.elapsed);
            server_cpu += outcome.server_cpu;
            client_cpu += outcome.client_cpu;
            latencies.extend(outcome.latencies_ns);
        }
    }
    let delivered = plan.messages * plan.clients as u64;
    let mut record = Record::from_runs(workload, variant, delivered, &mut durations);
    latencies.sort_unstable();
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize] as f64 / 1e6;
    record.p50_ms = Some(percentile(0.50));
    record.p99_ms = Some(percentile(0.99));
    record.kib_per_idle_connection = Some(idle_kib);
    let all_delivered = delivered as f64 * f64::from(plan.runs);
    record.server_cpu_us_per_item = Some(server_cpu.as_secs_f64() * 1e6 / all_delivered);
    // The load client's share of the two cores, the same for every server.
    record.cpu_us_per_item = Some(client_cpu.as_secs_f64() * 1e6 / all_delivered);
    Ok(record)
}
// ANCHOR_END: measure

struct Outcome {
    elapsed: Duration,
    server_cpu: Duration,
    client_cpu: Duration,
    latencies_ns: Vec<u64>,
    idle_kib_per_connection: f64,
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

async fn one_run(server: &ServerProcess, run: u32, plan: &Plan) -> anyhow::Result<Outcome> {
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
        let (socket, _) = connect(format!("{}?name=r{run}-{index}", server.ws_url)).await?;
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
    let (sender, _) = connect(format!("{}?name={sender_name}", server.ws_url)).await?;
    // The sender reads too (the notices of those who leave), or it would be dropped.
    let (mut sender, mut notices) = sender.split();
    let draining = tokio::spawn(async move { while let Some(Ok(_)) = notices.next().await {} });
    // Every receiver saw the sender join, so every join notice before it was delivered.
    within(progress.until(|p| p.ready.load(Ordering::Acquire) == plan.clients)).await??;
    let idle_kib_per_connection = (server.rss_kib()? - before) / (plan.clients + 1) as f64;

    // ANCHOR: send
    let cpu_before = server.cpu_secs()?;
    let client_before = bench_harness::cpu_time()
        .context("this process's CPU time")?
        .own;
    let sending = Instant::now();
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
    // ANCHOR_END: send
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
fn raise_open_files_limit(clients: usize) -> anyhow::Result<()> {
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
