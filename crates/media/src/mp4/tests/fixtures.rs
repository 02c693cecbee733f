//! The ffmpeg-made FLV fixtures through journal and finalizer, checked with
//! our own table reader and (when installed) ffprobe/ffmpeg as
//! tools/validate-media.sh does.

use std::path::Path;
use std::process::Command;

use super::*;
use crate::test_support::{
    AAC_ONLY, H264_MP3, H264_ONLY, TempDir, check_packets, decode_clean, fixture_path, libx265,
    probe, probe_duration, source, tools,
};

/// `(short name, file, has video, has audio, video codec, audio codec)`.
type Case = (
    &'static str,
    &'static [u8],
    bool,
    bool,
    &'static str,
    &'static str,
);

const CASES: [Case; 4] = [
    ("h264_aac", H264_AAC, true, true, "h264", "aac"),
    ("h264_only", H264_ONLY, true, false, "h264", ""),
    ("aac_only", AAC_ONLY, false, true, "", "aac"),
    ("h264_mp3", H264_MP3, true, true, "h264", "mp3"),
];

/// Every frame's bytes land in the finalized file, in order, with its
/// keyframe flag and its timing.
#[test]
fn finalized_tables_match_the_source_frames() {
    for (name, file, video, audio, _, _) in CASES {
        let src = source(file);
        let input: Vec<Frame> = src.frames.iter().map(|(f, _)| f.clone()).collect();
        let j = journal(&src.frames, video, audio);
        let (out, info) = finalized(&j.bytes);
        assert!(!info.truncated, "{name}");
        assert_eq!(info.duration_ms, j.duration_ms, "{name}");
        let kinds: Vec<[u8; 4]> = top_level(&out).iter().map(|b| b.0).collect();
        assert_eq!(kinds, [*b"ftyp", *b"moov", *b"mdat"], "{name}");
        let (movie, tracks) = read_tracks(&out);
        assert_eq!(movie, info.duration_ms as u64, "{name}");
        for t in &tracks {
            let kind = if &t.handler == b"vide" {
                Track::Video
            } else {
                Track::Audio
            };
            let src: Vec<&Frame> = input.iter().filter(|f| f.track == kind).collect();
            assert_eq!(t.samples.len(), src.len(), "{name}");
            let (f0, s0) = (src[0].dts, t.samples[0].dts);
            for (s, f) in t.samples.iter().zip(&src) {
                let at = s.offset as usize;
                assert_eq!(&out[at..at + s.size as usize], &f.data[..], "{name}");
                assert_eq!(s.sync, f.keyframe, "{name}");
                let dts_ms = units_to_ms((s.dts - s0) as i64, t.timescale);
                // Audio is snapped to whole frames: within 2 ms of the source.
                assert!(
                    (dts_ms - (f.dts - f0)).abs() <= 2,
                    "{name} {dts_ms} {}",
                    f.dts
                );
                assert_eq!(s.cts, i64::from(f.cts) * 90, "{name}");
            }
        }
        let counts = (info.video_samples as usize, info.audio_samples as usize);
        let want = (
            input.iter().filter(|f| f.track == Track::Video).count(),
            input.iter().filter(|f| f.track == Track::Audio).count(),
        );
        assert_eq!(counts, want, "{name}");
    }
}

/// validate-media.sh's checks on one file (first video packet a keyframe,
/// DTS increasing per stream, a clean full decode); returns ffprobe's
/// streams `(codec_type, codec_name)` and the format duration.
fn validate(path: &Path, name: &str) -> (Vec<(String, String)>, f64) {
    let (streams, packets, duration) = probe(path);
    check_packets(&packets, name);
    decode_clean(path, true);
    (streams, duration)
}

#[test]
fn ffprobe_validates_finalized_files_and_journals() {
    if !tools("ffprobe checks") {
        return;
    }
    let dir = TempDir::new("mp4");
    for (name, file, video, audio, vcodec, acodec) in CASES {
        let j = journal(&source(file).frames, video, audio);
        let (out, _) = finalized(&j.bytes);
        let source = probe_duration(&fixture_path(name));
        for (kind, bytes) in [("mp4", &out), ("journal.mp4", &j.bytes)] {
            let path = dir.write(&format!("{name}.{kind}"), bytes);
            let (got, d) = validate(&path, name);
            let want: Vec<(String, String)> = [("video", vcodec), ("audio", acodec)]
                .iter()
                .filter(|(_, c)| !c.is_empty())
                .map(|(t, c)| (t.to_string(), c.to_string()))
                .collect();
            assert_eq!(got, want, "{name} {kind}");
            assert!((d - source).abs() < 0.1, "{name} {kind}: {d} vs {source}");
            eprintln!("{name} {kind}: duration {d} (source {source}), streams {got:?}");
        }
    }
}

