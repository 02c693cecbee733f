//! Media validation with ffprobe and ffmpeg: container, codecs, duration,
//! first video packet a keyframe, DTS strictly increasing per stream, full
//! decode without an error line.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

#[derive(Debug)]
pub struct Packet {
    pub stream: i64,
    pub dts: Option<i64>,
    pub dts_time: Option<f64>,
    pub pts_time: Option<f64>,
    pub duration_time: f64,
    pub key: bool,
}

#[derive(Debug)]
pub struct Probe {
    pub format: String,
    /// Container duration (onMetaData for FLV), seconds.
    pub duration: f64,
    /// (index, codec_type, codec_name, width, height)
    pub streams: Vec<(i64, String, String, i64, i64)>,
    pub packets: Vec<Packet>,
}

impl Probe {
    /// The packets of stream `idx`, in file order.
    pub fn packets_of(&self, idx: i64) -> impl Iterator<Item = &Packet> {
        self.packets.iter().filter(move |p| p.stream == idx)
    }

    /// Media span from packet timestamps (longest stream), seconds.
    pub fn packet_span(&self) -> f64 {
        let mut best: f64 = 0.0;
        for (idx, ..) in &self.streams {
            let ts: Vec<&Packet> = self
                .packets_of(*idx)
                .filter(|p| p.dts_time.is_some())
                .collect();
            if let (Some(a), Some(b)) = (ts.first(), ts.last()) {
                let span = b.dts_time.unwrap_or(0.0) + b.duration_time - a.dts_time.unwrap_or(0.0);
                best = best.max(span);
            }
        }
        best
    }

