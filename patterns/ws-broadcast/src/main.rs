//! Demo: a chat hub over WebSocket and TCP lines in one process.
//!
//! ```text
//! cargo run -p ws-broadcast                              # a scripted conversation, then exit
//! cargo run -p ws-broadcast -- --serve 127.0.0.1:8000    # open http://127.0.0.1:8000/
//! nc 127.0.0.1 8001                                      # first line: your name
//! ```
//!
//! With no arguments the server starts on free ports, two WebSocket clients (ada, cy) and
//! a TCP one (bob) talk, a client that never reads (slowpoke) is disconnected while ada
//! floods the room, and a shutdown says goodbye to everyone.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use patterns_core::{app, cli};
use tokio::net::TcpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use ws_broadcast::Event;
use ws_broadcast::client::{LineClient, Received, WsClient};
use ws_broadcast::origin::{Origins, parse_origin};
use ws_broadcast::server::{Server, ServerConfig};
use ws_broadcast::websocket::Limits;

/// A chat hub: WebSocket and TCP clients in one room, slow clients disconnected.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Serve the chat page and WebSocket clients on this address until Ctrl-C, instead of
    /// the scripted demo.
    #[arg(long, value_name = "ADDR", value_parser = cli::listen_addr)]
    serve: Option<SocketAddr>,
    /// Address for TCP line clients (default: the --serve port plus one, or a free port).
    #[arg(long, value_name = "ADDR", value_parser = cli::listen_addr)]
    tcp: Option<SocketAddr>,
    /// Events a client may fall behind before it is disconnected.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    outbox: u32,
    /// Seconds between pings; a client that misses one is disconnected.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    ping_secs: u64,
    /// The largest message a client may send, in bytes.
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u32).range(16..=16_777_216))]
    max_message: u32,
    /// A page origin allowed to open WebSocket connections, such as
    /// https://chat.example.com; repeat it for more. Default: the server's own pages.
    #[arg(long, value_name = "ORIGIN", value_parser = parse_origin)]
    allow_origin: Vec<String>,
    /// Seconds the shutdown waits for clients before it aborts their tasks.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=600))]
    grace_secs: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let config = server_config(&args)?;
    let (http, tcp) = (config.http, config.tcp);
    let server =
        Server::start(config).with_context(|| format!("cannot listen on {http} and {tcp}"))?;
    let grace = Duration::from_secs(args.grace_secs);
    if args.serve.is_some() {
        return serve_until_ctrl_c(server, grace).await;
    }
    conversation(server, grace).await
}

fn server_config(args: &Args) -> anyhow::Result<ServerConfig> {
    let mut config = ServerConfig::loopback();
    if let Some(http) = args.serve {
        config.http = http;
        config.tcp = SocketAddr::new(
            http.ip(),
            if http.port() == 0 {
                0
            } else {
                http.port().saturating_add(1)
            },
        );
    }
    if let Some(tcp) = args.tcp {
        config.tcp = tcp;
    }
    if config.http == config.tcp && config.http.port() != 0 {
        bail!("--serve and --tcp are both {}", config.http);
    }
    config.outbox = args.outbox as usize;
    if !args.allow_origin.is_empty() {
        config.origins = Origins::List(args.allow_origin.clone());
    }
    config.limits = Limits {
        ping_every: Duration::from_secs(args.ping_secs),
        write_timeout: Duration::from_secs(5),
        max_message: args.max_message as usize,
    };
    Ok(config)
}

// ANCHOR: serve
async fn serve_until_ctrl_c(server: Server, grace: Duration) -> anyhow::Result<()> {
    // Installed before the first line is printed, so no early Ctrl-C kills the process.
    // A second Ctrl-C, during the shutdown, stops it at once.
    let ctrl_c = patterns_core::shutdown::ctrl_c()?;
    println!("chat page: http://{}/", server.http_addr());
    println!(
        "TCP lines: nc {} {}",
        server.tcp_addr().ip(),
        server.tcp_addr().port()
    );
    println!("Ctrl-C stops the server");
    ctrl_c.await?;
    let report = server.shut_down(grace).await;
    println!(
        "stopped in {:?}; tasks aborted: {}",
        report.elapsed, report.aborted
    );
    Ok(())
}
// ANCHOR_END: serve

/// A client whose socket receive buffer is about 4 KiB (the kernel may round it): once it
/// stops reading, its buffers fill after a few messages, not after megabytes.
async fn small_buffer_client(addr: SocketAddr, url: &str, name: &str) -> anyhow::Result<WsClient> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_recv_buffer_size(4096)?;
    WsClient::over(socket.connect(addr).await?, url, name).await
}

