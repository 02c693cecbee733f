//! Test-only pieces shared by the test modules of every format: the
//! committed fixtures and their frames as ingest demuxes them, common codec
//! configurations and frames, temporary output directories, the
//! ffprobe/ffmpeg checks of `tools/validate-media.sh`, and the shaping of
//! generated frame sequences for the property tests.
//!
//! What one format's tests need alone (the strict TS reader, the MP4 table
//! reader, the muxing loops) stays with those tests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;

use crate::flv::{self, DemuxEvent, Patch, TagDemuxer, tag_type};
use crate::frame::{AudioCodec, AudioConfig, Frame, Track, Tracks, VideoCodec, VideoConfig};

// ---------------------------------------------------------------------------
// Fixtures (fixtures/README.md says how each was made).

/// H.264 + AAC, 10 s.
pub(crate) const H264_AAC: &[u8] = include_bytes!("../../../fixtures/h264_aac_10s.flv");
/// H.264 + MP3, 10 s.
pub(crate) const H264_MP3: &[u8] = include_bytes!("../../../fixtures/h264_mp3_10s.flv");
/// AAC only, 10 s.
pub(crate) const AAC_ONLY: &[u8] = include_bytes!("../../../fixtures/aac_only_10s.flv");
/// H.264 only, 10 s.
pub(crate) const H264_ONLY: &[u8] = include_bytes!("../../../fixtures/h264_only_10s.flv");
/// H.264 + AAC whose timestamps jump by 30 s after 5 s.
pub(crate) const TS_JUMP: &[u8] = include_bytes!("../../../fixtures/h264_aac_ts_jump.flv");
/// H.265 + AAC (enhanced RTMP `hvc1`), 10 s, written by our own muxer.
pub(crate) const H265_AAC: &[u8] = include_bytes!("../../../fixtures/h265_aac_10s.flv");

/// Path of a `*_10s.flv` fixture by short name (`h264_aac`), for ffprobe.
pub(crate) fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(format!("{name}_10s.flv"))
}

/// Demuxes every tag of an FLV file the way ingest does; returns the
/// events and the demuxer.
pub(crate) fn demux_file(file: &Bytes) -> (Vec<DemuxEvent>, TagDemuxer) {
    let scanned = flv::scan(file);
    let mut d = TagDemuxer::new();
    let mut events = Vec::new();
    for tag in scanned.tags {
        let body = file.slice(tag.body.clone());
        let ts = i64::from(tag.timestamp);
        let got = match tag.tag_type {
            tag_type::VIDEO => d.video(ts, body),
            tag_type::AUDIO => d.audio(ts, body),
            tag_type::SCRIPT => d.script(&body),
            _ => continue,
        };
        events.extend(got.unwrap());
    }
    (events, d)
}

