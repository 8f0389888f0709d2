//! The hub over plain TCP, one line per message: asyncio's streams (`start_server`,
//! `readline`, `write`/`drain`, `close`/`wait_closed`) in Tokio. Try it with
//! `nc 127.0.0.1 PORT`: the first line is your name.

use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::time::timeout;
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};
use tokio_util::sync::CancellationToken;

use crate::pair::{self, FromReader, ReaderPanicked};
use crate::{Hub, Inbox, LeaveReason, Speaker};

/// The longest line a client may send, in bytes. asyncio's `readline` stops at 64 KiB by
/// default; Tokio's `BufReader::lines` has no limit, so a client that never sends a newline
/// would grow its buffer without end. `LinesCodec` with a maximum is the bounded version.
pub const MAX_LINE: usize = 4096;

/// How long a client has to send its name, and a send may take.
const PATIENCE: Duration = Duration::from_secs(10);

// ANCHOR: serve
/// Serves one TCP client: reads its name, joins the hub, then runs a reader task (lines
/// become [`Speaker::say`]) and a writer task (events become lines) until either ends.
/// Returns how the writer ended. A client still to send its name when `stop` fires is
/// told so and closed; those that joined are said goodbye to by the hub's shutdown.
///
/// # Cancel safety
///
/// This function is not cancel safe: a drop closes the connection without a last line, and
/// the events still in the member's outbox are lost; if the client had joined, it leaves
/// the hub at once.
pub async fn serve(stream: TcpStream, hub: Hub, stop: CancellationToken) -> String {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "unknown".into(), |addr| addr.to_string()); // get_extra_info("peername")
    let (read, write) = stream.into_split();
    let mut lines = FramedRead::new(read, LinesCodec::new_with_max_length(MAX_LINE));
    let mut write = BufWriter::new(write);
    let first_line = tokio::select! {
        first_line = timeout(PATIENCE, lines.next()) => first_line,
        () = stop.cancelled() => return goodbye(&mut write, &last_line(LeaveReason::Shutdown)).await,
    };
    let name = match first_line {
        Ok(Some(Ok(name))) => name,
        Ok(Some(Err(why))) => return goodbye(&mut write, &format!("* error: {why}")).await,
        Ok(None) => return "closed before its name".into(),
        Err(_) => return goodbye(&mut write, "* error: no name sent").await,
    };
    let (speaker, inbox) = match hub.join(name.trim()) {
        Ok(member) => member,
        Err(why) => return goodbye(&mut write, &format!("* error: {why}")).await,
    };
    tracing::debug!(%peer, name = speaker.name(), "TCP client joined");
    let ended = pair::run_reader_and_writer(read_lines(lines, speaker), |from_reader| {
        write_lines(write, inbox, from_reader)
    })
    .await;
    ended.unwrap_or_else(|panic| format!("writer panicked: {panic}"))
}
// ANCHOR_END: serve

/// Says each line; returns the error line to send if the client broke a rule.
async fn read_lines(
    mut lines: FramedRead<OwnedReadHalf, LinesCodec>,
    speaker: Speaker,
) -> Option<String> {
    while let Some(line) = lines.next().await {
        match line {
            Ok(line) if line.trim().is_empty() => {}
            Ok(line) => {
                speaker.say(line.trim());
            }
            Err(LinesCodecError::MaxLineLengthExceeded) => {
                return Some(format!("* error: lines are at most {MAX_LINE} bytes"));
            }
            Err(LinesCodecError::Io(why)) => {
                tracing::debug!(name = speaker.name(), %why, "TCP read failed");
                return None;
            }
        }
    }
    None
}

// ANCHOR: write
/// Writes events as lines (`write`), a flush per batch (`drain`); a last line, `shutdown`.
async fn write_lines(
    mut write: BufWriter<OwnedWriteHalf>,
    mut inbox: Inbox,
    mut from_reader: FromReader<Option<String>>,
) -> String {
    loop {
        let mut batch = tokio::select! {
            biased;
            from_reader = &mut from_reader => match from_reader {
                Ok(Ok(Some(error))) => return goodbye(&mut write, &error).await,
                Ok(Ok(None)) => return "client closed".into(),
                Ok(Err(ReaderPanicked)) => return goodbye(&mut write, "* error: internal error").await,
                Err(_) => return "dropped".into(), // the pair is being dropped: no last line
            },
            event = inbox.recv() => match event {
                Ok(event) => format!("{event}\n"),
                Err(reason) => return goodbye(&mut write, &last_line(reason)).await,
            },
        };
        while let Some(event) = inbox.try_recv() {
            batch.push_str(&format!("{event}\n"));
            if batch.len() > 16 * 1024 {
                break;
            }
        }
        let sent = tokio::select! {
            sent = timeout(PATIENCE, async {
                write.write_all(batch.as_bytes()).await?;
                write.flush().await
            }) => sent,
            reason = inbox.removed() => return goodbye(&mut write, &last_line(reason)).await,
        };
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(why)) => return format!("write failed: {why}"),
            Err(_) => return "write timed out".into(),
        }
    }
}
// ANCHOR_END: write

fn last_line(reason: LeaveReason) -> String {
    format!("* disconnected: {reason}")
}

/// Sends a last line and closes the write side (`writer.close(); await
/// writer.wait_closed()`), giving up after [`PATIENCE`]. Returns the line.
async fn goodbye(write: &mut BufWriter<OwnedWriteHalf>, line: &str) -> String {
    let _ = timeout(PATIENCE, async {
        write.write_all(format!("{line}\n").as_bytes()).await?;
        write.shutdown().await
    })
    .await;
    line.to_owned()
}
