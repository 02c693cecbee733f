//! Recoverer tests: each format's unit walk on hand-built and muxed files,
//! and properties: a file cut anywhere recovers to a prefix that reads
//! cleanly to its end, and no input makes a recoverer panic.

use std::io::Cursor;

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::amf0::{self, Value};
use crate::codec::aac::{AscInfo, adts_header, parse_asc};
use crate::flv::{FlvMuxer, scan, tag_type};
use crate::frame::Frame;
use crate::mux::Muxer;
use crate::test_support::{H264_AAC, aac_config, apply, demux_file, frames, source};
use crate::ts::{TsMuxer, recover as ts_slice};

type Recoverer = fn(&mut Cursor<Vec<u8>>, u64) -> std::io::Result<Recovery>;

fn run(f: Recoverer, data: &[u8]) -> Recovery {
    f(&mut Cursor::new(data.to_vec()), data.len() as u64).unwrap()
}

/// Truncates `data` as the recorder does and applies the patches.
fn repaired(data: &[u8], r: &Recovery) -> Vec<u8> {
    let mut out = data[..r.valid_len as usize].to_vec();
    for p in &r.patches {
        apply(&mut out, p);
    }
    out
}

/// Appends a tag and its `PreviousTagSize`.
fn push_tag(out: &mut Vec<u8>, kind: u8, ts: u32, body: &[u8]) {
    crate::flv::write_tag_header(kind, body.len(), ts, out);
    out.extend_from_slice(body);
    out.extend_from_slice(&(11 + body.len() as u32).to_be_bytes());
}

/// An `onMetaData` tag with zero duration and file size, then ten AVC
/// frames 40 ms apart.
fn hand_built_flv() -> Vec<u8> {
    let mut f = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
    let zero = |k: &str| (k.to_string(), Value::Number(0.0));
    let meta = amf0::encode_all(&[
        Value::String("onMetaData".into()),
        Value::EcmaArray(vec![zero("duration"), zero("filesize")]),
    ]);
    push_tag(&mut f, tag_type::SCRIPT, 0, &meta);
    for i in 0..10u32 {
        push_tag(
            &mut f,
            tag_type::VIDEO,
            i * 40,
            &[0x17, 1, 0, 0, 0, 1, 2, 3],
        );
    }
    f
}

fn number_at(file: &[u8], at: u64) -> f64 {
    let at = at as usize;
    f64::from_be_bytes(file[at..at + 8].try_into().unwrap())
}

#[test]
fn flv_finds_complete_tags_and_metadata() {
    let f = hand_built_flv();
    let r = run(flv, &f);
    assert_eq!(r.valid_len, f.len() as u64);
    assert_eq!(r.units, 10);
    assert_eq!(r.duration_ms, 360 + 40);
    assert_eq!(r.patches.len(), 2);
    // Every truncation stops at a tag boundary.
    for cut in 0..f.len() {
        let r = run(flv, &f[..cut]);
        assert!(r.valid_len as usize <= cut);
        if cut >= 13 {
            assert!(r.valid_len >= 13);
        }
    }
    // Cut inside the last tag: nine frames, patched for them.
    let r = run(flv, &f[..f.len() - 5]);
    assert_eq!(r.units, 9);
    let out = repaired(&f, &r);
    assert_eq!(out.len() as u64, r.valid_len);
    let d = number_at(&out, r.patches[0].offset);
    assert!((d - 0.36).abs() < 1e-9, "{d}");
    assert_eq!(number_at(&out, r.patches[1].offset), out.len() as f64);
    assert_eq!(
        run(flv, &out),
        Recovery {
            patches: r.patches.clone(),
            ..r
        }
    );
}

#[test]
fn flv_rejects_other_bytes_and_unknown_tags() {
    assert_eq!(run(flv, b""), Recovery::default());
    assert_eq!(
        run(flv, b"FLX\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"),
        Recovery::default()
    );
    let mut f = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
    push_tag(&mut f, tag_type::VIDEO, 0, &[0x17, 1, 0, 0, 0, 5]);
    let good = f.len() as u64;
    push_tag(&mut f, 7, 40, &[0x17, 1, 0, 0, 0, 5]);
    let r = run(flv, &f);
    assert_eq!((r.valid_len, r.units), (good, 1));
    assert!(r.patches.is_empty());
}