/// The frames among demuxed events, in order.
pub(crate) fn frames(events: &[DemuxEvent]) -> Vec<Frame> {
    events
        .iter()
        .filter_map(|e| match e {
            DemuxEvent::Frame(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

/// Each frame of demuxed events with the configurations in effect for it.
pub(crate) fn with_tracks(events: Vec<DemuxEvent>) -> Vec<(Frame, Tracks)> {
    let mut tracks = Tracks::default();
    let mut frames = Vec::new();
    for e in events {
        match e {
            DemuxEvent::VideoConfig(c) => tracks.video = Some(c),
            DemuxEvent::AudioConfig(c) => tracks.audio = Some(c),
            DemuxEvent::Frame(f) => frames.push((f, tracks.clone())),
            _ => {}
        }
    }
    frames
}

/// A fixture's frames, each with the configurations in effect for it, and
/// which tracks the file header announces.
pub(crate) struct Source {
    pub(crate) frames: Vec<(Frame, Tracks)>,
    pub(crate) video: bool,
    pub(crate) audio: bool,
}

impl Source {
    /// The frames of one track, in order.
    pub(crate) fn track(&self, track: Track) -> Vec<&Frame> {
        self.frames
            .iter()
            .map(|(f, _)| f)
            .filter(|f| f.track == track)
            .collect()
    }
}

/// Demuxes an FLV file the way ingest does.
pub(crate) fn source(file: &'static [u8]) -> Source {
    let header = flv::read_header(file).unwrap();
    let (events, _) = demux_file(&Bytes::from_static(file));
    Source {
        frames: with_tracks(events),
        video: header.has_video,
        audio: header.has_audio,
    }
}

/// Writes a patch into a finished file.
pub(crate) fn apply(file: &mut [u8], p: &Patch) {
    let at = p.offset as usize;
    file[at..at + p.bytes.len()].copy_from_slice(&p.bytes);
}

// ---------------------------------------------------------------------------
// Configurations and frames.

/// SPS of the 640x360 Main-profile fixtures (x264), which crops 368 -> 360.
pub(crate) const SPS_640X360: &[u8] = &[
    0x67, 0x4d, 0x40, 0x1e, 0xec, 0xa0, 0x50, 0x17, 0xfc, 0xb8, 0x08, 0x80, 0x00, 0x00, 0x03, 0x00,
    0x80, 0x00, 0x00, 0x1e, 0x07, 0x8b, 0x16, 0xcb,
];

/// A PPS to go with [`SPS_640X360`].
pub(crate) const PPS_640X360: &[u8] = &[0x68, 0xef, 0xbc, 0x80];

/// An H.264 configuration with one SPS and one PPS and 4-byte NAL unit
/// lengths, declaring `width` x `height`.
pub(crate) fn h264_config_of(sps: &[u8], pps: &[u8], width: u32, height: u32) -> Arc<VideoConfig> {
    let record = crate::codec::h264::build_record(&[sps], &[pps]).unwrap();
    Arc::new(VideoConfig {
        codec: VideoCodec::H264,
        record: Bytes::from(record),
        width,
        height,
        nal_length_size: 4,
    })
}

/// The 640x360 H.264 configuration of the fixtures' SPS.
pub(crate) fn h264_config() -> Arc<VideoConfig> {
    h264_config_of(SPS_640X360, PPS_640X360, 640, 360)
}

/// The fixtures' H.264 video alone.
pub(crate) fn h264_only() -> Tracks {
    Tracks {
        video: Some(h264_config()),
        audio: None,
    }
}

/// The fixtures' H.264 video with their AAC audio.
pub(crate) fn h264_aac() -> Tracks {
    Tracks {
        video: Some(h264_config()),
        audio: Some(aac_config()),
    }
}

/// VPS of a 320x240 libx265 stream (Main, level 2).
pub(crate) const HEVC_VPS_320X240: &[u8] = &[
    0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03,
    0x00, 0x00, 0x03, 0x00, 0x3c, 0x92, 0x80, 0x90,
];

/// SPS of the same stream.
pub(crate) const HEVC_SPS_320X240: &[u8] = &[
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03,
    0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0f, 0x16, 0x59, 0x2a, 0x49, 0x32, 0xbc, 0x05, 0xa0, 0x20, 0x00,
    0x00, 0x03, 0x00, 0x20, 0x00, 0x00, 0x03, 0x03, 0xc1,
];

/// PPS of the same stream.
pub(crate) const HEVC_PPS_320X240: &[u8] = &[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40];

/// An HEVCDecoderConfigurationRecord (Main, level 2, 4-byte lengths) with
/// one VPS, SPS and PPS.
pub(crate) fn hevc_record(vps: &[u8], sps: &[u8], pps: &[u8]) -> Bytes {
    let mut out = vec![
        1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 60, 0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0,
        0x0f, 3,
    ];
    for (t, nal) in [(32u8, vps), (33, sps), (34, pps)] {
        out.push(0x80 | t);
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&(nal.len() as u16).to_be_bytes());
        out.extend_from_slice(nal);
    }
    Bytes::from(out)
}

/// The record of the 320x240 libx265 stream.
pub(crate) fn x265_record() -> Bytes {
    hevc_record(HEVC_VPS_320X240, HEVC_SPS_320X240, HEVC_PPS_320X240)
}

/// AAC-LC, 44.1 kHz, stereo, as the fixtures carry it.
pub(crate) fn aac_config() -> Arc<AudioConfig> {
    Arc::new(AudioConfig {
        codec: AudioCodec::Aac,
        sample_rate: 44100,
        channels: 2,
        asc: Bytes::from_static(&[0x12, 0x10]),
        flv_header: 0xaf,
    })
}

/// A frame with its payload copied.
pub(crate) fn frame(track: Track, dts: i64, cts: i32, keyframe: bool, data: &[u8]) -> Frame {
    Frame {
        track,
        dts,
        cts,
        keyframe,
        data: Bytes::copy_from_slice(data),
    }
}

// ---------------------------------------------------------------------------
// Property tests.

/// A generated frame sequence, and whether its video is H.265.
#[derive(Clone, Debug)]
pub(crate) struct FrameSequence {
    pub(crate) hevc: bool,
    pub(crate) frames: Vec<Frame>,
}

/// Frames from generated `(is video, payload, keyframe, DTS step, cts)`:
/// each track keeps its own clock, advanced by the step; audio frames are
/// keyframes without a composition offset.
pub(crate) fn timeline(
    raw: impl IntoIterator<Item = (bool, Vec<u8>, bool, i64, i32)>,
) -> Vec<Frame> {
    let mut dts = [0i64; 2];
    raw.into_iter()
        .map(|(video, data, key, step, cts)| {
            let slot = &mut dts[usize::from(video)];
            *slot += step;
            Frame {
                track: if video { Track::Video } else { Track::Audio },
                dts: *slot,
                cts: if video { cts } else { 0 },
                keyframe: key || !video,
                data: Bytes::from(data),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Output files and the ffprobe/ffmpeg checks.

/// A fresh directory under the system temp dir, removed on drop (moved
/// into `$MEDIA_TEST_KEEP` instead when that is set, to inspect by hand).
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("media-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Writes `data` to `name` in the directory; returns its path.
    pub(crate) fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, data).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let (Some(keep), Some(name)) = (std::env::var_os("MEDIA_TEST_KEEP"), self.0.file_name())
        {
            let _ = std::fs::rename(&self.0, Path::new(&keep).join(name));
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// True when ffprobe and ffmpeg run; prints a note otherwise.
pub(crate) fn tools(what: &str) -> bool {
    let ok = ["ffprobe", "ffmpeg"].iter().all(|t| {
        Command::new(t)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !ok {
        eprintln!("note: ffprobe/ffmpeg not on PATH, skipping {what}");
    }
    ok
}

/// Runs a tool quietly (`-hide_banner -v error`) on `path`, which goes
/// where `args` has `{}` (at the end without one); asserts it succeeded
/// with nothing on stderr and returns stdout.
pub(crate) fn run_clean(tool: &str, args: &[&str], path: &Path) -> String {
    let out = Command::new(tool)
        .args(["-hide_banner", "-v", "error"])
        .args(args.iter().take_while(|a| **a != "{}"))
        .arg(path)
        .args(args.iter().skip_while(|a| **a != "{}").skip(1))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{tool} {args:?} {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Full decode as tools/validate-media.sh does it; must print nothing.
pub(crate) fn decode_clean(path: &Path, xerror: bool) {
    let mut args = vec!["-nostdin"];
    if xerror {
        args.push("-xerror");
    }
    args.extend(["-i", "{}", "-map", "0:v?", "-map", "0:a?"]);
    args.extend(["-enc_time_base", "-1", "-f", "null", "-"]);
    run_clean("ffmpeg", &args, path);
}

/// Encodes an ffmpeg lavfi source (`testsrc2=…`) with libx265 into `out`:
/// `args` are further output options, `x265_params` go after
/// `log-level=none`. False, with a note, when this ffmpeg has no libx265.
pub(crate) fn libx265(lavfi: &str, args: &[&str], x265_params: &str, out: &Path) -> bool {
    let made = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
        .args(["-f", "lavfi", "-i", lavfi])
        .args(args)
        .args(["-c:v", "libx265", "-x265-params"])
        .arg(format!("log-level=none:{x265_params}"))
        .arg(out)
        .output()
        .unwrap();
    if !made.status.success() {
        eprintln!(
            "note: no libx265 ({}), skipping",
            String::from_utf8_lossy(&made.stderr)
        );
    }
    made.status.success()
}

/// The `key=value` fields of one line of ffprobe's `compact` output.
pub(crate) fn compact_fields(line: &str) -> HashMap<&str, &str> {
    line.trim()
        .split('|')
        .filter_map(|f| f.split_once('='))
        .collect()
}

/// ffprobe's `-show_entries` in `compact` form (one `a=1|b=2` line per
/// section).
pub(crate) fn probe_compact(path: &Path, entries: &str) -> String {
    run_clean(
        "ffprobe",
        &["-show_entries", entries, "-of", "compact=p=0"],
        path,
    )
}

/// ffprobe's `format=duration`, in seconds.
pub(crate) fn probe_duration(path: &Path) -> f64 {
    let args = ["-show_entries", "format=duration", "-of", "csv=p=0"];
    run_clean("ffprobe", &args, path).trim().parse().unwrap()
}

/// One probed packet.
#[derive(Debug)]
pub(crate) struct Packet {
    pub(crate) stream: usize,
    pub(crate) codec_type: String,
    pub(crate) dts: Option<i64>,
    pub(crate) pts_time: f64,
    pub(crate) duration_time: f64,
    pub(crate) key: bool,
}

/// ffprobe's streams (index → codec_type, codec_name), packets and format
/// duration.
pub(crate) fn probe(path: &Path) -> (Vec<(String, String)>, Vec<Packet>, f64) {
    let text = run_clean(
        "ffprobe",
        &[
            "-show_entries",
            "stream=index,codec_type,codec_name:packet=stream_index,dts,pts_time,duration_time,flags:format=duration",
            "-of",
            "compact=p=1",
        ],
        path,
    );
    let mut streams = Vec::new();
    let mut packets = Vec::new();
    let mut duration = f64::NAN;
    for line in text.lines() {
        let kv = compact_fields(line);
        if line.starts_with("packet|") {
            packets.push(Packet {
                stream: kv["stream_index"].parse().unwrap(),
                codec_type: String::new(),
                dts: kv["dts"].parse().ok(),
                pts_time: kv["pts_time"].parse().unwrap_or(f64::NAN),
                duration_time: kv["duration_time"].parse().unwrap_or(0.0),
                key: kv["flags"].starts_with('K'),
            });
        } else if line.starts_with("stream|") {
            let i: usize = kv["index"].parse().unwrap();
            if streams.len() <= i {
                streams.resize(i + 1, (String::new(), String::new()));
            }
            streams[i] = (kv["codec_type"].to_owned(), kv["codec_name"].to_owned());
        } else if line.starts_with("format|") {
            duration = kv["duration"].parse().unwrap_or(f64::NAN);
        }
    }
    for p in &mut packets {
        p.codec_type = streams[p.stream].0.clone();
    }
    (streams, packets, duration)
}

/// The checks every recorded file passes (as validate-media.sh): first
/// video packet a keyframe, DTS strictly increasing per stream. Returns
/// the span of the packet times.
pub(crate) fn check_packets(packets: &[Packet], name: &str) -> f64 {
    if let Some(first) = packets.iter().find(|p| p.codec_type == "video") {
        assert!(first.key, "{name}: first video packet not a keyframe");
    }
    let mut last: Vec<Option<i64>> = vec![None; 8];
    for p in packets {
        let dts = p.dts.unwrap();
        if let Some(l) = last[p.stream] {
            assert!(dts > l, "{name}: DTS {l} -> {dts} in stream {}", p.stream);
        }
        last[p.stream] = Some(dts);
    }
    let start = packets.iter().map(|p| p.pts_time).fold(f64::MAX, f64::min);
    let end = packets
        .iter()
        .map(|p| p.pts_time + p.duration_time)
        .fold(f64::MIN, f64::max);
    end - start
}
