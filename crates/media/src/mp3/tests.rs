//! MP3 writer tests: passthrough bytes, transcoding of the AAC fixtures
//! checked with ffprobe/ffmpeg when installed, and refusals.

use bytes::Bytes;

use super::*;
use crate::codec::mp3::frame_samples;
use crate::frame::{Frame, Tracks};
use crate::test_support::{
    AAC_ONLY, H264_AAC, H264_MP3, TempDir, aac_config, apply, compact_fields, decode_clean,
    probe_compact, source, tools,
};

/// Runs `file` through an [`Mp3Writer`] as the recorder would: returns the
/// patched output, the writer and the audio frames.
fn write(file: &'static [u8], mut w: Mp3Writer) -> (Vec<u8>, Mp3Writer, Vec<Frame>) {
    let mut out = Vec::new();
    let mut audio = Vec::new();
    for (i, (f, tracks)) in source(file).frames.into_iter().enumerate() {
        if i == 0 {
            w.start(&tracks, &mut out).unwrap();
        }
        w.push(&f, &tracks, &mut out).unwrap();
        if f.track == Track::Audio {
            audio.push(f);
        }
    }
    for p in w.finish(&mut out).unwrap() {
        apply(&mut out, &p);
    }
    (out, w, audio)
}

/// ffprobe's `format=duration` and `stream=codec_name,sample_rate,channels,
/// bit_rate` of an MP3, after a clean full decode.
fn probe(bytes: &[u8], name: &str) -> Option<(f64, String)> {
    if !tools("ffprobe checks") {
        return None;
    }
    let dir = TempDir::new("mp3");
    let path = dir.write(&format!("{name}.mp3"), bytes);
    let streams = probe_compact(&path, "stream=codec_name,sample_rate,channels,bit_rate");
    let format = probe_compact(&path, "format=duration,format_name");
    decode_clean(&path, true);
    assert!(format.contains("format_name=mp3"), "{format}");
    let duration = compact_fields(&format)["duration"].parse().unwrap();
    eprintln!("{name}: {format} {streams}");
    Some((duration, streams))
}

#[test]
fn mp3_source_is_passed_through() {
    let (out, w, audio) = write(H264_MP3, Mp3Writer::new());
    // Passthrough: the output is the source's frames, byte for byte.
    let want: Vec<u8> = audio.iter().flat_map(|f| f.data.iter().copied()).collect();
    assert_eq!(out, want);
    let samples: u64 = audio
        .iter()
        .map(|f| u64::from(frame_samples(&f.data)))
        .sum();
    assert_eq!(w.duration_ms(), (samples * 1000 / 44_100) as i64);
    assert!(
        (9_900..10_200).contains(&w.duration_ms()),
        "{}",
        w.duration_ms()
    );
    if let Some((duration, streams)) = probe(&out, "passthrough") {
        assert!(
            streams.contains("codec_name=mp3|sample_rate=44100|channels=2"),
            "{streams}"
        );
        assert!((duration - w.duration_ms() as f64 / 1000.0).abs() < 0.1);
    }
}

#[test]
fn aac_sources_are_transcoded_at_128k() {
    for (name, file) in [("aac_only", AAC_ONLY), ("h264_aac", H264_AAC)] {
        let (out, w, audio) = write(file, Mp3Writer::new());
        assert_eq!(w.decode_errors(), 0, "{name}");
        // Every AAC frame decodes to 1024 samples.
        assert_eq!(
            w.duration_ms(),
            (audio.len() as i64 * 1024 * 1000) / 44_100,
            "{name}"
        );
        let h = crate::codec::mp3::parse_header(&out).unwrap();
        assert_eq!(
            (h.sample_rate, h.bitrate_kbps, h.channels),
            (44_100, 128, 2)
        );
        // The first frame is the patched LAME/Info tag.
        assert!(
            out[..h.frame_len].windows(4).any(|w| w == b"Info"),
            "{name}"
        );
        let Some((duration, streams)) = probe(&out, name) else {
            continue;
        };
        assert!(
            streams.contains("codec_name=mp3|sample_rate=44100|channels=2|bit_rate=128000"),
            "{streams}"
        );
        let source = w.duration_ms() as f64 / 1000.0;
        assert!(
            (duration - source).abs() < 0.1,
            "{name}: {duration} vs {source}"
        );
    }
}

