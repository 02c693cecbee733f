//! Stateful demuxing of FLV tag bodies (RTMP message types 8, 9 and 18)
//! into configurations and [`Frame`]s. Owns the current decoder
//! configuration of each track; knows nothing of files or sockets.
//!
//! Unsupported but well-formed input (other codecs, enhanced-RTMP multitrack
//! and ModEx packets, AV1/VP9, video command frames, non-`onMetaData` script
//! data) is ignored: it yields no event and is counted in
//! [`TagDemuxer::ignored`]. Malformed input is an [`FlvError`] and leaves the
//! state unchanged.

use std::sync::Arc;

use bytes::Bytes;

use super::{FlvError, audio_code as ac, read_si24, video_code as vc};
use crate::amf0::{self, Value};
use crate::codec::{aac, h264, h265, mp3};
use crate::frame::{AudioCodec, AudioConfig, Frame, Track, Tracks, VideoCodec, VideoConfig};

/// One thing a tag body yields.
#[derive(Clone, Debug, PartialEq)]
pub enum DemuxEvent {
    /// A new video configuration (first, or different from the previous one).
    VideoConfig(Arc<VideoConfig>),
    /// A new audio configuration (first, or different from the previous one).
    AudioConfig(Arc<AudioConfig>),
    /// A frame of a track whose configuration is known.
    Frame(Frame),
    /// The `onMetaData` object or ECMA array.
    Metadata(Value),
    /// The publisher ended the video sequence (AVC/HEVC end of sequence).
    EndOfSequence,
}

/// The events of one tag, in order: none, one, or two (an MP3 frame whose
/// header changes the audio configuration yields the new `AudioConfig` and
/// then the `Frame`). Iterate it: `for event in demuxer.audio(ts, body)? {}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Demuxed {
    first: Option<DemuxEvent>,
    second: Option<DemuxEvent>,
}

impl Demuxed {
    fn none() -> Self {
        Demuxed::default()
    }

    fn one(event: DemuxEvent) -> Self {
        Demuxed {
            first: Some(event),
            second: None,
        }
    }

    /// True when the tag yielded nothing.
    pub fn is_empty(&self) -> bool {
        self.first.is_none() && self.second.is_none()
    }
}

impl Iterator for Demuxed {
    type Item = DemuxEvent;

    fn next(&mut self) -> Option<DemuxEvent> {
        self.first.take().or_else(|| self.second.take())
    }
}

/// Demuxes FLV tag bodies, remembering each track's configuration.
///
/// Frames that arrive before their track's sequence header (or whose codec
/// differs from it) are dropped. A sequence header equal to the current one
/// yields nothing, so the `Arc` identity of a configuration changes only when
/// its content does.
#[derive(Debug, Default)]
pub struct TagDemuxer {
    video: Option<Arc<VideoConfig>>,
    audio: Option<Arc<AudioConfig>>,
    ignored: u64,
}

fn slice(body: &Bytes, from: usize, what: &'static str) -> Result<Bytes, FlvError> {
    if body.len() < from {
        return Err(FlvError::Truncated(what));
    }
    Ok(body.slice(from..))
}

fn fourcc(body: &[u8], what: &'static str) -> Result<[u8; 4], FlvError> {
    match body.get(1..5) {
        Some(&[a, b, c, d]) => Ok([a, b, c, d]),
        _ => Err(FlvError::Truncated(what)),
    }
}

impl TagDemuxer {
    /// A demuxer with no configuration yet.
    pub fn new() -> Self {
        TagDemuxer::default()
    }

    /// The configurations currently in effect.
    pub fn tracks(&self) -> Tracks {
        Tracks {
            video: self.video.clone(),
            audio: self.audio.clone(),
        }
    }

    /// How many tags were ignored as unsupported (codec, packet type).
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    fn ignore(&mut self) -> Result<Demuxed, FlvError> {
        self.ignored += 1;
        Ok(Demuxed::none())
    }

