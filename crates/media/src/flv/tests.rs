//! FLV tests: wire helpers, demuxer and muxer units here; fixture round
//! trips and property tests in the submodules. Fixture demuxing and the
//! shared configurations come from `crate::test_support`.

mod fixtures;
mod hevc_fixture;
mod props;

use std::sync::Arc;

use bytes::Bytes;

use super::*;
use crate::amf0::{self, Value};
use crate::frame::{AudioCodec, AudioConfig, Frame, Track, Tracks, VideoCodec, VideoConfig};
use crate::test_support::{
    aac_config, apply, demux_file, frames, h264_aac, h264_config, h264_only, x265_record,
};

/// [`recover`] of a file held in memory.
fn recover_bytes(data: &[u8]) -> crate::recover::Recovery {
    recover(&mut std::io::Cursor::new(data), data.len() as u64).unwrap()
}

/// Muxes demuxed events as the recorder would; returns the patched file.
pub(super) fn mux_events(events: &[DemuxEvent], video: bool, audio: bool) -> (Vec<u8>, FlvMuxer) {
    let mut m = FlvMuxer::new(video, audio);
    let mut tracks = Tracks::default();
    let mut out = Vec::new();
    for e in events {
        match e {
            DemuxEvent::VideoConfig(c) => tracks.video = Some(Arc::clone(c)),
            DemuxEvent::AudioConfig(c) => tracks.audio = Some(Arc::clone(c)),
            DemuxEvent::Frame(f) => {
                m.start(&tracks, &mut out);
                m.push(f, &tracks, &mut out).unwrap();
            }
            _ => {}
        }
    }
    for p in m.finish() {
        apply(&mut out, &p);
    }
    (out, m)
}

/// The `onMetaData` event among demuxed events.
pub(super) fn metadata_event(events: &[DemuxEvent]) -> Option<&Value> {
    events.iter().find_map(|e| match e {
        DemuxEvent::Metadata(m) => Some(m),
        _ => None,
    })
}

/// The `onMetaData` object of a file.
pub(super) fn metadata_of(file: &[u8]) -> Value {
    let scanned = scan(file);
    let tag = scanned
        .tags
        .iter()
        .find(|t| t.tag_type == tag_type::SCRIPT)
        .unwrap();
    let mut d = TagDemuxer::new();
    match d.script(&file[tag.body.clone()]).unwrap().next() {
        Some(DemuxEvent::Metadata(v)) => v,
        other => panic!("{other:?}"),
    }
}

fn cat(parts: &[&[u8]]) -> Bytes {
    Bytes::from(parts.concat())
}

fn one(d: Demuxed) -> DemuxEvent {
    let v: Vec<DemuxEvent> = d.collect();
    assert_eq!(v.len(), 1, "{v:?}");
    v.into_iter().next().unwrap()
}

/// Whether a tag was taken without an error and gave no event (dropped or
/// ignored).
fn nothing(r: Result<Demuxed, FlvError>) -> bool {
    r.unwrap().is_empty()
}

/// The one event of a tag, which must be a video configuration.
fn video_config(r: Result<Demuxed, FlvError>) -> Arc<VideoConfig> {
    match one(r.unwrap()) {
        DemuxEvent::VideoConfig(cfg) => cfg,
        other => panic!("{other:?}"),
    }
}

/// The one event of a tag, which must be an audio configuration.
fn audio_config(r: Result<Demuxed, FlvError>) -> Arc<AudioConfig> {
    match one(r.unwrap()) {
        DemuxEvent::AudioConfig(cfg) => cfg,
        other => panic!("{other:?}"),
    }
}