#[test]
fn bitrate_is_configurable_and_checked() {
    let (out, _, _) = write(AAC_ONLY, Mp3Writer::new().with_bitrate_kbps(64));
    assert_eq!(
        crate::codec::mp3::parse_header(&out).unwrap().bitrate_kbps,
        64
    );
    let mut w = Mp3Writer::new().with_bitrate_kbps(100);
    let tracks = Tracks {
        video: None,
        audio: Some(aac_config()),
    };
    assert!(matches!(
        w.start(&tracks, &mut Vec::new()),
        Err(MuxError::Unsupported(_))
    ));
}

fn aac(asc: &'static [u8], rate: u32, channels: u8) -> Tracks {
    Tracks {
        video: None,
        audio: Some(std::sync::Arc::new(AudioConfig {
            codec: AudioCodec::Aac,
            sample_rate: rate,
            channels,
            asc: Bytes::from_static(asc),
            flv_header: 0xaf,
        })),
    }
}

#[test]
fn he_aac_and_odd_layouts_are_refused() {
    // Explicit HE-AAC: AOT 5, 24 kHz core, stereo, 48 kHz SBR, core AOT 2.
    let err = Mp3Writer::new()
        .start(&aac(&[0x2b, 0x11, 0x88, 0x00], 24_000, 2), &mut Vec::new())
        .unwrap_err();
    assert!(err.to_string().contains("HE-AAC"), "{err}");
    // 5.1 (channel configuration 6).
    let err = Mp3Writer::new()
        .start(&aac(&[0x11, 0xb0], 48_000, 6), &mut Vec::new())
        .unwrap_err();
    assert!(matches!(err, MuxError::Unsupported(_)), "{err}");
}

#[test]
fn mono_and_garbage_frames_keep_time() {
    // AAC-LC 48 kHz mono; frames that are not valid AAC become silence (a
    // lone END element decodes to silence by itself).
    const GARBAGE: [&[u8]; 5] = [
        &[0x01],
        &[0x20, 0xff],
        &[0xe0],
        &[0x40, 0, 0],
        &[0, 0xff, 0xff],
    ];
    let tracks = aac(&[0x11, 0x88], 48_000, 1);
    let mut w = Mp3Writer::new();
    let mut out = Vec::new();
    w.start(&tracks, &mut out).unwrap();
    let video = Frame {
        track: Track::Video,
        dts: 0,
        cts: 0,
        keyframe: true,
        data: Bytes::from_static(b"ignored"),
    };
    w.push(&video, &tracks, &mut out).unwrap();
    assert!(out.is_empty());
    for i in 0..100 {
        let f = Frame {
            track: Track::Audio,
            dts: i * 21,
            cts: 0,
            keyframe: true,
            data: Bytes::from_static(GARBAGE[i as usize % GARBAGE.len()]),
        };
        w.push(&f, &tracks, &mut out).unwrap();
    }
    let empty = Frame {
        data: Bytes::new(),
        dts: 3000,
        ..video.clone()
    };
    w.push(
        &Frame {
            track: Track::Audio,
            ..empty
        },
        &tracks,
        &mut out,
    )
    .unwrap();
    let patches = w.finish(&mut out).unwrap();
    assert_eq!(w.decode_errors(), 80);
    assert_eq!(w.duration_ms(), 100 * 1024 * 1000 / 48_000);
    assert_eq!(patches.len(), 1);
    let h = crate::codec::mp3::parse_header(&out).unwrap();
    assert_eq!((h.sample_rate, h.channels), (48_000, 1));
    // MonoPcm, not interleaved: the encoded length matches the input.
    let frames = out.len() / h.frame_len;
    let encoded_ms = frames as i64 * 1152 * 1000 / 48_000;
    assert!((encoded_ms - w.duration_ms()).abs() < 150, "{encoded_ms}");
}