/// The scripted conversation.
async fn conversation(server: Server, grace: Duration) -> anyhow::Result<()> {
    let url = server.ws_url();
    let mut ada = WsClient::connect(&url, "ada").await?;
    show("ada", &next_event(&mut ada).await?);
    let mut bob = LineClient::connect(server.tcp_addr(), "bob").await?;
    show_line("bob", &next_line(&mut bob).await?);
    show("ada", &next_event(&mut ada).await?);
    let mut cy = WsClient::connect(&url, "cy").await?;
    show("cy", &next_event(&mut cy).await?);
    show("ada", &next_event(&mut ada).await?);
    show_line("bob", &next_line(&mut bob).await?);

    ada.say("hello from a WebSocket").await?;
    show_line("bob", &next_line(&mut bob).await?);
    show("cy", &next_event(&mut cy).await?);
    bob.say("hello from a TCP line").await?;
    show("ada", &next_event(&mut ada).await?);
    show("cy", &next_event(&mut cy).await?);

    let flooded = slow_client(&server, &mut ada, bob, cy).await?;
    let (bob, mut cy) = (flooded.bob, flooded.cy);
    show("ada", &next_event(&mut ada).await?);

    let report = server.shut_down(grace).await;
    let mut bob = bob;
    show_line("bob", &next_line(&mut bob).await?);
    show("cy", &cy.next().await?);
    show("ada", &ada.next().await?);
    println!("clean shutdown: {}", report.is_clean());
    println!("hub empty: {}", server.hub().members().is_empty());
    Ok(())
}

/// What the others kept after the flood.
struct Flooded {
    bob: LineClient,
    cy: WsClient,
}

// ANCHOR: slow_client
/// slowpoke joins and never reads; ada floods the room in bursts that bob and cy keep up
/// with. slowpoke's socket buffers fill, then its outbox, and the hub disconnects it. bob
/// and cy must have every message, in order.
async fn slow_client(
    server: &Server,
    ada: &mut WsClient,
    mut bob: LineClient,
    mut cy: WsClient,
) -> anyhow::Result<Flooded> {
    let url = server.ws_url();
    let _slowpoke = small_buffer_client(server.http_addr(), &url, "slowpoke").await?;
    show_line("bob", &next_line(&mut bob).await?);
    show("cy", &next_event(&mut cy).await?);
    show("ada", &next_event(ada).await?);

    // Each reader counts ada's messages and reports what it saw of slowpoke.
    let (bob_count, bob_seen) = watch::channel(0);
    let bob_reader = tokio::spawn(async move {
        let count = bob_count;
        loop {
            let line = next_line(&mut bob).await?;
            if let Some(number) = flood_number(line.strip_prefix("ada: ").unwrap_or_default()) {
                count.send_replace(number? + 1);
            } else if line.starts_with("* slowpoke left") {
                show_line("bob", &line);
            } else if line == "ada: done" {
                return anyhow::Ok(bob);
            }
        }
    });
    let (cy_count, cy_seen) = watch::channel(0);
    let cy_reader: JoinHandle<anyhow::Result<WsClient>> = tokio::spawn(async move {
        let count = cy_count;
        loop {
            match next_event(&mut cy).await? {
                Received::Event(Event::Message { text, .. }) if text == "done" => return Ok(cy),
                Received::Event(Event::Message { text, .. }) => {
                    let number = flood_number(&text).context("unexpected message")??;
                    if number != *count.borrow() {
                        bail!("cy got flood {number} after {}", *count.borrow());
                    }
                    count.send_replace(number + 1);
                }
                _ => {}
            }
        }
    });

    const BURST: u64 = 32;
    const MAX: u64 = 100_000;
    let padding = "x".repeat(200);
    let mut sent = 0;
    while sent < MAX && server.hub().members().iter().any(|m| m.name == "slowpoke") {
        for _ in 0..BURST {
            ada.say(&format!("flood {sent} {padding}")).await?;
            sent += 1;
        }
        // Wait until both readers have caught up: no sleep, just their counts. A reader
        // that failed closes its channel; its error is reported below.
        for seen in [&bob_seen, &cy_seen] {
            if seen.clone().wait_for(|&n| n >= sent).await.is_err() {
                break;
            }
        }
    }
    ada.say("done").await?;
    let bob = bob_reader.await??;
    let cy = cy_reader.await??;
    let (bob_got, cy_got) = (*bob_seen.borrow(), *cy_seen.borrow());
    println!("ada sent {sent} messages; bob got {bob_got}, cy got {cy_got}");
    println!("nothing lost: {}", bob_got == sent && cy_got == sent);
    Ok(Flooded { bob, cy })
}
// ANCHOR_END: slow_client

/// `flood 17 xxx…` → 17.
fn flood_number(text: &str) -> Option<anyhow::Result<u64>> {
    let rest = text.strip_prefix("flood ")?;
    let number = rest.split(' ').next().unwrap_or_default();
    Some(
        number
            .parse()
            .with_context(|| format!("bad flood number {number:?}")),
    )
}

async fn next_event(client: &mut WsClient) -> anyhow::Result<Received> {
    tokio::time::timeout(Duration::from_secs(10), client.next())
        .await
        .context("no event within 10 s")?
}

async fn next_line(client: &mut LineClient) -> anyhow::Result<String> {
    tokio::time::timeout(Duration::from_secs(10), client.next_line())
        .await
        .context("no line within 10 s")??
        .context("the server closed the connection")
}

fn show(who: &str, received: &Received) {
    match received {
        Received::Event(event) => println!("{who} <- {event}"),
        Received::Closed { code, reason } => {
            let code = code.map_or("no code".into(), |c| c.to_string());
            println!("{who} <- closed {code} ({reason})");
        }
    }
}

fn show_line(who: &str, line: &str) {
    println!("{who} <- {line}");
}
