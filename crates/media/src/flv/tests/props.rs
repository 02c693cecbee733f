//! Property tests: mux/demux round trips, never-panic on arbitrary bytes,
//! and recovery of every truncation of a muxed file.

use proptest::prelude::*;

use super::*;
use crate::test_support::{FrameSequence, timeline};

fn input_strategy() -> impl Strategy<Value = FrameSequence> {
    let frame = (
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 1..64),
        any::<bool>(),
        0i64..100,
        -500i32..=500,
    );
    (any::<bool>(), prop::collection::vec(frame, 1..60)).prop_map(|(hevc, raw)| {
        let frames = timeline(
            raw.into_iter()
                .map(|(video, data, key, step, cts)| (video, data, key, step + 1, cts)),
        );
        FrameSequence { hevc, frames }
    })
}

fn tracks(hevc: bool) -> Tracks {
    let video = if hevc {
        Arc::new(VideoConfig {
            codec: VideoCodec::H265,
            record: x265_record(),
            width: 320,
            height: 240,
            nal_length_size: 4,
        })
    } else {
        h264_config()
    };
    Tracks {
        video: Some(video),
        audio: Some(aac_config()),
    }
}

fn mux(input: &FrameSequence) -> (Vec<u8>, FlvMuxer) {
    let t = tracks(input.hevc);
    let mut m = FlvMuxer::new(true, true);
    let mut out = Vec::new();
    m.start(&t, &mut out);
    for f in &input.frames {
        m.push(f, &t, &mut out).unwrap();
    }
    (out, m)
}

/// Bytes that start like a tag of some kind, so the fuzzing goes deeper.
fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
    let prefixes: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x17, 0],
        vec![0x17, 1],
        vec![0x1c, 0],
        vec![0x90, b'h', b'v', b'c', b'1'],
        vec![0x91, b'a', b'v', b'c', b'1'],
        vec![0xaf, 0],
        vec![0xaf, 1],
        vec![0x2f, 0xff, 0xfb],
        vec![0x90, b'm', b'p', b'4', b'a'],
        vec![0x91, b'.', b'm', b'p', b'3'],
        vec![
            0x02, 0, 10, b'o', b'n', b'M', b'e', b't', b'a', b'D', b'a', b't', b'a',
        ],
    ];
    (
        prop::sample::select(prefixes),
        prop::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(mut p, rest)| {
            p.extend(rest);
            p
        })
}

proptest! {
    #[test]
    fn mux_then_demux_gives_the_frames_back(input in input_strategy()) {
        let (mut out, mut m) = mux(&input);
        for p in m.finish() {
            apply(&mut out, &p);
        }
        let scanned = scan(&out);
        prop_assert_eq!(scanned.valid_len, out.len());
        let (events, d) = demux_file(&Bytes::from(out.clone()));
        prop_assert_eq!(frames(&events), input.frames.clone());
        if input.frames.iter().any(|f| f.track == Track::Video) {
            let codec = if input.hevc { VideoCodec::H265 } else { VideoCodec::H264 };
            prop_assert_eq!(d.tracks().video.map(|v| v.codec), Some(codec));
        }
        let meta = metadata_of(&out);
        prop_assert_eq!(meta.get("duration"), Some(&Value::Number(m.duration_ms() as f64 / 1000.0)));
    }

    #[test]
    fn recover_every_prefix(input in input_strategy()) {
        let (out, m) = mux(&input);
        let scanned = scan(&out);
        let mut boundaries: Vec<usize> = scanned.tags.iter().map(|t| t.body.end + 4).collect();
        boundaries.push(13);
        for cut in 0..=out.len() {
            let r = recover_bytes(&out[..cut]);
            if cut < 13 {
                prop_assert_eq!(r, crate::recover::Recovery::default());
                continue;
            }
            let valid = r.valid_len as usize;
            prop_assert!(valid <= cut && boundaries.contains(&valid), "cut {} -> {}", cut, valid);
            for p in &r.patches {
                prop_assert!(p.offset as usize + p.bytes.len() <= valid);
            }
            if cut == out.len() {
                prop_assert_eq!(r.duration_ms, m.duration_ms());
            }
        }
    }

    #[test]
    fn demuxer_never_panics(calls in prop::collection::vec((0u8..3, body_strategy(), any::<i64>()), 0..30)) {
        let mut d = TagDemuxer::new();
        for (kind, body, ts) in calls {
            let _ = match kind {
                0 => d.video(ts, Bytes::from(body)).map(|e| e.count()),
                1 => d.audio(ts, Bytes::from(body)).map(|e| e.count()),
                _ => d.script(&body).map(|e| e.count()),
            };
        }
    }

    #[test]
    fn reader_never_panics(data in prop::collection::vec(any::<u8>(), 0..300), flv in any::<bool>()) {
        let mut bytes = if flv { b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec() } else { Vec::new() };
        bytes.extend(data);
        let scanned = scan(&bytes);
        prop_assert!(scanned.valid_len <= bytes.len());
        let r = recover_bytes(&bytes);
        prop_assert!(r.valid_len as usize <= bytes.len());
        for p in &r.patches {
            prop_assert!(p.offset + p.bytes.len() as u64 <= r.valid_len);
        }
    }
}
