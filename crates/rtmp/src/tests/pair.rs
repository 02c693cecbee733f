//! ClientSession ↔ ServerSession in memory.

use bytes::{Bytes, BytesMut};
use media::amf0::Value;

use super::*;
use crate::chunk::ChunkWriter;
use crate::command::{Command, StatusCode};
use crate::message::control::Control;

#[test]
fn publish_request_carries_exact_name_and_tc_url() {
    let (client, server, ex) = publishing_pair();
    assert_eq!(
        ex.server_events,
        [
            ServerEvent::Connected {
                app: "live".into(),
                tc_url: Some(TC_URL.into()),
                flash_ver: Some("FMLE/3.0 (compatible; liverec-rtmp)".into()),
            },
            ServerEvent::PublishRequested {
                stream_id: 1,
                app: "live".into(),
                tc_url: Some(TC_URL.into()),
                name: NAME.into(),
                publish_type: "live".into(),
            },
        ]
    );
    assert_eq!(client.stream_id(), Some(1));
    assert!(client.is_publishing());
    assert!(server.is_publishing(1));
    assert_eq!(server.bytes_received(), ex.to_server.len() as u64);
}

#[test]
fn server_answers_in_the_expected_order() {
    let (_, _, ex) = publishing_pair();
    let msgs = decode_server_output(&ex.to_client);
    let controls: Vec<_> = msgs
        .iter()
        .filter_map(|m| Control::decode(m).unwrap())
        .collect();
    assert_eq!(
        controls[..3],
        [
            Control::WindowAckSize(2_500_000),
            Control::SetPeerBandwidth {
                size: 2_500_000,
                limit: 2
            },
            Control::SetChunkSize(4096),
        ]
    );
    let names: Vec<_> = msgs
        .iter()
        .filter(|m| m.type_id == MessageType::COMMAND_AMF0)
        .map(|m| Command::decode(m.type_id, &m.payload).unwrap())
        .map(|c| (c.name, c.transaction_id))
        .collect();
    let names: Vec<_> = names.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    assert_eq!(
        names,
        [
            ("_result", 1.0),
            ("_result", 2.0),
            ("onFCPublish", 0.0),
            ("_result", 3.0),
            ("_result", 4.0),
            ("onStatus", 0.0),
        ]
    );
}

#[test]
fn media_arrives_byte_exact_with_absolute_timestamps() {
    let (mut client, mut server, _) = publishing_pair();
    let plan = media_plan(1, 100);
    send_plan(&mut client, &plan);
    let ex = pump(&mut client, &mut server, accept_all);
    assert_eq!(ex.server_events, expected_events(1, &plan));
    assert!(
        plan.iter()
            .any(|(_, ts, _)| *ts >= 0x00FF_FFFF && *ts < 0xF000_0000)
    );
    assert!(plan.iter().any(|(_, _, d)| d.len() > 4096));
    assert!(plan.windows(2).any(|w| w[1].1 < w[0].1), "plan must wrap");
}

#[test]
fn data_messages_reach_the_caller() {
    let (mut client, mut server, _) = publishing_pair();
    let meta = Bytes::from(media::amf0::encode_all(&[
        Value::String("@setDataFrame".into()),
        Value::String("onMetaData".into()),
        Value::EcmaArray(vec![("width".into(), Value::Number(640.0))]),
    ]));
    client.send_data(0, meta.clone());
    let ex = pump(&mut client, &mut server, accept_all);
    assert_eq!(
        ex.server_events,
        [ServerEvent::Data {
            stream_id: 1,
            timestamp: 0,
            data: meta
        }]
    );
}

#[test]
fn unpublish_is_reported_once() {
    let (mut client, mut server, _) = publishing_pair();
    client.unpublish();
    let ex = pump(&mut client, &mut server, accept_all);
    assert_eq!(
        ex.server_events,
        [ServerEvent::Unpublished { stream_id: 1 }]
    );
    assert!(!server.is_publishing(1));
    assert!(ex.client_events.iter().any(|e| matches!(
        e,
        ClientEvent::Status { code, .. } if code == "NetStream.Unpublish.Success"
    )));
}

