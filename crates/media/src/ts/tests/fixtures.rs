//! The ffmpeg-made fixtures muxed to MPEG-TS, read back by the strict test
//! reader and (when installed) by ffprobe and a full ffmpeg decode.

use super::*;
use crate::test_support::{
    AAC_ONLY, H264_AAC, H264_MP3, H264_ONLY, TempDir, check_packets, decode_clean, fixture_path,
    hevc_record, libx265, probe, source, tools,
};

fn all() -> [(&'static str, &'static [u8], &'static str, &'static str); 4] {
    [
        ("h264_aac", H264_AAC, "h264", "aac"),
        ("h264_mp3", H264_MP3, "h264", "mp3"),
        ("aac_only", AAC_ONLY, "", "aac"),
        ("h264_only", H264_ONLY, "h264", ""),
    ]
}

#[test]
fn fixtures_demux_back_exactly() {
    for (name, data, _, _) in all() {
        let src = source(data);
        let (out, m) = mux_all(&src.frames, src.video, src.audio);
        let d = demux::demux(&out);
        let video = src.track(Track::Video);
        let vpes: Vec<&demux::Pes> = d.pes.iter().filter(|p| p.pid == VIDEO_PID).collect();
        assert_eq!(vpes.len(), video.len(), "{name}");
        for (f, p) in video.iter().zip(&vpes) {
            assert_eq!((p.pts, p.dts), (ticks(f.pts()), ticks(f.dts)), "{name}");
            assert_eq!(p.random_access, f.keyframe);
            assert_eq!(p.stream_id, 0xe0);
            if f.keyframe {
                assert_eq!(d.packets[p.first_packet - 2..p.first_packet], [0, PMT_PID]);
            }
        }
        let audio = src.track(Track::Audio);
        let apes: Vec<&demux::Pes> = d.pes.iter().filter(|p| p.pid == AUDIO_PID).collect();
        if name.contains("aac") {
            let frames: Vec<Vec<u8>> = apes
                .iter()
                .flat_map(|p| demux::adts_frames(&p.data))
                .collect();
            assert_eq!(frames.len(), audio.len(), "{name}");
            for (f, raw) in audio.iter().zip(&frames) {
                assert_eq!(f.data[..], raw[..]);
            }
            // Batching: far fewer PES than frames.
            assert!(apes.len() * 3 < audio.len(), "{name}: {} PES", apes.len());
        } else if name.contains("mp3") {
            let all: Vec<u8> = apes.iter().flat_map(|p| p.data.clone()).collect();
            let src: Vec<u8> = audio.iter().flat_map(|f| f.data.to_vec()).collect();
            assert_eq!(all, src);
        }
        // PCR at least every 100 ms, never going back.
        for w in d.pcrs.windows(2) {
            assert!(w[1] >= w[0] && w[1] - w[0] <= 100 * 90, "{name}");
        }
        // Overhead of TS over the elementary streams stays moderate.
        let es: usize = src.frames.iter().map(|(f, _)| f.data.len()).sum();
        eprintln!(
            "{name}: {} bytes of frames -> {} bytes of TS ({:.1} % overhead), {} ms",
            es,
            out.len(),
            (out.len() as f64 / es as f64 - 1.0) * 100.0,
            m.duration_ms()
        );
    }
}

