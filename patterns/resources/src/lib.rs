//! Async context managers in Rust, on the vocabulary of `patterns-core`:
//!
//! - [`Connection`]: a real HTTP/1.1 connection with async connect and disconnect
//!   (`class AsyncConnection` with `__aenter__`/`__aexit__`);
//! - [`process_files`]: files written and read with `tokio::fs`, each timed by a
//!   [`Timer`] guard (`@asynccontextmanager async def timer`, `aiofiles.open`);
//! - [`ScratchDir`]: a directory removed asynchronously on release;
//! - [`critical_section`]: a lock held as a scoped guard (`async with lock:`);
//! - [`fetch_through_stack`]: resources entered at run time on an exit stack
//!   (`AsyncExitStack`).
//!
//! Run the demo with `cargo run -p resources`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use futures::future::try_join_all;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper::{Request, Uri, header};
use hyper_util::rt::TokioIo;
use patterns_core::{AsyncResource, ScopeError, Timer, with_exit_stack};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// One HTTP/1.1 connection to a server, reused for every request until released.
#[derive(Debug)]
pub struct Connection {
    authority: String,
    sender: http1::SendRequest<Empty<Bytes>>,
    /// hyper drives the connection's I/O in a task of its own.
    driver: JoinHandle<hyper::Result<()>>,
}

impl Connection {
    // ANCHOR: connection
    /// Connects to `base_url` (`http://host:port`): the `__aenter__`.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: until it returns there is only a socket being connected,
    /// closed when dropped; hyper's task is spawned in the same poll that returns the
    /// connection.
    pub async fn connect(base_url: &str) -> anyhow::Result<Self> {
        let uri: Uri = base_url
            .parse()
            .with_context(|| format!("invalid URL {base_url:?}"))?;
        anyhow::ensure!(
            uri.scheme_str() == Some("http"),
            "{base_url}: this connection speaks plain http:// only (reqwest does TLS)"
        );
        let authority = uri.authority().context("the URL has no host")?.to_string();
        let host = uri.host().context("the URL has no host")?;
        let port = uri.port_u16().unwrap_or(80); // http://example.com means port 80
        let stream = TcpStream::connect((host.trim_matches(['[', ']']), port))
            .await
            .with_context(|| format!("cannot connect to {authority}"))?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        let driver = tokio::spawn(connection);
        tracing::info!(%authority, "connected");
        Ok(Self {
            authority,
            sender,
            driver,
        })
    }
    // ANCHOR_END: connection

