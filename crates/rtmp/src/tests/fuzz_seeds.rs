//! Seeds for the `server_feed` fuzz target (`fuzz/seeds/server_feed/`):
//! real ClientSession byte streams. Regenerate with
//! `cargo test -p rtmp -- --ignored write_server_feed_seeds`.

use bytes::Bytes;

use super::*;
use crate::handshake::digest::{self, Schema};

/// A short publisher session: handshake, connect … publish, a few small
/// media messages (one spanning chunks, some with extended timestamps),
/// unpublish. Returns what the client sent.
fn client_stream() -> Vec<u8> {
    let mut client = ClientSession::new(TC_URL, "live", NAME, 41);
    let mut server = ServerSession::new(ServerConfig::default(), 42);
    let mut sent = pump(&mut client, &mut server, accept_all).to_server;
    client.send_data(0, Bytes::from_static(b"\x02\x00\x0d@setDataFrame"));
    for (i, ts) in [0u32, 20, 40, 0x00FF_FFF0, 0x0100_0010, 0xFFFF_FFF0, 0x10]
        .into_iter()
        .enumerate()
    {
        client.send_audio(ts, Bytes::from(vec![0xAF; 5 + i]));
        client.send_video(
            ts,
            Bytes::from(vec![0x17; if i == 1 { 5000 } else { 30 + i }]),
        );
    }
    client.unpublish();
    sent.extend(pump(&mut client, &mut server, accept_all).to_server);
    sent
}

/// The same stream with an FP9 digest C1 (ffmpeg's schema 1).
fn with_digest_c1(mut stream: Vec<u8>) -> Vec<u8> {
    let mut c1 = [0u8; HANDSHAKE_SIZE];
    c1.copy_from_slice(&stream[1..=HANDSHAKE_SIZE]);
    c1[4..8].copy_from_slice(&[9, 0, 124, 2]);
    digest::imprint_digest(&mut c1, Schema::One, digest::GENUINE_FP_KEY_PUBLIC);
    stream[1..=HANDSHAKE_SIZE].copy_from_slice(&c1);
    stream
}

#[test]
fn seed_streams_replay_cleanly() {
    for stream in [client_stream(), with_digest_c1(client_stream())] {
        let mut server = ServerSession::new(ServerConfig::default(), 1);
        let events = feed_deciding(&mut server, &stream, accept_all);
        assert!(matches!(
            events.last(),
            Some(ServerEvent::Unpublished { .. })
        ));
        assert_eq!(events.len(), 2 + 1 + 14 + 1);
    }
}

#[test]
#[ignore = "writes the fuzz seed files"]
fn write_server_feed_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/server_feed");
    std::fs::create_dir_all(&dir).unwrap();
    let plain = client_stream();
    let digest = with_digest_c1(plain.clone());
    for (name, split, stream) in [
        ("session-one-read", 0u8, &plain),
        ("session-small-reads", 3, &plain),
        ("session-fp9-handshake", 64, &digest),
    ] {
        let mut bytes = vec![split];
        bytes.extend_from_slice(stream);
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
