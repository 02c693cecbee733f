//! The fuzzing entry point of the mixer's input decoding (only with the
//! `fuzzing` feature, and in tests): what a publisher controls reaches the
//! mixer as H.264 access units with their AVC configuration record and as
//! AAC frames with their AudioSpecificConfig, and goes through OpenH264,
//! symphonia, the resampler and the compositor exactly as
//! `engine::Engine::input` and `video_frame` take it. [`decode`] reads one
//! such session from a byte string; it must return for every input,
//! whatever the decoders report. The cargo-fuzz target is
//! `crates/liverec/fuzz` (`mixer_decode`).
//!
//! Input: the first byte's low bit picks the track.
//! - video: `[nal_length_byte] [u16 record length] [record]` then frames
//!   `[flags] [u16 length] [AVCC access unit]` (flags bit 0: keyframe;
//!   bit 1: the frame's bytes are a new configuration record instead);
//!   the length-prefix size is `nal_length_byte % 4 + 1`.
//! - audio: `[u8 asc length] [asc]` then frames `[u16 length] [raw AAC]`.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use media::{AudioCodec, AudioConfig, Frame, Track, VideoCodec, VideoConfig};

use super::audio::Resampler;
use super::canvas::{Picture, Rect, Yuv};
use super::codec::{AudioInputDecoder, VideoDecoder};

/// Audio kept between frames, samples (the engine's FIFO is capped too).
const MAX_QUEUED: usize = 48_000;

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<usize> {
        Some(usize::from(self.u8()?) << 8 | usize::from(self.u8()?))
    }

    /// Up to `n` bytes (fewer at the end of the input).
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// Decodes one fuzz input (see the module doc). Never panics on any
/// input: decoder failures are errors, as in the engine.
pub fn decode(data: &[u8]) {
    let Some((&select, rest)) = data.split_first() else {
        return;
    };
    if select & 1 == 0 {
        video(Reader(rest));
    } else {
        audio(Reader(rest));
    }
}

fn video_config(record: &[u8], nal_length_size: u8) -> Arc<VideoConfig> {
    Arc::new(VideoConfig {
        codec: VideoCodec::H264,
        record: Bytes::copy_from_slice(record),
        width: 0,
        height: 0,
        nal_length_size,
    })
}

fn video(mut r: Reader<'_>) {
    let Some(nal) = r.u8() else { return };
    let nal_length_size = nal % 4 + 1;
    let Some(len) = r.u16() else { return };
    let mut config = video_config(r.bytes(len), nal_length_size);
    let Ok(mut decoder) = VideoDecoder::new() else {
        return;
    };
    let mut canvas = Picture::filled(64, 36, Yuv::BLACK);
    let mut dts = 0;
    while let (Some(flags), Some(len)) = (r.u8(), r.u16()) {
        let data = r.bytes(len);
        if flags & 2 != 0 {
            config = video_config(data, nal_length_size);
            continue;
        }
        let frame = Frame {
            track: Track::Video,
            dts,
            cts: 0,
            keyframe: flags & 1 != 0,
            data: Bytes::copy_from_slice(data),
        };
        dts += 33;
        if let Ok(Some(picture)) = decoder.decode(&config, &frame) {
            // As the engine draws it: scaled into a rectangle partly off
            // the canvas, then a cropped corner.
            let dst = Rect {
                x: -8,
                y: 4,
                width: 40,
                height: 40,
            };
            canvas.draw(&picture, dst);
            let corner = Rect {
                x: (picture.width / 2) as i64,
                y: (picture.height / 2) as i64,
                width: picture.width.div_ceil(2),
                height: picture.height.div_ceil(2),
            };
            canvas.draw_region(&picture, corner, dst);
        }
    }
}

