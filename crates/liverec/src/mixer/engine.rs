//! One mix session's media work, clocked by its caller: decode the inputs
//! as their packets arrive (pictures with their arrival time, and a jitter
//! FIFO of resampled audio per input), and on each output tick composite
//! the canvas and encode one video frame, or mix and encode one AAC frame.
//! Each input's picture is shown as late as its sound is heard: the newest
//! picture that arrived at least the input's queued audio ago, so the
//! jitter allowance does not put the sound behind the picture.
//! Output timestamps come from counters on one timeline (video: frame
//! index × 1000 / fps; audio: samples produced × 1000 / rate), so audio
//! and video stay in sync whatever the inputs' timestamps are. An input
//! that stalls keeps its last picture; one that leaves is cleared (the
//! canvas colour shows) until it publishes again.
//!
//! No threads and no hub here: [`super::session`] runs this on a dedicated
//! thread and publishes what it returns.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use media::{AudioCodec, AudioConfig, Frame, Track, Tracks, VideoConfig};

use super::audio::{Fifo, Resampler, accumulate, mix_into};
use super::canvas::Picture;
use super::codec::{
    AAC_FRAME, AudioEncoder, AudioInputDecoder, CodecError, VideoDecoder, VideoEncoder,
    VideoSettings,
};
use super::layout::{Layout, OutputSpec};
use crate::hub::Packet;

/// Audio kept before an input is mixed again after a gap, ms: the jitter
/// allowance, and about how far an input's sound runs behind its picture.
const AUDIO_PRIME_MS: u32 = 100;
/// Most audio queued per input, ms (beyond it the oldest go, back to
/// [`AUDIO_PRIME_MS`]).
const AUDIO_CAP_MS: u32 = 300;
/// Decoded pictures held per input while they wait for their sound (about
/// 0.5 s at 30 fps; beyond it the oldest is shown at once).
const MAX_WAITING_PICTURES: usize = 16;

/// Output encoding, resolved from [`OutputSpec`] and the canvas size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct OutputFormat {
    pub(crate) video: VideoSettings,
    pub(crate) audio_rate: u32,
    pub(crate) audio_channels: usize,
    pub(crate) audio_bitrate_bps: u32,
}

impl OutputFormat {
    /// The encoding of `output` at a `width` × `height` canvas. Without a
    /// bit rate, about 0.1 bit per pixel per frame (≈ 700 kbit/s at
    /// 640×360×30, 2.8 Mbit/s at 1280×720×30).
    pub(crate) fn new(output: &OutputSpec, width: usize, height: usize) -> OutputFormat {
        let fps = output.fps.max(1);
        let auto = (width * height) as u64 * u64::from(fps) / 10;
        let bitrate_bps = output
            .bitrate_kbps
            .map(|k| u64::from(k) * 1000)
            .unwrap_or(auto)
            .clamp(50_000, 50_000_000) as u32;
        OutputFormat {
            video: VideoSettings {
                bitrate_bps,
                fps,
                gop_frames: output.gop_s.max(1) * fps,
            },
            audio_rate: output.audio_rate,
            audio_channels: usize::from(output.audio_channels.clamp(1, 2)),
            audio_bitrate_bps: output.audio_bitrate_kbps * 1000,
        }
    }
}

#[derive(Debug)]
struct InputState {
    video: Option<VideoDecoder>,
    /// Decoded pictures not shown yet, with their arrival time.
    waiting: VecDeque<(Instant, Picture)>,
    /// The picture drawn now (kept while the input stalls).
    picture: Option<Picture>,
    audio: Option<AudioInputDecoder>,
    resampler: Option<Resampler>,
    fifo: Fifo,
    /// Why this input's media is not used, logged once.
    refused: Option<String>,
    /// Decode errors since it (re)appeared.
    errors: u64,
}

/// Counters of what the engine did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct EngineStats {
    pub(crate) video_frames: u64,
    pub(crate) audio_frames: u64,
    pub(crate) decode_errors: u64,
}

/// The media state of one mix session.
#[derive(Debug)]
pub(crate) struct Engine {
    layout: Layout,
    format: OutputFormat,
    inputs: HashMap<String, InputState>,
    canvas: Picture,
    video_encoder: VideoEncoder,
    audio_encoder: AudioEncoder,
    video_config: Option<Arc<VideoConfig>>,
    audio_config: Arc<AudioConfig>,
    /// Scratch buffers of the audio mix.
    acc: Vec<i32>,
    take: Vec<i16>,
    mixed: Vec<i16>,
    pub(crate) stats: EngineStats,
}

