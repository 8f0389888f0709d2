//! UDP beside asyncio's `create_datagram_endpoint` and `DatagramProtocol`: a server that
//! answers each datagram, and a client that sends a request and waits for its answer
//! with a timeout per try and a bounded number of tries, because a datagram can be lost
//! and nothing resends it.

use std::io;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

/// The largest datagram this module sends or takes: the UDP payload an IPv4 packet can
/// carry. A datagram longer than the buffer it is received into is cut, silently, by the
/// kernel; the receive buffer here is one byte longer, so a cut shows.
pub const MAX_DATAGRAM: usize = 65_507;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum UdpError {
    /// No answer came within the timeout, on every try.
    #[error("no answer after {tries} tries of {per_try:?}")]
    NoAnswer {
        /// Tries made.
        tries: u32,
        /// The wait of each.
        per_try: Duration,
    },
    /// The request is longer than a datagram can be.
    #[error("a request of {0} bytes is over the datagram limit of {MAX_DATAGRAM}")]
    TooLong(usize),
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// How a client retries.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// How long each try waits for its answer.
    pub per_try: Duration,
    /// Tries in all, the first included.
    pub tries: u32,
}

// ANCHOR: request
/// Sends `payload` to the server this socket is connected to, tagged with `id`, and
/// waits for the answer with the same tag; an answer to an earlier try that arrives late
/// is recognised by its tag and used, any other datagram is ignored. Returns the answer's
/// payload and the tries it took.
///
/// # Cancel safety
///
/// This method is cancel safe: it holds nothing but the socket it borrows. A dropped
/// request may still be answered later; the next request ignores that answer by its tag.
pub async fn request(
    socket: &UdpSocket,
    id: u32,
    payload: &[u8],
    retry: Retry,
) -> Result<(Vec<u8>, u32), UdpError> {
    if payload.len() + 4 > MAX_DATAGRAM {
        return Err(UdpError::TooLong(payload.len()));
    }
    let mut datagram = id.to_be_bytes().to_vec();
    datagram.extend_from_slice(payload);
    let mut answer = vec![0; MAX_DATAGRAM + 1];
    for attempt in 1..=retry.tries {
        socket.send(&datagram).await?;
        let deadline = tokio::time::Instant::now() + retry.per_try;
        while let Ok(received) = tokio::time::timeout_at(deadline, socket.recv(&mut answer)).await {
            let n = received?;
            if n >= 4 && answer[..4] == id.to_be_bytes() {
                return Ok((answer[4..n].to_vec(), attempt));
            }
        }
        tracing::debug!(id, attempt, "no answer in time; sending again");
    }
    Err(UdpError::NoAnswer {
        tries: retry.tries,
        per_try: retry.per_try,
    })
}
// ANCHOR_END: request

/// What a datagram server did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Answered {
    /// Datagrams answered.
    pub answered: u64,
    /// Datagrams the handler chose not to answer.
    pub dropped: u64,
    /// Datagrams longer than the limit, cut by the kernel, and not answered.
    pub truncated: u64,
    /// Datagrams whose handler panicked, not answered; the loop went on.
    pub panicked: u64,
}

// ANCHOR: answer_loop
/// Answers datagrams of at most `max` bytes until `stop`: `handler` returns the answer, or
/// `None` for none. The buffer is `max` + 1 bytes, so a datagram the kernel cut shows.
///
/// # Cancel safety
///
/// This method is cancel safe: a datagram is received and answered in one turn, or left.
pub async fn answer_loop<F>(
    socket: &UdpSocket,
    max: usize,
    stop: CancellationToken,
    mut handler: F,
) -> io::Result<Answered>
where
    F: FnMut(&[u8], SocketAddr) -> Option<Vec<u8>>,
{
    let mut answered = Answered::default();
    let mut buf = vec![0; max.min(MAX_DATAGRAM) + 1];
    loop {
        let (n, peer) = tokio::select! {
            // The stop first: under a flood of datagrams the loop still stops.
            biased;
            () = stop.cancelled() => return Ok(answered),
            received = socket.recv_from(&mut buf) => received?,
        };
        if n == buf.len() {
            answered.truncated += 1;
            continue;
        }
        // A panic in the handler costs this datagram its answer, not the server its life.
        let reply = std::panic::catch_unwind(AssertUnwindSafe(|| handler(&buf[..n], peer)));
        match reply {
            Ok(Some(reply)) => {
                socket.send_to(&reply, peer).await?;
                answered.answered += 1;
            }
            Ok(None) => answered.dropped += 1,
            Err(_) => answered.panicked += 1,
        }
    }
}
// ANCHOR_END: answer_loop
