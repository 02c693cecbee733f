//! Hostile and broken input: errors, never panics, bounded memory.

use bytes::{Bytes, BytesMut};
use media::amf0::Value;
use proptest::prelude::*;

use super::*;
use crate::RtmpError;
use crate::chunk::ChunkWriter;
use crate::command::Command;
use crate::message::control::Control;

fn handshake() -> Vec<u8> {
    let mut b = vec![3u8];
    b.extend(std::iter::repeat_n(0u8, 2 * HANDSHAKE_SIZE));
    b
}

fn server_after_handshake(config: ServerConfig) -> ServerSession {
    let mut s = ServerSession::new(config, 1);
    assert_eq!(s.feed(&handshake()).unwrap(), []);
    s.take_output();
    s
}

fn chunks(messages: &[(u32, Message)]) -> BytesMut {
    let mut w = ChunkWriter::new();
    let mut out = BytesMut::new();
    for (csid, m) in messages {
        w.write(*csid, m, &mut out).unwrap();
    }
    out
}

fn command(name: &str, txn: f64, object: Value, args: Vec<Value>, stream_id: u32) -> Message {
    Message {
        timestamp: 0,
        type_id: MessageType::COMMAND_AMF0,
        stream_id,
        payload: Command::new(name, txn, object, args).encode(),
    }
}

fn connect() -> Message {
    let object = Value::Object(vec![("app".into(), Value::String("live".into()))]);
    command("connect", 1.0, object, vec![], 0)
}

fn video(len: usize) -> Message {
    Message {
        timestamp: 0,
        type_id: MessageType::VIDEO,
        stream_id: 1,
        payload: Bytes::from(vec![0u8; len]),
    }
}

#[test]
fn wrong_version_is_an_error_and_the_session_stays_failed() {
    let mut s = ServerSession::new(ServerConfig::default(), 1);
    assert_eq!(
        s.feed(b"GET / HTTP/1.1\r\n"),
        Err(RtmpError::UnexpectedVersion(b'G'))
    );
    assert_eq!(s.feed(&handshake()), Err(RtmpError::Failed));
}

#[test]
fn chunk_size_zero_is_an_error() {
    let mut s = server_after_handshake(ServerConfig::default());
    let bytes = chunks(&[(2, Control::SetChunkSize(0).encode())]);
    assert_eq!(s.feed(&bytes), Err(RtmpError::BadChunkSize(0)));
    let mut s = server_after_handshake(ServerConfig::default());
    let bytes = chunks(&[(2, Control::SetChunkSize(0x8000_0000).encode())]);
    assert_eq!(s.feed(&bytes), Err(RtmpError::BadChunkSize(0x8000_0000)));
}

#[test]
fn message_over_the_maximum_is_an_error() {
    let config = ServerConfig {
        max_message_size: 1000,
        ..ServerConfig::default()
    };
    let mut s = server_after_handshake(config);
    // Refused from the header alone, before the payload arrives.
    let bytes = chunks(&[(6, video(2000))]);
    assert_eq!(
        s.feed(&bytes[..20]),
        Err(RtmpError::MessageTooLarge {
            size: 2000,
            max: 1000
        })
    );
}

#[test]
fn too_many_chunk_streams_is_an_error() {
    let config = ServerConfig {
        max_chunk_streams: 4,
        ..ServerConfig::default()
    };
    let mut s = server_after_handshake(config);
    let ok: Vec<_> = (10..14).map(|c| (c, video(1))).collect();
    assert_eq!(s.feed(&chunks(&ok)).unwrap(), []);
    assert_eq!(
        s.feed(&chunks(&[(14, video(1))])),
        Err(RtmpError::TooManyChunkStreams { max: 4 })
    );
}

#[test]
fn garbage_after_the_handshake_is_an_error() {
    let mut s = server_after_handshake(ServerConfig::default());
    assert!(matches!(
        s.feed(b"GET / HTTP/1.1\r\n"),
        Err(RtmpError::BadChunk(_))
    ));
    let mut s = server_after_handshake(ServerConfig::default());
    assert!(matches!(
        s.feed(&[0xC5, 0, 0, 0]),
        Err(RtmpError::BadChunk(_))
    ));
}