    /// Demuxes a VIDEODATA body (RTMP message type 9) with decode time `dts`
    /// in milliseconds. Handles legacy AVC (CodecID 7), legacy HEVC
    /// (CodecID 12) and enhanced RTMP `avc1`/`hvc1`.
    pub fn video(&mut self, dts: i64, body: Bytes) -> Result<Demuxed, FlvError> {
        const WHAT: &str = "video tag header";
        let b0 = *body.first().ok_or(FlvError::Truncated(WHAT))?;
        if b0 & vc::EX_HEADER != 0 {
            return self.enhanced_video(dts, body);
        }
        let frame_type = b0 >> 4;
        let codec = match b0 & 0x0f {
            vc::CODEC_AVC => VideoCodec::H264,
            vc::CODEC_HEVC => VideoCodec::H265,
            _ => return self.ignore(),
        };
        if frame_type == vc::FRAME_COMMAND {
            return Ok(Demuxed::none());
        }
        let head = body.get(..5).ok_or(FlvError::Truncated(WHAT))?;
        let cts = read_si24([head[2], head[3], head[4]]);
        match head[1] {
            vc::SEQUENCE_START => self.video_config(codec, body.slice(5..)),
            vc::CODED_FRAMES => Ok(self.video_frame(codec, dts, cts, frame_type, body.slice(5..))),
            vc::SEQUENCE_END => Ok(Demuxed::one(DemuxEvent::EndOfSequence)),
            _ => self.ignore(),
        }
    }

    fn enhanced_video(&mut self, dts: i64, body: Bytes) -> Result<Demuxed, FlvError> {
        const WHAT: &str = "enhanced video tag header";
        let b0 = *body.first().ok_or(FlvError::Truncated(WHAT))?;
        let frame_type = (b0 >> 4) & 7;
        let packet_type = b0 & 0x0f;
        if packet_type == vc::MULTITRACK || packet_type == vc::MOD_EX {
            return self.ignore();
        }
        if frame_type == vc::FRAME_COMMAND {
            return Ok(Demuxed::none());
        }
        let codec = match fourcc(&body, WHAT)? {
            vc::FOURCC_AVC => VideoCodec::H264,
            vc::FOURCC_HEVC => VideoCodec::H265,
            _ => return self.ignore(),
        };
        match packet_type {
            vc::SEQUENCE_START => self.video_config(codec, body.slice(5..)),
            vc::CODED_FRAMES => {
                let c = body.get(5..8).ok_or(FlvError::Truncated(WHAT))?;
                let cts = read_si24([c[0], c[1], c[2]]);
                Ok(self.video_frame(codec, dts, cts, frame_type, body.slice(8..)))
            }
            vc::CODED_FRAMES_X => Ok(self.video_frame(codec, dts, 0, frame_type, body.slice(5..))),
            vc::SEQUENCE_END => Ok(Demuxed::one(DemuxEvent::EndOfSequence)),
            // Metadata (HDR colour info), MPEG2TSSequenceStart, reserved.
            _ => self.ignore(),
        }
    }

    fn video_config(&mut self, codec: VideoCodec, record: Bytes) -> Result<Demuxed, FlvError> {
        // The picture size is best effort: an unreadable SPS leaves it 0.
        let (nal_length_size, size) = match codec {
            VideoCodec::H264 => {
                let cfg = h264::parse_record(&record)?;
                let size = cfg.sps.first().and_then(|s| h264::parse_sps(s).ok());
                (cfg.nal_length_size, size.map(|i| (i.width, i.height)))
            }
            VideoCodec::H265 => {
                let cfg = h265::parse_record(&record)?;
                let sps = cfg.nalus(h265::nal_type::SPS).next();
                let size = sps.and_then(|s| h265::parse_sps(s).ok());
                (cfg.nal_length_size, size.map(|i| (i.width, i.height)))
            }
        };
        let (width, height) = size.unwrap_or((0, 0));
        let config = VideoConfig {
            codec,
            // A copy of its own: the configuration lives as long as the
            // stream, and the message's buffer may be shared with others.
            record: Bytes::copy_from_slice(&record),
            width,
            height,
            nal_length_size,
        };
        if self.video.as_deref() == Some(&config) {
            return Ok(Demuxed::none());
        }
        let config = Arc::new(config);
        self.video = Some(Arc::clone(&config));
        Ok(Demuxed::one(DemuxEvent::VideoConfig(config)))
    }

