//! `.mp3` output ([`Mp3Writer`]): MPEG audio frames back to back, no
//! container. MP3 sources are passed through frame by frame; AAC-LC sources
//! are decoded (symphonia-codec-aac) and encoded with LAME at a constant
//! bitrate (128 kbit/s by default), with a LAME/Info tag in the first frame
//! that is patched at close so players know the exact duration and encoder
//! delay. Video frames are ignored. Owns the audio transcoding; the caller
//! owns the file.

mod transcode;

use std::sync::Arc;

use crate::codec::mp3::frame_samples;
use crate::flv::Patch;
use crate::frame::{AudioCodec, AudioConfig, Frame, Track, Tracks};
use crate::mux::{MuxError, Muxer};

use transcode::Transcoder;

/// Default MP3 bitrate, kbit/s.
const DEFAULT_BITRATE_KBPS: u32 = 128;

#[derive(Default)]
enum Mode {
    /// No audio configuration seen yet.
    #[default]
    Idle,
    /// MP3 in, MP3 out.
    Passthrough,
    /// AAC in, MP3 out.
    Transcode(Box<Transcoder>),
}

/// Writes one `.mp3` file from the audio frames of a stream.
pub struct Mp3Writer {
    bitrate_kbps: u32,
    mode: Mode,
    config: Option<Arc<AudioConfig>>,
    /// Samples per channel written (passthrough) or decoded (transcode).
    samples: u64,
    /// Bytes appended so far, so `finish` can tell the tag frame was written.
    written: u64,
}

impl std::fmt::Debug for Mp3Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match self.mode {
            Mode::Idle => "idle",
            Mode::Passthrough => "passthrough",
            Mode::Transcode(_) => "transcode",
        };
        f.debug_struct("Mp3Writer")
            .field("bitrate_kbps", &self.bitrate_kbps)
            .field("mode", &mode)
            .field("samples", &self.samples)
            .field("written", &self.written)
            .finish()
    }
}

impl Default for Mp3Writer {
    fn default() -> Self {
        Self::new()
    }
}

impl Mp3Writer {
    /// A writer encoding at 128 kbit/s when the source is not MP3.
    pub fn new() -> Self {
        Mp3Writer {
            bitrate_kbps: DEFAULT_BITRATE_KBPS,
            mode: Mode::Idle,
            config: None,
            samples: 0,
            written: 0,
        }
    }

    /// Sets the encoding bitrate in kbit/s (an MPEG-1/2 Layer III bitrate:
    /// 8, 16, 24, 32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256 or
    /// 320). Another value makes the first audio frame fail with
    /// [`MuxError::Unsupported`]. Passthrough ignores it. Recordings use
    /// the default; tests check the encoder at other rates.
    #[cfg(test)]
    pub(crate) fn with_bitrate_kbps(mut self, kbps: u32) -> Self {
        self.bitrate_kbps = kbps;
        self
    }

    /// AAC frames that failed to decode and were replaced by silence.
    pub fn decode_errors(&self) -> u64 {
        match &self.mode {
            Mode::Transcode(t) => t.decode_errors(),
            _ => 0,
        }
    }

    fn open(&mut self, cfg: &Arc<AudioConfig>) -> Result<(), MuxError> {
        if let Some(old) = &self.config {
            // Looser than `frame::same_config` on purpose: the MP3 stream's
            // format follows codec, rate and channels only, so changes of the
            // other fields (such as the FLV audio header byte) are tolerated.
            let same = Arc::ptr_eq(old, cfg)
                || (old.codec == cfg.codec
                    && old.sample_rate == cfg.sample_rate
                    && old.channels == cfg.channels);
            return if same {
                Ok(())
            } else {
                Err(MuxError::Unsupported(
                    "mp3: the audio configuration changed mid-file; start a new file".into(),
                ))
            };
        }
        self.mode = match cfg.codec {
            AudioCodec::Mp3 => Mode::Passthrough,
            AudioCodec::Aac => Mode::Transcode(Box::new(Transcoder::new(cfg, self.bitrate_kbps)?)),
        };
        self.config = Some(Arc::clone(cfg));
        Ok(())
    }
}

impl Muxer for Mp3Writer {
    fn start(&mut self, tracks: &Tracks, _out: &mut Vec<u8>) -> Result<(), MuxError> {
        match &tracks.audio {
            Some(cfg) => self.open(cfg),
            None => Ok(()),
        }
    }

    fn push(&mut self, frame: &Frame, tracks: &Tracks, out: &mut Vec<u8>) -> Result<(), MuxError> {
        if frame.track != Track::Audio {
            return Ok(());
        }
        match &tracks.audio {
            Some(cfg) => self.open(cfg)?,
            None if self.config.is_some() => {}
            None => {
                return Err(MuxError::Unsupported(
                    "mp3: audio frame before the audio configuration".into(),
                ));
            }
        }
        let before = out.len();
        match &mut self.mode {
            Mode::Idle => {}
            Mode::Passthrough => {
                out.extend_from_slice(&frame.data);
                self.samples += u64::from(frame_samples(&frame.data));
            }
            Mode::Transcode(t) => self.samples += t.push(&frame.data, out)?,
        }
        self.written += (out.len() - before) as u64;
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<Vec<Patch>, MuxError> {
        let Mode::Transcode(t) = &mut self.mode else {
            return Ok(Vec::new());
        };
        let before = out.len();
        let tag = t.finish(out)?;
        self.written += (out.len() - before) as u64;
        Ok(tag
            .filter(|tag| tag.len() as u64 <= self.written)
            .map(|bytes| Patch { offset: 0, bytes })
            .into_iter()
            .collect())
    }

    fn duration_ms(&self) -> i64 {
        match self.config.as_ref().map_or(0, |c| c.sample_rate) {
            0 => 0,
            rate => (u128::from(self.samples) * 1000 / u128::from(rate)) as i64,
        }
    }
}

#[cfg(test)]
mod tests;