#[test]
fn buffered_bytes_are_capped() {
    let config = ServerConfig {
        max_buffered_bytes: 10_000,
        ..ServerConfig::default()
    };
    let mut s = server_after_handshake(config);
    let mut w = ChunkWriter::new();
    w.set_chunk_size(1000);
    let mut bytes = chunks(&[(2, Control::SetChunkSize(1000).encode())]);
    w.write(6, &video(50_000), &mut bytes).unwrap();
    let result = bytes
        .chunks(999)
        .try_for_each(|piece| s.feed(piece).map(drop));
    assert_eq!(result, Err(RtmpError::BufferLimit { max: 10_000 }));
}

#[test]
fn a_big_message_before_publish_is_refused_from_its_header() {
    // The command bomb: 15 MiB announced before connect is refused as soon
    // as its 12-byte header is read; nothing of it is buffered.
    let mut s = server_after_handshake(ServerConfig::default());
    let bomb = command(
        "connect",
        1.0,
        Value::String("x".repeat(15 << 20)),
        vec![],
        0,
    );
    let size = u32::try_from(bomb.payload.len()).unwrap();
    let bytes = chunks(&[(3, bomb)]);
    assert_eq!(
        s.feed(&bytes[..12]),
        Err(RtmpError::MessageTooLarge {
            size,
            max: crate::DEFAULT_MAX_MESSAGE_BEFORE_PUBLISH
        })
    );
    assert!(s.buffered_bytes() <= 12);
}

#[test]
fn admission_caps_lift_once_publish_arrives() {
    let mut s = server_after_handshake(ServerConfig::default());
    let publish = command(
        "publish",
        3.0,
        Value::Null,
        vec![Value::String("cam".into())],
        1,
    );
    let create = command("createStream", 2.0, Value::Null, vec![], 0);
    let events = s
        .feed(&chunks(&[(3, connect()), (3, create), (8, publish)]))
        .unwrap();
    assert!(s.publish_requested());
    assert!(matches!(
        events.last(),
        Some(ServerEvent::PublishRequested { .. })
    ));
    s.accept_publish(1);
    // A 1 MiB keyframe is fine now.
    let events = s.feed(&chunks(&[(6, video(1 << 20))])).unwrap();
    assert!(matches!(&events[..], [ServerEvent::Video { data, .. }] if data.len() == 1 << 20));
}

#[test]
fn bytes_held_before_publish_are_capped_lower() {
    // Partial messages on many chunk streams, each under the message cap,
    // may not add up past the smaller pre-publish buffer cap.
    let mut s = server_after_handshake(ServerConfig::default());
    let mut held = BytesMut::new();
    for csid in 10..40 {
        let msg = chunks(&[(csid, video(60_000))]);
        // The first 301 chunks (default size 128: a 12-byte header, then a
        // 1-byte one per chunk), never the whole message.
        held.extend_from_slice(&msg[..12 + 128 + 300 * 129]);
    }
    let result = held
        .chunks(4096)
        .try_for_each(|piece| s.feed(piece).map(drop));
    assert_eq!(
        result,
        Err(RtmpError::BufferLimit {
            max: crate::DEFAULT_MAX_BUFFERED_BEFORE_PUBLISH
        })
    );
}

#[test]
fn malformed_connect_is_fatal() {
    let no_app = command("connect", 1.0, Value::Object(vec![]), vec![], 0);
    let no_object = command("connect", 1.0, Value::Null, vec![], 0);
    for msg in [no_app, no_object] {
        let mut s = server_after_handshake(ServerConfig::default());
        assert!(matches!(
            s.feed(&chunks(&[(3, msg)])),
            Err(RtmpError::BadCommand(_))
        ));
    }
    let mut truncated = connect();
    truncated.payload = truncated.payload.slice(..truncated.payload.len() - 3);
    let mut s = server_after_handshake(ServerConfig::default());
    assert!(matches!(
        s.feed(&chunks(&[(3, truncated)])),
        Err(RtmpError::Amf0(_))
    ));
}

#[test]
fn malformed_unknown_command_is_ignored_and_unknown_gets_error() {
    let mut s = server_after_handshake(ServerConfig::default());
    let mut broken = command("whatever", 2.0, Value::Null, vec![], 0);
    broken.payload = broken.payload.slice(..broken.payload.len() - 1);
    let unknown = command("whatever", 3.0, Value::Null, vec![], 0);
    assert_eq!(s.feed(&chunks(&[(3, broken), (3, unknown)])).unwrap(), []);
    let out = s.take_output();
    assert!(out.windows(6).any(|w| w == b"_error"));
    assert!(out.windows(25).any(|w| w == b"NetConnection.Call.Failed"));
}

