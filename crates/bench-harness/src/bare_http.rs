//! The bound of the HTTP workloads: GETs on hyper's bare HTTP/1.1 client connections, with
//! no pool, no redirects, no decompression, no timeouts and no URL parsing. What a GET
//! costs a client below reqwest, measured against the same fixture server.

use anyhow::{Context as _, ensure};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// One keep-alive HTTP/1.1 connection to a server; its requests go one after another.
#[derive(Debug)]
pub struct BareConnection {
    sender: SendRequest<Empty<Bytes>>,
    host: String,
}

impl BareConnection {
    /// Connects to `base_url` (`http://host:port`, as the fixture server gives it) and
    /// spawns the task that drives the connection.
    pub async fn open(base_url: &str) -> anyhow::Result<Self> {
        let host = base_url
            .strip_prefix("http://")
            .with_context(|| format!("not an http:// URL: {base_url}"))?
            .trim_end_matches('/')
            .to_owned();
        let stream = TcpStream::connect(&host)
            .await
            .with_context(|| format!("connect {host}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self { sender, host })
    }

    /// GETs `path` and returns the body; any status but 200 is an error.
    pub async fn get(&mut self, path: &str) -> anyhow::Result<Bytes> {
        let request = Request::get(path)
            .header("host", &self.host)
            .body(Empty::new())?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        ensure!(status == StatusCode::OK, "GET {path}: {status}");
        Ok(body)
    }
}

/// `count` connections to `base_url`, opened one after another. Each sits behind a mutex,
/// so runs that share them take turns.
pub async fn open_many(base_url: &str, count: usize) -> anyhow::Result<Vec<Mutex<BareConnection>>> {
    let mut connections = Vec::with_capacity(count);
    for _ in 0..count {
        connections.push(Mutex::new(BareConnection::open(base_url).await?));
    }
    Ok(connections)
}

/// GETs every path over `connections`, at most one request in flight on each: connection
/// `k` takes paths `k`, `k + n`, `k + 2n`... one after another. The bodies come back in the
/// order of `paths`.
pub async fn get_spread(
    connections: &[Mutex<BareConnection>],
    paths: &[String],
) -> anyhow::Result<Vec<Bytes>> {
    let n = connections.len();
    anyhow::ensure!(n > 0, "no connections");
    let shares = connections.iter().enumerate().map(async |(k, connection)| {
        let mut connection = connection.lock().await;
        let mut bodies = Vec::new();
        for path in paths.iter().skip(k).step_by(n) {
            bodies.push(connection.get(path).await?);
        }
        anyhow::Ok(bodies)
    });
    let shares = futures::future::try_join_all(shares).await?;
    // Share k holds paths k, k + n, ...: deal them back into one list.
    let mut shares: Vec<_> = shares.into_iter().map(Vec::into_iter).collect();
    let mut bodies = Vec::with_capacity(paths.len());
    for i in 0..paths.len() {
        bodies.extend(shares[i % n].next());
    }
    Ok(bodies)
}
