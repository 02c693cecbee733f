//! Fuzz target: arbitrary bytes into `ServerSession::feed`, cut into reads
//! whose lengths derive from the first byte, accepting every publish. The
//! session must never panic and must keep its buffers within the cap.
//! Seeds: `seeds/server_feed/` (a real ClientSession byte stream, written by
//! the ignored test `tests::fuzz_seeds::write_server_feed_seeds`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtmp::{ServerConfig, ServerEvent, ServerSession};

/// Feeds one read, accepting publishes and resuming after each decision.
fn feed(server: &mut ServerSession, mut piece: &[u8]) -> bool {
    loop {
        let Ok(events) = server.feed(piece) else {
            return false;
        };
        piece = &[];
        let mut decided = false;
        for ev in events {
            if let ServerEvent::PublishRequested { stream_id, .. } = ev {
                server.accept_publish(stream_id);
                decided = true;
            }
        }
        if !decided {
            return true;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, mut rest)) = data.split_first() else {
        return;
    };
    let config = ServerConfig::default();
    let cap = config.max_buffered_bytes;
    let mut server = ServerSession::new(config, u64::from(split));
    // split 0: one read; otherwise pseudo-random reads of 1..=16*split bytes.
    let max_read = 16 * usize::from(split);
    let mut state = u32::from(split) | 0x9E37_0000;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = if split == 0 {
            rest.len()
        } else {
            state as usize % max_read + 1
        };
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        if !feed(&mut server, piece) {
            return;
        }
        let _ = server.take_output();
        assert!(server.buffered_bytes() <= cap);
    }
});
