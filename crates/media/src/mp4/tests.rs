//! MP4 tests: helpers of their own (journal muxing, an independent reader
//! of the finalized sample tables) and the whole-pipeline unit tests;
//! fixtures, crash safety and properties live in the submodules. Fixtures,
//! demuxed sources and tool helpers come from `crate::test_support`.

mod crash;
mod fixtures;
mod props;

use std::io::Cursor;
use std::sync::Arc;

use bytes::Bytes;

use super::*;
use crate::frame::{Frame, Track, Tracks, VideoCodec, VideoConfig};
use crate::mux::{MuxError, Muxer};
use crate::test_support::{H264_AAC, aac_config, frame, h264_aac, h264_config, h264_only, source};

/// A journal made by muxing `frames`, each with the configurations in
/// effect for it, with `(journal length, frame DTS)` after each push.
pub(super) struct Journal {
    pub(super) bytes: Vec<u8>,
    pub(super) pushes: Vec<(usize, i64)>,
    pub(super) init_len: usize,
    pub(super) duration_ms: i64,
}

pub(super) fn journal(frames: &[(Frame, Tracks)], video: bool, audio: bool) -> Journal {
    let mut m = Fmp4Journal::new(video, audio);
    let mut out = Vec::new();
    let mut pushes = Vec::new();
    let mut init_len = 0;
    for (f, tracks) in frames {
        if init_len == 0 {
            m.start(tracks, &mut out).unwrap();
            init_len = out.len();
        }
        m.push(f, tracks, &mut out).unwrap();
        pushes.push((out.len(), f.dts));
    }
    assert!(m.finish(&mut out).unwrap().is_empty());
    Journal {
        bytes: out,
        pushes,
        init_len,
        duration_ms: m.duration_ms(),
    }
}

/// Finalizes `journal` in memory.
pub(super) fn finalized(journal: &[u8]) -> (Vec<u8>, FinalizeInfo) {
    let mut out = Vec::new();
    let info = finalize(&mut Cursor::new(journal), journal.len() as u64, &mut out).unwrap();
    assert_eq!(info.bytes_written, out.len() as u64);
    (out, info)
}

/// Top-level boxes of a file: `(type, offset, size)`.
pub(super) fn top_level(file: &[u8]) -> Vec<([u8; 4], usize, usize)> {
    let mut at = 0;
    let mut out = Vec::new();
    while at + 8 <= file.len() {
        let mut size = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        if size == 1 {
            size = u64::from_be_bytes(file[at + 8..at + 16].try_into().unwrap()) as usize;
        }
        assert!(size >= 8 && at + size <= file.len(), "box at {at}");
        out.push((file[at + 4..at + 8].try_into().unwrap(), at, size));
        at += size;
    }
    assert_eq!(at, file.len());
    out
}

/// A sample as the finalized file's tables describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct OutSample {
    pub(super) offset: u64,
    pub(super) size: u32,
    pub(super) dts: u64,
    pub(super) cts: i64,
    pub(super) sync: bool,
}

/// One track of a finalized file.
#[derive(Clone, Debug)]
pub(super) struct OutTrack {
    pub(super) handler: [u8; 4],
    pub(super) timescale: u32,
    pub(super) samples: Vec<OutSample>,
    pub(super) elst: Vec<(u64, i64)>,
    pub(super) tkhd_duration: u64,
}

fn find<'a>(body: &'a [u8], path: &[&[u8; 4]]) -> Option<&'a [u8]> {
    let (first, rest) = path.split_first()?;
    let b = reader::Boxes(body)
        .map(Result::unwrap)
        .find(|b| &b.kind == *first)?;
    if rest.is_empty() {
        Some(b.body)
    } else {
        find(b.body, rest)
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap())
}

