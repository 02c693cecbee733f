//! Round trips of the ffmpeg-made fixtures through demuxer, muxer, reader and
//! (when installed) ffprobe/ffmpeg.

use super::*;
use crate::test_support::{
    AAC_ONLY, H264_AAC, H264_MP3, H264_ONLY, TS_JUMP, TempDir, decode_clean, probe_compact, tools,
};
use crate::timestamp::TimestampRepair;

fn all() -> [(&'static str, &'static [u8]); 5] {
    [
        ("h264_aac", H264_AAC),
        ("h264_mp3", H264_MP3),
        ("aac_only", AAC_ONLY),
        ("h264_only", H264_ONLY),
        ("ts_jump", TS_JUMP),
    ]
}

#[test]
fn fixture_configs() {
    let (events, d) = demux_file(&Bytes::from_static(H264_AAC));
    let t = d.tracks();
    let v = t.video.unwrap();
    assert_eq!(
        (v.codec, v.width, v.height, v.nal_length_size),
        (VideoCodec::H264, 640, 360, 4)
    );
    let a = t.audio.unwrap();
    assert_eq!(
        (a.codec, a.sample_rate, a.channels),
        (AudioCodec::Aac, 44100, 2)
    );
    let meta = metadata_event(&events);
    assert_eq!(meta.unwrap().get("width"), Some(&Value::Number(640.0)));
    assert_eq!(d.ignored(), 0);

    let (_, d) = demux_file(&Bytes::from_static(H264_MP3));
    let a = d.tracks().audio.unwrap();
    assert_eq!(
        (a.codec, a.sample_rate, a.channels, a.flv_header),
        (AudioCodec::Mp3, 44100, 2, 0x2f)
    );

    let (_, d) = demux_file(&Bytes::from_static(AAC_ONLY));
    assert!(d.tracks().video.is_none());
    assert_eq!(d.tracks().audio.unwrap().codec, AudioCodec::Aac);
    let (_, d) = demux_file(&Bytes::from_static(H264_ONLY));
    assert!(d.tracks().audio.is_none());
    assert_eq!(d.tracks().video.unwrap().width, 640);
}

#[test]
fn fixtures_round_trip() {
    for (name, data) in all() {
        let header = read_header(data).unwrap();
        let (events, _) = demux_file(&Bytes::from_static(data));
        let input = frames(&events);
        assert!(input.len() > 200, "{name}");
        let (out, m) = mux_events(&events, header.has_video, header.has_audio);
        let back = read_header(&out).unwrap();
        assert_eq!(
            (back.has_video, back.has_audio),
            (header.has_video, header.has_audio),
            "{name}"
        );
        let (events2, _) = demux_file(&Bytes::from(out.clone()));
        assert_eq!(frames(&events2), input, "{name}");
        let keyframes = |f: &[Frame]| {
            f.iter()
                .filter(|f| f.keyframe && f.track == Track::Video)
                .count()
        };
        assert_eq!(keyframes(&frames(&events2)), keyframes(&input));
        // Duration and size in the patched metadata.
        let meta = metadata_of(&out);
        let duration = meta.get("duration").and_then(Value::as_f64).unwrap();
        assert_eq!(duration, m.duration_ms() as f64 / 1000.0, "{name}");
        let original = metadata_of(data)
            .get("duration")
            .and_then(Value::as_f64)
            .unwrap();
        assert!(
            (duration - original).abs() < 0.1,
            "{name}: {duration} vs {original}"
        );
        assert_eq!(meta.get("filesize"), Some(&Value::Number(out.len() as f64)));
        // Recovery of the complete file agrees with finish().
        let r = recover_bytes(&out);
        assert_eq!(
            (r.valid_len, r.duration_ms),
            (out.len() as u64, m.duration_ms()),
            "{name}"
        );
        let mut again = out.clone();
        for p in &r.patches {
            apply(&mut again, p);
        }
        assert_eq!(again, out, "{name}");
    }
}