impl Engine {
    /// An engine for `layout`, encoding as `format`.
    pub(crate) fn new(layout: Layout, format: OutputFormat) -> Result<Engine, CodecError> {
        let video_encoder = VideoEncoder::new(format.video)?;
        let audio_encoder = AudioEncoder::new(
            format.audio_rate,
            format.audio_channels,
            format.audio_bitrate_bps,
        )?;
        let audio_config = Arc::new(AudioConfig {
            codec: AudioCodec::Aac,
            sample_rate: format.audio_rate,
            channels: format.audio_channels as u8,
            asc: audio_encoder.asc.clone(),
            // FLV signals AAC as 44 kHz, 16-bit; stereo or mono.
            flv_header: if format.audio_channels == 1 {
                0xae
            } else {
                0xaf
            },
        });
        let canvas = Picture::filled(layout.width, layout.height, layout.colour);
        let mut engine = Engine {
            layout: layout.clone(),
            format,
            inputs: HashMap::new(),
            canvas,
            video_encoder,
            audio_encoder,
            video_config: None,
            audio_config,
            acc: Vec::new(),
            take: Vec::new(),
            mixed: Vec::new(),
            stats: EngineStats::default(),
        };
        engine.set_layout(layout);
        Ok(engine)
    }

    /// The output canvas size.
    #[cfg(test)]
    pub(crate) fn size(&self) -> (usize, usize) {
        (self.canvas.width, self.canvas.height)
    }

    /// The output's track configurations (video once the first picture is
    /// encoded).
    pub(crate) fn tracks(&self) -> Tracks {
        Tracks {
            video: self.video_config.clone(),
            audio: Some(self.audio_config.clone()),
        }
    }

    /// Switches to a new layout (same session id). The canvas keeps the
    /// size the session started with, as the output stream's resolution
    /// cannot change under its recordings.
    pub(crate) fn set_layout(&mut self, mut layout: Layout) {
        layout.width = self.canvas.width;
        layout.height = self.canvas.height;
        let fmt = self.format;
        self.inputs
            .retain(|name, _| layout.inputs.iter().any(|p| &p.name == name));
        for p in &layout.inputs {
            self.inputs
                .entry(p.name.clone())
                .or_insert_with(|| InputState {
                    video: None,
                    waiting: VecDeque::new(),
                    picture: None,
                    audio: None,
                    resampler: None,
                    fifo: Fifo::new(samples(fmt, AUDIO_PRIME_MS), samples(fmt, AUDIO_CAP_MS)),
                    refused: None,
                    errors: 0,
                });
        }
        self.layout = layout;
        // Players and recordings see the new layout from a clean picture.
        self.video_encoder.force_keyframe();
    }

    /// Takes one packet of input `name`, arrived at `now`.
    pub(crate) fn input(&mut self, name: &str, packet: &Packet, now: Instant) {
        let Some(placed) = self.layout.inputs.iter().find(|p| p.name == name) else {
            return;
        };
        let (draw, hear) = (placed.rect.is_some(), placed.audio);
        let fmt = self.format;
        let Some(st) = self.inputs.get_mut(name) else {
            return;
        };
        let result = match packet.frame.track {
            Track::Video if draw => decode_video(st, &packet.tracks, &packet.frame, now),
            Track::Audio if hear => decode_audio(st, &packet.tracks, &packet.frame, fmt),
            _ => Ok(()),
        };
        match result {
            Ok(()) => {}
            Err(CodecError::Unsupported(why)) => {
                if st.refused.as_deref() != Some(why.as_str()) {
                    tracing::warn!(input = name, reason = %why, "mix input not usable");
                    st.refused = Some(why);
                }
            }
            Err(e) => {
                self.stats.decode_errors += 1;
                st.errors += 1;
                metrics::counter!("liverec_mix_decode_errors_total").increment(1);
                // The first of a run is worth a warning; the rest are counted.
                if st.errors == 1 {
                    tracing::warn!(input = name, error = %e, "mix input decode error");
                } else {
                    tracing::debug!(input = name, error = %e, "mix input decode error");
                }
            }
        }
    }

    /// Input `name` stopped publishing after the packets still `queued`
    /// for the mix (its last ones among them, sent before it was known to
    /// be gone): they are taken first, or one of them would bring the
    /// input back (its last picture stuck on the canvas).
    pub(crate) fn input_gone_after(
        &mut self,
        name: &str,
        queued: impl IntoIterator<Item = (Arc<str>, Packet)>,
        now: Instant,
    ) {
        for (input, packet) in queued {
            self.input(&input, &packet, now);
        }
        self.input_gone(name);
    }

    /// Input `name` stopped publishing: its picture and audio go.
    pub(crate) fn input_gone(&mut self, name: &str) {
        if let Some(st) = self.inputs.get_mut(name) {
            st.video = None;
            st.waiting.clear();
            st.picture = None;
            st.audio = None;
            st.resampler = None;
            st.fifo.clear();
            st.refused = None;
            st.errors = 0;
        }
    }