/// The one event of a tag, which must be a frame.
fn frame_of(r: Result<Demuxed, FlvError>) -> Frame {
    match one(r.unwrap()) {
        DemuxEvent::Frame(f) => f,
        other => panic!("{other:?}"),
    }
}
#[test]
fn si24_is_signed() {
    assert_eq!(read_si24([0, 0, 0x42]), 0x42);
    assert_eq!(read_si24([0xff, 0xff, 0xff]), -1);
    assert_eq!(read_si24([0xff, 0xfe, 0x0c]), -500);
    assert_eq!(read_si24([0x80, 0, 0]), -0x80_0000);
    for v in [-0x80_0000, -500, -1, 0, 1, 66, 0x7f_ffff] {
        assert_eq!(read_si24(si24_bytes(v)), v);
    }
    assert_eq!(si24_bytes(i32::MAX), [0x7f, 0xff, 0xff]);
    assert_eq!(si24_bytes(i32::MIN), [0x80, 0, 0]);
}

#[test]
fn tag_header_layout() {
    let mut out = Vec::new();
    write_tag_header(tag_type::VIDEO, 0x010203, 0x0a0b0c0d, &mut out);
    assert_eq!(out, [9, 1, 2, 3, 0x0b, 0x0c, 0x0d, 0x0a, 0, 0, 0]);
}

#[test]
fn legacy_avc_with_negative_cts() {
    let mut d = TagDemuxer::new();
    let record = h264_config().record.clone();
    // A frame before the sequence header is dropped.
    assert!(nothing(
        d.video(0, cat(&[&[0x17, 1, 0, 0, 0], &[0, 0, 0, 1, 0x65]]))
    ));
    let cfg = video_config(d.video(0, cat(&[&[0x17, 0, 0, 0, 0], &record])));
    assert_eq!(
        (cfg.codec, cfg.width, cfg.height, cfg.nal_length_size),
        (VideoCodec::H264, 640, 360, 4)
    );
    // The same header again yields nothing and keeps the Arc.
    assert!(nothing(d.video(0, cat(&[&[0x17, 0, 0, 0, 0], &record]))));
    assert!(Arc::ptr_eq(d.tracks().video.as_ref().unwrap(), &cfg));
    let f = frame_of(d.video(
        40,
        cat(&[&[0x27, 1, 0xff, 0xff, 0xdf], &[0, 0, 0, 1, 0x41]]),
    ));
    assert_eq!(
        (f.dts, f.cts, f.keyframe, &f.data[..]),
        (40, -33, false, &[0, 0, 0, 1, 0x41][..])
    );
    let f = frame_of(d.video(80, cat(&[&[0x17, 1, 0, 0, 66], &[0, 0, 0, 1, 0x65]])));
    assert_eq!((f.cts, f.keyframe), (66, true));
    assert_eq!(
        one(d
            .video(90, Bytes::from_static(&[0x17, 2, 0, 0, 0]))
            .unwrap()),
        DemuxEvent::EndOfSequence
    );
    // Command frames and other codecs are ignored; truncated headers are errors.
    assert!(nothing(d.video(0, Bytes::from_static(&[0x57, 0]))));
    assert!(nothing(d.video(0, Bytes::from_static(&[0x12, 0, 0]))));
    assert_eq!(d.ignored(), 1);
    assert_eq!(
        d.video(0, Bytes::from_static(&[0x17, 1, 0])),
        Err(FlvError::Truncated("video tag header"))
    );
    assert!(d.video(0, Bytes::new()).is_err());
    assert!(matches!(
        d.video(0, Bytes::from_static(&[0x17, 0, 0, 0, 0, 1])),
        Err(FlvError::Codec(_))
    ));
}

#[test]
fn legacy_codec_12_is_hevc() {
    let mut d = TagDemuxer::new();
    let cfg = video_config(d.video(0, cat(&[&[0x1c, 0, 0, 0, 0], &x265_record()])));
    assert_eq!(
        (cfg.codec, cfg.width, cfg.height),
        (VideoCodec::H265, 320, 240)
    );
    let f = frame_of(d.video(0, cat(&[&[0x1c, 1, 0, 0, 33], &[0, 0, 0, 1, 0x26]])));
    assert_eq!((f.cts, f.keyframe), (33, true));
    // An AVC frame while the config is HEVC is dropped.
    assert!(nothing(
        d.video(0, cat(&[&[0x17, 1, 0, 0, 0], &[0, 0, 0, 1, 0x65]]))
    ));
}