#[test]
fn fixture_recovery_of_truncations() {
    let (events, _) = demux_file(&Bytes::from_static(H264_AAC));
    let (out, _) = mux_events(&events, true, true);
    let all_frames = frames(&events);
    let scanned = scan(&out);
    let mut boundaries: Vec<usize> = scanned.tags.iter().map(|t| t.body.end + 4).collect();
    boundaries.push(13);
    let mut cuts: Vec<usize> = (13..out.len()).step_by(7919).collect();
    cuts.extend(
        scanned
            .tags
            .iter()
            .take(40)
            .flat_map(|t| [t.offset as usize, t.body.end + 3, t.body.end + 4]),
    );
    for cut in cuts {
        let mut prefix = out[..cut].to_vec();
        let r = recover_bytes(&prefix);
        let valid = r.valid_len as usize;
        assert!(
            valid <= cut && boundaries.contains(&valid),
            "cut {cut} -> {valid}"
        );
        prefix.truncate(valid);
        for p in &r.patches {
            assert!(p.offset as usize + p.bytes.len() <= valid);
            apply(&mut prefix, p);
        }
        if r.patches.is_empty() {
            continue;
        }
        let meta = metadata_of(&prefix);
        assert_eq!(meta.get("filesize"), Some(&Value::Number(valid as f64)));
        assert_eq!(
            meta.get("duration"),
            Some(&Value::Number(r.duration_ms as f64 / 1000.0))
        );
        let (events, _) = demux_file(&Bytes::from(prefix));
        let got = frames(&events);
        assert_eq!(got[..], all_frames[..got.len()]);
    }
}

#[test]
fn ts_jump_fixture_is_repaired() {
    let (events, _) = demux_file(&Bytes::from_static(TS_JUMP));
    let mut repair = TimestampRepair::new(10_000);
    let repaired: Vec<DemuxEvent> = events
        .into_iter()
        .filter_map(|e| match e {
            DemuxEvent::Frame(mut f) => repair.apply(&mut f).then_some(DemuxEvent::Frame(f)),
            other => Some(other),
        })
        .collect();
    let (out, m) = mux_events(&repaired, true, true);
    assert!(
        (9_900..=10_200).contains(&m.duration_ms()),
        "{}",
        m.duration_ms()
    );
    if let Some(report) = probe(&out, "ts_jump") {
        assert!(
            report.contains("duration=10.") || report.contains("duration=9.9"),
            "{report}"
        );
    }
}

/// Runs `ffprobe` and a full `ffmpeg` decode on `file`; both must print
/// nothing on stderr. Returns ffprobe's stream report, or None (with a note)
/// when the tools are not installed.
fn probe(file: &[u8], name: &str) -> Option<String> {
    if !tools(&format!("the ffprobe check of {name}")) {
        return None;
    }
    let dir = TempDir::new("flv");
    let path = dir.write(&format!("{name}.flv"), file);
    let report = probe_compact(
        &path,
        "format=duration:stream=codec_name,width,height,sample_rate,channels",
    );
    // As tools/validate-media.sh decodes.
    decode_clean(&path, true);
    eprintln!("{name}: {report}");
    Some(report)
}

#[test]
fn ffprobe_reads_remuxed_files() {
    let (events, _) = demux_file(&Bytes::from_static(H264_AAC));
    let (out, _) = mux_events(&events, true, true);
    let Some(report) = probe(&out, "h264_aac") else {
        return;
    };
    assert!(
        report.contains("codec_name=h264|width=640|height=360"),
        "{report}"
    );
    assert!(
        report.contains("codec_name=aac|sample_rate=44100|channels=2"),
        "{report}"
    );

    let (events, _) = demux_file(&Bytes::from_static(H264_MP3));
    let (out, _) = mux_events(&events, true, true);
    let report = probe(&out, "h264_mp3").unwrap();
    assert!(
        report.contains("codec_name=mp3|sample_rate=44100|channels=2"),
        "{report}"
    );
}
