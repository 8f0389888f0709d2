//! The plain idiom before `scoped`: a type with an async `close`, called by hand after the
//! work, on the error path too; and what `Drop` alone can and cannot do.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ANCHOR: plain_close
/// A connection whose goodbye is a write: `close` must be awaited, so it is a method.
struct Connection {
    stream: TcpStream,
}

impl Connection {
    async fn open(address: std::net::SocketAddr) -> io::Result<Self> {
        Ok(Self {
            stream: TcpStream::connect(address).await?,
        })
    }

    async fn send(&mut self, line: &str) -> io::Result<()> {
        if line.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "an empty line"));
        }
        self.stream.write_all(format!("{line}\n").as_bytes()).await
    }

    /// `__aexit__`: the goodbye, then the shutdown. Takes `self`: a closed connection
    /// cannot be used again.
    async fn close(mut self) -> io::Result<()> {
        self.stream.write_all(b"BYE\n").await?;
        self.stream.shutdown().await
    }
}

/// `async with open(addr) as conn: await conn.send(line)`, written out: the work's
/// result is kept, `close` runs after it whatever it was, then the result is returned.
async fn send_one(address: std::net::SocketAddr, line: &str) -> io::Result<()> {
    let mut connection = Connection::open(address).await?;
    let sent = connection.send(line).await;
    connection.close().await?;
    sent
}
// ANCHOR_END: plain_close

/// Reads what one client sent, to its end.
async fn one_client(listener: &TcpListener) -> String {
    let (mut stream, _) = listener.accept().await.unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    text
}

#[tokio::test]
async fn close_runs_after_the_work_whether_it_failed_or_not() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (sent, seen) = tokio::join!(send_one(address, "hello"), one_client(&listener));
    sent.unwrap();
    assert_eq!(seen, "hello\nBYE\n");
    let (sent, seen) = tokio::join!(send_one(address, ""), one_client(&listener));
    assert_eq!(sent.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    assert_eq!(
        seen, "BYE\n",
        "the failed send was still followed by the goodbye"
    );
}

// ANCHOR: drop_only
/// `Drop` runs on every path, a panic and a cancelled future included, but it cannot
/// `.await`: it can close the socket, not send the goodbye first.
struct Guard(Arc<AtomicBool>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst); // synchronous work only
    }
}
// ANCHOR_END: drop_only

#[tokio::test]
async fn drop_runs_when_a_future_is_cancelled_where_a_close_call_would_not() {
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = Guard(dropped.clone());
    let work = async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    };
    // A timeout drops the future at its `.await`: code after it, a `close().await`
    // included, never runs; `Drop` does.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(1), work).await;
    assert!(dropped.load(Ordering::SeqCst));
}
