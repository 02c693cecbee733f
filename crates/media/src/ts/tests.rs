//! MPEG-TS tests: wire units with known bytes here; the strict test reader
//! in `demux`, fixture files checked with ffprobe/ffmpeg in `fixtures`,
//! property tests in `props`, the packetizer against its reference
//! implementation in `packetizer`. The reader and `mux_all` are shared with the
//! HLS tests; fixtures and tool helpers come from `crate::test_support`.

pub(crate) mod demux;
mod fixtures;
mod packetizer;
mod props;

use std::sync::Arc;

use bytes::Bytes;

use super::packet::{self, FirstPacket, Payload, Pid};
use super::*;
use crate::frame::{AudioCodec, VideoCodec};
use crate::test_support::{aac_config, frame, h264_config_of};

/// Muxes frames into one TS file.
pub(crate) fn mux_all<'a>(
    frames: impl IntoIterator<Item = &'a (Frame, Tracks)>,
    video: bool,
    audio: bool,
) -> (Vec<u8>, TsMuxer) {
    let mut m = TsMuxer::new(video, audio);
    let mut out = Vec::new();
    let mut started = false;
    for (f, t) in frames {
        if !started {
            m.start(t, &mut out).unwrap();
            started = true;
        }
        m.push(f, t, &mut out).unwrap();
    }
    assert!(m.finish(&mut out).unwrap().is_empty());
    (out, m)
}

#[test]
fn crc32_known_answers() {
    // CRC-32/MPEG-2 check value.
    assert_eq!(packet::crc32(b"123456789"), 0x0376_e6e7);
    assert_eq!(packet::crc32(&[]), 0xffff_ffff);
}

#[test]
fn pat_and_pmt_match_ffmpeg() {
    // FFmpeg 5.1's tables for the same PIDs (`ffmpeg -c copy x.ts`).
    assert_eq!(
        packet::pat(PMT_PID),
        [
            0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a,
            0xb1, 0x04, 0xb2
        ]
    );
    let pmt = packet::pmt(0, VIDEO_PID, &[(0x1b, VIDEO_PID), (0x0f, AUDIO_PID)]);
    assert_eq!(
        pmt,
        [
            0x00, 0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00, 0x1b,
            0xe1, 0x00, 0xf0, 0x00, 0x0f, 0xe1, 0x01, 0xf0, 0x00, 0x2f, 0x44, 0xb9, 0x9b
        ]
    );
    let pmt = packet::pmt(0, VIDEO_PID, &[(0x1b, VIDEO_PID), (0x03, AUDIO_PID)]);
    assert_eq!(pmt[pmt.len() - 4..], [0x4e, 0x59, 0x3d, 0x1e]);
    // A new version changes byte 6 and the CRC.
    let v3 = packet::pmt(3, VIDEO_PID, &[(0x24, VIDEO_PID)]);
    assert_eq!(v3[6], 0xc1 | (3 << 1));
}

#[test]
fn psi_packets_match_ffmpeg() {
    let mut out = Vec::new();
    let mut pid = Pid::new(0);
    pid.write_section(&packet::pat(PMT_PID), &mut out);
    pid.write_section(&packet::pat(PMT_PID), &mut out);
    assert_eq!(out.len(), 376);
    // FFmpeg's PAT packet, byte for byte.
    let mut ffmpeg = vec![0x47, 0x40, 0x00, 0x10];
    ffmpeg.extend_from_slice(&packet::pat(PMT_PID));
    ffmpeg.resize(188, 0xff);
    assert_eq!(out[..188], ffmpeg[..]);
    assert_eq!(out[188 + 3], 0x11, "continuity counter advances");
}

#[test]
fn pes_header_fields() {
    // PTS only: 1.4 s = 126000 ticks.
    let h = packet::pes_header(0xc0, 126_000, 126_000, 100);
    assert_eq!(
        *h,
        [
            0, 0, 1, 0xc0, 0, 108, 0x80, 0x80, 5, 0x21, 0x00, 0x07, 0xd8, 0x61
        ]
    );
    // PTS and DTS, as FFmpeg 5.1 wrote the fixture's first video frame
    // (pts 0.067 s, dts 0 on the 1.4 s offset), with length 0 (video).
    let h = packet::pes_header(0xe0, 132_030, 126_000, 70_000);
    assert_eq!(
        *h,
        [
            0, 0, 1, 0xe0, 0, 0, 0x80, 0xc0, 10, 0x31, 0x00, 0x09, 0x07, 0x7d, 0x11, 0x00, 0x07,
            0xd8, 0x61
        ]
    );
    // 33-bit wrap.
    let h = packet::pes_header(0xc0, (1 << 33) + 5, (1 << 33) + 5, 1);
    assert_eq!(h[9..14], [0x21, 0, 1, 0, 0x0b]);
}

