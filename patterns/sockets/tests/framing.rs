//! The codecs against every way a peer can break the framing, over in-memory pipes
//! (`tokio::io::duplex`): nothing here needs a socket.

use bytes::{BufMut, Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use sockets::{FrameError, Frames, Json, Lines};
use tokio::io::AsyncWriteExt;
use tokio_util::codec::{Decoder, FramedRead, FramedWrite};

/// What the peer wrote, then its end closed, read through `codec`.
async fn read_all<C>(written: &[u8], codec: C) -> Vec<Result<C::Item, C::Error>>
where
    C: Decoder,
{
    let (mut ours, theirs) = tokio::io::duplex(1 << 16);
    ours.write_all(written).await.unwrap();
    drop(ours);
    FramedRead::new(theirs, codec).collect().await
}

fn frame(declared: u32, payload: &[u8]) -> Vec<u8> {
    let mut bytes = BytesMut::new();
    bytes.put_u32(declared);
    bytes.put_slice(payload);
    bytes.to_vec()
}

#[tokio::test]
async fn lines_come_without_their_newline_and_a_last_line_without_one_still_counts() {
    let read = read_all(b"one\r\ntwo\nthree", Lines::new(16)).await;
    let lines: Vec<String> = read.into_iter().map(|l| l.unwrap().unwrap()).collect();
    assert_eq!(lines, ["one", "two", "three"]);
}

#[tokio::test]
async fn a_line_over_the_limit_is_refused_and_the_next_line_still_decodes() {
    let read = read_all(b"short\nthis line is far too long\nnext\n", Lines::new(8)).await;
    assert_eq!(read[0].as_ref().unwrap().as_ref().unwrap(), "short");
    assert!(matches!(
        read[1],
        Ok(Err(FrameError::LineTooLong { max: 8 }))
    ));
    assert_eq!(read[2].as_ref().unwrap().as_ref().unwrap(), "next");
    assert_eq!(read.len(), 3);
}

#[tokio::test]
async fn a_line_that_is_not_utf8_is_refused_and_the_next_line_still_decodes() {
    let read = read_all(b"ok\n\xff\xfe\nfine\n", Lines::new(16)).await;
    assert_eq!(read[0].as_ref().unwrap().as_ref().unwrap(), "ok");
    assert!(matches!(read[1], Ok(Err(FrameError::NotUtf8))));
    assert_eq!(read[2].as_ref().unwrap().as_ref().unwrap(), "fine");
}

#[tokio::test]
async fn frames_come_whole_whatever_the_reads_cut() {
    let (ours, theirs) = tokio::io::duplex(3); // a tiny pipe: every frame arrives in pieces
    let mut writer = FramedWrite::new(ours, Frames::new(64));
    let sent = ["a", "", "a longer frame of thirty bytes"];
    let reading = tokio::spawn(FramedRead::new(theirs, Frames::new(64)).collect::<Vec<_>>());
    for frame in sent {
        writer.send(Bytes::from(frame)).await.unwrap();
    }
    drop(writer);
    let read = reading.await.unwrap();
    let read: Vec<BytesMut> = read.into_iter().map(Result::unwrap).collect();
    assert_eq!(read, sent.map(|s| BytesMut::from(s.as_bytes())));
}

#[tokio::test]
async fn a_frame_cut_short_names_the_bytes_it_got_and_needed() {
    let read = read_all(&frame(10, b"abc"), Frames::new(64)).await;
    assert!(
        matches!(
            read[..],
            [Err(FrameError::Truncated {
                got: 7,
                expected: 14
            })]
        ),
        "{read:?}"
    );
    let read = read_all(&[0, 0], Frames::new(64)).await;
    assert!(
        matches!(
            read[..],
            [Err(FrameError::Truncated {
                got: 2,
                expected: 4
            })]
        ),
        "{read:?}"
    );
}

#[tokio::test]
async fn a_frame_over_the_limit_is_refused_from_its_header_alone() {
    // Only the header is sent: the refusal cannot have waited for the payload.
    let (mut ours, theirs) = tokio::io::duplex(64);
    ours.write_all(&frame(1 << 30, b"")).await.unwrap();
    let mut reader = FramedRead::new(theirs, Frames::new(1024));
    let refused = reader.next().await.unwrap();
    assert!(matches!(
        refused,
        Err(FrameError::TooLong {
            declared: 1_073_741_824,
            max: 1024
        })
    ));
    assert!(
        reader.next().await.is_none(),
        "the stream ends at the refusal"
    );
    drop(ours);
}

#[tokio::test]
async fn a_frame_at_the_limit_passes_and_one_byte_more_is_refused_on_both_sides() {
    let read = read_all(&frame(4, b"abcd"), Frames::new(4)).await;
    assert_eq!(read[0].as_ref().unwrap().as_ref(), b"abcd");
    let read = read_all(&frame(5, b"abcde"), Frames::new(4)).await;
    assert!(matches!(
        read[0],
        Err(FrameError::TooLong {
            declared: 5,
            max: 4
        })
    ));
    let mut buf = BytesMut::new();
    let refused = tokio_util::codec::Encoder::encode(
        &mut Frames::new(4),
        Bytes::from_static(b"abcde"),
        &mut buf,
    );
    assert!(matches!(
        refused,
        Err(FrameError::TooLong {
            declared: 5,
            max: 4
        })
    ));
    assert!(buf.is_empty(), "nothing written");
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Order {
    item: String,
    quantity: u32,
}

#[tokio::test]
async fn json_frames_round_trip_and_a_bad_one_is_skipped() {
    let mut written = frame(2, b"{}");
    let good = br#"{"item":"tea","quantity":2}"#;
    written.extend(frame(good.len() as u32, good));
    let read = read_all(&written, Json::<Order>::new(256)).await;
    assert!(matches!(read[0], Ok(Err(FrameError::Json(_)))), "{read:?}");
    assert_eq!(
        read[1].as_ref().unwrap().as_ref().unwrap(),
        &Order {
            item: "tea".into(),
            quantity: 2
        }
    );
}
