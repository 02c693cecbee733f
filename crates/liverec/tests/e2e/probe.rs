//! Media validation with ffprobe and ffmpeg: container, codecs, duration,
//! first video packet a keyframe, DTS strictly increasing per stream, full
//! decode without an error line.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

#[derive(Debug)]
pub struct Packet {
    pub stream: i64,
    pub dts: Option<i64>,
    pub dts_time: Option<f64>,
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
    /// Media span from packet timestamps (longest stream), seconds.
    pub fn packet_span(&self) -> f64 {
        let mut best: f64 = 0.0;
        for (idx, ..) in &self.streams {
            let ts: Vec<&Packet> = self
                .packets
                .iter()
                .filter(|p| p.stream == *idx && p.dts_time.is_some())
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

pub fn probe(path: &Path) -> Probe {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_format",
            "-show_streams",
            "-show_packets",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("run ffprobe");
    assert!(
        out.status.success(),
        "ffprobe failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("ffprobe json");
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

/// All checks; duration (container and packets) within [min_s, max_s].
pub fn assert_valid(path: &Path, format: &str, min_s: f64, max_s: f64) -> Probe {
    let p = probe(path);
    assert_eq!(p.format, format, "container of {}", path.display());
    assert!(
        p.duration >= min_s && p.duration <= max_s,
        "duration {} not in [{min_s}, {max_s}] for {}",
        p.duration,
        path.display()
    );
    let span = p.packet_span();
    assert!(
        (span - p.duration).abs() <= 0.5,
        "container duration {} disagrees with packet span {span}",
        p.duration
    );
    if let Some((vidx, ..)) = p.streams.iter().find(|s| s.1 == "video") {
        let first = p
            .packets
            .iter()
            .find(|x| x.stream == *vidx)
            .expect("video packets");
        assert!(first.key, "first video packet is not a keyframe");
    }
    for (idx, ..) in &p.streams {
        let dts: Vec<i64> = p
            .packets
            .iter()
            .filter(|x| x.stream == *idx)
            .filter_map(|x| x.dts)
            .collect();
        let bad = dts.windows(2).filter(|w| w[1] <= w[0]).count();
        assert_eq!(bad, 0, "stream {idx}: {bad} non-increasing DTS");
    }
    let errors = decode_errors(path);
    assert!(
        errors.is_empty(),
        "decode errors in {}: {errors}",
        path.display()
    );
    p
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