#[test]
fn pes_packetizing_and_stuffing() {
    for len in [
        1usize, 2, 100, 175, 176, 177, 182, 183, 184, 185, 366, 367, 368, 1000,
    ] {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        for first in [
            FirstPacket::default(),
            FirstPacket {
                random_access: true,
                pcr: None,
            },
            FirstPacket {
                random_access: true,
                pcr: Some(126_000),
            },
        ] {
            let mut out = Vec::new();
            let mut pid = Pid::new(VIDEO_PID);
            let header = packet::pes_header(0xe0, 200_000, 190_000, payload.len());
            pid.write(first, &header, Payload::one(&payload), &mut out);
            let d = demux::demux(&out);
            assert_eq!(d.pes.len(), 1);
            let p = &d.pes[0];
            assert_eq!((p.pts, p.dts), (200_000, 190_000));
            assert_eq!(p.data, payload, "len {len}");
            assert_eq!(p.random_access, first.random_access);
            assert_eq!(p.pcr, first.pcr);
        }
    }
}

#[test]
fn pcr_only_packet() {
    let mut out = Vec::new();
    let mut pid = Pid::new(VIDEO_PID);
    pid.write_pcr_only(0x1_2345_6789, &mut out);
    assert_eq!(out.len(), 188);
    assert_eq!(out[..6], [0x47, 0x01, 0x00, 0x20, 183, 0x10]);
    let d = demux::demux(&out);
    assert_eq!(d.pcrs, [0x1_2345_6789]);
}

/// 22.05 kHz mono MP3.
fn mp3_config() -> Option<Arc<AudioConfig>> {
    Some(Arc::new(AudioConfig {
        codec: AudioCodec::Mp3,
        sample_rate: 22050,
        channels: 1,
        asc: Bytes::new(),
        flv_header: 0x2a,
    }))
}

fn h264_tracks() -> Tracks {
    Tracks {
        video: Some(h264_config_of(
            &[0x67, 0x42, 0xc0, 0x1e, 0xab],
            &[0x68, 0xce],
            0,
            0,
        )),
        audio: Some(aac_config()),
    }
}

#[test]
fn video_access_units() {
    let tracks = h264_tracks();
    let mut m = TsMuxer::new(true, true);
    let mut out = Vec::new();
    m.start(&tracks, &mut out).unwrap();
    let idr = [0, 0, 0, 2, 0x65, 0x88];
    m.push(&frame(Track::Video, 0, 80, true, &idr), &tracks, &mut out)
        .unwrap();
    // A frame that carries its own AUD and SPS/PPS gets neither added.
    let inband = [
        0, 0, 0, 2, 0x09, 0x10, 0, 0, 0, 2, 0x67, 1, 0, 0, 0, 2, 0x68, 2, 0, 0, 0, 2, 0x65, 3,
    ];
    m.push(
        &frame(Track::Video, 33, 0, true, &inband),
        &tracks,
        &mut out,
    )
    .unwrap();
    m.push(
        &frame(Track::Video, 66, 0, false, &[0, 0, 0, 1, 0x41]),
        &tracks,
        &mut out,
    )
    .unwrap();
    // Broken length prefixes: an error and nothing written.
    let before = out.len();
    assert!(
        m.push(
            &frame(Track::Video, 99, 0, false, &[0, 0, 0, 9, 1]),
            &tracks,
            &mut out
        )
        .is_err()
    );
    assert_eq!(out.len(), before);
    m.finish(&mut out).unwrap();
    let d = demux::demux(&out);
    assert_eq!(d.pes.len(), 3);
    assert_eq!(
        d.pes[0].data,
        [
            0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xab, 0, 0, 0, 1, 0x68,
            0xce, 0, 0, 0, 1, 0x65, 0x88
        ]
    );
    assert_eq!((d.pes[0].pts, d.pes[0].dts), (ticks(80), ticks(0)));
    assert_eq!(d.pes[0].pcr, Some(ticks(-PCR_DELAY_MS)));
    assert!(d.pes[0].random_access);
    assert_eq!(
        d.pes[1].data,
        [
            0, 0, 0, 1, 0x09, 0x10, 0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65, 3
        ]
    );
    assert_eq!(d.pes[2].data, [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41]);
    assert!(!d.pes[2].random_access);
    // PAT + PMT open the file and precede each keyframe, without repeating
    // the opening pair.
    assert_eq!(d.packets[..3], [0, PMT_PID, VIDEO_PID]);
    let k2 = d.pes[1].first_packet;
    assert_eq!(d.packets[k2 - 2..k2], [0, PMT_PID]);
    assert_eq!(d.packets.iter().filter(|&&p| p == 0).count(), 2);
    assert_eq!(
        d.pmts[0],
        (0, VIDEO_PID, vec![(0x1b, VIDEO_PID), (0x0f, AUDIO_PID)])
    );
    assert_eq!(m.duration_ms(), 99);
}

