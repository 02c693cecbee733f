//! MPEG-TS tests: wire units with known bytes here; the strict test reader
//! in `demux`, fixture files checked with ffprobe/ffmpeg in `fixtures`,
//! property tests in `props`. The fixture and tool helpers are shared with
//! the HLS and ADTS tests.

pub(crate) mod demux;
mod fixtures;
mod props;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;

use super::packet::{self, FirstPacket, Pid};
use super::*;
use crate::flv::{self, DemuxEvent, TagDemuxer, tag_type};
use crate::frame::{AudioCodec, VideoCodec};

pub(crate) const H264_AAC: &[u8] = include_bytes!("../../../../fixtures/h264_aac_10s.flv");
pub(crate) const H264_MP3: &[u8] = include_bytes!("../../../../fixtures/h264_mp3_10s.flv");
pub(crate) const AAC_ONLY: &[u8] = include_bytes!("../../../../fixtures/aac_only_10s.flv");
pub(crate) const H264_ONLY: &[u8] = include_bytes!("../../../../fixtures/h264_only_10s.flv");

/// Path of a fixture file by short name (`h264_aac`).
pub(crate) fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(format!("{name}_10s.flv"))
}

/// A fixture's frames, each with the configurations in effect for it, and
/// which tracks the file header announces.
pub(crate) struct Source {
    pub(crate) frames: Vec<(Frame, Tracks)>,
    pub(crate) video: bool,
    pub(crate) audio: bool,
}

/// Demuxes an FLV file the way ingest does.
pub(crate) fn source(file: &'static [u8]) -> Source {
    let header = flv::read_header(file).unwrap();
    let file = Bytes::from_static(file);
    let mut d = TagDemuxer::new();
    let mut tracks = Tracks::default();
    let mut frames = Vec::new();
    for tag in flv::scan(&file).tags {
        let body = file.slice(tag.body.clone());
        let ts = i64::from(tag.timestamp);
        let events = match tag.tag_type {
            tag_type::VIDEO => d.video(ts, body),
            tag_type::AUDIO => d.audio(ts, body),
            _ => continue,
        };
        for e in events.unwrap() {
            match e {
                DemuxEvent::VideoConfig(c) => tracks.video = Some(c),
                DemuxEvent::AudioConfig(c) => tracks.audio = Some(c),
                DemuxEvent::Frame(f) => frames.push((f, tracks.clone())),
                _ => {}
            }
        }
    }
    Source {
        frames,
        video: header.has_video,
        audio: header.has_audio,
    }
}

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
    assert_eq!(m.bytes_written(), out.len() as u64);
    (out, m)
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

/// Runs a tool; returns stdout and asserts it succeeded with nothing on
/// stderr.
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
        "{tool} {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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

/// ffprobe's streams (index → codec_type, codec_name) and packets.
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
        let kv: std::collections::HashMap<&str, &str> =
            line.split('|').filter_map(|f| f.split_once('=')).collect();
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

/// The checks every TS file passes: first video packet a keyframe, DTS
/// strictly increasing per stream. Returns the span of the packet times.
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
        h,
        [
            0, 0, 1, 0xc0, 0, 108, 0x80, 0x80, 5, 0x21, 0x00, 0x07, 0xd8, 0x61
        ]
    );
    // PTS and DTS, as FFmpeg 5.1 wrote the fixture's first video frame
    // (pts 0.067 s, dts 0 on the 1.4 s offset), with length 0 (video).
    let h = packet::pes_header(0xe0, 132_030, 126_000, 70_000);
    assert_eq!(
        h,
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
            let mut pes = packet::pes_header(0xe0, 200_000, 190_000, payload.len());
            pes.extend_from_slice(&payload);
            pid.write(first, &pes, &mut out);
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

fn h264_tracks() -> Tracks {
    let record =
        crate::codec::h264::build_record(&[&[0x67, 0x42, 0xc0, 0x1e, 0xab]], &[&[0x68, 0xce]])
            .unwrap();
    Tracks {
        video: Some(Arc::new(VideoConfig {
            codec: VideoCodec::H264,
            record: Bytes::from(record),
            width: 0,
            height: 0,
            nal_length_size: 4,
        })),
        audio: Some(Arc::new(AudioConfig {
            codec: AudioCodec::Aac,
            sample_rate: 44100,
            channels: 2,
            asc: Bytes::from_static(&[0x12, 0x10]),
            flv_header: 0xaf,
        })),
    }
}

fn frame(track: Track, dts: i64, cts: i32, keyframe: bool, data: &[u8]) -> Frame {
    Frame {
        track,
        dts,
        cts,
        keyframe,
        data: Bytes::copy_from_slice(data),
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
    tracks.audio = Some(Arc::new(AudioConfig {
        codec: AudioCodec::Mp3,
        sample_rate: 22050,
        channels: 1,
        asc: Bytes::new(),
        flv_header: 0x2a,
    }));
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