#[test]
fn ffprobe_reads_fixture_ts() {
    if !tools("the ffprobe check of TS files") {
        return;
    }
    let dir = TempDir::new("ts");
    for (name, data, vcodec, acodec) in all() {
        let src = source(data);
        let (out, m) = mux_all(&src.frames, src.video, src.audio);
        let path = dir.write(&format!("{name}.ts"), &out);
        let (streams, packets, _) = probe(&path);
        let codecs: Vec<(&str, &str)> = streams
            .iter()
            .map(|(t, c)| (t.as_str(), c.as_str()))
            .collect();
        let mut want = Vec::new();
        if !vcodec.is_empty() {
            want.push(("video", vcodec));
        }
        if !acodec.is_empty() {
            want.push(("audio", acodec));
        }
        assert_eq!(codecs, want, "{name}");
        let span = check_packets(&packets, name);
        decode_clean(&path, true);
        let (_, src_packets, src_duration) = probe(&fixture_path(name));
        let src_span = check_packets(&src_packets, name);
        eprintln!(
            "{name}: TS span {span:.3} s, muxer {} ms, source duration {src_duration} s, span {src_span:.3} s",
            m.duration_ms()
        );
        assert!(
            (span - src_duration).abs() < 0.1,
            "{name}: {span} vs {src_duration}"
        );
        assert!(
            (m.duration_ms() as f64 / 1000.0 - src_duration).abs() < 0.1,
            "{name}"
        );
    }
}

/// Splits an Annex-B stream into NAL units.
fn annexb_nals(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            let mut end = starts.get(k + 1).map_or(data.len(), |&n| n - 3);
            while end > s && data[end - 1] == 0 {
                end -= 1;
            }
            &data[s..end]
        })
        .collect()
}

#[test]
fn hevc_from_libx265_decodes() {
    if !tools("the H.265 TS check") {
        return;
    }
    let dir = TempDir::new("ts-hevc");
    let raw = dir.0.join("in.hevc");
    let args = ["-frames:v", "50", "-f", "hevc"];
    if !libx265(
        "testsrc2=size=320x180:rate=25",
        &args,
        "bframes=0:keyint=25",
        &raw,
    ) {
        return;
    }
    let data = std::fs::read(&raw).unwrap();
    let nal_type = |n: &[u8]| (n[0] >> 1) & 0x3f;
    // Parameter sets go to the record; the rest into access units that
    // begin at a first slice segment.
    let first = |t: u8| {
        annexb_nals(&data)
            .into_iter()
            .find(|n| nal_type(n) == t)
            .unwrap()
    };
    let record = hevc_record(first(32), first(33), first(34));
    let mut aus: Vec<(bool, Vec<u8>)> = Vec::new();
    let mut open_vcl = false;
    for nal in annexb_nals(&data) {
        let t = nal_type(nal);
        if (32..=34).contains(&t) {
            continue;
        }
        let vcl = t < 32;
        if aus.is_empty() || (open_vcl && (!vcl || nal[2] & 0x80 != 0)) {
            aus.push((false, Vec::new()));
            open_vcl = false;
        }
        let au = aus.last_mut().unwrap();
        au.0 |= (16..=23).contains(&t);
        au.1.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        au.1.extend_from_slice(nal);
        open_vcl |= vcl;
    }
    assert_eq!(aus.len(), 50);
    let tracks = Tracks {
        video: Some(Arc::new(VideoConfig {
            codec: VideoCodec::H265,
            record,
            width: 320,
            height: 180,
            nal_length_size: 4,
        })),
        audio: None,
    };
    let frames: Vec<(Frame, Tracks)> = aus
        .into_iter()
        .enumerate()
        .map(|(i, (keyframe, data))| {
            let f = Frame {
                track: Track::Video,
                dts: i as i64 * 40,
                cts: 0,
                keyframe,
                data: Bytes::from(data),
            };
            (f, tracks.clone())
        })
        .collect();
    let (out, m) = mux_all(&frames, true, false);
    assert_eq!(m.duration_ms(), 2000);
    let d = demux::demux(&out);
    assert_eq!(d.pmts[0].2, [(0x24, VIDEO_PID)]);
    let path = dir.write("hevc.ts", &out);
    let (streams, packets, _) = probe(&path);
    assert_eq!(streams, [("video".to_owned(), "hevc".to_owned())]);
    assert_eq!(packets.len(), 50);
    assert_eq!(packets.iter().filter(|p| p.key).count(), 2);
    check_packets(&packets, "hevc");
    decode_clean(&path, true);
}