#[test]
fn audio_batching_and_pcr() {
    let tracks = h264_tracks();
    // Audio only: PCR on the audio PID, at most 100 ms per PES.
    let mut m = TsMuxer::new(false, true);
    let mut out = Vec::new();
    for i in 0..20i64 {
        let dts = i * 1024 * 1000 / 44100;
        m.push(
            &frame(Track::Audio, dts, 0, true, &[i as u8; 10]),
            &tracks,
            &mut out,
        )
        .unwrap();
    }
    // Video frames are ignored by an audio-only muxer.
    m.push(
        &frame(Track::Video, 0, 0, true, &[0, 0, 0, 1, 0x65]),
        &tracks,
        &mut out,
    )
    .unwrap();
    m.finish(&mut out).unwrap();
    let d = demux::demux(&out);
    assert_eq!(d.pmts[0], (0, AUDIO_PID, vec![(0x0f, AUDIO_PID)]));
    let counts: Vec<usize> = d
        .pes
        .iter()
        .map(|p| demux::adts_frames(&p.data).len())
        .collect();
    assert_eq!(counts.iter().sum::<usize>(), 20);
    assert!(counts.iter().all(|&c| c <= 4), "{counts:?}");
    for w in d.pcrs.windows(2) {
        assert!(w[1] > w[0] && w[1] - w[0] <= 100 * 90, "{:?}", d.pcrs);
    }
    assert!(d.pes.iter().all(|p| p.random_access && p.pcr.is_some()));
    let all: Vec<Vec<u8>> = d
        .pes
        .iter()
        .flat_map(|p| demux::adts_frames(&p.data))
        .collect();
    assert_eq!(all[7], [7u8; 10]);

    // With video: five frames per PES after the first; a gap starts a new PES; quiet video
    // gets PCR-only packets.
    let mut m = TsMuxer::new(true, true);
    let mut out = Vec::new();
    m.push(
        &frame(Track::Video, 0, 0, true, &[0, 0, 0, 1, 0x65]),
        &tracks,
        &mut out,
    )
    .unwrap();
    let mut dts = 0;
    for i in 0..12 {
        dts += if i == 7 { 500 } else { 23 };
        m.push(
            &frame(Track::Audio, dts, 0, true, &[1; 5]),
            &tracks,
            &mut out,
        )
        .unwrap();
    }
    m.finish(&mut out).unwrap();
    let d = demux::demux(&out);
    let counts: Vec<usize> = d
        .pes
        .iter()
        .filter(|p| p.pid == AUDIO_PID)
        .map(|p| demux::adts_frames(&p.data).len())
        .collect();
    // The file's first audio PES holds one frame (see push_audio).
    assert_eq!(counts, [1, 5, 1, 5]);
    assert!(d.pcrs.len() >= 2, "a PCR-only packet kept the PCR going");
    assert!(d.pcrs.windows(2).all(|w| w[1] > w[0]));
}

#[test]
fn codec_change_bumps_pmt_version() {
    let mut tracks = h264_tracks();
    let mut m = TsMuxer::new(true, true);
    let mut out = Vec::new();
    m.start(&tracks, &mut out).unwrap();
    m.push(&frame(Track::Audio, 0, 0, true, &[1; 5]), &tracks, &mut out)
        .unwrap();
    tracks.audio = mp3_config();
    m.push(
        &frame(Track::Audio, 50, 0, true, &[0xff, 0xf3, 0x82, 0xc4]),
        &tracks,
        &mut out,
    )
    .unwrap();
    m.finish(&mut out).unwrap();
    let d = demux::demux(&out);
    assert_eq!(d.pmts.len(), 2);
    assert_eq!(
        d.pmts[1],
        (1, VIDEO_PID, vec![(0x1b, VIDEO_PID), (0x04, AUDIO_PID)])
    );
    assert_eq!(d.pes[1].data, [0xff, 0xf3, 0x82, 0xc4]);
}