/// The moov-before-mdat layout as ffprobe's trace shows it.
#[test]
fn ffprobe_sees_moov_before_mdat() {
    if !tools("ffprobe checks") {
        return;
    }
    let j = journal(&source(H264_AAC).frames, true, true);
    let (out, _) = finalized(&j.bytes);
    let dir = TempDir::new("mp4-faststart");
    let path = dir.write("faststart.mp4", &out);
    let o = Command::new("ffprobe")
        .args(["-v", "trace", "-i"])
        .arg(&path)
        .output()
        .unwrap();
    let trace = String::from_utf8_lossy(&o.stderr);
    let at = |kind: &str| trace.find(&format!("type:'{kind}' parent:'root'")).unwrap();
    assert!(at("ftyp") < at("moov") && at("moov") < at("mdat"));
}

/// Frames of the video track of an MP4 that ffmpeg wrote, with its
/// configuration record (the sample entry's last child box).
fn frames_of_mp4(file: &[u8], codec: VideoCodec) -> (Arc<VideoConfig>, Vec<Frame>) {
    let (_, tracks) = read_tracks(file);
    let t = tracks.iter().find(|t| &t.handler == b"vide").unwrap();
    let stsd = find(
        file,
        &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"],
    )
    .unwrap();
    let entry = reader::Boxes(&stsd[8..]).next().unwrap().unwrap();
    let kind = if codec == VideoCodec::H265 {
        b"hvcC"
    } else {
        b"avcC"
    };
    let record = reader::Boxes(&entry.body[78..])
        .map(Result::unwrap)
        .find(|b| &b.kind == kind)
        .unwrap();
    let ms = |units: i64| units * 1000 / i64::from(t.timescale);
    let frames = t
        .samples
        .iter()
        .map(|s| Frame {
            track: Track::Video,
            dts: ms(s.dts as i64),
            cts: ms(s.cts) as i32,
            keyframe: s.sync,
            data: Bytes::copy_from_slice(&file[s.offset as usize..][..s.size as usize]),
        })
        .collect();
    let config = VideoConfig {
        codec,
        record: Bytes::copy_from_slice(record.body),
        width: 320,
        height: 240,
        nal_length_size: 4,
    };
    (Arc::new(config), frames)
}

/// HEVC (`hvc1`/`hvcC`) with B-frames: libx265 → ffmpeg MP4 → frames →
/// journal → finalize → ffprobe. Skipped without ffmpeg/libx265.
#[test]
fn hevc_round_trips_through_ffmpeg() {
    if !tools("ffprobe checks") {
        return;
    }
    let dir = TempDir::new("mp4-hevc");
    let src = dir.0.join("x265-src.mp4");
    let args = [
        "-t", "3", "-pix_fmt", "yuv420p", "-tag:v", "hvc1", "-f", "mp4",
    ];
    if !libx265(
        "testsrc2=size=320x240:rate=25",
        &args,
        "bframes=3:keyint=25",
        &src,
    ) {
        return;
    }
    let (config, input) = frames_of_mp4(&std::fs::read(&src).unwrap(), VideoCodec::H265);
    assert!(input.iter().any(|f| f.cts > 0) && input.len() == 75);
    let tracks = Tracks {
        video: Some(config),
        audio: None,
    };
    let frames: Vec<(Frame, Tracks)> = input.iter().map(|f| (f.clone(), tracks.clone())).collect();
    let j = journal(&frames, true, false);
    let (out, info) = finalized(&j.bytes);
    assert_eq!((info.video_samples, info.duration_ms), (75, 3000));
    for (kind, bytes) in [("mp4", &out), ("journal.mp4", &j.bytes)] {
        let path = dir.write(&format!("hevc.{kind}"), bytes);
        let (streams, duration) = validate(&path, "hevc");
        assert_eq!(streams, [("video".to_owned(), "hevc".to_owned())], "{kind}");
        assert!((duration - 3.0).abs() < 0.1, "{kind}");
    }
}
