//! The sockets demo: a TCP echo, a line server fed bad lines, and a UDP exchange whose
//! first datagram the server drops, all over loopback, with the counts each server kept.
//!
//! ```text
//! cargo run -p sockets
//! cargo run -p sockets -- --echo 127.0.0.1:7000     # an echo server until Ctrl-C
//! RUST_LOG=debug cargo run -p sockets               # the UDP retries, as they happen
//! ```

mod demo;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use patterns_core::{app, cli};
use sockets::unix::UnixServer;
use sockets::{LineLimits, Retry, accept_loop, answer_loop, echo, request, shout};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;

/// TCP, framed lines and UDP over loopback, beside asyncio's streams.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Serve TCP echo on this address until Ctrl-C, instead of the demo.
    #[arg(long, value_name = "ADDR", value_parser = cli::listen_addr)]
    echo: Option<SocketAddr>,
    /// Serve the JSON frames on this Unix socket path until Ctrl-C, instead of the demo;
    /// the socket file is removed at the end.
    #[arg(long, value_name = "PATH", conflicts_with = "echo")]
    unix: Option<PathBuf>,
    /// The longest line the line server takes, in bytes.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    max_line: u32,
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(run(Args::parse())).await
}

async fn run(args: Args) -> anyhow::Result<()> {
    if let Some(address) = args.echo {
        return serve_echo(address).await;
    }
    if let Some(path) = args.unix {
        return serve_unix(path).await;
    }
    tcp_echo().await?;
    lines(args.max_line as usize).await?;
    udp().await?;
    let path = std::env::temp_dir().join(format!("sockets-demo-{}.sock", std::process::id()));
    demo::unix_json::demo(&path).await?;
    demo::tls::demo().await
}

/// `--unix`: JSON frames answered until Ctrl-C; dropping the server removes its file.
async fn serve_unix(path: PathBuf) -> anyhow::Result<()> {
    let server = UnixServer::bind(&path, 0o600)
        .await
        .with_context(|| format!("cannot listen on {}", path.display()))?;
    println!("json frames on {}; Ctrl-C stops", path.display());
    let stop = CancellationToken::new();
    let ctrl_c = patterns_core::shutdown::ctrl_c()?;
    let serving = tokio::spawn(demo::unix_json::serve(server, stop.clone()));
    ctrl_c.await?;
    stop.cancel();
    let served = serving.await?;
    println!(
        "served {} requests; {} removed: {}",
        served.answered,
        path.display(),
        !path.exists()
    );
    Ok(())
}

/// `--echo`: every connection echoed until Ctrl-C.
async fn serve_echo(address: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    println!("echo on {}; Ctrl-C stops", listener.local_addr()?);
    let stop = CancellationToken::new();
    let ctrl_c = patterns_core::shutdown::ctrl_c()?;
    let serving = tokio::spawn(accept_loop(listener, stop.clone(), |stream, _| {
        echo(stream)
    }));
    ctrl_c.await?;
    stop.cancel();
    let accepted = serving.await??;
    println!("served {} connections", accepted.connections);
    Ok(())
}

async fn tcp_echo() -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let stop = CancellationToken::new();
    let serving = tokio::spawn(accept_loop(listener, stop.clone(), |stream, _| {
        echo(stream)
    }));
    let mut client = TcpStream::connect(address).await?;
    let sent = vec![b'x'; 100_000];
    client.write_all(&sent).await?;
    client.shutdown().await?;
    let mut back = Vec::new();
    client.read_to_end(&mut back).await?;
    stop.cancel();
    let accepted = serving.await??;
    println!(
        "tcp echo: {} bytes sent, {} back, nothing lost: {}, connections: {}",
        sent.len(),
        back.len(),
        back == sent,
        accepted.connections
    );
    Ok(())
}

async fn lines(max_line: usize) -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await?;
        let limits = LineLimits {
            max_line,
            idle: Duration::from_secs(10),
        };
        anyhow::Ok(shout(stream, limits).await?)
    });
    let (reader, mut writer) = TcpStream::connect(address).await?.into_split();
    let long = "y".repeat(max_line + 1);
    writer
        .write_all(format!("hello\n{long}\n\u{fffd}\n").as_bytes())
        .await?;
    writer.write_all(b"\xff\xfe\nbye\n").await?;
    writer.shutdown().await?;
    let mut answers = BufReader::new(reader).lines();
    while let Some(answer) = answers.next_line().await? {
        println!("line server: {}", truncate(&answer, 60));
    }
    let counts = server.await??;
    println!(
        "line server: {} answered, {} refused",
        counts.answered, counts.refused
    );
    Ok(())
}

async fn udp() -> anyhow::Result<()> {
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    let client = UdpSocket::bind("127.0.0.1:0").await?;
    client.connect(socket.local_addr()?).await?;
    let stop = CancellationToken::new();
    let mut seen = 0;
    let server = tokio::spawn({
        let stop = stop.clone();
        async move {
            // Drops the first datagram, as a lossy network would.
            answer_loop(&socket, 1024, stop, move |datagram, _| {
                seen += 1;
                (seen != 1).then(|| datagram.to_ascii_uppercase())
            })
            .await
        }
    });
    let retry = Retry {
        per_try: Duration::from_millis(200),
        tries: 3,
    };
    let mut all_answered = true;
    for (id, word) in [(1, "ping"), (2, "pong")] {
        let (answer, tries) = request(&client, id, word.as_bytes(), retry).await?;
        all_answered &= answer == word.to_uppercase().as_bytes();
        println!(
            "udp: {word} -> {} after {tries} {}",
            String::from_utf8_lossy(&answer),
            if tries == 1 { "try" } else { "tries" }
        );
    }
    stop.cancel();
    let answered = server.await??;
    println!(
        "udp: {} answered, {} dropped, every request answered: {all_answered}",
        answered.answered, answered.dropped
    );
    Ok(())
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}