    pub fn codec(&self, kind: &str) -> Option<&str> {
        self.streams
            .iter()
            .find(|s| s.1 == kind)
            .map(|s| s.2.as_str())
    }
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Runs `tool` with `args` and then `path`, asserts that it succeeded and
/// returns its standard output; `cannot_run` is the message when it
/// cannot be started.
fn tool_output(tool: &str, args: &[&str], path: &Path, cannot_run: &str) -> Vec<u8> {
    let out = Command::new(tool)
        .args(args)
        .arg(path)
        .output()
        .expect(cannot_run);
    assert!(
        out.status.success(),
        "{tool} failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn probe(path: &Path) -> Probe {
    let args = [
        "-v",
        "error",
        "-show_format",
        "-show_streams",
        "-show_packets",
        "-of",
        "json",
    ];
    let out = tool_output("ffprobe", &args, path, "run ffprobe");
    let v: Value = serde_json::from_slice(&out).expect("ffprobe json");
    let streams = v["streams"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["index"].as_i64().unwrap_or(-1),
                        s["codec_type"].as_str().unwrap_or_default().to_string(),
                        s["codec_name"].as_str().unwrap_or_default().to_string(),
                        s["width"].as_i64().unwrap_or(0),
                        s["height"].as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let packets = v["packets"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| Packet {
                    stream: p["stream_index"].as_i64().unwrap_or(-1),
                    dts: p["dts"].as_i64(),
                    dts_time: num(&p["dts_time"]),
                    pts_time: num(&p["pts_time"]),
                    duration_time: num(&p["duration_time"]).unwrap_or(0.0),
                    key: p["flags"].as_str().unwrap_or_default().contains('K'),
                })
                .collect()
        })
        .unwrap_or_default();
    Probe {
        format: v["format"]["format_name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        duration: num(&v["format"]["duration"]).unwrap_or(-1.0),
        streams,
        packets,
    }
}

/// Decoder/demuxer error lines from a full decode (empty = clean).
pub fn decode_errors(path: &Path) -> String {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-enc_time_base", "-1", "-f", "null", "-"])
        .output()
        .expect("run ffmpeg");
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

/// ffprobe's name of each format's container.
pub fn container(format: &str) -> &'static str {
    match format {
        "flv" => "flv",
        "mp4" => "mov,mp4,m4a,3gp,3g2,mj2",
        "hls" => "hls",
        "aac" => "aac",
        "mp3" => "mp3",
        _ => panic!("unknown liverec format {format:?}"),
    }
}

/// All checks; the duration within [min_s, max_s]. `format` is liverec's
/// name (flv, mp4, hls, aac, mp3). The container's own duration must agree
/// with the packets, except for ADTS, whose duration ffprobe only
/// estimates from the bitrate. HLS: `path` is the downloaded playlist, and
/// its segments pass `assert_hls_segments` too.
pub fn assert_valid(path: &Path, format: &str, min_s: f64, max_s: f64) -> Probe {
    let p = probe(path);
    assert_eq!(
        p.format,
        container(format),
        "container of {}",
        path.display()
    );
    let span = p.packet_span();
    let duration = if format == "aac" { span } else { p.duration };
    assert!(
        duration >= min_s && duration <= max_s,
        "duration {duration} not in [{min_s}, {max_s}] for {}",
        path.display()
    );
    if format != "aac" {
        assert!(
            (span - p.duration).abs() <= 0.5,
            "container duration {} disagrees with packet span {span}",
            p.duration
        );
    }
    if let Some((vidx, ..)) = p.streams.iter().find(|s| s.1 == "video") {
        let first = p.packets_of(*vidx).next().expect("video packets");
        assert!(
            first.key,
            "first video packet is not a keyframe in {}",
            path.display()
        );
    }
    for (idx, ..) in &p.streams {
        let dts: Vec<i64> = p.packets_of(*idx).filter_map(|x| x.dts).collect();
        let bad = dts.windows(2).filter(|w| w[1] <= w[0]).count();
        assert_eq!(
            bad,
            0,
            "stream {idx}: {bad} non-increasing DTS in {}",
            path.display()
        );
    }
    if format == "mp4" {
        assert_faststart(path);
    }
    if format == "hls" {
        assert_hls_segments(path);
    }
    let errors = decode_errors(path);
    assert!(
        errors.is_empty(),
        "decode errors in {}: {errors}",
        path.display()
    );
    p
}

/// moov comes before mdat at the top level (faststart).
pub fn assert_faststart(path: &Path) {
    let data = std::fs::read(path).expect("read mp4");
    let mut pos = 0usize;
    let mut order = Vec::new();
    while pos + 8 <= data.len() {
        let size32 = u32::from_be_bytes(data[pos..pos + 4].try_into().expect("4")) as u64;
        let kind = String::from_utf8_lossy(&data[pos + 4..pos + 8]).into_owned();
        let size = if size32 == 1 && pos + 16 <= data.len() {
            u64::from_be_bytes(data[pos + 8..pos + 16].try_into().expect("8"))
        } else {
            size32
        };
        order.push(kind);
        if size < 8 {
            break;
        }
        pos += size as usize;
    }
    let moov = order.iter().position(|k| k == "moov").expect("a moov box");
    let mdat = order.iter().position(|k| k == "mdat").expect("an mdat box");
    assert!(moov < mdat, "faststart: moov before mdat, got {order:?}");
}

/// Largest DTS step (seconds) within each stream.
pub fn max_dts_gap(p: &Probe) -> f64 {
    let mut gap: f64 = 0.0;
    for (idx, ..) in &p.streams {
        let t: Vec<f64> = p.packets_of(*idx).filter_map(|x| x.dts_time).collect();
        for w in t.windows(2) {
            gap = gap.max(w[1] - w[0]);
        }
    }
    gap
}

/// HLS checks on a downloaded playlist: ENDLIST, every segment starts with
/// a keyframe (when there is video) and its EXTINF is within 0.5 s of its
/// probed duration, TARGETDURATION covers every EXTINF.
pub fn assert_hls_segments(playlist: &Path) {
    let text = std::fs::read_to_string(playlist).expect("playlist");
    assert!(
        text.lines().any(|l| l == "#EXT-X-ENDLIST"),
        "ENDLIST present:\n{text}"
    );
    let target: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-TARGETDURATION:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("TARGETDURATION");
    let dir = playlist.parent().expect("dir");
    let mut extinf = None;
    let mut segments = Vec::new();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("#EXTINF:") {
            extinf = v
                .trim_end_matches(',')
                .split(',')
                .next()
                .and_then(|x| x.parse::<f64>().ok());
        } else if !line.starts_with('#') && !line.is_empty() {
            let d = extinf.take().expect("EXTINF before a segment");
            assert!(
                d.round() <= target,
                "EXTINF {d} above TARGETDURATION {target}"
            );
            let seg = probe(&dir.join(line));
            let span = seg.packet_span();
            assert!(
                (span - d).abs() <= 0.5,
                "segment {line}: EXTINF {d} vs probed {span}"
            );
            if let Some((v, ..)) = seg.streams.iter().find(|s| s.1 == "video") {
                let first = seg.packets_of(*v).next().expect("video");
                assert!(first.key, "segment {line} starts with a keyframe");
            }
            segments.push(dir.join(line));
        }
    }
    assert!(!segments.is_empty(), "segments listed");
    let errors = ts_continuity_errors(&segments);
    assert!(
        errors.is_empty(),
        "TS continuity broken across the segments of {}: {errors}",
        playlist.display()
    );
}

/// The segments read back to back as one transport stream (what a player
/// does): FFmpeg's MPEG-TS demuxer's "Continuity check failed" lines.
/// Players such as VLC report the same breaks as `TS discontinuity`.
pub fn ts_continuity_errors(segments: &[PathBuf]) -> String {
    let dir = segments[0].parent().expect("dir");
    let joined = dir.join("joined-segments.ts");
    let mut all = Vec::new();
    for seg in segments {
        all.extend(std::fs::read(seg).expect("read segment"));
    }
    std::fs::write(&joined, all).expect("write joined segments");
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "debug", "-i"])
        .arg(&joined)
        .args(["-map", "0", "-c", "copy", "-f", "null", "-"])
        .output()
        .expect("run ffmpeg");
    let _ = std::fs::remove_file(&joined);
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("Continuity check failed"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// onMetaData `duration` (s) and `filesize` (bytes) of an FLV file.
pub fn flv_metadata(path: &Path) -> (f64, f64) {
    let data = std::fs::read(path).expect("read flv");
    let scan = media::flv::scan(&data);
    let tag = scan.tags.first().expect("a first tag");
    assert_eq!(
        tag.tag_type,
        media::flv::tag_type::SCRIPT,
        "onMetaData comes first"
    );
    let values = media::amf0::decode_all(&data[tag.body.clone()]).expect("AMF0");
    assert_eq!(values.first().and_then(|v| v.as_str()), Some("onMetaData"));
    let meta = values.get(1).expect("metadata object");
    let num = |k: &str| meta.get(k).and_then(|v| v.as_f64()).unwrap_or(-1.0);
    (num("duration"), num("filesize"))
}

/// What `mediainfo` reads from a file: one JSON object per track
/// (`General`, `Video`, `Audio`), every value a string. It reads FLV on
/// its own (tags, timestamps, `onMetaData`), so it checks what ffprobe
/// 5.1 cannot open: enhanced-RTMP `hvc1` FLV. (mediainfo 23.04 does not
/// name that codec; it gives container, durations and the audio format.)
#[derive(Debug)]
pub struct MediaInfo {
    pub tracks: Vec<Value>,
    /// The whole output, for assertion messages.
    pub raw: String,
}

impl MediaInfo {
    /// Field `name` of the first track of `kind`.
    pub fn field(&self, kind: &str, name: &str) -> Option<&str> {
        self.tracks
            .iter()
            .find(|t| t["@type"] == kind)
            .and_then(|t| t[name].as_str())
    }

    /// A numeric field (durations in seconds, counts).
    pub fn number(&self, kind: &str, name: &str) -> Option<f64> {
        self.field(kind, name).and_then(|v| v.parse().ok())
    }
}

/// Runs `mediainfo --Output=JSON` on `path`.
pub fn mediainfo(path: &Path) -> MediaInfo {
    let cannot_run = "run mediainfo (scripts/test.sh installs it)";
    let out = tool_output("mediainfo", &["--Output=JSON"], path, cannot_run);
    let raw = String::from_utf8_lossy(&out).into_owned();
    let v: Value = serde_json::from_str(&raw).expect("mediainfo json");
    MediaInfo {
        tracks: v["media"]["track"].as_array().cloned().unwrap_or_default(),
        raw,
    }
}