    fn video_frame(
        &mut self,
        codec: VideoCodec,
        dts: i64,
        cts: i32,
        frame_type: u8,
        data: Bytes,
    ) -> Demuxed {
        let known = self.video.as_ref().is_some_and(|c| c.codec == codec);
        if !known || data.is_empty() {
            return Demuxed::none();
        }
        Demuxed::one(DemuxEvent::Frame(Frame {
            track: Track::Video,
            dts,
            cts,
            keyframe: frame_type == vc::FRAME_KEY,
            data,
        }))
    }

    /// Demuxes an AUDIODATA body (RTMP message type 8) with decode time `dts`
    /// in milliseconds. Handles AAC (SoundFormat 10), MP3 (2 and 14) and
    /// enhanced RTMP `mp4a`/`.mp3`.
    pub fn audio(&mut self, dts: i64, body: Bytes) -> Result<Demuxed, FlvError> {
        const WHAT: &str = "audio tag header";
        let b0 = *body.first().ok_or(FlvError::Truncated(WHAT))?;
        match b0 >> 4 {
            ac::FORMAT_AAC => {
                let packet_type = *body.get(1).ok_or(FlvError::Truncated(WHAT))?;
                match packet_type {
                    ac::SEQUENCE_START => self.aac_config(b0, body.slice(2..)),
                    ac::CODED_FRAMES => Ok(self.aac_frame(dts, body.slice(2..))),
                    _ => self.ignore(),
                }
            }
            ac::FORMAT_MP3 | ac::FORMAT_MP3_8K => self.mp3_frame(dts, Some(b0), body.slice(1..)),
            ac::FORMAT_EX => self.enhanced_audio(dts, body),
            _ => self.ignore(),
        }
    }

    fn enhanced_audio(&mut self, dts: i64, body: Bytes) -> Result<Demuxed, FlvError> {
        const WHAT: &str = "enhanced audio tag header";
        let packet_type = body.first().map_or(0, |b| b & 0x0f);
        if packet_type == ac::MULTITRACK || packet_type == ac::MOD_EX {
            return self.ignore();
        }
        match (fourcc(&body, WHAT)?, packet_type) {
            (ac::FOURCC_AAC, ac::SEQUENCE_START) => {
                self.aac_config(ac::AAC_HEADER, slice(&body, 5, WHAT)?)
            }
            (ac::FOURCC_AAC, ac::CODED_FRAMES) => Ok(self.aac_frame(dts, slice(&body, 5, WHAT)?)),
            (ac::FOURCC_MP3, ac::CODED_FRAMES) => self.mp3_frame(dts, None, slice(&body, 5, WHAT)?),
            // SequenceEnd, MultichannelConfig, other codecs.
            _ => self.ignore(),
        }
    }

    fn set_audio(&mut self, config: AudioConfig) -> Option<DemuxEvent> {
        if self.audio.as_deref() == Some(&config) {
            return None;
        }
        let config = Arc::new(config);
        self.audio = Some(Arc::clone(&config));
        Some(DemuxEvent::AudioConfig(config))
    }