#[test]
fn enhanced_video() {
    let mut d = TagDemuxer::new();
    let cfg = video_config(d.video(0, cat(&[&[0x90], b"hvc1", &x265_record()])));
    assert_eq!(
        (cfg.codec, cfg.width, cfg.nal_length_size),
        (VideoCodec::H265, 320, 4)
    );
    let f = frame_of(d.video(
        5,
        cat(&[&[0x91], b"hvc1", &[0xff, 0xff, 0xfe], &[0, 0, 0, 1, 0x26]]),
    ));
    assert_eq!((f.dts, f.cts, f.keyframe, f.data.len()), (5, -2, true, 5));
    let f = frame_of(d.video(6, cat(&[&[0xa3], b"hvc1", &[0, 0, 0, 1, 0x02]])));
    assert_eq!(
        (f.cts, f.keyframe, &f.data[..]),
        (0, false, &[0, 0, 0, 1, 2][..])
    );
    assert_eq!(
        one(d.video(7, cat(&[&[0x92], b"hvc1"])).unwrap()),
        DemuxEvent::EndOfSequence
    );
    // avc1 works the same way.
    let record = h264_config().record.clone();
    assert!(matches!(
        one(d.video(0, cat(&[&[0x90], b"avc1", &record])).unwrap()),
        DemuxEvent::VideoConfig(_)
    ));
    assert_eq!(d.tracks().video.unwrap().codec, VideoCodec::H264);
    // Ignored: av01, metadata, multitrack, ModEx, command frames.
    let before = d.ignored();
    assert!(nothing(d.video(0, cat(&[&[0x90], b"av01", &[1, 2, 3]]))));
    assert!(nothing(d.video(0, cat(&[&[0x94], b"avc1", &[2, 0, 0]]))));
    assert!(nothing(d.video(0, cat(&[&[0x96], &[0, 0], b"avc1"]))));
    assert!(nothing(d.video(0, cat(&[&[0x97], &[0, 0, 0]]))));
    assert_eq!(d.ignored(), before + 4);
    assert!(nothing(d.video(0, cat(&[&[0xd1], b"avc1", &[0, 0, 0]]))));
    assert!(d.video(0, cat(&[&[0x91], b"av"])).is_err());
    assert!(d.video(0, cat(&[&[0x91], b"avc1", &[0]])).is_err());
}