#[test]
fn transaction_id_zero_gets_no_result() {
    // GStreamer's rtmp2sink sends releaseStream/FCPublish with id 0 and
    // warns about an unsolicited `_result`; ids other than 0 are answered.
    let mut s = server_after_handshake(ServerConfig::default());
    let name = vec![Value::String("cam".into())];
    let quiet = [
        (3, connect()),
        (
            3,
            command("releaseStream", 0.0, Value::Null, name.clone(), 0),
        ),
        (3, command("FCPublish", 0.0, Value::Null, name.clone(), 0)),
        (3, command("FCUnpublish", 0.0, Value::Null, name.clone(), 0)),
        (
            3,
            command("getStreamLength", 0.0, Value::Null, name.clone(), 0),
        ),
    ];
    s.feed(&chunks(&quiet)).unwrap();
    let mut out = BytesMut::from(&s.take_output()[..]);
    let mut reader = ChunkReader::new(1 << 24, 64);
    let mut replies = Vec::new();
    while let Some(m) = reader.read_message(&mut out).unwrap() {
        if let Ok(Some(Control::SetChunkSize(n))) = Control::decode(&m) {
            reader.set_chunk_size(n).unwrap();
        }
        if m.type_id == MessageType::COMMAND_AMF0 {
            let c = Command::decode(m.type_id, &m.payload).unwrap();
            replies.push((c.name, c.transaction_id));
        }
    }
    let replies: Vec<_> = replies.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    assert_eq!(
        replies,
        [
            ("_result", 1.0),
            ("onFCPublish", 0.0),
            ("onFCUnpublish", 0.0)
        ]
    );
    let answered = command("releaseStream", 2.0, Value::Null, name, 0);
    s.feed(&chunks(&[(3, answered)])).unwrap();
    let out = s.take_output();
    assert!(out.windows(7).any(|w| w == b"_result"));
}

#[test]
fn publish_out_of_order_is_fatal() {
    let publish = |stream_id| {
        let args = vec![Value::String("s".into()), Value::String("live".into())];
        command("publish", 5.0, Value::Null, args, stream_id)
    };
    let mut s = server_after_handshake(ServerConfig::default());
    assert!(matches!(
        s.feed(&chunks(&[(8, publish(1))])),
        Err(RtmpError::BadCommand(_))
    ));
    // Connected, but stream 7 was never created.
    let mut s = server_after_handshake(ServerConfig::default());
    let bytes = chunks(&[(3, connect()), (8, publish(7))]);
    assert!(matches!(s.feed(&bytes), Err(RtmpError::BadCommand(_))));
}

#[test]
fn message_streams_are_capped() {
    let mut s = server_after_handshake(ServerConfig::default());
    let mut msgs = vec![(3, connect())];
    for i in 0..crate::MAX_MESSAGE_STREAMS {
        msgs.push((
            3,
            command("createStream", 2.0 + i as f64, Value::Null, vec![], 0),
        ));
    }
    assert_eq!(s.feed(&chunks(&msgs)).unwrap().len(), 1);
    let one_more = command("createStream", 99.0, Value::Null, vec![], 0);
    // A fresh writer starts chunk stream 3 with a type-0 header again.
    assert_eq!(
        s.feed(&chunks(&[(3, one_more)])),
        Err(RtmpError::TooManyStreams {
            max: crate::MAX_MESSAGE_STREAMS
        })
    );
}

/// A valid prefix (handshake, connect, createStream) so that fuzzed bytes
/// reach the chunk and command layers.
fn valid_prefix() -> Vec<u8> {
    let mut b = handshake();
    let create = command("createStream", 2.0, Value::Null, vec![], 0);
    b.extend_from_slice(&chunks(&[(3, connect()), (3, create)]));
    b
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let mut s = ServerSession::new(ServerConfig::default(), 5);
        let _ = s.feed(&bytes);
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_prefix_stay_bounded(
        tail in prop::collection::vec(any::<u8>(), 0..8192),
        cut in 0usize..8192,
    ) {
        let config = ServerConfig { max_buffered_bytes: 4096, ..ServerConfig::default() };
        let max = config.max_buffered_bytes;
        let mut s = ServerSession::new(config, 5);
        let mut input = valid_prefix();
        input.extend_from_slice(&tail);
        let cut = cut.min(input.len());
        for piece in [&input[..cut], &input[cut..]] {
            match s.feed(piece) {
                Ok(events) => {
                    for ev in &events {
                        accept_all(&mut s, ev);
                    }
                    prop_assert!(s.buffered_bytes() <= max);
                }
                Err(_) => break,
            }
            let _ = s.take_output();
        }
    }
}