#[test]
fn reject_reaches_the_client_and_media_is_not_sent() {
    let mut client = ClientSession::new(TC_URL, "live", NAME, 3);
    let mut server = ServerSession::new(ServerConfig::default(), 4);
    let ex = pump(&mut client, &mut server, |s, ev| {
        if let ServerEvent::PublishRequested { stream_id, .. } = ev {
            s.reject_publish(*stream_id, StatusCode::PublishBadName, "stream busy");
        }
    });
    assert_eq!(
        ex.client_events,
        [ClientEvent::PublishRejected {
            code: "NetStream.Publish.BadName".into(),
            description: "stream busy".into(),
        }]
    );
    assert!(!client.is_publishing());
    client.send_video(0, Bytes::from_static(b"x"));
    assert!(client.take_output().is_empty());
}

/// Writes raw messages as a second writer would, on chunk streams the
/// client does not use, at the chunk size the client announced.
fn raw(messages: &[(u32, Message)]) -> BytesMut {
    let mut w = ChunkWriter::new();
    w.set_chunk_size(crate::CLIENT_CHUNK_SIZE);
    let mut out = BytesMut::new();
    for (csid, m) in messages {
        w.write(*csid, m, &mut out).unwrap();
    }
    out
}

#[test]
fn media_waits_for_the_decision_and_idle_streams_drop_it() {
    let mut client = ClientSession::new(TC_URL, "live", NAME, 5);
    let mut server = ServerSession::new(ServerConfig::default(), 6);
    let mut pending = None;
    pump(&mut client, &mut server, |_, ev| {
        if let ServerEvent::PublishRequested { stream_id, .. } = ev {
            pending = Some(*stream_id);
        }
    });
    let id = pending.unwrap();
    assert!(server.awaiting_decision());
    let video = |stream_id, ts| Message {
        timestamp: ts,
        type_id: MessageType::VIDEO,
        stream_id,
        payload: Bytes::from_static(b"frame"),
    };
    let frame = |ts| ServerEvent::Video {
        stream_id: id,
        timestamp: ts,
        data: Bytes::from_static(b"frame"),
    };
    // Pipelined behind publish: held, not lost.
    assert_eq!(server.feed(&raw(&[(20, video(id, 1))])).unwrap(), []);
    server.accept_publish(id);
    assert!(!server.awaiting_decision());
    assert_eq!(server.feed(&[]).unwrap(), [frame(1)]);
    assert_eq!(
        server.feed(&raw(&[(21, video(id, 2))])).unwrap(),
        [frame(2)]
    );
    // A stream that is not publishing drops media.
    let create = Command::new("createStream", 9.0, Value::Null, vec![]);
    let create = Message {
        timestamp: 0,
        type_id: MessageType::COMMAND_AMF0,
        stream_id: 0,
        payload: create.encode(),
    };
    assert_eq!(
        server
            .feed(&raw(&[(22, create), (23, video(id + 1, 3))]))
            .unwrap(),
        []
    );
    server.reject_publish(id, StatusCode::PublishRejected, "kicked");
    assert_eq!(server.feed(&raw(&[(24, video(id, 4))])).unwrap(), []);
}

#[test]
fn acknowledgement_after_the_peers_window() {
    let (mut client, mut server, _) = publishing_pair();
    let before = server.take_output();
    assert!(before.is_empty());
    server
        .feed(&raw(&[(20, Control::WindowAckSize(1000).encode())]))
        .unwrap();
    let mut acks = Vec::new();
    for i in 0..5 {
        client.send_video(i * 40, Bytes::from(vec![7u8; 1500]));
        let bytes = client.take_output();
        server.feed(&bytes).unwrap();
        let out = server.take_output();
        let mut reader = ChunkReader::new(1 << 20, 8);
        reader.set_chunk_size(4096).unwrap();
        let mut input = BytesMut::from(&out[..]);
        while let Some(m) = reader.read_message(&mut input).unwrap() {
            if let Some(Control::Acknowledgement { sequence }) = Control::decode(&m).unwrap() {
                acks.push(sequence);
            }
        }
        assert_eq!(acks.last().copied(), Some(server.bytes_received() as u32));
    }
    // One for the window message's own read, then one per 1.5 kB read.
    assert_eq!(acks.len(), 6);
}

#[test]
fn play_is_refused_with_a_status() {
    let (_, mut server, _) = publishing_pair();
    let play = Command::new(
        "play",
        6.0,
        Value::Null,
        vec![Value::String("other".into())],
    );
    let msg = Message {
        timestamp: 0,
        type_id: MessageType::COMMAND_AMF0,
        stream_id: 1,
        payload: play.encode(),
    };
    let events = server.feed(&raw(&[(20, msg)])).unwrap();
    assert_eq!(
        events,
        [ServerEvent::PlayRefused {
            stream_id: 1,
            name: "other".into()
        }]
    );
    let out = server.take_output();
    assert!(out.windows(21).any(|w| w == b"NetStream.Play.Failed"));
}

