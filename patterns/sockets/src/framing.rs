//! Messages out of a byte stream, with tokio-util's codecs: lines with a maximum length
//! (asyncio's `readline` and `LimitOverrunError`), frames behind a 4-byte length (a
//! `readexactly(4)` then `readexactly(n)`), and JSON inside those frames. Every way a peer
//! can break the framing is a [`FrameError`] that names what went wrong.

use std::io;
use std::marker::PhantomData;

use bytes::{Buf, Bytes, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec, LinesCodec, LinesCodecError};

/// The length prefix of a [`Frames`] frame: a big-endian `u32`, as most protocols write it.
pub const HEADER_LEN: usize = 4;

/// Why a stream could not be cut into messages.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A frame's header declared more than the limit; its payload was never read.
    #[error("a frame of {declared} bytes is over the limit of {max}")]
    TooLong {
        /// What the header said.
        declared: usize,
        /// The limit.
        max: usize,
    },
    /// A line went past the limit before its newline; the rest of it is skipped.
    #[error("a line is over the limit of {max} bytes")]
    LineTooLong {
        /// The limit.
        max: usize,
    },
    /// The stream ended inside a frame: asyncio's `IncompleteReadError`.
    #[error("the stream ended after {got} of a frame's {expected} bytes")]
    Truncated {
        /// The bytes that came, header included.
        got: usize,
        /// The bytes the frame needed: its header, then the length it declared.
        expected: usize,
    },
    /// A line that is not UTF-8; the line is skipped.
    #[error("a line is not UTF-8")]
    NotUtf8,
    /// A frame that is not the JSON expected.
    #[error("a frame is not the JSON expected: {0}")]
    Json(#[from] serde_json::Error),
    /// The socket itself failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// A message, or why this one was refused while the stream goes on: a line too long or
/// not UTF-8, a frame that is not the JSON expected. The codecs yield these as items, not
/// as errors, because a `FramedRead` ends its stream at the decoder's first error; their
/// errors are for what the connection cannot go on after (an I/O error, a frame cut short
/// or over the limit, after which the next bytes are no longer at a frame's start).
pub type Message<T> = Result<T, FrameError>;

// ANCHOR: lines
/// Lines of at most `max` bytes, without their `\n` (or `\r\n`). A longer line is an
/// `Err(`[`FrameError::LineTooLong`]`)` item and is skipped up to its newline; the next
/// line decodes.
#[derive(Debug, Clone)]
pub struct Lines {
    inner: LinesCodec,
    max: usize,
}

impl Lines {
    /// A codec for lines of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            inner: LinesCodec::new_with_max_length(max),
            max,
        }
    }

    /// A refused line becomes an item; only an I/O error ends the stream.
    fn sort(&self, decoded: Result<Option<String>, LinesCodecError>) -> Decoded<String> {
        match decoded {
            Ok(line) => Ok(line.map(Ok)),
            Err(LinesCodecError::MaxLineLengthExceeded) => {
                Ok(Some(Err(FrameError::LineTooLong { max: self.max })))
            }
            Err(LinesCodecError::Io(e)) if e.kind() == io::ErrorKind::InvalidData => {
                Ok(Some(Err(FrameError::NotUtf8)))
            }
            Err(LinesCodecError::Io(e)) => Err(FrameError::Io(e)),
        }
    }
}

// ANCHOR_END: lines

/// What a decoder of [`Message`]s returns.
type Decoded<T> = Result<Option<Message<T>>, FrameError>;

impl Decoder for Lines {
    type Item = Message<String>;
    type Error = FrameError;

    fn decode(&mut self, buf: &mut BytesMut) -> Decoded<String> {
        let decoded = self.inner.decode(buf);
        self.sort(decoded)
    }

    /// At the end of the stream a last line without its newline is still a line, as
    /// asyncio's `readline` returns it.
    fn decode_eof(&mut self, buf: &mut BytesMut) -> Decoded<String> {
        let decoded = self.inner.decode_eof(buf);
        self.sort(decoded)
    }
}

impl<T: AsRef<str>> Encoder<T> for Lines {
    type Error = FrameError;

