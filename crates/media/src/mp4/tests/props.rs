//! Property tests: arbitrary frame sequences survive journal + finalizer
//! with their bytes, flags and timing; the finalizer never panics on
//! arbitrary or damaged input.

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::test_support::{h264_aac, timeline};

/// `(is video, DTS step in ms, cts, keyframe, size)`.
type Op = (bool, i64, i32, bool, usize);

fn op() -> impl Strategy<Value = Op> {
    (
        any::<bool>(),
        1i64..90,
        -50i32..200,
        any::<bool>(),
        0usize..40,
    )
}

fn build(ops: &[Op]) -> Vec<Frame> {
    timeline(
        ops.iter()
            .enumerate()
            .map(|(i, &(video, step, cts, key, size))| {
                let data: Vec<u8> = (0..size).map(|k| (i * 7 + k) as u8).collect();
                (video, data, key, step, cts)
            }),
    )
}

fn mux(frames: &[Frame], fragment_ms: u32) -> Vec<u8> {
    let tracks = h264_aac();
    let mut m = Fmp4Journal::new(true, true).with_fragment_ms(fragment_ms);
    let mut out = Vec::new();
    m.start(&tracks, &mut out).unwrap();
    for f in frames {
        m.push(f, &tracks, &mut out).unwrap();
    }
    m.finish(&mut out).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn frames_survive_journal_and_finalize(ops in vec(op(), 1..300), fragment_ms in 1u32..2500) {
        let frames = build(&ops);
        let journal = mux(&frames, fragment_ms);
        let (file, info) = finalized(&journal);
        prop_assert!(!info.truncated);
        let (_, tracks) = read_tracks(&file);
        let mut seen_key = false;
        let kept: Vec<&Frame> = frames
            .iter()
            .filter(|f| {
                if f.track == Track::Video {
                    seen_key |= f.keyframe && !f.data.is_empty();
                    if !seen_key {
                        return false;
                    }
                }
                !f.data.is_empty()
            })
            .collect();
        for t in &tracks {
            let kind = if &t.handler == b"vide" { Track::Video } else { Track::Audio };
            let src: Vec<&&Frame> = kept.iter().filter(|f| f.track == kind).collect();
            prop_assert_eq!(t.samples.len(), src.len());
            let shift = src.iter().map(|f| f.cts).min().unwrap_or(0).min(0).unsigned_abs();
            for (i, (s, f)) in t.samples.iter().zip(&src).enumerate() {
                let at = s.offset as usize;
                prop_assert_eq!(&file[at..at + s.size as usize], &f.data[..]);
                prop_assert_eq!(s.sync, f.keyframe);
                if kind == Track::Video {
                    prop_assert_eq!(s.dts as i64, (f.dts - src[0].dts) * 90);
                    prop_assert_eq!(s.cts, (i64::from(f.cts) + i64::from(shift)) * 90);
                } else if i > 0 {
                    prop_assert!(s.dts > t.samples[i - 1].dts);
                }
            }
        }
    }

    #[test]
    fn finalize_never_panics_on_bytes(data in vec(any::<u8>(), 0..2000)) {
        let mut out = Vec::new();
        let _ = finalize(&mut Cursor::new(&data), data.len() as u64, &mut out);
        // A claimed length past the data is an I/O error, not a panic.
        let _ = finalize(&mut Cursor::new(&data), data.len() as u64 + 100, &mut out);
    }

    #[test]
    fn finalize_never_panics_on_damaged_journals(
        ops in vec(op(), 1..60),
        damage in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut journal = mux(&build(&ops), 100);
        for (at, byte) in damage {
            let i = at.index(journal.len());
            journal[i] = byte;
        }
        let len = cut.index(journal.len() + 1);
        journal.truncate(len);
        let mut out = Vec::new();
        if let Ok(info) = finalize(&mut Cursor::new(&journal), len as u64, &mut out) {
            prop_assert_eq!(info.bytes_written, out.len() as u64);
            read_tracks(&out);
        }
    }
}