    /// Composites (at `now`) and encodes video frame `index`; `None` if
    /// the encoder skipped it.
    pub(crate) fn video_frame(
        &mut self,
        index: u64,
        now: Instant,
        wall_ms: i64,
    ) -> Result<Option<Packet>, CodecError> {
        let per_ms = self.format.audio_rate as usize * self.format.audio_channels / 1000;
        for st in self.inputs.values_mut() {
            // The sound heard now arrived about the queued audio ago.
            let queued = st.fifo.samples.len() / per_ms.max(1);
            let shown_before = now.checked_sub(Duration::from_millis(queued as u64));
            while let Some((at, _)) = st.waiting.front() {
                let due = shown_before.is_none_or(|t| *at <= t);
                if !due && st.waiting.len() <= MAX_WAITING_PICTURES {
                    break;
                }
                if let Some((_, p)) = st.waiting.pop_front() {
                    st.picture = Some(p);
                }
            }
        }
        self.canvas.fill(self.layout.colour);
        let size = (self.canvas.width, self.canvas.height);
        for p in &self.layout.inputs {
            let Some(rect) = p.rect else { continue };
            if let Some(colour) = p.fill {
                self.canvas.fill_rect(rect.for_picture(size), colour);
                continue;
            }
            let Some(pic) = self.inputs.get(&p.name).and_then(|st| st.picture.as_ref()) else {
                continue;
            };
            match p.crop {
                None => self
                    .canvas
                    .draw(pic, rect.for_picture((pic.width, pic.height))),
                // A side left to the picture follows the cropped part.
                Some(crop) => {
                    if let Some(region) = crop.region((pic.width, pic.height)) {
                        let dst = rect.for_picture((region.width, region.height));
                        self.canvas.draw_region(pic, region, dst);
                    }
                }
            }
        }
        let pts = index * 1000 / u64::from(self.format.video.fps);
        let Some(enc) = self.video_encoder.encode(&self.canvas, pts)? else {
            return Ok(None);
        };
        if let Some(c) = enc.config {
            let changed = self.video_config.as_deref() != Some(&c);
            if changed {
                self.video_config = Some(Arc::new(c));
            }
        }
        self.stats.video_frames += 1;
        Ok(Some(Packet {
            frame: Frame {
                track: Track::Video,
                dts: pts as i64,
                cts: 0,
                keyframe: enc.keyframe,
                data: enc.data,
            },
            tracks: self.tracks(),
            wall_ms,
        }))
    }

    /// Mixes and encodes audio frame `index` ([`AAC_FRAME`] samples per
    /// channel); `None` while the encoder fills its look-ahead.
    pub(crate) fn audio_frame(
        &mut self,
        index: u64,
        wall_ms: i64,
    ) -> Result<Option<Packet>, CodecError> {
        let n = AAC_FRAME * self.format.audio_channels;
        self.acc.clear();
        self.acc.resize(n, 0);
        for p in self.layout.inputs.iter().filter(|p| p.audio) {
            if let Some(st) = self.inputs.get_mut(&p.name) {
                st.fifo.take(n, &mut self.take);
                accumulate(&mut self.acc, self.take.iter().copied());
            }
        }
        mix_into(&self.acc, &mut self.mixed);
        let Some(au) = self.audio_encoder.encode(&self.mixed)? else {
            return Ok(None);
        };
        self.stats.audio_frames += 1;
        let dts = index * AAC_FRAME as u64 * 1000 / u64::from(self.format.audio_rate);
        Ok(Some(Packet {
            frame: Frame {
                track: Track::Audio,
                dts: dts as i64,
                cts: 0,
                keyframe: true,
                data: au,
            },
            tracks: self.tracks(),
            wall_ms,
        }))
    }
}

/// Interleaved samples in `ms` of output audio.
fn samples(fmt: OutputFormat, ms: u32) -> usize {
    (fmt.audio_rate as usize * ms as usize / 1000) * fmt.audio_channels
}

fn decode_video(
    st: &mut InputState,
    tracks: &Tracks,
    frame: &Frame,
    now: Instant,
) -> Result<(), CodecError> {
    let Some(config) = &tracks.video else {
        return Ok(());
    };
    let decoder = match &mut st.video {
        Some(d) => d,
        None => st.video.insert(VideoDecoder::new()?),
    };
    if let Some(p) = decoder.decode(config, frame)? {
        st.waiting.push_back((now, p));
    }
    Ok(())
}

fn decode_audio(
    st: &mut InputState,
    tracks: &Tracks,
    frame: &Frame,
    fmt: OutputFormat,
) -> Result<(), CodecError> {
    let Some(config) = &tracks.audio else {
        return Ok(());
    };
    if !st.audio.as_ref().is_some_and(|d| d.serves(config)) {
        let d = AudioInputDecoder::new(config)?;
        st.resampler = Some(Resampler::new(
            d.rate,
            d.channels,
            fmt.audio_rate,
            fmt.audio_channels,
        ));
        st.audio = Some(d);
    }
    let (Some(d), Some(r)) = (&mut st.audio, &mut st.resampler) else {
        return Ok(());
    };
    r.push(d.decode(&frame.data), &mut st.fifo.samples);
    st.fifo.trim();
    Ok(())
}

#[cfg(test)]
mod tests;
