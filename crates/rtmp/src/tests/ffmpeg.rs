//! A publisher session shaped like ffmpeg 5.1's (`libavformat/rtmpproto.c`):
//! FP9 digest C1 (schema 1, version 9.0.124.2), `connect` pipelined after
//! C2, the server's Set Chunk Size echoed back, the exact command objects
//! ffmpeg writes, `@setDataFrame` on the audio chunk stream, then
//! `FCUnpublish` + `deleteStream`.

use bytes::{Bytes, BytesMut};
use media::amf0::Value;

use super::*;
use crate::chunk::ChunkWriter;
use crate::command::{Command, status_fields};
use crate::handshake::digest::{self, Schema};
use crate::message::control::Control;

const FFMPEG_FLASH_VER: &str = "FMLE/3.0 (compatible; Lavf59.27.100)";
const FFMPEG_TC_URL: &str = "rtmp://127.0.0.1:1935/live";
const FFMPEG_NAME: &str = "test?x=1";

/// ffmpeg's channels (`rtmppkt.h`).
const NETWORK_CHANNEL: u32 = 2;
const SYSTEM_CHANNEL: u32 = 3;
const AUDIO_CHANNEL: u32 = 4;
const VIDEO_CHANNEL: u32 = 6;
const SOURCE_CHANNEL: u32 = 8;

struct Ffmpeg {
    writer: ChunkWriter,
    server: ServerSession,
    /// Server output not yet decoded, and its reader.
    reader: ChunkReader,
    pending: BytesMut,
}

impl Ffmpeg {
    fn invoke(&mut self, csid: u32, stream_id: u32, cmd: &Command, out: &mut BytesMut) {
        let msg = Message {
            timestamp: 0,
            type_id: MessageType::COMMAND_AMF0,
            stream_id,
            payload: cmd.encode(),
        };
        self.writer.write(csid, &msg, out).unwrap();
    }

    /// Feeds the server, accepts any publish, returns its events and the
    /// messages it answered with.
    fn exchange(&mut self, bytes: &[u8]) -> (Vec<ServerEvent>, Vec<Message>) {
        let events = self.server.feed(bytes).unwrap();
        for ev in &events {
            accept_all(&mut self.server, ev);
        }
        self.pending.extend_from_slice(&self.server.take_output());
        let mut msgs = Vec::new();
        while let Some(m) = self.reader.read_message(&mut self.pending).unwrap() {
            if let Ok(Some(Control::SetChunkSize(n))) = Control::decode(&m) {
                self.reader.set_chunk_size(n).unwrap();
            }
            msgs.push(m);
        }
        (events, msgs)
    }
}

fn commands(msgs: &[Message]) -> Vec<Command> {
    msgs.iter()
        .filter(|m| m.type_id == MessageType::COMMAND_AMF0)
        .map(|m| Command::decode(m.type_id, &m.payload).unwrap())
        .collect()
}

fn null_then(name: &str, txn: f64) -> Command {
    Command::new(
        name,
        txn,
        Value::Null,
        vec![Value::String(FFMPEG_NAME.into())],
    )
}