/// The fixture muxed as the recorder writes FLV: the file and its frames.
fn muxed_fixture() -> (Vec<u8>, Vec<Frame>) {
    let src = source(H264_AAC);
    let mut m = FlvMuxer::new(src.video, src.audio);
    let mut out = Vec::new();
    m.start(&src.frames[0].1, &mut out);
    for (f, t) in &src.frames {
        m.push(f, t, &mut out).unwrap();
    }
    for p in m.finish() {
        apply(&mut out, &p);
    }
    (out, src.frames.into_iter().map(|(f, _)| f).collect())
}

/// AAC-LC 44.1 kHz stereo, as ADTS writes it.
fn asc() -> AscInfo {
    parse_asc(&aac_config().asc).unwrap()
}

fn adts_file(payloads: &[usize]) -> (Vec<u8>, Vec<usize>) {
    let (mut out, mut ends) = (Vec::new(), Vec::new());
    for (i, &n) in payloads.iter().enumerate() {
        out.extend(adts_header(&asc(), n).unwrap());
        out.extend(std::iter::repeat_n(i as u8, n));
        ends.push(out.len());
    }
    (out, ends)
}

#[test]
fn adts_keeps_whole_frames() {
    let (f, ends) = adts_file(&[100; 43]);
    let r = run(adts, &f);
    assert_eq!((r.valid_len, r.units), (f.len() as u64, 43));
    // 43 frames of 1024 samples at 44.1 kHz.
    assert_eq!(r.duration_ms, 998);
    assert!(r.patches.is_empty());
    let r = run(adts, &f[..ends[9] + 50]);
    assert_eq!((r.valid_len, r.units), (ends[9] as u64, 10));
    assert_eq!(run(adts, &f[..6]), Recovery::default());
    assert_eq!(
        run(adts, b"ID3\x04\x00\x00\x00\x00\x00\x00"),
        Recovery::default()
    );
}

/// MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417 or 418 bytes a frame.
fn mp3_frame(padding: bool, fill: u8) -> Vec<u8> {
    let mut f = vec![0xff, 0xfb, 0x90 | (u8::from(padding) << 1), 0x64];
    f.resize(417 + usize::from(padding), fill);
    f
}

fn mp3_file(info: bool, padding: &[bool]) -> (Vec<u8>, Vec<usize>) {
    let (mut out, mut ends) = (Vec::new(), Vec::new());
    if info {
        let mut tag = mp3_frame(false, 0);
        tag[36..40].copy_from_slice(b"Info");
        tag[40..48].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        out.extend(tag);
    }
    for (i, &p) in padding.iter().enumerate() {
        out.extend(mp3_frame(p, 0x10 + i as u8));
        ends.push(out.len());
    }
    (out, ends)
}

#[test]
fn mp3_blanks_the_info_tag_and_keeps_whole_frames() {
    let (f, ends) = mp3_file(true, &[false; 10]);
    let r = run(mp3, &f);
    assert_eq!((r.valid_len, r.units), (f.len() as u64, 10));
    // 10 frames of 1152 samples at 44.1 kHz.
    assert_eq!(r.duration_ms, 261);
    assert_eq!(r.patches.len(), 1);
    assert_eq!(r.patches[0].offset, 36);
    assert_eq!(r.patches[0].bytes, vec![0u8; 417 - 36]);
    let r = run(mp3, &f[..ends[4] + 3]);
    assert_eq!((r.valid_len, r.units), (ends[4] as u64, 5));
    let (plain, _) = mp3_file(false, &[true, false]);
    let r = run(mp3, &plain);
    assert_eq!(
        (r.valid_len, r.units, r.patches.len()),
        (plain.len() as u64, 2, 0)
    );
}

fn muxed_ts() -> Vec<u8> {
    let src = source(H264_AAC);
    let mut m = TsMuxer::new(true, true);
    let mut out = Vec::new();
    m.start(&src.frames[0].1, &mut out).unwrap();
    for (f, t) in &src.frames {
        m.push(f, t, &mut out).unwrap();
    }
    assert!(m.finish(&mut out).unwrap().is_empty());
    out
}