fn audio(mut r: Reader<'_>) {
    let Some(len) = r.u8() else { return };
    let asc = Bytes::copy_from_slice(r.bytes(usize::from(len)));
    let config = AudioConfig {
        codec: AudioCodec::Aac,
        sample_rate: 44_100,
        channels: 2,
        asc,
        flv_header: 0xaf,
    };
    let Ok(mut decoder) = AudioInputDecoder::new(&config) else {
        return;
    };
    let mut resampler = Resampler::new(decoder.rate, decoder.channels, 48_000, 2);
    let mut out = VecDeque::new();
    while let Some(len) = r.u16() {
        let pcm = decoder.decode(r.bytes(len));
        resampler.push(pcm, &mut out);
        if out.len() > MAX_QUEUED {
            out.clear();
        }
    }
}

/// Seeds for the fuzz target: real sessions from the mixer's own encoders
/// (a small H.264 picture sequence, AAC-LC frames), in [`decode`]'s format.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    use super::codec::{AAC_FRAME, AudioEncoder, VideoEncoder, VideoSettings};
    let mut encoder = VideoEncoder::new(VideoSettings {
        bitrate_bps: 200_000,
        fps: 30,
        gop_frames: 4,
    })
    .expect("h264 encoder");
    let mut record = Vec::new();
    let mut frames = Vec::new();
    for i in 0..6u8 {
        let mut pic = Picture::filled(48, 32, Yuv::from_rgb(255, 0, 0));
        pic.fill_rect(
            Rect {
                x: i64::from(i) * 4,
                y: 8,
                width: 16,
                height: 16,
            },
            Yuv::from_rgb(0, 0, 255),
        );
        if let Some(out) = encoder.encode(&pic, u64::from(i) * 33).expect("encode") {
            if let Some(c) = out.config {
                record = c.record.to_vec();
            }
            let mut f = vec![u8::from(out.keyframe)];
            f.extend_from_slice(&(out.data.len() as u16).to_be_bytes());
            f.extend_from_slice(&out.data);
            frames.push(f);
        }
    }
    let mut video = vec![0, 3];
    video.extend_from_slice(&(record.len() as u16).to_be_bytes());
    video.extend_from_slice(&record);
    for f in &frames {
        video.extend_from_slice(f);
    }

    let mut aac = AudioEncoder::new(44_100, 2, 96_000).expect("aac encoder");
    let mut audio = vec![1, aac.asc.len() as u8];
    audio.extend_from_slice(&aac.asc);
    for k in 0..8 {
        let pcm: Vec<i16> = (0..AAC_FRAME)
            .flat_map(|i| {
                let t = (k * AAC_FRAME + i) as f64 / 44_100.0;
                let s = ((2.0 * std::f64::consts::PI * 440.0 * t).sin() * 8000.0) as i16;
                [s, s]
            })
            .collect();
        if let Some(au) = aac.encode(&pcm).expect("encode") {
            audio.extend_from_slice(&(au.len() as u16).to_be_bytes());
            audio.extend_from_slice(&au);
        }
    }
    vec![("h264_session", video), ("aac_session", audio)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_decode_and_every_single_byte_change_is_survived() {
        for (name, seed) in seeds() {
            decode(&seed);
            // A cheap local stand-in for the fuzzer: each byte flipped,
            // and each truncation, must come back without a panic.
            for i in (0..seed.len()).step_by(7) {
                let mut m = seed.clone();
                m[i] ^= 0xa5;
                decode(&m);
                decode(&seed[..i]);
            }
            assert!(seed.len() > 20, "{name}");
        }
    }

    /// Writes the seeds to `$LIVEREC_FUZZ_SEEDS` (run by hand:
    /// `LIVEREC_FUZZ_SEEDS=crates/liverec/fuzz/seeds/mixer_decode cargo
    /// test -p liverec --lib mixer::fuzz -- --ignored`).
    #[test]
    #[ignore]
    fn write_seeds() {
        let dir = std::env::var("LIVEREC_FUZZ_SEEDS").expect("LIVEREC_FUZZ_SEEDS");
        std::fs::create_dir_all(&dir).expect("seed dir");
        for (name, seed) in seeds() {
            std::fs::write(std::path::Path::new(&dir).join(name), seed).expect("write seed");
        }
    }
}
