//! Demo: the caching sidecar in front of the fixture server's JSON API (or `--url`), asked
//! over TCP by a few clients: a miss, a hit, an unknown id, a bad line, ten lookups at once.
//!
//! ```text
//! cargo run -p testing
//! cargo run -p testing -- --url https://jsonplaceholder.typicode.com/ --addr 127.0.0.1:7070
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fixture_server::FixtureServer;
use futures::future::try_join_all;
use patterns_core::app;
use patterns_core::cli::{self, Url};
use testing::{Client, HttpOrigin, Policy, Reply, UserCache, serve};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Run the caching sidecar against the embedded fixture server (or --url) and ask it.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// The origin: an API serving `users/{id}` below this URL (default: the embedded fixture).
    #[arg(long, value_parser = cli::http_url)]
    url: Option<Url>,
    /// Where the sidecar listens.
    #[arg(long, default_value = "127.0.0.1:0", value_parser = cli::listen_addr)]
    addr: std::net::SocketAddr,
    /// How long a user stays cached, in milliseconds.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    ttl_ms: u64,
    /// Tries per fetch from the origin after the first.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=9))]
    retries: u32,
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let fixture = match &args.url {
        Some(_) => None,
        None => Some(FixtureServer::start().await?),
    };
    let base = match (&args.url, &fixture) {
        (Some(url), _) => url.clone(),
        (None, Some(server)) => Url::parse(&server.base_url())?,
        (None, None) => unreachable!("a fixture is started when no --url is given"),
    };
    let policy = Policy {
        ttl: Duration::from_millis(args.ttl_ms),
        retries: args.retries,
        ..Policy::default()
    };
    let cache = UserCache::new(HttpOrigin::new(base, Duration::from_secs(5))?, policy);
    let listener = TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "the sidecar listens");
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(serve(listener, cache.clone(), shutdown.clone()));

    let mut client = Client::connect(addr).await?;
    for line in ["GET 1", "GET 1", "GET 404", "GET x"] {
        let reply = client.request(line).await?;
        println!("{line} → {}", show(&reply));
        if let (Some(url), "GET 1", Reply::Error(why)) = (&args.url, line, &reply) {
            anyhow::bail!("--url {url}: {why}"); // the origin the user named does not work
        }
    }
    // two lookups of user 1: the first fetched it, the second found it fresh
    println!(
        "second lookup served from the cache: {}",
        cache.stats().hits == 1
    );

    // ten clients ask for the same user at the same moment
    let lookups = (0..10).map(|_| async move {
        let mut client = Client::connect(addr).await?;
        anyhow::Ok(client.request("GET 2").await?)
    });
    let before = cache.stats();
    let replies = try_join_all(lookups).await?;
    let after = cache.stats();
    let all_found = replies
        .iter()
        .all(|r| matches!(r, Reply::Found(u) if u.id == 2));
    let fetches = after.fetches - before.fetches;
    println!(
        "10 lookups at once, {fetches} fetch: {} (all answered: {all_found}; {} joined the fetch in flight)",
        fetches == 1 && all_found,
        after.joined - before.joined
    );
    let stats = cache.stats();
    match &fixture {
        Some(server) => println!(
            "origin requests: {} (the fixture server counted {})",
            stats.fetches,
            server.stats().requests
        ),
        None => println!("origin requests: {}", stats.fetches),
    }
    println!("cache: {stats:?}");
    drop(client);
    shutdown.cancel();
    server.await??;
    Ok(())
}

fn show(reply: &Reply) -> String {
    match reply {
        Reply::Found(user) => format!("OK {} <{}>", user.name, user.email),
        Reply::NotFound(id) => format!("NOT_FOUND {id}"),
        Reply::Error(why) => format!("ERR {why}"),
    }
}
