//! FLV input from the network or a crashed file: an input starting with
//! `FLV` is a file (scan, recover, demux every tag); anything else is a
//! sequence of RTMP media messages `[kind, len_hi, len_lo, body...]` fed to
//! one `TagDemuxer` (kind % 3: video, audio, script).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use media::flv::{self, TagDemuxer, tag_type};

fn feed(d: &mut TagDemuxer, kind: u8, ts: i64, body: Bytes) {
    let _ = match kind {
        tag_type::VIDEO => d.video(ts, body).map(Iterator::count),
        tag_type::AUDIO => d.audio(ts, body).map(Iterator::count),
        _ => d.script(&body).map(Iterator::count),
    };
}

fuzz_target!(|data: &[u8]| {
    let mut d = TagDemuxer::new();
    if data.starts_with(b"FLV") {
        let file = Bytes::copy_from_slice(data);
        let scanned = flv::scan(&file);
        assert!(scanned.valid_len <= file.len());
        for tag in scanned.tags {
            feed(
                &mut d,
                tag.tag_type,
                i64::from(tag.timestamp),
                file.slice(tag.body),
            );
        }
        let len = file.len() as u64;
        if let Ok(r) = flv::recover(&mut std::io::Cursor::new(&file[..]), len) {
            assert!(r.valid_len <= len);
            for p in r.patches {
                assert!(p.offset + p.bytes.len() as u64 <= r.valid_len);
            }
        }
        return;
    }
    let mut rest = data;
    let mut ts = 0i64;
    while let [kind, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (body, next) = tail.split_at(len);
        let kind = [tag_type::VIDEO, tag_type::AUDIO, tag_type::SCRIPT][usize::from(kind % 3)];
        feed(&mut d, kind, ts, Bytes::copy_from_slice(body));
        ts += 20;
        rest = next;
    }
});