    fn encode(&mut self, line: T, buf: &mut BytesMut) -> Result<(), FrameError> {
        self.inner.encode(line, buf).map_err(|e| match e {
            LinesCodecError::Io(e) => FrameError::Io(e),
            LinesCodecError::MaxLineLengthExceeded => FrameError::LineTooLong { max: self.max },
        })
    }
}

/// Frames behind a 4-byte big-endian length, of at most `max` bytes: tokio-util's
/// [`LengthDelimitedCodec`], with errors that say what the peer sent. The header is read
/// first, so a frame over the limit is refused before any of its payload is read.
#[derive(Debug)]
pub struct Frames {
    inner: LengthDelimitedCodec,
    max: usize,
    /// The length the current frame declared, once its header has come.
    declared: Option<usize>,
}

impl Frames {
    /// A codec for frames of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        let inner = LengthDelimitedCodec::builder()
            .length_field_length(HEADER_LEN)
            .max_frame_length(max)
            .new_codec();
        Self {
            inner,
            max,
            declared: None,
        }
    }
}

impl Decoder for Frames {
    type Item = BytesMut;
    type Error = FrameError;

    // ANCHOR: frames_header
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        if self.declared.is_none() && buf.len() >= HEADER_LEN {
            let declared = (&buf[..HEADER_LEN]).get_u32() as usize;
            if declared > self.max {
                return Err(FrameError::TooLong {
                    declared,
                    max: self.max,
                });
            }
            self.declared = Some(declared);
        }
        let frame = self.inner.decode(buf)?;
        if frame.is_some() {
            self.declared = None;
        }
        Ok(frame)
    }
    // ANCHOR_END: frames_header

    // ANCHOR: frames_eof
    /// The stream ended: any bytes left are a frame cut short.
    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        // The inner codec has taken the header off `buf` once it had all of it.
        match self.declared {
            Some(declared) => Err(FrameError::Truncated {
                got: HEADER_LEN + buf.len(),
                expected: HEADER_LEN + declared,
            }),
            None if buf.is_empty() => Ok(None),
            None => Err(FrameError::Truncated {
                got: buf.len(),
                expected: HEADER_LEN,
            }),
        }
    }
    // ANCHOR_END: frames_eof
}

impl Encoder<Bytes> for Frames {
    type Error = FrameError;

    /// A frame over the limit is refused here too, before anything is written.
    fn encode(&mut self, frame: Bytes, buf: &mut BytesMut) -> Result<(), FrameError> {
        if frame.len() > self.max {
            return Err(FrameError::TooLong {
                declared: frame.len(),
                max: self.max,
            });
        }
        Ok(self.inner.encode(frame, buf)?)
    }
}

/// JSON values of type `T`, one per [`Frames`] frame. A frame that is not a `T` is an
/// `Err(`[`FrameError::Json`]`)` item, and the next frame still decodes.
#[derive(Debug)]
pub struct Json<T> {
    frames: Frames,
    _type: PhantomData<fn() -> T>,
}

impl<T> Json<T> {
    /// A codec for `T`s in frames of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            frames: Frames::new(max),
            _type: PhantomData,
        }
    }
}

// ANCHOR: json
impl<T: DeserializeOwned> Decoder for Json<T> {
    type Item = Message<T>;
    type Error = FrameError;

    fn decode(&mut self, buf: &mut BytesMut) -> Decoded<T> {
        let frame = self.frames.decode(buf)?;
        Ok(frame.map(|frame| serde_json::from_slice(&frame).map_err(FrameError::from)))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Decoded<T> {
        let frame = self.frames.decode_eof(buf)?;
        Ok(frame.map(|frame| serde_json::from_slice(&frame).map_err(FrameError::from)))
    }
}
// ANCHOR_END: json

impl<T: Serialize> Encoder<&T> for Json<T> {
    type Error = FrameError;

    fn encode(&mut self, value: &T, buf: &mut BytesMut) -> Result<(), FrameError> {
        let bytes = serde_json::to_vec(value)?;
        self.frames.encode(Bytes::from(bytes), buf)
    }
}
