//! Cross-layer tests: client ↔ server in memory, byte-split invariance, an
//! ffmpeg-shaped session, hostile input. Shared helpers live here.

mod errors;
mod ffmpeg;
mod fuzz_seeds;
mod pair;
mod splits;

use bytes::{Bytes, BytesMut};

use crate::chunk::ChunkReader;
use crate::handshake::HANDSHAKE_SIZE;
use crate::message::control::Control;
use crate::message::{Message, MessageType};
use crate::rng::SplitMix64;
use crate::{ClientEvent, ClientSession, ServerConfig, ServerEvent, ServerSession};

const TC_URL: &str = "rtmp://Push.Example.com:1935/live";
const NAME: &str = "stream1?txSecret=abc&txTime=5C271099";

/// Everything an in-memory exchange produced.
#[derive(Debug, Default)]
struct Exchange {
    client_events: Vec<ClientEvent>,
    server_events: Vec<ServerEvent>,
    to_server: Vec<u8>,
    to_client: Vec<u8>,
}

/// Moves bytes both ways until neither side has output; `decide` sees each
/// server event (to accept or reject publishes) before it is recorded.
fn pump(
    client: &mut ClientSession,
    server: &mut ServerSession,
    mut decide: impl FnMut(&mut ServerSession, &ServerEvent),
) -> Exchange {
    let mut ex = Exchange::default();
    for _ in 0..1000 {
        let c_out = client.take_output();
        if !c_out.is_empty() {
            ex.to_server.extend_from_slice(&c_out);
            ex.server_events
                .extend(feed_deciding(server, &c_out, &mut decide));
        }
        let s_out = server.take_output();
        if !s_out.is_empty() {
            ex.to_client.extend_from_slice(&s_out);
            ex.client_events.extend(client.feed(&s_out).unwrap());
        }
        if c_out.is_empty() && s_out.is_empty() {
            return ex;
        }
    }
    panic!("exchange did not settle");
}

/// Feeds `bytes`, lets `decide` see each event, and resumes parsing after
/// each decided publish request (`feed(&[])`), as a caller must.
fn feed_deciding(
    server: &mut ServerSession,
    bytes: &[u8],
    mut decide: impl FnMut(&mut ServerSession, &ServerEvent),
) -> Vec<ServerEvent> {
    let mut all = Vec::new();
    let mut batch = server.feed(bytes).unwrap();
    loop {
        for ev in &batch {
            decide(server, ev);
        }
        let requested = batch
            .iter()
            .any(|e| matches!(e, ServerEvent::PublishRequested { .. }));
        all.append(&mut batch);
        if !requested || server.awaiting_decision() {
            return all;
        }
        batch = server.feed(&[]).unwrap();
    }
}

fn accept_all(server: &mut ServerSession, ev: &ServerEvent) {
    if let ServerEvent::PublishRequested { stream_id, .. } = ev {
        server.accept_publish(*stream_id);
    }
}

/// A client and server that have completed the publish handshake.
fn publishing_pair() -> (ClientSession, ServerSession, Exchange) {
    let mut client = ClientSession::new(TC_URL, "live", NAME, 11);
    let mut server = ServerSession::new(ServerConfig::default(), 22);
    let ex = pump(&mut client, &mut server, accept_all);
    assert_eq!(ex.client_events, [ClientEvent::PublishStarted]);
    (client, server, ex)
}

/// Decodes a server's whole output (S0+S1+S2, then chunks), applying its
/// Set Chunk Size; control messages are returned too.
fn decode_server_output(bytes: &[u8]) -> Vec<Message> {
    let mut input = BytesMut::from(&bytes[1 + 2 * HANDSHAKE_SIZE..]);
    let mut reader = ChunkReader::new(1 << 24, 64);
    let mut out = Vec::new();
    while let Some(m) = reader.read_message(&mut input).unwrap() {
        if let Ok(Some(Control::SetChunkSize(n))) = Control::decode(&m) {
            reader.set_chunk_size(n).unwrap();
        }
        out.push(m);
    }
    assert!(input.is_empty(), "trailing server bytes");
    out
}

/// A deterministic plan of media messages: random sizes (some above the
/// 4096 chunk size), timestamps crossing 0xFFFFFF (extended timestamps)
/// and 2^32 (wrap).
fn media_plan(seed: u64, count: usize) -> Vec<(MessageType, u32, Bytes)> {
    let mut rng = SplitMix64::new(seed);
    (0..count)
        .map(|i| {
            let kind = if i % 3 == 0 {
                MessageType::AUDIO
            } else {
                MessageType::VIDEO
            };
            let segment = i * 3 / count;
            let first = (segment * count).div_ceil(3);
            let step = (i - first) as u32 * 40;
            // Within a segment timestamps rise; the bases cross 0xFFFFFF
            // (extended) and 2^32 (wrap) a few messages in.
            let ts = [0u32, 0x00FF_FF00, 0xFFFF_FF00][segment].wrapping_add(step);
            // Each segment opens with a large message on a type-0 header.
            let len = if i == first {
                9000
            } else {
                1 + (rng.next_u64() % 9000) as usize
            };
            let mut data = vec![0u8; len];
            rng.fill(&mut data);
            (kind, ts, Bytes::from(data))
        })
        .collect()
}

fn send_plan(client: &mut ClientSession, plan: &[(MessageType, u32, Bytes)]) {
    for (kind, ts, data) in plan {
        match *kind {
            MessageType::AUDIO => client.send_audio(*ts, data.clone()),
            _ => client.send_video(*ts, data.clone()),
        }
    }
}

fn expected_events(stream_id: u32, plan: &[(MessageType, u32, Bytes)]) -> Vec<ServerEvent> {
    plan.iter()
        .map(|(kind, timestamp, data)| match *kind {
            MessageType::AUDIO => ServerEvent::Audio {
                stream_id,
                timestamp: *timestamp,
                data: data.clone(),
            },
            _ => ServerEvent::Video {
                stream_id,
                timestamp: *timestamp,
                data: data.clone(),
            },
        })
        .collect()
}