    /// Sends `GET path` on this connection and returns the body as text.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: dropped mid-request, the request is abandoned and
    /// hyper closes the connection, as HTTP/1 has no other way to skip the rest of a
    /// response. The `Connection` is then spent: release it (its release still succeeds),
    /// do not reuse it.
    pub async fn fetch(&mut self, path: &str) -> anyhow::Result<String> {
        let request = Request::get(path)
            .header(header::HOST, &self.authority)
            .body(Empty::new())?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        anyhow::ensure!(status.is_success(), "GET {path}: {status}");
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

// ANCHOR: connection_release
/// The `__aexit__`: stop sending, then wait until hyper has really closed the socket.
impl AsyncResource for Connection {
    async fn release(self) -> anyhow::Result<()> {
        drop(self.sender); // no more requests: hyper closes the connection
        self.driver.await??;
        tracing::info!(authority = %self.authority, "disconnected");
        Ok(())
    }
}
// ANCHOR_END: connection_release

// ANCHOR: scratch_dir
/// A temporary directory whose removal is awaited on release.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates a fresh directory under the system's temporary directory.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: if it is dropped while the directory is being made, the
    /// directory is removed as soon as it exists; none is left behind.
    pub async fn create(prefix: &str) -> anyhow::Result<Self> {
        let prefix = prefix.to_owned();
        // Picking a unique name and creating it is a blocking syscall pair: off the runtime.
        // The `TempDir` is kept only once it is ours: if this future is dropped first, the
        // finished task's output is dropped, and `TempDir`'s own drop removes it.
        let dir =
            tokio::task::spawn_blocking(move || tempfile::Builder::new().prefix(&prefix).tempdir())
                .await?
                .context("cannot create a scratch directory")?;
        Ok(Self { path: dir.keep() })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AsyncResource for ScratchDir {
    async fn release(self) -> anyhow::Result<()> {
        tokio::fs::remove_dir_all(&self.path)
            .await
            .with_context(|| format!("cannot remove {}", self.path.display()))
    }
}
// ANCHOR_END: scratch_dir

/// What processing one file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file name.
    pub name: String,
    /// Its size as read.
    pub bytes: usize,
    /// How long its processing took, timer included.
    pub elapsed: Duration,
}

/// Writes one file per size into `dir`, concurrently, and returns their paths.
///
/// # Cancel safety
///
/// This function is not cancel safe: tokio's file writes run on the blocking pool, and a
/// write handed to it finishes even after this future is dropped, so some files are there,
/// whole, and some not. That is why the demo writes into a [`ScratchDir`], whose release
/// removes them all.
pub async fn write_files(dir: &Path, sizes: &[usize]) -> anyhow::Result<Vec<PathBuf>> {
    try_join_all(sizes.iter().enumerate().map(|(i, &size)| async move {
        let path = dir.join(format!("file{}.txt", i + 1));
        tokio::fs::write(&path, "x".repeat(size))
            .await
            .with_context(|| format!("cannot write {}", path.display()))?;
        anyhow::Ok(path)
    }))
    .await
}

// ANCHOR: process_file
/// Reads a file and simulates `work` on it, inside a timer (the tutorial's `AsyncTimer`).
///
/// # Cancel safety
///
/// This function is cancel safe: it only reads. A losing `select!` branch stops it; its
/// timer still logs the time so far.
pub async fn process_file(path: &Path, work: Duration) -> anyhow::Result<FileReport> {
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let timer = Timer::start(format!("process {name}"));
    let content = tokio::fs::read_to_string(path)
        .await
        .with_context(|| format!("cannot read {}", path.display()))?;
    tokio::time::sleep(work).await; // the "heavy processing" of the tutorial
    Ok(FileReport {
        name,
        bytes: content.len(),
        elapsed: timer.stop(),
    })
}

/// Processes every file at once; the first failure cancels the rest.
///
/// # Cancel safety
///
/// This function is cancel safe, as [`process_file`] is: a losing `select!` branch drops
/// every file's processing at once.
pub async fn process_files(paths: &[PathBuf], work: Duration) -> anyhow::Result<Vec<FileReport>> {
    try_join_all(paths.iter().map(|path| process_file(path, work))).await
}
// ANCHOR_END: process_file

// ANCHOR: critical_section
/// Enters a critical section guarded by `lock` (`async with lock:`). The guard *is* the
/// scope: the lock is released when it drops, on return, on `?` and on panic alike.
///
/// # Cancel safety
///
/// This function is not cancel safe. Dropped while waiting for the lock, it has done
/// nothing. Dropped while holding it, the guard is dropped and the lock is free again, but
/// the section is half done: the journal says `acquired` with no `released`. Python's
/// `async with lock:`, cancelled inside, leaves the same half-done state. Keep what must
/// not be half done out of `.await`s.
pub async fn critical_section(lock: &Mutex<Vec<String>>, name: &str, hold: Duration) {
    let mut journal = lock.lock().await;
    journal.push(format!("{name} acquired"));
    // A tokio Mutex guard may be held across .await; a std one may not (see the chapter).
    tokio::time::sleep(hold).await;
    journal.push(format!("{name} released"));
}
// ANCHOR_END: critical_section

/// Runs one critical section per name, all at once, and returns the lock's journal.
///
/// # Cancel safety
///
/// This function is not cancel safe, as [`critical_section`] is not: a drop drops every
/// section at once; the lock and its journal go with it.
pub async fn contend(names: &[&str], hold: Duration) -> Vec<String> {
    let lock = Mutex::new(Vec::new());
    futures::future::join_all(names.iter().map(|name| critical_section(&lock, name, hold))).await;
    lock.into_inner()
}

// ANCHOR: exit_stack
/// Opens one connection per URL, decided at run time, plus a scratch directory; fetches
/// `path` on each connection and saves the body. Everything entered is released in
/// reverse order at the end, or as soon as anything fails.
///
/// # Cancel safety
///
/// This function is cancel safe, as `with_exit_stack` is: dropped anywhere, every
/// connection and the scratch directory entered so far are released in the background, in
/// reverse order; `patterns_core::resource::background_releases` waits for them.
pub async fn fetch_through_stack(
    base_urls: &[String],
    path: &str,
) -> Result<Vec<usize>, ScopeError<anyhow::Error>> {
    with_exit_stack(async |stack| {
        let scratch = stack.enter(ScratchDir::create("resources-")).await?;
        let mut connections = Vec::new();
        for url in base_urls {
            connections.push(stack.enter(Connection::connect(url)).await?);
        }
        let mut sizes = Vec::new();
        for (i, &connection) in connections.iter().enumerate() {
            let body = stack.get_mut(connection).fetch(path).await?;
            let file = stack.get(scratch).path().join(format!("response-{i}.txt"));
            tokio::fs::write(file, &body).await?;
            sizes.push(body.len());
        }
        Ok(sizes)
    })
    .await
}
// ANCHOR_END: exit_stack