    fn aac_config(&mut self, header: u8, asc: Bytes) -> Result<Demuxed, FlvError> {
        let info = aac::parse_asc(&asc)?;
        let channels = match info.channels() {
            // A PCE defines the layout in-band; fall back to SoundType.
            0 => (header & 1) + 1,
            n => n,
        };
        let config = AudioConfig {
            codec: AudioCodec::Aac,
            sample_rate: info.sbr_sample_rate.unwrap_or(info.sample_rate),
            channels,
            // A copy of its own, as the video record's.
            asc: Bytes::copy_from_slice(&asc),
            flv_header: header,
        };
        Ok(Demuxed {
            first: self.set_audio(config),
            second: None,
        })
    }

    fn aac_frame(&mut self, dts: i64, data: Bytes) -> Demuxed {
        let known = self
            .audio
            .as_ref()
            .is_some_and(|c| c.codec == AudioCodec::Aac);
        if !known || data.is_empty() {
            return Demuxed::none();
        }
        Demuxed::one(audio_frame(dts, data))
    }

    /// MP3 has no sequence header: each frame's MPEG header is checked
    /// against the current configuration. `header` is the legacy tag byte;
    /// for enhanced `.mp3` an equivalent legacy byte is synthesized.
    fn mp3_frame(
        &mut self,
        dts: i64,
        header: Option<u8>,
        data: Bytes,
    ) -> Result<Demuxed, FlvError> {
        if data.is_empty() {
            return Ok(Demuxed::none());
        }
        let have_mp3 = self
            .audio
            .as_ref()
            .is_some_and(|c| c.codec == AudioCodec::Mp3);
        let parsed = match mp3::parse_header(&data) {
            Ok(h) => h,
            // Junk in front of a frame of a known stream is passed through.
            Err(_) if have_mp3 => return Ok(Demuxed::one(audio_frame(dts, data))),
            Err(e) => return Err(e.into()),
        };
        let config = AudioConfig {
            codec: AudioCodec::Mp3,
            sample_rate: parsed.sample_rate,
            channels: parsed.channels,
            asc: Bytes::new(),
            flv_header: header.unwrap_or_else(|| legacy_mp3_header(&parsed)),
        };
        let changed = self.set_audio(config);
        let frame = audio_frame(dts, data);
        Ok(match changed {
            Some(event) => Demuxed {
                first: Some(event),
                second: Some(frame),
            },
            None => Demuxed::one(frame),
        })
    }

    /// Demuxes a SCRIPTDATA body (RTMP message type 18 or 15 after its
    /// leading byte): `onMetaData <object>` or, as publishers send it,
    /// `@setDataFrame onMetaData <object>`. Other script data is ignored.
    pub fn script(&mut self, body: &[u8]) -> Result<Demuxed, FlvError> {
        let mut input = body;
        let mut name = amf0::decode(&mut input)?;
        if name.as_str() == Some("@setDataFrame") {
            name = amf0::decode(&mut input)?;
        }
        if name.as_str() != Some("onMetaData") {
            return Ok(Demuxed::none());
        }
        let value = amf0::decode(&mut input)?;
        if value.properties().is_none() {
            return Ok(Demuxed::none());
        }
        Ok(Demuxed::one(DemuxEvent::Metadata(value)))
    }
}

fn audio_frame(dts: i64, data: Bytes) -> DemuxEvent {
    DemuxEvent::Frame(Frame {
        track: Track::Audio,
        dts,
        cts: 0,
        keyframe: true,
        data,
    })
}

/// The legacy header byte equivalent to an MPEG audio frame header:
/// SoundFormat 2 (14 at 8 kHz), nearest SoundRate, 16-bit, SoundType.
fn legacy_mp3_header(h: &mp3::FrameHeader) -> u8 {
    let (format, rate) = match h.sample_rate {
        8000 => (ac::FORMAT_MP3_8K, 0),
        r if r < 11025 => (ac::FORMAT_MP3, 0),
        r if r < 22050 => (ac::FORMAT_MP3, 1),
        r if r < 44100 => (ac::FORMAT_MP3, 2),
        _ => (ac::FORMAT_MP3, 3),
    };
    (format << 4) | (rate << 2) | 0b10 | u8::from(h.channels == 2)
}