fn connect_object(extra: Vec<(String, Value)>) -> Value {
    let mut props = vec![
        ("app".to_owned(), Value::String("live".into())),
        ("tcUrl".to_owned(), Value::String(TC_URL.into())),
    ];
    props.extend(extra);
    Value::Object(props)
}

/// A server that has only completed the handshake (simple, all-zero C1).
fn handshaken_server() -> ServerSession {
    let mut server = ServerSession::new(ServerConfig::default(), 8);
    let mut hs = vec![3u8];
    hs.extend(std::iter::repeat_n(0u8, 2 * HANDSHAKE_SIZE));
    assert_eq!(server.feed(&hs).unwrap(), []);
    server.take_output();
    server
}

#[test]
fn amf3_connect_is_accepted_and_fourcc_list_echoed() {
    let mut server = handshaken_server();
    let four_cc = Value::StrictArray(vec![
        Value::String("hvc1".into()),
        Value::String("av01".into()),
    ]);
    let connect = Command::new(
        "connect",
        1.0,
        connect_object(vec![("fourCcList".into(), four_cc.clone())]),
        vec![],
    );
    let mut payload = vec![0u8];
    payload.extend_from_slice(&connect.encode());
    let msg = Message {
        timestamp: 0,
        type_id: MessageType::COMMAND_AMF3,
        stream_id: 0,
        payload: Bytes::from(payload),
    };
    let mut w = ChunkWriter::new();
    let mut bytes = BytesMut::new();
    w.write(3, &msg, &mut bytes).unwrap();
    let events = server.feed(&bytes).unwrap();
    assert!(matches!(&events[..], [ServerEvent::Connected { app, .. }] if app == "live"));
    let mut out = vec![0u8; 1 + 2 * HANDSHAKE_SIZE];
    out.extend_from_slice(&server.take_output());
    let result = decode_server_output(&out)
        .into_iter()
        .find(|m| m.type_id == MessageType::COMMAND_AMF0)
        .unwrap();
    let result = Command::decode(result.type_id, &result.payload).unwrap();
    assert_eq!(result.object.get("fourCcList"), Some(&four_cc));
}

#[test]
fn aggregate_and_amf3_data_messages_are_unpacked() {
    let (_, mut server, _) = publishing_pair();
    use crate::message::tests::tag;
    let mut agg = tag(9, 500, b"v1");
    agg.extend(tag(8, 520, b"a1"));
    let aggregate = Message {
        timestamp: 100,
        type_id: MessageType::AGGREGATE,
        stream_id: 1,
        payload: Bytes::from(agg),
    };
    let amf3_data = Message {
        timestamp: 130,
        type_id: MessageType::DATA_AMF3,
        stream_id: 1,
        payload: Bytes::from_static(b"\x00\x02\x00\x01x"),
    };
    let events = server
        .feed(&raw(&[(20, aggregate), (21, amf3_data)]))
        .unwrap();
    assert_eq!(
        events,
        [
            ServerEvent::Video {
                stream_id: 1,
                timestamp: 100,
                data: Bytes::from_static(b"v1")
            },
            ServerEvent::Audio {
                stream_id: 1,
                timestamp: 120,
                data: Bytes::from_static(b"a1")
            },
            ServerEvent::Data {
                stream_id: 1,
                timestamp: 130,
                data: Bytes::from_static(b"\x02\x00\x01x")
            },
        ]
    );
}

#[test]
fn ping_request_is_answered() {
    let (_, mut server, _) = publishing_pair();
    let ping = Control::user(crate::message::control::EventType::PING_REQUEST, 77).encode();
    assert_eq!(server.feed(&raw(&[(20, ping)])).unwrap(), []);
    let mut reader = ChunkReader::new(1 << 20, 8);
    let out = server.take_output();
    let pong = reader
        .read_message(&mut BytesMut::from(&out[..]))
        .unwrap()
        .unwrap();
    assert_eq!(
        Control::decode(&pong).unwrap(),
        Some(Control::user(
            crate::message::control::EventType::PING_RESPONSE,
            77
        ))
    );
}