#[test]
fn aac_audio() {
    let mut d = TagDemuxer::new();
    assert!(nothing(d.audio(0, Bytes::from_static(&[0xaf, 1, 0x21]))));
    let cfg = audio_config(d.audio(0, Bytes::from_static(&[0xaf, 0, 0x12, 0x10])));
    assert_eq!(
        (cfg.codec, cfg.sample_rate, cfg.channels, cfg.flv_header),
        (AudioCodec::Aac, 44100, 2, 0xaf)
    );
    assert_eq!(&cfg.asc[..], &[0x12, 0x10]);
    let f = frame_of(d.audio(23, Bytes::from_static(&[0xaf, 1, 0x21, 0x1b])));
    assert_eq!(
        (f.track, f.dts, f.keyframe, &f.data[..]),
        (Track::Audio, 23, true, &[0x21, 0x1b][..])
    );
    // Empty frames, Speex and other formats are dropped or ignored.
    assert!(nothing(d.audio(0, Bytes::from_static(&[0xaf, 1]))));
    assert!(nothing(d.audio(0, Bytes::from_static(&[0xb6, 1, 2]))));
    assert_eq!(d.ignored(), 1);
    assert!(d.audio(0, Bytes::from_static(&[0xaf])).is_err());
    assert!(d.audio(0, Bytes::from_static(&[0xaf, 0, 0x12])).is_err());
    // Enhanced mp4a gives the same config (as 0xaf) and frames.
    let mut e = TagDemuxer::new();
    let c2 = audio_config(e.audio(0, cat(&[&[0x90], b"mp4a", &[0x12, 0x10]])));
    assert_eq!(*c2, *cfg);
    assert!(matches!(
        one(e.audio(0, cat(&[&[0x91], b"mp4a", &[0x21]])).unwrap()),
        DemuxEvent::Frame(_)
    ));
    assert!(
        e.audio(0, cat(&[&[0x91], b"Opus", &[0x21]]))
            .unwrap()
            .is_empty()
    );
    assert!(
        e.audio(0, cat(&[&[0x95], b"mp4a", &[0x21]]))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn mp3_audio_synthesizes_configs() {
    let mut d = TagDemuxer::new();
    let frame = |h: &[u8]| cat(&[&[0x2f], h, &[0; 8]]);
    let events: Vec<DemuxEvent> = d
        .audio(0, frame(&[0xff, 0xfb, 0x90, 0x64]))
        .unwrap()
        .collect();
    assert_eq!(events.len(), 2);
    let DemuxEvent::AudioConfig(cfg) = &events[0] else {
        panic!()
    };
    assert_eq!(
        (cfg.codec, cfg.sample_rate, cfg.channels, cfg.flv_header),
        (AudioCodec::Mp3, 44100, 2, 0x2f)
    );
    assert!(matches!(&events[1], DemuxEvent::Frame(f) if f.data.len() == 12));
    // Same header: one frame. Mono now: a new config then the frame.
    assert_eq!(
        d.audio(26, frame(&[0xff, 0xfb, 0x90, 0x64]))
            .unwrap()
            .count(),
        1
    );
    let events: Vec<DemuxEvent> = d
        .audio(52, frame(&[0xff, 0xfb, 0x90, 0xc4]))
        .unwrap()
        .collect();
    assert!(
        matches!(&events[..], [DemuxEvent::AudioConfig(c), DemuxEvent::Frame(_)] if c.channels == 1)
    );
    // Junk once the stream is known passes through; before, it is an error.
    assert_eq!(d.audio(60, frame(&[0, 0, 0, 0])).unwrap().count(), 1);
    assert!(TagDemuxer::new().audio(0, frame(&[0, 0, 0, 0])).is_err());
    // Enhanced .mp3 synthesizes a legacy header byte.
    let mut e = TagDemuxer::new();
    let events: Vec<DemuxEvent> = e
        .audio(0, cat(&[&[0x91], b".mp3", &[0xff, 0xf3, 0x82, 0xc4]]))
        .unwrap()
        .collect();
    let DemuxEvent::AudioConfig(cfg) = &events[0] else {
        panic!()
    };
    assert_eq!(
        (cfg.sample_rate, cfg.channels, cfg.flv_header),
        (22050, 1, 0x2a)
    );
}

#[test]
fn script_data() {
    let mut d = TagDemuxer::new();
    let meta = Value::EcmaArray(vec![("width".into(), Value::Number(640.0))]);
    let plain = amf0::encode_all(&[Value::String("onMetaData".into()), meta.clone()]);
    assert_eq!(
        one(d.script(&plain).unwrap()),
        DemuxEvent::Metadata(meta.clone())
    );
    let rtmp = amf0::encode_all(&[
        Value::String("@setDataFrame".into()),
        Value::String("onMetaData".into()),
        meta.clone(),
    ]);
    assert_eq!(one(d.script(&rtmp).unwrap()), DemuxEvent::Metadata(meta));
    let cue = amf0::encode_all(&[Value::String("onCuePoint".into()), Value::Object(vec![])]);
    assert!(d.script(&cue).unwrap().is_empty());
    let not_obj = amf0::encode_all(&[Value::String("onMetaData".into()), Value::Number(1.0)]);
    assert!(d.script(&not_obj).unwrap().is_empty());
    assert!(d.script(&[0x02, 0, 10, b'o']).is_err());
    assert!(d.script(&[]).is_err());
}

#[test]
fn muxer_writes_sequence_headers_on_change_only() {
    let v = h264_config();
    let a = aac_config();
    let mut tracks = Tracks {
        video: Some(Arc::clone(&v)),
        audio: Some(Arc::clone(&a)),
    };
    let mut m = FlvMuxer::new(true, true);
    let mut out = Vec::new();
    let frame = |track, dts, keyframe| Frame {
        track,
        dts,
        cts: 0,
        keyframe,
        data: Bytes::from_static(&[0, 0, 0, 1, 0x65]),
    };
    // push without start starts implicitly.
    m.push(&frame(Track::Video, 0, true), &tracks, &mut out)
        .unwrap();
    m.push(&frame(Track::Audio, 0, true), &tracks, &mut out)
        .unwrap();
    m.push(&frame(Track::Video, 33, false), &tracks, &mut out)
        .unwrap();
    // Equal by value, other Arc: no new header.
    tracks.video = Some(Arc::new((*v).clone()));
    m.push(&frame(Track::Video, 66, false), &tracks, &mut out)
        .unwrap();
    // A changed config: a new header before the frame.
    let mut v2 = (*v).clone();
    v2.width = 1280;
    tracks.video = Some(Arc::new(v2));
    m.push(&frame(Track::Video, 100, true), &tracks, &mut out)
        .unwrap();
    let scanned = scan(&out);
    assert_eq!(scanned.valid_len, out.len());
    assert_eq!(m.bytes_written(), out.len() as u64);
    let kinds: Vec<(u8, u8, u8)> = scanned
        .tags
        .iter()
        .map(|t| {
            (
                t.tag_type,
                out[t.body.start],
                out.get(t.body.start + 1).copied().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (18, 2, 0),
            (9, 0x17, 0),
            (9, 0x17, 1),
            (8, 0xaf, 0),
            (8, 0xaf, 1),
            (9, 0x27, 1),
            (9, 0x27, 1),
            (9, 0x17, 0),
            (9, 0x17, 1)
        ]
    );
    assert_eq!(m.duration_ms(), 134);
}

#[test]
fn muxer_errors_append_nothing() {
    let tracks = h264_only();
    let mut m = FlvMuxer::new(true, false);
    let mut out = Vec::new();
    m.start(&tracks, &mut out);
    let len = out.len();
    let mut f = Frame {
        track: Track::Video,
        dts: -1,
        cts: 0,
        keyframe: true,
        data: Bytes::new(),
    };
    assert_eq!(
        m.push(&f, &tracks, &mut out),
        Err(FlvError::NegativeTimestamp(-1))
    );
    f.dts = 0;
    f.track = Track::Audio;
    assert_eq!(
        m.push(&f, &tracks, &mut out),
        Err(FlvError::MissingConfig(Track::Audio))
    );
    f.track = Track::Video;
    f.data = Bytes::from(vec![0; MAX_TAG_BODY]);
    assert_eq!(
        m.push(&f, &tracks, &mut out),
        Err(FlvError::TagTooLarge(MAX_TAG_BODY + 5))
    );
    assert_eq!(out.len(), len);
    assert_eq!(m.bytes_written(), len as u64);
}

#[test]
fn muxer_extended_timestamps_and_late_metadata() {
    // Started before any config: width, codec ids are patched at finish.
    let mut m = FlvMuxer::new(true, true);
    let mut out = Vec::new();
    m.start(&Tracks::default(), &mut out);
    let tracks = h264_aac();
    let dts = 0x0123_4567;
    let f = Frame {
        track: Track::Video,
        dts,
        cts: 0,
        keyframe: true,
        data: Bytes::from_static(&[1]),
    };
    m.push(&f, &tracks, &mut out).unwrap();
    m.push(
        &Frame {
            dts: dts + 40,
            ..f.clone()
        },
        &tracks,
        &mut out,
    )
    .unwrap();
    let patches = m.finish();
    for p in &patches {
        apply(&mut out, p);
    }
    let scanned = scan(&out);
    assert_eq!(scanned.tags.last().unwrap().timestamp, (dts + 40) as u32);
    let meta = metadata_of(&out);
    assert_eq!(meta.get("width"), Some(&Value::Number(640.0)));
    assert_eq!(meta.get("videocodecid"), Some(&Value::Number(7.0)));
    assert_eq!(meta.get("audiocodecid"), Some(&Value::Number(0.0)));
    assert_eq!(meta.get("duration"), Some(&Value::Number(0.08)));
    assert_eq!(meta.get("filesize"), Some(&Value::Number(out.len() as f64)));
    // An empty muxer has nothing to patch.
    assert!(FlvMuxer::new(true, true).finish().is_empty());
}

#[test]
fn hevc_is_written_as_enhanced_rtmp() {
    let mut d = TagDemuxer::new();
    d.video(0, cat(&[&[0x1c, 0, 0, 0, 0], &x265_record()]))
        .unwrap()
        .for_each(drop);
    let tracks = d.tracks();
    let mut m = FlvMuxer::new(true, false);
    let mut out = Vec::new();
    let f = Frame {
        track: Track::Video,
        dts: 0,
        cts: -20,
        keyframe: true,
        data: Bytes::from_static(&[0, 0, 0, 1, 0x26]),
    };
    m.push(&f, &tracks, &mut out).unwrap();
    let scanned = scan(&out);
    let seq = &out[scanned.tags[1].body.clone()];
    assert_eq!(&seq[..5], b"\x90hvc1");
    let coded = &out[scanned.tags[2].body.clone()];
    assert_eq!(&coded[..8], b"\x91hvc1\xff\xff\xec");
    assert_eq!(
        metadata_of(&out).get("videocodecid"),
        Some(&Value::Number(1_752_589_105.0))
    );
    let (events, _) = demux_file(&Bytes::from(out));
    assert_eq!(frames(&events), [f]);
}

#[test]
fn scan_stops_at_inconsistent_tags() {
    let tracks = h264_only();
    let mut m = FlvMuxer::new(true, false);
    let mut out = Vec::new();
    let f = Frame {
        track: Track::Video,
        dts: 0,
        cts: 0,
        keyframe: true,
        data: Bytes::from_static(&[0, 0, 0, 1, 0x65]),
    };
    m.push(&f, &tracks, &mut out).unwrap();
    let good = out.len();
    m.push(&f, &tracks, &mut out).unwrap();
    let n = out.len();
    out[n - 1] ^= 1; // wrong PreviousTagSize
    let scanned = scan(&out);
    assert_eq!(scanned.valid_len, good);
    assert_eq!(scanned.tags.len(), 3);
    let r = recover_bytes(&out);
    assert_eq!(r.valid_len, good as u64);
    assert!(scan(b"FLV").tags.is_empty());
    assert_eq!(
        scan(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00").valid_len,
        13
    );
    assert_eq!(scan(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00").valid_len, 0);
    assert_eq!(
        read_header(b"FLX\x01\x05\x00\x00\x00\x09"),
        Err(FlvError::NotFlv)
    );
    assert_eq!(
        read_header(b"FLV\x01\x05\x00\x00\x00\x08"),
        Err(FlvError::NotFlv)
    );
    assert_eq!(
        read_header(b"FLV\x01\x05\x00\x00\x00\x09"),
        Ok(FileHeader {
            version: 1,
            has_audio: true,
            has_video: true,
            data_offset: 9
        })
    );
    assert_eq!(
        recover_bytes(b"FLV\x01\x05\x00\x00\x00\x09\x00"),
        crate::recover::Recovery::default()
    );
    assert_eq!(recover_bytes(b""), crate::recover::Recovery::default());
}