#[test]
fn odd_inputs() {
    let tracks = h264_tracks();
    let mut m = TsMuxer::new(true, true);
    let mut out = Vec::new();
    assert!(matches!(
        m.push(&frame(Track::Audio, -1, 0, true, &[1]), &tracks, &mut out),
        Err(MuxError::Timestamp(_))
    ));
    assert!(matches!(
        m.push(
            &frame(Track::Video, 0, 0, true, &[0, 0, 0, 1, 0x65]),
            &Tracks::default(),
            &mut out
        ),
        Err(MuxError::Unsupported(_))
    ));
    assert!(out.is_empty());
    // Empty frames are skipped; huge composition offsets do not panic.
    m.push(&frame(Track::Video, 0, 0, true, &[]), &tracks, &mut out)
        .unwrap();
    m.push(
        &frame(Track::Video, 1, i32::MIN, true, &[0, 0, 0, 1, 0x65]),
        &tracks,
        &mut out,
    )
    .unwrap();
    m.push(
        &frame(
            Track::Video,
            i64::MAX / 2,
            i32::MAX,
            false,
            &[0, 0, 0, 1, 0x41],
        ),
        &tracks,
        &mut out,
    )
    .unwrap();
    let d = demux::demux(&out);
    assert_eq!(
        d.pes[0].pts, 0,
        "a PTS before the timeline start is clamped"
    );
}

/// Per PID, whether every payload-carrying packet's continuity counter is
/// the previous one plus 1 (mod 16) — what a player checks across the
/// segments of a playlist read back to back.
fn counters_continue(ts: &[u8]) -> Result<(), String> {
    let mut last: std::collections::HashMap<u16, u8> = std::collections::HashMap::new();
    for (i, p) in ts.chunks(188).enumerate() {
        let pid = (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2]);
        if p[3] & 0x10 == 0 {
            continue;
        }
        let cc = p[3] & 0x0f;
        if let Some(prev) = last.insert(pid, cc)
            && cc != (prev + 1) & 0x0f
        {
            return Err(format!(
                "packet {i}, PID {pid:#x}: counter {cc} after {prev}"
            ));
        }
    }
    Ok(())
}

#[test]
fn segments_carry_the_continuity_counters_on() {
    let tracks = h264_tracks();
    let idr = [0, 0, 0, 2, 0x65, 0x88];
    let mut m = TsMuxer::new(true, true);
    let mut joined = Vec::new();
    let mut segments = 0;
    for seg in 0..3i64 {
        let mut out = Vec::new();
        m.start(&tracks, &mut out).unwrap();
        for i in 0..7 {
            let t = seg * 1000 + i * 40;
            m.push(&frame(Track::Video, t, 0, i == 0, &idr), &tracks, &mut out)
                .unwrap();
            m.push(
                &frame(Track::Audio, t, 0, true, &[1; 300]),
                &tracks,
                &mut out,
            )
            .unwrap();
        }
        m.finish(&mut out).unwrap();
        // Each segment stands alone: it opens with PAT and PMT.
        let d = demux::demux(&out);
        assert_eq!(d.packets[..2], [0, PMT_PID]);
        assert_eq!(d.pmts[0].0, 0, "the PMT version stays");
        joined.extend_from_slice(&out);
        segments += 1;
        assert!(m.next_segment().is_some(), "a TS muxer continues");
        m = m.continuing();
    }
    assert_eq!(segments, 3);
    counters_continue(&joined).unwrap();
    // The strict reader agrees (it asserts continuity per PID).
    let d = demux::demux(&joined);
    assert_eq!(d.pes.iter().filter(|p| p.pid == VIDEO_PID).count(), 3 * 7);
    // A fresh muxer per segment (the old behaviour) breaks the counters.
    let (a, _) = mux_all(
        &[(frame(Track::Video, 0, 0, true, &idr), tracks.clone())],
        true,
        true,
    );
    let mut twice = a.clone();
    twice.extend_from_slice(&a);
    assert!(counters_continue(&twice).is_err());
}

#[test]
fn a_continued_segment_with_another_codec_gets_the_next_pmt_version() {
    let mut tracks = h264_tracks();
    let mut m = TsMuxer::new(true, true);
    let mut out = Vec::new();
    m.start(&tracks, &mut out).unwrap();
    m.finish(&mut out).unwrap();
    let mut next = m.continuing();
    tracks.audio = mp3_config();
    let mut out2 = Vec::new();
    next.start(&tracks, &mut out2).unwrap();
    let d = demux::demux(&out2);
    assert_eq!(
        d.pmts[0],
        (1, VIDEO_PID, vec![(0x1b, VIDEO_PID), (0x04, AUDIO_PID)])
    );
    // Same codecs: same version.
    let mut same = next.continuing();
    let mut out3 = Vec::new();
    same.start(&tracks, &mut out3).unwrap();
    assert_eq!(demux::demux(&out3).pmts[0].0, 1);
    out.extend_from_slice(&out2);
    out.extend_from_slice(&out3);
    counters_continue(&out).unwrap();
}
