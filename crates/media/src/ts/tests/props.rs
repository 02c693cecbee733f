//! Property tests: arbitrary frame sequences survive TsMuxer → test reader
//! with the same payloads and timestamps; odd inputs never panic and still
//! give a well-formed transport stream.

use proptest::prelude::*;

use super::*;
use crate::codec::aac::MAX_ADTS_PAYLOAD;
use crate::test_support::{FrameSequence, hevc_record, timeline};

fn tracks(hevc: bool) -> Tracks {
    let mut t = h264_tracks();
    if hevc {
        t.video = Some(Arc::new(VideoConfig {
            codec: VideoCodec::H265,
            // Placeholder VPS/SPS/PPS: the muxer never decodes them.
            record: hevc_record(&[0x40, 1, 0xa1], &[0x42, 1, 0xb2], &[0x44, 1, 0xc3]),
            width: 0,
            height: 0,
            nal_length_size: 4,
        }));
    }
    t
}

fn input_strategy() -> impl Strategy<Value = FrameSequence> {
    let nals = prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 1..4);
    let frame = (
        any::<bool>(),
        nals,
        any::<bool>(),
        prop_oneof![Just(23i64), 0i64..200],
        -200i32..=500,
    );
    (any::<bool>(), prop::collection::vec(frame, 1..80)).prop_map(|(hevc, raw)| {
        let frames = timeline(raw.into_iter().map(|(video, mut nals, key, step, cts)| {
            let data = if video {
                // Slice NAL headers, so the muxer adds AUD and parameter sets.
                let mut data = Vec::new();
                for n in &mut nals {
                    let header: &[u8] = match (hevc, key) {
                        (false, true) => &[0x65],
                        (false, false) => &[0x41],
                        (true, true) => &[0x26, 0x01],
                        (true, false) => &[0x02, 0x01],
                    };
                    n.splice(..0, header.iter().copied());
                    data.extend_from_slice(&(n.len() as u32).to_be_bytes());
                    data.extend_from_slice(n);
                }
                data
            } else {
                nals.concat()
            };
            (video, data, key, step + 1, cts)
        }));
        FrameSequence { hevc, frames }
    })
}

/// The Annex-B access unit the muxer must produce for a generated frame.
fn expected_au(f: &Frame, hevc: bool) -> Vec<u8> {
    let mut out = if hevc {
        vec![0, 0, 0, 1, 0x46, 0x01, 0x50]
    } else {
        vec![0, 0, 0, 1, 0x09, 0xf0]
    };
    if f.keyframe {
        if hevc {
            for nal in [[0x40, 1, 0xa1], [0x42, 1, 0xb2], [0x44, 1, 0xc3]] {
                out.extend_from_slice(&[0, 0, 0, 1]);
                out.extend_from_slice(&nal);
            }
        } else {
            out.extend_from_slice(&[
                0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xab, 0, 0, 0, 1, 0x68, 0xce,
            ]);
        }
    }
    let mut data = &f.data[..];
    while !data.is_empty() {
        let len = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(&data[4..4 + len]);
        data = &data[4 + len..];
    }
    out
}

proptest! {
    #[test]
    fn mux_demux_round_trip(input in input_strategy(), video in any::<bool>()) {
        let t = tracks(input.hevc);
        let audio = true;
        let fed: Vec<(Frame, Tracks)> = input.frames.iter().map(|f| (f.clone(), t.clone())).collect();
        let (out, m) = mux_all(&fed, video, audio);
        let d = demux::demux(&out);
        let vtype = if input.hevc { 0x24 } else { 0x1b };
        let mut streams = Vec::new();
        if video {
            streams.push((vtype, VIDEO_PID));
        }
        streams.push((0x0f, AUDIO_PID));
        prop_assert_eq!(&d.pmts[0].2, &streams);

        let vframes: Vec<&Frame> = input.frames.iter().filter(|f| video && f.track == Track::Video).collect();
        let vpes: Vec<&demux::Pes> = d.pes.iter().filter(|p| p.pid == VIDEO_PID).collect();
        prop_assert_eq!(vpes.len(), vframes.len());
        for (f, p) in vframes.iter().zip(&vpes) {
            prop_assert_eq!(&p.data, &expected_au(f, input.hevc));
            prop_assert_eq!((p.pts, p.dts), (ticks(f.pts()), ticks(f.dts)));
            prop_assert_eq!(p.random_access, f.keyframe);
            if f.keyframe {
                prop_assert_eq!(&d.packets[p.first_packet - 2..p.first_packet], &[0, PMT_PID][..]);
            }
        }

        let aframes: Vec<&Frame> = input.frames.iter().filter(|f| f.track == Track::Audio).collect();
        let mut next = 0;
        for p in d.pes.iter().filter(|p| p.pid == AUDIO_PID) {
            let raw = demux::adts_frames(&p.data);
            prop_assert!(!raw.is_empty() && raw.len() <= 5);
            let first = aframes[next];
            prop_assert_eq!(p.pts, ticks(first.dts));
            for (k, r) in raw.iter().enumerate() {
                let f = aframes[next + k];
                prop_assert_eq!(&f.data[..], &r[..]);
                // Frames after the first are implied by their nominal duration.
                let implied = first.dts as f64 + k as f64 * 1_024_000.0 / 44100.0;
                prop_assert!((f.dts as f64 - implied).abs() <= 2.0 * k as f64 + 1e-9);
            }
            next += raw.len();
        }
        prop_assert_eq!(next, aframes.len());
        prop_assert!(d.pcrs.windows(2).all(|w| w[1] >= w[0]));
        let written: Vec<&Frame> = vframes.iter().copied().chain(aframes.iter().copied()).collect();
        if !written.is_empty() {
            let mut span = crate::timestamp::MediaSpan::new();
            for f in input.frames.iter().filter(|f| video || f.track == Track::Audio) {
                span.observe(f.track, f.dts);
            }
            prop_assert_eq!(m.duration_ms(), span.duration_ms());
        }
    }

    #[test]
    fn odd_inputs_never_panic(
        video in any::<bool>(),
        audio in any::<bool>(),
        hevc in any::<bool>(),
        mp3 in any::<bool>(),
        nal_length_size in 0u8..6,
        frames in prop::collection::vec(
            (any::<bool>(), prop_oneof![Just(0usize), 0usize..600, Just(MAX_ADTS_PAYLOAD + 1)],
             any::<u8>(), prop_oneof![any::<i64>(), 0i64..100_000], any::<i32>(), any::<bool>()),
            0..40),
    ) {
        let mut t = tracks(hevc);
        if let Some(v) = &mut t.video {
            Arc::make_mut(v).nal_length_size = nal_length_size;
        }
        if mp3 {
            t.audio = Some(Arc::new(AudioConfig {
                codec: AudioCodec::Mp3,
                sample_rate: 8000,
                channels: 1,
                asc: Bytes::new(),
                flv_header: 0x22,
            }));
        }
        let mut m = TsMuxer::new(video, audio);
        let mut out = Vec::new();
        m.start(&t, &mut out).unwrap();
        for (is_video, len, fill, dts, cts, key) in frames {
            let f = Frame {
                track: if is_video { Track::Video } else { Track::Audio },
                dts,
                cts,
                keyframe: key,
                data: Bytes::from(vec![fill; len]),
            };
            let before = out.len();
            if m.push(&f, &t, &mut out).is_err() {
                prop_assert_eq!(out.len(), before);
            }
        }
        m.finish(&mut out).unwrap();
        prop_assert_eq!(out.len() % 188, 0);
        let _ = demux::demux(&out);
        let _ = m.duration_ms();
    }
}