#[test]
fn ts_streams_like_the_slice() {
    let data = muxed_ts();
    let streamed = ts(Cursor::new(&data)).unwrap();
    assert_eq!(streamed, ts_slice(&data));
    assert!(streamed.valid_len > 0 && streamed.valid_len < data.len());
    assert!(
        (streamed.duration_ms - 10_000).abs() < 200,
        "{}",
        streamed.duration_ms
    );
    assert_eq!(
        ts(Cursor::new(&[][..])).unwrap(),
        crate::ts::TsRecovery::default()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn flv_cut_anywhere_demuxes_cleanly(cut in any::<prop::sample::Index>()) {
        let (file, all) = muxed_fixture();
        let cut = cut.index(file.len() + 1);
        let r = run(flv, &file[..cut]);
        let out = repaired(&file, &r);
        let scanned = scan(&out);
        prop_assert_eq!(scanned.valid_len, out.len());
        let media = scanned.tags.iter().filter(|t| t.tag_type != tag_type::SCRIPT).count();
        prop_assert_eq!(r.units, media as u64);
        let (events, d) = demux_file(&Bytes::from(out));
        let got = frames(&events);
        prop_assert_eq!(&got[..], &all[..got.len()]);
        prop_assert_eq!(d.ignored(), 0);
    }

    #[test]
    fn adts_cut_anywhere_keeps_the_whole_frames(
        payloads in prop::collection::vec(0usize..600, 1..40),
        cut in any::<prop::sample::Index>(),
    ) {
        let (file, ends) = adts_file(&payloads);
        let cut = cut.index(file.len() + 1);
        let r = run(adts, &file[..cut]);
        let kept = ends.iter().filter(|&&e| e <= cut).count();
        prop_assert_eq!(r.units, kept as u64);
        prop_assert_eq!(r.valid_len as usize, if kept == 0 { 0 } else { ends[kept - 1] });
        prop_assert_eq!(r.duration_ms, (kept as f64 * 1024.0 * 1000.0 / 44100.0).round() as i64);
        let again = run(adts, &repaired(&file, &r));
        prop_assert_eq!(again, r);
    }

    #[test]
    fn mp3_cut_anywhere_keeps_the_whole_frames(
        info in any::<bool>(),
        padding in prop::collection::vec(any::<bool>(), 1..30),
        cut in any::<prop::sample::Index>(),
    ) {
        let (file, ends) = mp3_file(info, &padding);
        let cut = cut.index(file.len() + 1);
        let r = run(mp3, &file[..cut]);
        let kept = ends.iter().filter(|&&e| e <= cut).count();
        prop_assert_eq!(r.units, kept as u64);
        let head = if info { 417 } else { 0 };
        let valid = if kept == 0 { if cut >= head { head } else { 0 } } else { ends[kept - 1] };
        prop_assert_eq!(r.valid_len as usize, valid);
        for p in &r.patches {
            prop_assert!(p.offset + p.bytes.len() as u64 <= r.valid_len);
        }
        // Once blanked, the tag frame reads as a frame of silence.
        let out = repaired(&file, &r);
        let again = run(mp3, &out);
        prop_assert_eq!(again.valid_len, out.len() as u64);
        prop_assert!(again.patches.is_empty());
    }

    #[test]
    fn ts_cut_anywhere_ends_before_a_pes_start(cut in any::<prop::sample::Index>()) {
        let data = muxed_ts();
        let cut = cut.index(data.len() + 1);
        let r = ts(Cursor::new(&data[..cut])).unwrap();
        prop_assert_eq!(r, ts_slice(&data[..cut]));
        prop_assert!(r.valid_len <= cut && r.valid_len.is_multiple_of(188));
        prop_assert!(data[..r.valid_len].chunks(188).all(|p| p[0] == 0x47));
        if r.valid_len > 0 {
            // The next packet starts a PES (payload_unit_start_indicator).
            prop_assert!(data[r.valid_len + 1] & 0x40 != 0);
            prop_assert!(r.duration_ms >= 0 && r.pes_packets > 0);
        }
    }

    #[test]
    fn recoverers_never_panic(data in prop::collection::vec(any::<u8>(), 0..2000), flv_head in any::<bool>()) {
        let mut bytes = if flv_head { b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec() } else { Vec::new() };
        bytes.extend(data);
        for f in [flv as Recoverer, adts, mp3] {
            let r = run(f, &bytes);
            prop_assert!(r.valid_len as usize <= bytes.len());
            for p in &r.patches {
                prop_assert!(p.offset + p.bytes.len() as u64 <= r.valid_len);
            }
        }
        let r = ts(Cursor::new(&bytes)).unwrap();
        prop_assert!(r.valid_len <= bytes.len());
    }
}
