//! The `.aac` output: raw AAC access units, each behind its 7-byte ADTS
//! header (ISO/IEC 14496-3 §1.A.2.2), nothing else. Owns only that framing;
//! the header itself comes from [`crate::codec::aac`]. Video is not its
//! business (ignored), and MP3 cannot be carried.

use std::sync::Arc;

use crate::codec::aac::{self, AscInfo};
use crate::flv::Patch;
use crate::frame::{AudioCodec, AudioConfig, Frame, Track, Tracks, same_config};
use crate::mux::{MuxError, Muxer};

fn mp3_unsupported() -> MuxError {
    MuxError::Unsupported("MP3 audio cannot be written as ADTS AAC".into())
}

/// Writes an ADTS `.aac` file. Its duration is counted from the frames
/// (1024 samples each at the configured rate), because players can only
/// estimate the duration of an ADTS file from its bitrate.
#[derive(Debug, Default)]
pub struct AdtsWriter {
    config: Option<(Arc<AudioConfig>, AscInfo)>,
    /// Frames written under the current configuration.
    frames: u64,
    /// Duration written under earlier configurations, ms.
    earlier_ms: i64,
}

impl AdtsWriter {
    /// An empty writer.
    pub fn new() -> Self {
        AdtsWriter::default()
    }

    fn current_ms(&self) -> i64 {
        match &self.config {
            Some((_, asc)) if asc.sample_rate > 0 => {
                let ms =
                    self.frames * u64::from(aac::FRAME_SAMPLES) * 1000 / u64::from(asc.sample_rate);
                i64::try_from(ms).unwrap_or(i64::MAX)
            }
            _ => 0,
        }
    }
}

impl Muxer for AdtsWriter {
    /// Writes nothing (ADTS has no file header); fails for an MP3 track.
    fn start(&mut self, tracks: &Tracks, _out: &mut Vec<u8>) -> Result<(), MuxError> {
        match &tracks.audio {
            Some(a) if a.codec == AudioCodec::Mp3 => Err(mp3_unsupported()),
            _ => Ok(()),
        }
    }

    /// Appends one AAC frame with its ADTS header; video frames and empty
    /// frames write nothing. On error nothing is appended.
    fn push(&mut self, frame: &Frame, tracks: &Tracks, out: &mut Vec<u8>) -> Result<(), MuxError> {
        if frame.track == Track::Video || frame.data.is_empty() {
            return Ok(());
        }
        let cfg = tracks.audio.as_ref().ok_or_else(|| {
            MuxError::Unsupported("an audio frame before its configuration".into())
        })?;
        if cfg.codec == AudioCodec::Mp3 {
            return Err(mp3_unsupported());
        }
        let asc = match &self.config {
            Some((prev, asc)) if same_config(prev, cfg) => *asc,
            _ => aac::parse_asc(&cfg.asc)?,
        };
        let header = aac::adts_header(&asc, frame.data.len())?;
        if !matches!(&self.config, Some((_, prev)) if *prev == asc) {
            self.earlier_ms = self.earlier_ms.saturating_add(self.current_ms());
            self.frames = 0;
        }
        self.config = Some((Arc::clone(cfg), asc));
        out.extend_from_slice(&header);
        out.extend_from_slice(&frame.data);
        self.frames += 1;
        Ok(())
    }

    /// ADTS needs no trailer and no patches.
    fn finish(&mut self, _out: &mut Vec<u8>) -> Result<Vec<Patch>, MuxError> {
        Ok(Vec::new())
    }

