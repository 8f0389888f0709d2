//! The bound: the same frames to the same sockets, written by a plain tokio TCP writer
//! with no WebSocket layer. The handshake is answered by hand; each broadcast is one
//! WebSocket text frame built once and written as bytes to every member, through an
//! outbox per member and a writer that sends what has piled up in one write. No hub
//! rules, no slow-member policy, no JSON of its own beyond the one line per event. It runs
//! as its own process, the bench binary started with `--serve-bound`, as the servers under
//! test do, so its CPU per delivery is measured the same way.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, bail};
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Every member's outbox, by member number.
type Members = Arc<Mutex<HashMap<u64, mpsc::Sender<Bytes>>>>;

/// The most frames a writer sends in one write, as the chat server's writer batches.
const BATCH: usize = 64;

/// Serves until killed, on a multi-thread runtime as the chat server's.
pub(crate) fn serve() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("chat page: http://{}/", listener.local_addr()?);
        let members = Members::default();
        let numbers = AtomicU64::new(0);
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let number = numbers.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(member(stream, number, Arc::clone(&members)));
        }
    })
}

/// One connection: the handshake, then the member's frames read and broadcast, until it
/// closes.
async fn member(stream: TcpStream, number: u64, members: Members) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let Ok((name, key)) = handshake(&mut read).await else {
        return;
    };
    let (outbox, mut inbox) = mpsc::channel::<Bytes>(2048);
    // A member before its client hears back: once the client has its answer, the load
    // client may connect the sender, whose join this member must see.
    broadcast(
        &members,
        &event(&format!(r#"{{"kind":"joined","name":"{name}"}}"#)),
    );
    lock(&members).insert(number, outbox.clone());
    let accepted = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    if write.write_all(accepted.as_bytes()).await.is_err() {
        lock(&members).remove(&number);
        return;
    }
    let writer = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH);
        while inbox.recv_many(&mut batch, BATCH).await > 0 {
            let bytes: BytesMut = batch.drain(..).fold(BytesMut::new(), |mut all, frame| {
                all.extend_from_slice(&frame);
                all
            });
            if write.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    let _ = read_frames(&mut read, &name, &members, &outbox).await;
    lock(&members).remove(&number);
    drop(outbox);
    let _ = writer.await;
}

/// Reads the upgrade request: the member's name (`/ws?name=...`) and its key.
async fn handshake(read: &mut BufReader<OwnedReadHalf>) -> anyhow::Result<(String, String)> {
    let mut line = String::new();
    read.read_line(&mut line).await?;
    let name = line
        .split_once("name=")
        .and_then(|(_, rest)| rest.split([' ', '&']).next())
        .context("no name")?
        .to_owned();
    let mut key = None;
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            bail!("closed in the handshake");
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((field, value)) = header.split_once(':')
            && field.eq_ignore_ascii_case("sec-websocket-key")
        {
            key = Some(value.trim().to_owned());
        }
    }
    Ok((name, key.context("no key")?))
}

/// Reads the member's frames (masked, as every client's): each text is broadcast as a
/// message from `name`; a close is answered with a close.
async fn read_frames(
    read: &mut BufReader<OwnedReadHalf>,
    name: &str,
    members: &Members,
    outbox: &mpsc::Sender<Bytes>,
) -> anyhow::Result<()> {
    loop {
        let mut head = [0_u8; 2];
        read.read_exact(&mut head).await?;
        let opcode = head[0] & 0x0f;
        let len = match head[1] & 0x7f {
            126 => u64::from(read.read_u16().await?),
            127 => read.read_u64().await?,
            short => u64::from(short),
        };
        let mut mask = [0_u8; 4];
        if head[1] & 0x80 != 0 {
            read.read_exact(&mut mask).await?;
        }
        let mut payload = vec![0_u8; usize::try_from(len)?];
        read.read_exact(&mut payload).await?;
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= mask[i % 4];
        }
        match opcode {
            0x1 => {
                let text = serde_json::to_string(std::str::from_utf8(&payload)?)?;
                let json = format!(r#"{{"kind":"message","from":"{name}","text":{text}}}"#);
                broadcast(members, &event(&json));
            }
            0x8 => {
                let _ = outbox.send(Bytes::from_static(&[0x88, 0x00])).await;
                return Ok(());
            }
            _ => {}
        }
    }
}

/// One unmasked text frame holding `json`, built once for every member.
fn event(json: &str) -> Bytes {
    let len = json.len();
    let mut frame = BytesMut::with_capacity(len + 10);
    frame.extend_from_slice(&[0x81]);
    match len {
        0..=125 => frame.extend_from_slice(&[len as u8]),
        126..=65535 => {
            frame.extend_from_slice(&[126]);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            frame.extend_from_slice(&[127]);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(json.as_bytes());
    frame.freeze()
}

/// The same bytes into every outbox; a full outbox loses the frame (the load client keeps
/// every member far from full, and would report the loss).
fn broadcast(members: &Members, frame: &Bytes) {
    for outbox in lock(members).values() {
        let _ = outbox.try_send(frame.clone());
    }
}

fn lock(members: &Members) -> std::sync::MutexGuard<'_, HashMap<u64, mpsc::Sender<Bytes>>> {
    members.lock().unwrap_or_else(|e| e.into_inner())
}
