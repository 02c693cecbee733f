//! The fixtures recorded as HLS (TsMuxer per segment, Segmenter, Playlist)
//! the way the recorder does it, then checked like tools/check_hls.sh:
//! every segment starts with a keyframe and matches its EXTINF, and ffmpeg
//! reads the whole playlist cleanly.

use super::*;
use crate::mux::Muxer;
use crate::test_support::{
    AAC_ONLY, H264_AAC, Source, TempDir, check_packets, compact_fields, decode_clean, fixture_path,
    probe, probe_compact, source, tools,
};
use crate::ts::TsMuxer;
use crate::ts::tests::{demux, mux_all};

/// Records `src` as segments of about `target_ms`; returns the playlist
/// and each segment's bytes.
fn record(src: &Source, target_ms: i64) -> (Playlist, Vec<Vec<u8>>) {
    let mut seg = Segmenter::new(target_ms);
    let mut playlist = Playlist::new(target_ms);
    let mut files = Vec::new();
    let mut muxer = TsMuxer::new(src.video, src.audio);
    let mut buf = Vec::new();
    let mut close =
        |m: &mut TsMuxer, buf: &mut Vec<u8>, duration_ms: i64, files: &mut Vec<Vec<u8>>| {
            m.finish(buf).unwrap();
            playlist.push(Segment {
                uri: format!("seg-{}.ts", files.len()),
                duration_ms,
                discontinuity: false,
            });
            files.push(std::mem::take(buf));
        };
    for (f, t) in &src.frames {
        if seg.should_cut(f, src.video) {
            close(&mut muxer, &mut buf, seg.closed_duration_ms(), &mut files);
            muxer = TsMuxer::new(src.video, src.audio);
        }
        if buf.is_empty() {
            muxer.start(t, &mut buf).unwrap();
        }
        muxer.push(f, t, &mut buf).unwrap();
    }
    // The last segment's duration agrees with the muxer's media span.
    let last = seg.open_duration_ms();
    assert!(
        (last - muxer.duration_ms()).abs() <= 50,
        "{last} vs {}",
        muxer.duration_ms()
    );
    close(&mut muxer, &mut buf, last, &mut files);
    (playlist, files)
}

#[test]
fn segments_are_self_contained() {
    let src = source(H264_AAC);
    let (playlist, files) = record(&src, 2000);
    assert_eq!(playlist.segments().len(), 5);
    for (s, file) in playlist.segments().iter().zip(&files) {
        let d = demux::demux(file);
        // PAT, PMT, then the keyframe.
        assert_eq!(d.packets[..2], [0, crate::ts::PMT_PID]);
        let first_video = d
            .pes
            .iter()
            .find(|p| p.pid == crate::ts::VIDEO_PID)
            .unwrap();
        assert!(first_video.random_access, "{}", s.uri);
        assert_eq!(
            d.pes[0].pid,
            crate::ts::VIDEO_PID,
            "{}: video comes first",
            s.uri
        );
    }
    // EXTINF values add up to the recording's span.
    let whole = mux_all(&src.frames, true, true).1.duration_ms();
    assert_eq!(playlist.duration_ms(), whole);
}

fn check_playlist(name: &str, src: &Source, has_video: bool) {
    let (playlist, files) = record(src, 2000);
    assert!(playlist.segments().len() >= 4, "{name}");
    let dir = TempDir::new(&format!("hls-{name}"));
    for (s, file) in playlist.segments().iter().zip(&files) {
        let path = dir.write(&s.uri, file);
        let (_, packets, duration) = probe(&path);
        check_packets(&packets, &s.uri);
        if has_video {
            assert!(
                packets
                    .iter()
                    .find(|p| p.codec_type == "video")
                    .unwrap()
                    .key
            );
        }
        let extinf = s.duration_ms as f64 / 1000.0;
        eprintln!("{name} {}: EXTINF {extinf:.3} probed {duration:.3}", s.uri);
        assert!((extinf - duration).abs() <= 0.5, "{name} {}", s.uri);
    }
    let text = playlist.render(true);
    assert!(text.ends_with("#EXT-X-ENDLIST\n"));
    let m3u8 = dir.write("index.m3u8", text.as_bytes());
    let out = probe_compact(&m3u8, "format=format_name,duration");
    let duration: f64 = compact_fields(&out)["duration"].parse().unwrap();
    assert!(out.contains("format_name=hls"), "{out}");
    let (_, _, src_duration) = probe(&fixture_path(name));
    eprintln!("{name}: playlist {duration} s, source {src_duration} s\n{text}");
    assert!(
        (duration - src_duration).abs() <= 0.2,
        "{name}: {duration} vs {src_duration}"
    );
    // Continuity counters restart per segment, so no -xerror (as the validator).
    decode_clean(&m3u8, false);
}

#[test]
fn ffmpeg_reads_fixture_playlists() {
    if !tools("the ffprobe check of HLS playlists") {
        return;
    }
    check_playlist("h264_aac", &source(H264_AAC), true);
    check_playlist("aac_only", &source(AAC_ONLY), false);
}