    /// Frames × 1024 / sample rate, ms.
    fn duration_ms(&self) -> i64 {
        self.earlier_ms.saturating_add(self.current_ms())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::frame::{VideoCodec, VideoConfig};
    use crate::test_support::{
        AAC_ONLY, H264_AAC, TempDir, aac_config, compact_fields, decode_clean, fixture_path, probe,
        run_clean, source, tools,
    };

    fn frame(track: Track, dts: i64, data: &[u8]) -> Frame {
        crate::test_support::frame(track, dts, 0, true, data)
    }

    #[test]
    fn writes_adts_frames_and_counts_duration() {
        let tracks = Tracks {
            video: Some(Arc::new(VideoConfig {
                codec: VideoCodec::H264,
                record: Bytes::new(),
                width: 0,
                height: 0,
                nal_length_size: 4,
            })),
            audio: Some(aac_config()),
        };
        let mut w = AdtsWriter::new();
        let mut out = Vec::new();
        w.start(&tracks, &mut out).unwrap();
        assert!(out.is_empty());
        w.push(
            &frame(Track::Video, 0, &[0, 0, 0, 1, 0x65]),
            &tracks,
            &mut out,
        )
        .unwrap();
        assert!(out.is_empty());
        w.push(&frame(Track::Audio, 0, &[0x21; 100]), &tracks, &mut out)
            .unwrap();
        assert_eq!(out[..7], [0xff, 0xf1, 0x50, 0x80, 0x0d, 0x7f, 0xfc]);
        assert_eq!(out[7..], [0x21; 100]);
        for i in 1..44100 / 1024 * 10 {
            w.push(&frame(Track::Audio, i, &[1, 2]), &tracks, &mut out)
                .unwrap();
        }
        // 430 frames × 1024 / 44100 = 9.984 s.
        assert_eq!(w.duration_ms(), 9984);
        assert_eq!(out.len(), 107 + 429 * 9);
        assert!(w.finish(&mut out).unwrap().is_empty());
    }

    #[test]
    fn rate_change_keeps_earlier_duration() {
        let mut w = AdtsWriter::new();
        let mut out = Vec::new();
        let mut tracks = Tracks {
            video: None,
            audio: Some(aac_config()),
        };
        for i in 0..441 {
            w.push(&frame(Track::Audio, i, &[1]), &tracks, &mut out)
                .unwrap();
        }
        tracks.audio = Some(Arc::new(AudioConfig {
            sample_rate: 48000,
            asc: Bytes::from_static(&[0x11, 0x90]),
            ..(*aac_config()).clone()
        }));
        for i in 0..375 {
            w.push(&frame(Track::Audio, 1000 + i, &[1]), &tracks, &mut out)
                .unwrap();
        }
        // 441 × 1024 / 44.1 kHz = 10240 ms; 375 × 1024 / 48 kHz = 8000 ms.
        assert_eq!(w.duration_ms(), 18240);
    }

    #[test]
    fn refuses_mp3_and_missing_config() {
        let mp3 = Tracks {
            video: None,
            audio: Some(Arc::new(AudioConfig {
                codec: AudioCodec::Mp3,
                asc: Bytes::new(),
                ..(*aac_config()).clone()
            })),
        };
        let mut w = AdtsWriter::new();
        let mut out = Vec::new();
        assert!(matches!(
            w.start(&mp3, &mut out),
            Err(MuxError::Unsupported(_))
        ));
        assert!(matches!(
            w.push(
                &frame(Track::Audio, 0, &[0xff, 0xfb, 0x90, 0x64]),
                &mp3,
                &mut out
            ),
            Err(MuxError::Unsupported(_))
        ));
        assert!(
            w.push(&frame(Track::Audio, 0, &[1]), &Tracks::default(), &mut out)
                .is_err()
        );
        // Too long for ADTS: nothing is written.
        let tracks = Tracks {
            video: None,
            audio: Some(aac_config()),
        };
        let big = vec![0u8; aac::MAX_ADTS_PAYLOAD + 1];
        assert!(
            w.push(&frame(Track::Audio, 0, &big), &tracks, &mut out)
                .is_err()
        );
        assert!(out.is_empty());
        assert_eq!(w.duration_ms(), 0);
    }

    #[test]
    fn fixtures_decode_and_count_exactly() {
        if !tools("the ffprobe check of .aac files") {
            return;
        }
        let dir = TempDir::new("adts");
        for (name, data) in [("aac_only", AAC_ONLY), ("h264_aac", H264_AAC)] {
            let src = source(data);
            let mut w = AdtsWriter::new();
            let mut out = Vec::new();
            let mut pushed = 0u64;
            for (f, t) in &src.frames {
                w.push(f, t, &mut out).unwrap();
                pushed += u64::from(f.track == Track::Audio && !f.data.is_empty());
            }
            w.finish(&mut out).unwrap();
            let path = dir.write(&format!("{name}.aac"), &out);
            decode_clean(&path, true);
            let report = run_clean(
                "ffprobe",
                &[
                    "-count_packets",
                    "-show_entries",
                    "stream=codec_name,nb_read_packets,sample_rate",
                    "-of",
                    "compact=p=0",
                ],
                &path,
            );
            let kv = compact_fields(&report);
            assert_eq!(kv["codec_name"], "aac", "{report}");
            let packets: f64 = kv["nb_read_packets"].parse().unwrap();
            let rate: f64 = kv["sample_rate"].parse().unwrap();
            let duration = packets * 1024.0 / rate;
            assert_eq!(packets as u64, pushed);
            // The source's audio span from its packet timestamps.
            let (_, src_packets, _) = probe(&fixture_path(name));
            let audio = src_packets.iter().filter(|p| p.codec_type == "audio");
            let start = audio.clone().map(|p| p.pts_time).fold(f64::MAX, f64::min);
            let end = audio
                .map(|p| p.pts_time + p.duration_time)
                .fold(f64::MIN, f64::max);
            eprintln!(
                "{name}: {packets} packets = {duration:.3} s, writer {} ms, source audio {:.3} s",
                w.duration_ms(),
                end - start
            );
            assert!((duration - (end - start)).abs() <= 0.05, "{name}");
            assert!((w.duration_ms() as f64 / 1000.0 - duration).abs() < 0.001);
        }
    }
}