/// Reads the tracks of a progressive MP4 from its sample tables.
pub(super) fn read_tracks(file: &[u8]) -> (u64, Vec<OutTrack>) {
    let moov = find(file, &[b"moov"]).expect("moov");
    let mvhd = find(moov, &[b"mvhd"]).unwrap();
    let movie_duration = if mvhd[0] == 1 {
        be64(mvhd, 24)
    } else {
        u64::from(be32(mvhd, 16))
    };
    let mut tracks = Vec::new();
    for trak in reader::Boxes(moov)
        .map(Result::unwrap)
        .filter(|b| &b.kind == b"trak")
    {
        let t = trak.body;
        let tkhd = find(t, &[b"tkhd"]).unwrap();
        let tkhd_duration = if tkhd[0] == 1 {
            be64(tkhd, 28)
        } else {
            u64::from(be32(tkhd, 20))
        };
        let hdlr = find(t, &[b"mdia", b"hdlr"]).unwrap();
        let mdhd = find(t, &[b"mdia", b"mdhd"]).unwrap();
        let timescale = be32(mdhd, if mdhd[0] == 1 { 20 } else { 12 });
        let stbl = find(t, &[b"mdia", b"minf", b"stbl"]).unwrap();
        let entries = |kind: &[u8; 4], width: usize| -> Vec<Vec<u64>> {
            let Some(b) = find(stbl, &[kind]) else {
                return Vec::new();
            };
            let n = be32(b, 4) as usize;
            let wide = kind == b"co64";
            (0..n)
                .map(|i| {
                    (0..width)
                        .map(|k| {
                            if wide {
                                be64(b, 8 + i * 8)
                            } else {
                                u64::from(be32(b, 8 + (i * width + k) * 4))
                            }
                        })
                        .collect()
                })
                .collect()
        };
        let stsz = find(stbl, &[b"stsz"]).unwrap();
        let sizes: Vec<u32> = (0..be32(stsz, 8) as usize)
            .map(|i| be32(stsz, 12 + 4 * i))
            .collect();
        let mut dts = Vec::new();
        let mut at = 0;
        for e in entries(b"stts", 2) {
            for _ in 0..e[0] {
                dts.push(at);
                at += e[1];
            }
        }
        let mut cts = Vec::new();
        for e in entries(b"ctts", 2) {
            cts.extend(std::iter::repeat_n(
                i64::from(e[1] as u32 as i32),
                e[0] as usize,
            ));
        }
        let stss: Option<Vec<u64>> =
            find(stbl, &[b"stss"]).map(|_| entries(b"stss", 1).into_iter().map(|e| e[0]).collect());
        let offsets: Vec<u64> = if find(stbl, &[b"co64"]).is_some() {
            entries(b"co64", 1).into_iter().map(|e| e[0]).collect()
        } else {
            entries(b"stco", 1).into_iter().map(|e| e[0]).collect()
        };
        let stsc = entries(b"stsc", 3);
        let mut samples = Vec::new();
        let mut n = 0;
        for (c, &chunk_offset) in offsets.iter().enumerate() {
            let per = stsc.iter().rev().find(|e| e[0] as usize <= c + 1).unwrap()[1];
            let mut off = chunk_offset;
            for _ in 0..per {
                samples.push(OutSample {
                    offset: off,
                    size: sizes[n],
                    dts: dts[n],
                    cts: cts.get(n).copied().unwrap_or(0),
                    sync: stss.as_ref().is_none_or(|s| s.contains(&(n as u64 + 1))),
                });
                off += u64::from(sizes[n]);
                n += 1;
            }
        }
        assert_eq!((n, dts.len()), (sizes.len(), sizes.len()));
        let elst = find(t, &[b"edts", b"elst"])
            .map(|e| {
                (0..be32(e, 4) as usize)
                    .map(|i| {
                        (
                            u64::from(be32(e, 8 + 12 * i)),
                            i64::from(be32(e, 12 + 12 * i) as i32),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        tracks.push(OutTrack {
            handler: hdlr[8..12].try_into().unwrap(),
            timescale,
            samples,
            elst,
            tkhd_duration,
        });
    }
    (movie_duration, tracks)
}

#[test]
fn journal_layout_and_fragment_rules() {
    let tracks = h264_aac();
    let mut m = Fmp4Journal::new(true, true);
    let mut out = Vec::new();
    m.start(&tracks, &mut out).unwrap();
    let init = top_level(&out);
    assert_eq!(
        init.iter().map(|b| &b.0).collect::<Vec<_>>(),
        [b"ftyp", b"moov"]
    );
    // A P-frame before the first keyframe is dropped; 1.4 s of 30 fps video
    // with a keyframe at 600 ms: fragments end at the keyframe (>= 500 ms)
    // and then when 1000 ms are buffered.
    m.push(&frame(Track::Video, 0, 0, false, b"p"), &tracks, &mut out)
        .unwrap();
    assert_eq!(out.len(), init[1].1 + init[1].2);
    let mut boundaries = Vec::new();
    for i in 0..60 {
        let key = i == 0 || i == 18;
        let before = out.len();
        m.push(
            &frame(Track::Video, 100 + i * 33, 66, key, b"vv"),
            &tracks,
            &mut out,
        )
        .unwrap();
        if out.len() != before {
            boundaries.push(i);
        }
    }
    assert_eq!(boundaries, [18, 49]);
    assert_eq!(m.duration_ms(), 59 * 33 + 33);
    m.finish(&mut out).unwrap();
    let kinds: Vec<[u8; 4]> = top_level(&out).iter().map(|b| b.0).collect();
    assert_eq!(kinds.len(), 2 + 3 * 2);
    let (file, info) = finalized(&out);
    assert_eq!(info.video_samples, 60);
    assert!(!info.truncated);
    assert_eq!(info.duration_ms, 60 * 33);
    let (_, tracks) = read_tracks(&file);
    let v = &tracks[0];
    assert_eq!((v.handler, v.timescale), (*b"vide", 90_000));
    assert!(v.samples.iter().all(|s| s.cts == 66 * 90));
    assert_eq!(v.samples.iter().filter(|s| s.sync).count(), 2);
    assert_eq!(v.samples[59].dts, 59 * 33 * 90);
    assert_eq!(tracks[1].samples.len(), 0);
    assert_eq!(&file[v.samples[3].offset as usize..][..2], b"vv");
}

#[test]
fn audio_is_snapped_to_whole_frames() {
    let tracks = Tracks {
        video: None,
        audio: Some(aac_config()),
    };
    let mut m = Fmp4Journal::new(false, true);
    let mut out = Vec::new();
    // AAC at 44.1 kHz: 23.22 ms per frame, rounded to ms by FLV.
    for i in 0..100i64 {
        let dts = (i * 1024 * 1000 + 22_050) / 44_100;
        m.push(
            &frame(Track::Audio, 1000 + dts, 0, true, b"a"),
            &tracks,
            &mut out,
        )
        .unwrap();
    }
    // A 2 s gap is kept, not snapped away.
    m.push(&frame(Track::Audio, 5000, 0, true, b"a"), &tracks, &mut out)
        .unwrap();
    m.finish(&mut out).unwrap();
    let (file, info) = finalized(&out);
    let (_, t) = read_tracks(&file);
    let a = &t[0].samples;
    assert!(a.windows(2).take(99).all(|w| w[1].dts - w[0].dts == 1024));
    assert_eq!(a[100].dts, (4000 * 44_100 + 500) / 1000);
    assert_eq!(info.duration_ms, 4000 + 23);
    assert_eq!(info.duration_ms, m.duration_ms());
    assert!(t[0].elst.is_empty());
}

#[test]
fn late_track_gets_an_empty_edit_and_negative_cts_a_shift() {
    let tracks = h264_aac();
    let mut m = Fmp4Journal::new(true, true);
    let mut out = Vec::new();
    m.push(&frame(Track::Audio, 10, 0, true, b"a"), &tracks, &mut out)
        .unwrap();
    m.push(&frame(Track::Video, 50, -40, true, b"k"), &tracks, &mut out)
        .unwrap();
    m.push(&frame(Track::Video, 90, 0, false, b"p"), &tracks, &mut out)
        .unwrap();
    m.finish(&mut out).unwrap();
    let (file, info) = finalized(&out);
    let (movie, t) = read_tracks(&file);
    assert_eq!(t[0].elst, [(40, -1), (80, 40 * 90)]);
    assert_eq!(
        t[0].samples.iter().map(|s| s.cts).collect::<Vec<_>>(),
        [0, 40 * 90]
    );
    assert!(t[1].elst.is_empty());
    assert_eq!((movie, info.duration_ms), (120, 120));
    assert_eq!(t[0].tkhd_duration, 120);
}

#[test]
fn start_and_push_errors() {
    let mut m = Fmp4Journal::new(true, false);
    let mut out = Vec::new();
    m.start(&Tracks::default(), &mut out).unwrap();
    assert!(out.is_empty());
    let tracks = h264_aac();
    m.push(&frame(Track::Video, 0, 0, true, b"k"), &tracks, &mut out)
        .unwrap();
    // Audio was not announced: ignored.
    m.push(&frame(Track::Audio, 5, 0, true, b"a"), &tracks, &mut out)
        .unwrap();
    let len = out.len();
    let err = m.push(&frame(Track::Video, 0, 0, true, b"k"), &tracks, &mut out);
    assert!(matches!(err, Err(MuxError::Timestamp(_))));
    let mut changed = (*h264_config()).clone();
    changed.record = Bytes::from_static(&[1, 0x64, 0, 0x1f, 0xff, 0xe0, 0]);
    let new = Tracks {
        video: Some(Arc::new(changed)),
        audio: None,
    };
    let err = m.push(&frame(Track::Video, 40, 0, true, b"k"), &new, &mut out);
    assert!(matches!(err, Err(MuxError::Unsupported(_))));
    // Same values in a new Arc are not a change.
    let same = h264_only();
    m.push(&frame(Track::Video, 40, 0, false, b"p"), &same, &mut out)
        .unwrap();
    assert_eq!(out.len(), len);
    m.finish(&mut out).unwrap();
    assert_eq!(finalized(&out).1.video_samples, 2);
}

#[test]
fn init_truncation_is_a_clear_error() {
    let src = source(H264_AAC);
    let j = journal(&src.frames[..20], true, true);
    for cut in 0..=j.init_len {
        let mut out = Vec::new();
        let r = finalize(&mut Cursor::new(&j.bytes[..cut]), cut as u64, &mut out);
        if cut == j.init_len {
            assert_eq!(r.unwrap().duration_ms, 0);
            continue;
        }
        let err = r.unwrap_err();
        assert!(
            matches!(err, MuxError::Codec(crate::codec::CodecError::Truncated(_))),
            "{cut}: {err}"
        );
        assert!(err.to_string().contains("init segment"), "{err}");
    }
    let mut out = Vec::new();
    let mut junk = j.bytes.clone();
    junk[4..8].copy_from_slice(b"moof");
    assert!(finalize(&mut Cursor::new(&junk), junk.len() as u64, &mut out).is_err());
}

/// The sample description is copied verbatim, so one whose size field is
/// not its plain length (0 means "to the end of the parent", 1 a 64-bit
/// size) is damage.
#[test]
fn damaged_stsd_size_is_a_clear_error() {
    let j = journal(&source(H264_AAC).frames, true, true);
    let at = j.bytes.windows(4).position(|w| w == b"stsd").unwrap() - 4;
    for size in [0u32, 1] {
        let mut bad = j.bytes.clone();
        bad[at..at + 4].copy_from_slice(&size.to_be_bytes());
        let err = finalize(&mut Cursor::new(&bad), bad.len() as u64, &mut Vec::new());
        assert!(
            matches!(
                err,
                Err(MuxError::Codec(crate::codec::CodecError::Invalid(_)))
            ),
            "{size}: {err:?}"
        );
    }
}

#[test]
fn co64_and_timing_helpers() {
    assert_eq!(units_to_ms(1024, 44_100), 23);
    assert_eq!(ms_to_units(23, 44_100), 1014);
    assert_eq!(units_to_ms(-45, 90_000), 0);
    let span = |ts, first, end| TrackSpan {
        timescale: ts,
        first,
        end,
    };
    assert_eq!(
        movie_duration_ms(&[span(90_000, 0, 900_000), span(44_100, 4410, 441_000)]),
        10_000
    );
    assert_eq!(movie_duration_ms(&[]), 0);
}

#[test]
fn unconfigured_track_is_left_out_at_the_first_fragment() {
    let video_only = h264_only();
    let mut m = Fmp4Journal::new(true, true);
    let mut out = Vec::new();
    m.start(&video_only, &mut out).unwrap();
    assert!(out.is_empty(), "waits for the audio configuration");
    for i in 0..40 {
        m.push(
            &frame(Track::Video, i * 40, 0, i % 20 == 0, b"v"),
            &video_only,
            &mut out,
        )
        .unwrap();
    }
    let kinds: Vec<[u8; 4]> = top_level(&out).iter().map(|b| b.0).collect();
    assert_eq!(kinds, [*b"ftyp", *b"moov", *b"moof", *b"mdat"]);
    // Audio configured after the init segment: ignored.
    let both = h264_aac();
    m.push(&frame(Track::Audio, 1700, 0, true, b"a"), &both, &mut out)
        .unwrap();
    m.finish(&mut out).unwrap();
    let (file, info) = finalized(&out);
    assert_eq!((info.video_samples, info.audio_samples), (40, 0));
    assert_eq!(read_tracks(&file).1.len(), 1);
}

/// A reader of a journal whose single fragment holds more than 4 GiB of
/// zero bytes, without storing them.
struct Huge {
    head: Vec<u8>,
    len: u64,
    pos: u64,
}

impl std::io::Read for Huge {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.len.saturating_sub(self.pos) as usize);
        let head = self.head.get(self.pos as usize..).unwrap_or(&[]);
        let from_head = head.len().min(n);
        buf[..from_head].copy_from_slice(&head[..from_head]);
        buf[from_head..n].fill(0);
        self.pos += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for Huge {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let std::io::SeekFrom::Start(p) = to else {
            unreachable!()
        };
        self.pos = p;
        Ok(p)
    }
}

/// Keeps the first bytes written and counts the rest.
#[derive(Default)]
struct Head {
    kept: Vec<u8>,
    total: u64,
}

impl std::io::Write for Head {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = (1usize << 16).saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&buf[..buf.len().min(room)]);
        self.total += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn past_4_gib_uses_co64_and_a_large_mdat() {
    use boxes::{Put, bx, full};
    let tracks = h264_only();
    let mut m = Fmp4Journal::new(true, false);
    let mut head = Vec::new();
    m.start(&tracks, &mut head).unwrap();
    let sizes = [0xc000_0000u32, 0x4000_0100, 0x100];
    let mut moof = Vec::new();
    bx(&mut moof, b"moof", |out| {
        full(out, b"mfhd", 0, 0, |out| out.u32(1));
        bx(out, b"traf", |out| {
            full(out, b"tfhd", 0, 0x02_0000, |out| out.u32(1));
            full(out, b"tfdt", 1, 0, |out| out.u64(0));
            full(out, b"trun", 0, 0x301, |out| {
                out.u32(sizes.len() as u32);
                out.u32(0); // data offset, set below
                for s in sizes {
                    out.u32(3000);
                    out.u32(s);
                }
            });
        });
    });
    let offset_at = moof.len() - 4 - 8 * sizes.len();
    let data_offset = moof.len() as u32 + 16;
    moof[offset_at..offset_at + 4].copy_from_slice(&data_offset.to_be_bytes());
    let payload: u64 = sizes.iter().map(|&s| u64::from(s)).sum();
    head.extend_from_slice(&moof);
    head.u32(1);
    head.extend_from_slice(b"mdat");
    head.u64(payload + 16);
    let len = head.len() as u64 + payload;
    let mut journal = Huge { head, len, pos: 0 };
    let mut out = Head::default();
    let info = finalize(&mut journal, len, &mut out).unwrap();
    assert!(!info.truncated && info.video_samples == 3);
    assert_eq!(info.bytes_written, out.total);
    let moov = find(&out.kept, &[b"moov"]).unwrap();
    let stbl = find(moov, &[b"trak", b"mdia", b"minf", b"stbl"]).unwrap();
    assert!(find(stbl, &[b"stco"]).is_none());
    let co64 = find(stbl, &[b"co64"]).unwrap();
    // ftyp (32 bytes), moov, 16-byte mdat header.
    let base = 32 + 8 + moov.len() as u64 + 16;
    assert_eq!((be32(co64, 4), be64(co64, 8)), (1, base));
    let mdat = base as usize - 16;
    assert_eq!(
        &out.kept[mdat..mdat + 8],
        &[0, 0, 0, 1, b'm', b'd', b'a', b't']
    );
    assert_eq!(be64(&out.kept, mdat + 8), payload + 16);
    assert_eq!(out.total, base + payload);
}

#[test]
fn audio_configured_first_keeps_video_first_and_samples_right() {
    // Audio config at start, video config only later: the init segment
    // waits, then lists video first, and each track keeps its own samples.
    let audio_only = Tracks {
        video: None,
        audio: Some(aac_config()),
    };
    let both = h264_aac();
    let mut m = Fmp4Journal::new(true, true).with_fragment_ms(100);
    let mut out = Vec::new();
    m.start(&audio_only, &mut out).unwrap();
    m.push(
        &frame(Track::Audio, 0, 0, true, b"a0"),
        &audio_only,
        &mut out,
    )
    .unwrap();
    assert!(out.is_empty());
    m.push(
        &frame(Track::Audio, 23, 0, true, b"a1"),
        &audio_only,
        &mut out,
    )
    .unwrap();
    m.push(&frame(Track::Video, 30, 0, true, b"v0"), &both, &mut out)
        .unwrap();
    for i in 2..20 {
        m.push(
            &frame(Track::Audio, i * 23, 0, true, b"ax"),
            &both,
            &mut out,
        )
        .unwrap();
    }
    m.push(&frame(Track::Video, 500, 0, true, b"v1"), &both, &mut out)
        .unwrap();
    m.finish(&mut out).unwrap();
    let (file, info) = finalized(&out);
    assert_eq!((info.video_samples, info.audio_samples), (2, 20));
    let (_, t) = read_tracks(&file);
    assert_eq!((t[0].handler, t[1].handler), (*b"vide", *b"soun"));
    let v = &t[0].samples;
    assert_eq!(&file[v[1].offset as usize..][..2], b"v1");
    assert_eq!(t[0].elst, [(30, -1), (500 - 30 + 470, 0)]);
}