#[test]
fn ffmpeg_shaped_publish_session() {
    let mut c1 = [0u8; HANDSHAKE_SIZE];
    SplitMix64::new(0xDEAD_C0DE).fill(&mut c1[8..]);
    c1[..8].copy_from_slice(&[0, 0, 0, 0, 9, 0, 124, 2]);
    let c1_digest = digest::imprint_digest(&mut c1, Schema::One, digest::GENUINE_FP_KEY_PUBLIC);

    let mut ff = Ffmpeg {
        writer: ChunkWriter::new(),
        server: ServerSession::new(ServerConfig::default(), 99),
        reader: ChunkReader::new(1 << 24, 64),
        pending: BytesMut::new(),
    };
    ff.writer.set_header_compression(true);

    // C0+C1 → S0+S1+S2 with a valid FMS digest and S2 signature.
    let mut c0c1 = vec![3u8];
    c0c1.extend_from_slice(&c1);
    assert_eq!(ff.server.feed(&c0c1).unwrap(), []);
    let answer = ff.server.take_output();
    assert_eq!(answer.len(), 1 + 2 * HANDSHAKE_SIZE);
    let mut s1 = [0u8; HANDSHAKE_SIZE];
    s1.copy_from_slice(&answer[1..1 + HANDSHAKE_SIZE]);
    let mut s2 = [0u8; HANDSHAKE_SIZE];
    s2.copy_from_slice(&answer[1 + HANDSHAKE_SIZE..]);
    assert!(digest::find_digest(&s1, digest::GENUINE_FMS_KEY_PUBLIC).is_some());
    assert!(digest::verify_response(
        &s2,
        &digest::genuine_fms_key(),
        &c1_digest
    ));

    // C2 with connect pipelined behind it.
    let mut bytes = BytesMut::from(&s1[..]);
    let connect = Command::new(
        "connect",
        1.0,
        Value::Object(vec![
            ("app".into(), Value::String("live".into())),
            ("type".into(), Value::String("nonprivate".into())),
            ("flashVer".into(), Value::String(FFMPEG_FLASH_VER.into())),
            ("tcUrl".into(), Value::String(FFMPEG_TC_URL.into())),
        ]),
        Vec::new(),
    );
    ff.invoke(SYSTEM_CHANNEL, 0, &connect, &mut bytes);
    let (events, msgs) = ff.exchange(&bytes);
    assert_eq!(
        events,
        [ServerEvent::Connected {
            app: "live".into(),
            tc_url: Some(FFMPEG_TC_URL.into()),
            flash_ver: Some(FFMPEG_FLASH_VER.into()),
        }]
    );
    let result = &commands(&msgs)[0];
    assert_eq!(
        (result.name.as_str(), result.transaction_id),
        ("_result", 1.0)
    );
    assert_eq!(
        status_fields(&result.args[0]).1,
        "NetConnection.Connect.Success"
    );
    assert_eq!(
        result.object.get("fmsVer").and_then(Value::as_str),
        Some("FMS/3,0,1,123")
    );

    // ffmpeg echoes the server's Set Chunk Size and switches to it.
    let mut bytes = BytesMut::new();
    ff.writer
        .write(
            NETWORK_CHANNEL,
            &Control::SetChunkSize(4096).encode(),
            &mut bytes,
        )
        .unwrap();
    ff.writer.set_chunk_size(4096);
    ff.invoke(
        SYSTEM_CHANNEL,
        0,
        &null_then("releaseStream", 2.0),
        &mut bytes,
    );
    ff.invoke(SYSTEM_CHANNEL, 0, &null_then("FCPublish", 3.0), &mut bytes);
    ff.invoke(
        SYSTEM_CHANNEL,
        0,
        &Command::new("createStream", 4.0, Value::Null, vec![]),
        &mut bytes,
    );
    let (events, msgs) = ff.exchange(&bytes);
    assert_eq!(events, []);
    let replies: Vec<_> = commands(&msgs)
        .into_iter()
        .map(|c| (c.name, c.transaction_id, c.args))
        .collect();
    assert_eq!(replies[0], ("_result".into(), 2.0, vec![Value::Undefined]));
    assert_eq!(replies[1].0, "onFCPublish");
    assert_eq!(replies[2], ("_result".into(), 3.0, vec![Value::Undefined]));
    assert_eq!(
        replies[3],
        ("_result".into(), 4.0, vec![Value::Number(1.0)])
    );

    // publish on the source channel, stream 1 → request, accepted.
    let mut bytes = BytesMut::new();
    let publish = Command::new(
        "publish",
        5.0,
        Value::Null,
        vec![
            Value::String(FFMPEG_NAME.into()),
            Value::String("live".into()),
        ],
    );
    ff.invoke(SOURCE_CHANNEL, 1, &publish, &mut bytes);
    let events = ff.server.feed(&bytes).unwrap();
    assert_eq!(
        events,
        [ServerEvent::PublishRequested {
            stream_id: 1,
            app: "live".into(),
            tc_url: Some(FFMPEG_TC_URL.into()),
            name: FFMPEG_NAME.into(),
            publish_type: "live".into(),
        }]
    );
    assert!(
        ff.server.take_output().is_empty(),
        "nothing is sent before the caller decides"
    );
    ff.server.accept_publish(1);
    let (_, msgs) = ff.exchange(&[]);
    assert_eq!(
        Control::decode(&msgs[0]).unwrap(),
        Some(Control::user(
            crate::message::control::EventType::STREAM_BEGIN,
            1
        ))
    );
    let status = &commands(&msgs)[0];
    assert_eq!(status.name, "onStatus");
    assert_eq!(msgs[1].stream_id, 1);
    assert_eq!(status_fields(&status.args[0]).1, "NetStream.Publish.Start");

    // Metadata on the audio channel, then media; a video frame spans chunks.
    let meta = Bytes::from(media::amf0::encode_all(&[
        Value::String("@setDataFrame".into()),
        Value::String("onMetaData".into()),
        Value::EcmaArray(vec![("duration".into(), Value::Number(0.0))]),
    ]));
    let media = [
        (AUDIO_CHANNEL, MessageType::DATA_AMF0, 0, meta),
        (
            VIDEO_CHANNEL,
            MessageType::VIDEO,
            0,
            Bytes::from(vec![0x17; 10_000]),
        ),
        (
            AUDIO_CHANNEL,
            MessageType::AUDIO,
            0,
            Bytes::from(vec![0xAF; 7]),
        ),
        (
            AUDIO_CHANNEL,
            MessageType::AUDIO,
            23,
            Bytes::from(vec![0xAF; 300]),
        ),
        (
            VIDEO_CHANNEL,
            MessageType::VIDEO,
            33,
            Bytes::from(vec![0x27; 5000]),
        ),
        (
            AUDIO_CHANNEL,
            MessageType::AUDIO,
            46,
            Bytes::from(vec![0xAF; 300]),
        ),
    ];
    let mut bytes = BytesMut::new();
    for (csid, kind, ts, data) in &media {
        let msg = Message {
            timestamp: *ts,
            type_id: *kind,
            stream_id: 1,
            payload: data.clone(),
        };
        ff.writer.write(*csid, &msg, &mut bytes).unwrap();
    }
    let (events, _) = ff.exchange(&bytes);
    let got: Vec<_> = events
        .iter()
        .map(|e| match e {
            ServerEvent::Data {
                timestamp, data, ..
            } => ("data", *timestamp, data.len()),
            ServerEvent::Audio {
                timestamp, data, ..
            } => ("audio", *timestamp, data.len()),
            ServerEvent::Video {
                timestamp, data, ..
            } => ("video", *timestamp, data.len()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            ("data", 0, media[0].3.len()),
            ("video", 0, 10_000),
            ("audio", 0, 7),
            ("audio", 23, 300),
            ("video", 33, 5000),
            ("audio", 46, 300),
        ]
    );

    // FCUnpublish + deleteStream: one Unpublished.
    let mut bytes = BytesMut::new();
    ff.invoke(
        SYSTEM_CHANNEL,
        0,
        &null_then("FCUnpublish", 6.0),
        &mut bytes,
    );
    let delete = Command::new("deleteStream", 7.0, Value::Null, vec![Value::Number(1.0)]);
    ff.invoke(SYSTEM_CHANNEL, 0, &delete, &mut bytes);
    let (events, _) = ff.exchange(&bytes);
    assert_eq!(events, [ServerEvent::Unpublished { stream_id: 1 }]);
}
