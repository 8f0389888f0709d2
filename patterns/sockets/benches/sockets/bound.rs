//! The bounds: the same exchanges in blocking `std::net` with no runtime and no codec,
//! either a thread per connection on each side, or one thread making the calls in turn
//! (every read finds its bytes already there, so nothing waits: what is left is the
//! kernel's own cost per round trip).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use crate::{Kind, Workload};

/// Times `runs` runs (after one not counted) of the workload; returns the variant's name
/// and the durations.
pub(crate) fn time(
    runs: u32,
    workload: Workload,
    per: u64,
) -> anyhow::Result<(&'static str, Vec<Duration>)> {
    let n = workload.connections;
    let size = workload.size;
    let mut durations = Vec::with_capacity(runs as usize);
    match workload.kind {
        Kind::Echo | Kind::Framed => {
            let framed = workload.kind == Kind::Framed;
            let address = serve_tcp(framed)?;
            for run in 0..=runs {
                let streams = (0..n)
                    .map(|_| {
                        let stream = TcpStream::connect(address)?;
                        stream.set_nodelay(true)?;
                        Ok(stream)
                    })
                    .collect::<std::io::Result<Vec<_>>>()?;
                let started = Instant::now();
                thread::scope(|scope| {
                    let clients: Vec<_> = streams
                        .into_iter()
                        .map(|s| scope.spawn(move || tcp_client(s, framed, size, per)))
                        .collect();
                    clients
                        .into_iter()
                        .try_for_each(|c| c.join().expect("a client thread panicked"))
                })?;
                if run > 0 {
                    durations.push(started.elapsed());
                }
            }
            Ok((
                if framed {
                    "bound-std-threads-framed"
                } else {
                    "bound-std-threads"
                },
                durations,
            ))
        }
        Kind::Udp => {
            let address = serve_udp()?;
            for run in 0..=runs {
                let sockets = (0..n)
                    .map(|_| {
                        let socket = UdpSocket::bind("127.0.0.1:0")?;
                        socket.connect(address)?;
                        socket.set_read_timeout(Some(Duration::from_secs(5)))?;
                        Ok(socket)
                    })
                    .collect::<std::io::Result<Vec<_>>>()?;
                let started = Instant::now();
                thread::scope(|scope| {
                    let clients: Vec<_> = sockets
                        .into_iter()
                        .map(|s| scope.spawn(move || udp_client(s, size, per)))
                        .collect();
                    clients
                        .into_iter()
                        .try_for_each(|c| c.join().expect("a client thread panicked"))
                })?;
                if run > 0 {
                    durations.push(started.elapsed());
                }
            }
            Ok(("bound-std-threads", durations))
        }
    }
}

/// A listener thread, and a thread per connection echoing bytes (or frames) until EOF.
/// Detached: they end with the process.
fn serve_tcp(framed: bool) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_nodelay(true);
            thread::spawn(move || {
                if framed {
                    let _ = answer_frames(stream);
                } else {
                    let (mut reader, mut writer) = (&stream, &stream);
                    let _ = std::io::copy(&mut reader, &mut writer);
                }
            });
        }
    });
    Ok(address)
}

fn answer_frames(mut stream: TcpStream) -> std::io::Result<()> {
    let mut frame = Vec::new();
    loop {
        let mut header = [0u8; 4];
        if stream.read_exact(&mut header).is_err() {
            return Ok(()); // the client closed
        }
        let length = u32::from_be_bytes(header) as usize;
        frame.clear();
        frame.extend_from_slice(&header);
        frame.resize(4 + length, 0);
        stream.read_exact(&mut frame[4..])?;
        stream.write_all(&frame)?;
    }
}

fn tcp_client(mut stream: TcpStream, framed: bool, size: usize, trips: u64) -> anyhow::Result<()> {
    let mut message = Vec::with_capacity(size + 4);
    if framed {
        message.extend_from_slice(&(size as u32).to_be_bytes());
    }
    message.resize(message.len() + size, 7);
    let mut back = vec![0u8; message.len()];
    for _ in 0..trips {
        stream.write_all(&message)?;
        stream.read_exact(&mut back)?;
    }
    anyhow::ensure!(back == message, "the answer changed the message");
    Ok(())
}

fn serve_udp() -> std::io::Result<SocketAddr> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    let address = socket.local_addr()?;
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, peer)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(&buf[..n], peer);
        }
    });
    Ok(address)
}

fn udp_client(socket: UdpSocket, size: usize, trips: u64) -> anyhow::Result<()> {
    let mut request = vec![7u8; size + 4];
    let mut back = [0u8; 2048];
    for id in 0..trips {
        request[..4].copy_from_slice(&(id as u32).to_be_bytes());
        socket.send(&request)?;
        let n = socket.recv(&mut back)?;
        anyhow::ensure!(back[..n] == request[..], "an answer to another request");
    }
    Ok(())
}

/// One thread, both sides of every connection: the write, the server's read and write,
/// the client's read, connection after connection, trip after trip.
pub(crate) fn time_syscalls(
    runs: u32,
    workload: Workload,
    per: u64,
) -> anyhow::Result<(&'static str, Vec<Duration>)> {
    let (n, size) = (workload.connections, workload.size);
    let framed = workload.kind == Kind::Framed;
    let wire = if framed { size + 4 } else { size };
    let message = vec![7u8; wire];
    let mut back = vec![0u8; wire];
    let mut durations = Vec::with_capacity(runs as usize);
    match workload.kind {
        Kind::Echo | Kind::Framed => {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let address = listener.local_addr()?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let client = TcpStream::connect(address)?;
                let (server, _) = listener.accept()?;
                client.set_nodelay(true)?;
                server.set_nodelay(true)?;
                pairs.push((client, server));
            }
            for run in 0..=runs {
                let started = Instant::now();
                for _ in 0..per {
                    for (client, server) in &mut pairs {
                        client.write_all(&message)?;
                        server.read_exact(&mut back)?;
                        server.write_all(&back)?;
                        client.read_exact(&mut back)?;
                    }
                }
                if run > 0 {
                    durations.push(started.elapsed());
                }
            }
            anyhow::ensure!(back == message, "the answer changed the message");
        }
        Kind::Udp => {
            let server = UdpSocket::bind("127.0.0.1:0")?;
            let mut clients = Vec::with_capacity(n);
            for _ in 0..n {
                let client = UdpSocket::bind("127.0.0.1:0")?;
                client.connect(server.local_addr()?)?;
                clients.push(client);
            }
            let mut buf = [0u8; 2048];
            for run in 0..=runs {
                let started = Instant::now();
                for _ in 0..per {
                    for client in &clients {
                        client.send(&message)?;
                        let (got, peer) = server.recv_from(&mut buf)?;
                        server.send_to(&buf[..got], peer)?;
                        client.recv(&mut buf)?;
                    }
                }
                if run > 0 {
                    durations.push(started.elapsed());
                }
            }
        }
    }
    Ok(("bound-syscalls-one-thread", durations))
}
