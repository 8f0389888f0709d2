//! The plain idioms, with tokio alone, as a service writes them before it needs the
//! library: a TCP echo server in the shape of tokio's own example, the reads asyncio's
//! `StreamReader` has (`readexactly`, `readuntil`, `read()` to the end), `io::split` for
//! a stream that has no halves of its own, and the event loop's handle from a thread.

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

// ANCHOR: plain_echo
/// asyncio's `start_server(echo, host, port)`: accept in a loop, a task per connection.
async fn serve_echo(listener: TcpListener) -> io::Result<()> {
    loop {
        let (mut socket, _peer) = listener.accept().await?;
        tokio::spawn(async move {
            let mut buf = vec![0; 64 * 1024];
            loop {
                // `read` returns 0 at the end of the stream: asyncio's `at_eof()`.
                let n = match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                // `write_all` waits until the kernel took every byte: write + drain.
                if socket.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        });
    }
}
// ANCHOR_END: plain_echo

#[tokio::test]
async fn the_plain_echo_server_echoes_and_sees_the_end_of_the_stream() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve_echo(listener));
    let mut client = TcpStream::connect(address).await.unwrap();
    client.write_all(b"hello").await.unwrap();
    client.shutdown().await.unwrap(); // writer.write_eof()
    let mut back = Vec::new();
    client.read_to_end(&mut back).await.unwrap(); // reader.read(): to the end
    assert_eq!(back, b"hello");
}

// ANCHOR: reads
/// A header line, then a body of the length it gives: `readuntil(b"\n")`, then
/// `readexactly(n)`. The stream ending early is `UnexpectedEof`, asyncio's
/// `IncompleteReadError`; `read_until` has no limit, so `take` gives it one, as
/// asyncio's `limit=` does.
async fn read_message<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Vec<u8>> {
    let mut header = Vec::new();
    (&mut *reader)
        .take(32)
        .read_until(b'\n', &mut header)
        .await?;
    let length: usize = std::str::from_utf8(&header)
        .ok()
        .and_then(|h| h.trim_end().parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "a bad header"))?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(body)
}
// ANCHOR_END: reads

#[tokio::test]
async fn read_until_then_read_exact_and_a_body_cut_short() {
    let mut whole = BufReader::new(&b"5\nhello"[..]);
    assert_eq!(read_message(&mut whole).await.unwrap(), b"hello");
    let mut cut = BufReader::new(&b"5\nhel"[..]);
    let error = read_message(&mut cut).await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    let mut endless = BufReader::new(&[b'9'; 100][..]);
    let error = read_message(&mut endless).await.unwrap_err();
    assert_eq!(
        error.kind(),
        io::ErrorKind::InvalidData,
        "the header was cut at 32 bytes"
    );
}

// ANCHOR: split
/// `tokio::io::split` gives any stream a reader and a writer that can live in two
/// tasks: here an in-memory pipe, and the same for a TLS stream. A `TcpStream` has
/// `into_split`, which needs no lock between the halves.
async fn uppercase_in_two_tasks<S>(stream: S) -> io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (reader, mut writer) = tokio::io::split(stream);
    let (lines_tx, mut lines_rx) = tokio::sync::mpsc::channel::<String>(16);
    let reading = tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        while let Some(line) = lines.next_line().await? {
            if lines_tx.send(line).await.is_err() {
                break;
            }
        }
        io::Result::Ok(())
    });
    while let Some(line) = lines_rx.recv().await {
        writer
            .write_all(format!("{}\n", line.to_uppercase()).as_bytes())
            .await?;
    }
    writer.shutdown().await?;
    reading.await.map_err(io::Error::other)?
}
// ANCHOR_END: split

#[tokio::test]
async fn split_halves_work_in_two_tasks() {
    let (mine, theirs) = tokio::io::duplex(64);
    let serving = tokio::spawn(uppercase_in_two_tasks(theirs));
    let (reader, mut writer) = tokio::io::split(mine);
    writer.write_all(b"one\ntwo\n").await.unwrap();
    writer.shutdown().await.unwrap();
    let mut back = String::new();
    BufReader::new(reader)
        .read_to_string(&mut back)
        .await
        .unwrap();
    assert_eq!(back, "ONE\nTWO\n");
    serving.await.unwrap().unwrap();
}

// ANCHOR: handle
/// `loop = asyncio.get_running_loop()` and, from another thread,
/// `asyncio.run_coroutine_threadsafe(coro, loop)`: a `Handle` is the runtime's address,
/// cheap to clone and usable from any thread.
fn answer_from_a_thread(handle: tokio::runtime::Handle) -> std::thread::JoinHandle<u32> {
    std::thread::spawn(move || {
        let task = handle.spawn(async { 6 * 7 });
        // A plain thread may block on the task; code inside the runtime would `.await`.
        handle.block_on(task).expect("the task panicked")
    })
}
// ANCHOR_END: handle

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_thread_spawns_onto_the_running_runtime_through_its_handle() {
    let thread = answer_from_a_thread(tokio::runtime::Handle::current());
    let answer = tokio::task::spawn_blocking(move || thread.join().unwrap())
        .await
        .unwrap();
    assert_eq!(answer, 42);
}
