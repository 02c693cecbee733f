//! Codec adapters for the mixer, over maintained libraries with safe Rust
//! APIs: H.264 decode and encode with OpenH264 (`openh264`, its C++ source
//! vendored and built by `cc`), AAC-LC decode with symphonia (as the MP3
//! recorder does) and AAC-LC encode with the Fraunhofer FDK (`fdk-aac`,
//! vendored). Converts between the hub's frames (length-prefixed NAL
//! units, configuration records, raw AAC access units) and the codecs'
//! forms (Annex B, interleaved PCM). Owns no timing and no layout.

use std::sync::Arc;

use bytes::Bytes;
use media::codec::h264;
use media::{AudioCodec, AudioConfig, Frame, VideoCodec, VideoConfig};
use openh264::formats::YUVSource;
use symphonia_codec_aac::AacDecoder;
use symphonia_core::codecs::audio::well_known::CODEC_ID_AAC;
use symphonia_core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia_core::packet::PacketRef;
use symphonia_core::units::{Duration, Timestamp};

use super::canvas::Picture;

/// H.264 picture parameter set (Table 7-1).
const NAL_PPS: u8 = 8;

/// Samples per channel in one AAC-LC frame.
pub(crate) const AAC_FRAME: usize = 1024;

/// A codec failed or was given something it cannot take.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CodecError {
    /// The input's codec is not one the mixer decodes.
    #[error("unsupported input: {0}")]
    Unsupported(String),
    /// The codec library reported an error.
    #[error("{0}")]
    Library(String),
}

fn lib(what: &str, e: impl std::fmt::Display) -> CodecError {
    CodecError::Library(format!("{what}: {e}"))
}

/// Decodes one input's H.264 frames to pictures.
pub(crate) struct VideoDecoder {
    decoder: openh264::decoder::Decoder,
    /// The configuration whose parameter sets the decoder has seen.
    config: Option<Arc<VideoConfig>>,
    annexb: Vec<u8>,
}

impl std::fmt::Debug for VideoDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoDecoder").finish_non_exhaustive()
    }
}

impl VideoDecoder {
    /// A fresh decoder.
    pub(crate) fn new() -> Result<VideoDecoder, CodecError> {
        Ok(VideoDecoder {
            // No flush after each access unit: with B-frames that asks
            // for a picture the decoder must still hold back, which it
            // reports as an error; pictures come out in display order.
            decoder: openh264::decoder::Decoder::with_api_config(
                openh264::OpenH264API::from_source(),
                openh264::decoder::DecoderConfig::new()
                    .flush_after_decode(openh264::decoder::Flush::NoFlush),
            )
            .map_err(|e| lib("H.264 decoder", e))?,
            config: None,
            annexb: Vec::new(),
        })
    }

    /// Decodes one access unit; `None` while the decoder has no picture
    /// to show (parameter sets only, or waiting for a keyframe).
    pub(crate) fn decode(
        &mut self,
        config: &Arc<VideoConfig>,
        frame: &Frame,
    ) -> Result<Option<Picture>, CodecError> {
        if config.codec != VideoCodec::H264 {
            return Err(CodecError::Unsupported(format!(
                "video codec {} (the mixer decodes H.264)",
                config.codec.name()
            )));
        }
        self.annexb.clear();
        let changed = match &self.config {
            Some(c) => !(Arc::ptr_eq(c, config) || c.record == config.record),
            None => true,
        };
        if changed || frame.keyframe {
            let avc = h264::parse_record(&config.record).map_err(|e| lib("AVC record", e))?;
            for ps in avc.sps.iter().chain(&avc.pps) {
                self.annexb.extend_from_slice(&[0, 0, 0, 1]);
                self.annexb.extend_from_slice(ps);
            }
            self.config = Some(config.clone());
        }
        media::codec::length_prefixed_to_annexb(
            &frame.data,
            config.nal_length_size,
            &mut self.annexb,
        )
        .map_err(|e| lib("H.264 frame", e))?;
        let decoded = self
            .decoder
            .decode(&self.annexb)
            .map_err(|e| lib("H.264 decode", e))?;
        Ok(decoded.and_then(|yuv| {
            Picture::from_planes(yuv.dimensions(), yuv.strides(), (yuv.y(), yuv.u(), yuv.v()))
        }))
    }
}

/// An H.264 access unit the encoder produced, in the hub's form.
#[derive(Debug)]
pub(crate) struct EncodedVideo {
    /// NAL units with 4-byte length prefixes (parameter sets removed).
    pub(crate) data: Bytes,
    /// An IDR picture.
    pub(crate) keyframe: bool,
    /// The configuration (AVCDecoderConfigurationRecord) when the encoder
    /// emitted parameter sets with this picture.
    pub(crate) config: Option<VideoConfig>,
}

/// Encoder settings of the output video.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct VideoSettings {
    pub(crate) bitrate_bps: u32,
    pub(crate) fps: u32,
    /// Frames between IDR pictures.
    pub(crate) gop_frames: u32,
}

/// Encodes the composited pictures to H.264 (constrained baseline).
pub(crate) struct VideoEncoder {
    encoder: openh264::encoder::Encoder,
    force_idr: bool,
}

impl std::fmt::Debug for VideoEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoEncoder").finish_non_exhaustive()
    }
}

/// The picture as OpenH264 reads it.
struct Source<'a>(&'a Picture);

impl YUVSource for Source<'_> {
    fn dimensions(&self) -> (usize, usize) {
        (self.0.width, self.0.height)
    }
    fn strides(&self) -> (usize, usize, usize) {
        let cw = self.0.width.div_ceil(2);
        (self.0.width, cw, cw)
    }
    fn y(&self) -> &[u8] {
        &self.0.y
    }
    fn u(&self) -> &[u8] {
        &self.0.u
    }
    fn v(&self) -> &[u8] {
        &self.0.v
    }
}

impl VideoEncoder {
    /// An encoder with these settings (the size comes with each picture).
    pub(crate) fn new(s: VideoSettings) -> Result<VideoEncoder, CodecError> {
        use openh264::encoder::{
            BitRate, Complexity, EncoderConfig, FrameRate, IntraFramePeriod, RateControlMode,
            UsageType,
        };
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(s.bitrate_bps))
            .max_frame_rate(FrameRate::from_hz(s.fps as f32))
            .rate_control_mode(RateControlMode::Bitrate)
            .skip_frames(false)
            .usage_type(UsageType::CameraVideoRealTime)
            .complexity(Complexity::Low)
            .intra_frame_period(IntraFramePeriod::from_num_frames(s.gop_frames.max(1)))
            .num_threads(1);
        let encoder = openh264::encoder::Encoder::with_api_config(
            openh264::OpenH264API::from_source(),
            config,
        )
        .map_err(|e| lib("H.264 encoder", e))?;
        Ok(VideoEncoder {
            encoder,
            force_idr: false,
        })
    }

    /// Makes the next picture an IDR (e.g. after a layout change).
    pub(crate) fn force_keyframe(&mut self) {
        self.force_idr = true;
    }

    /// Encodes one picture at `pts_ms`; `None` if the encoder skipped it.
    pub(crate) fn encode(
        &mut self,
        picture: &Picture,
        pts_ms: u64,
    ) -> Result<Option<EncodedVideo>, CodecError> {
        if std::mem::take(&mut self.force_idr) {
            self.encoder.force_intra_frame();
        }
        let bs = self
            .encoder
            .encode_at(&Source(picture), openh264::Timestamp::from_millis(pts_ms))
            .map_err(|e| lib("H.264 encode", e))?;
        use openh264::encoder::FrameType;
        let keyframe = match bs.frame_type() {
            FrameType::IDR | FrameType::I => true,
            FrameType::P | FrameType::IPMixed => false,
            FrameType::Skip | FrameType::Invalid => return Ok(None),
        };
        let mut sps = Vec::new();
        let mut pps = Vec::new();
        let mut data = Vec::new();
        for l in 0..bs.num_layers() {
            let Some(layer) = bs.layer(l) else { continue };
            for n in 0..layer.nal_count() {
                let Some(nal) = layer.nal_unit(n).map(strip_start_code) else {
                    continue;
                };
                let Some(&header) = nal.first() else { continue };
                match h264::nal_unit_type(header) {
                    h264::nal_type::SPS => sps.push(nal.to_vec()),
                    NAL_PPS => pps.push(nal.to_vec()),
                    _ => {
                        let len = u32::try_from(nal.len()).map_err(|e| lib("NAL size", e))?;
                        data.extend_from_slice(&len.to_be_bytes());
                        data.extend_from_slice(nal);
                    }
                }
            }
        }
        if data.is_empty() {
            return Ok(None);
        }
        let config = match sps.first() {
            None => None,
            Some(first) => {
                let sps_refs: Vec<&[u8]> = sps.iter().map(Vec::as_slice).collect();
                let pps_refs: Vec<&[u8]> = pps.iter().map(Vec::as_slice).collect();
                let record =
                    h264::build_record(&sps_refs, &pps_refs).map_err(|e| lib("AVC record", e))?;
                let info = h264::parse_sps(first).map_err(|e| lib("SPS", e))?;
                Some(VideoConfig {
                    codec: VideoCodec::H264,
                    record: Bytes::from(record),
                    width: info.width,
                    height: info.height,
                    nal_length_size: 4,
                })
            }
        };
        Ok(Some(EncodedVideo {
            data: Bytes::from(data),
            keyframe,
            config,
        }))
    }
}

/// A NAL unit without its Annex-B start code.
fn strip_start_code(nal: &[u8]) -> &[u8] {
    nal.strip_prefix(&[0, 0, 0, 1])
        .or_else(|| nal.strip_prefix(&[0, 0, 1]))
        .unwrap_or(nal)
}

/// Decodes one input's AAC-LC frames to interleaved `f32`.
pub(crate) struct AudioInputDecoder {
    decoder: AacDecoder,
    asc: Bytes,
    /// Sample rate and channels of the decoded audio.
    pub(crate) rate: u32,
    pub(crate) channels: usize,
    pcm: Vec<f32>,
}

impl std::fmt::Debug for AudioInputDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioInputDecoder")
            .field("rate", &self.rate)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl AudioInputDecoder {
    /// A decoder for `config` (AAC-LC, mono or stereo).
    pub(crate) fn new(config: &AudioConfig) -> Result<AudioInputDecoder, CodecError> {
        if config.codec != AudioCodec::Aac {
            return Err(CodecError::Unsupported(format!(
                "audio codec {} (the mixer decodes AAC)",
                config.codec.name()
            )));
        }
        let asc = media::codec::aac::parse_asc(&config.asc).map_err(|e| lib("AAC config", e))?;
        let channels = usize::from(asc.channels());
        if asc.sbr_sample_rate.is_some() || asc.object_type != 2 || !(1..=2).contains(&channels) {
            return Err(CodecError::Unsupported(
                "AAC other than LC mono/stereo".to_string(),
            ));
        }
        let mut params = AudioCodecParameters::new();
        params
            .for_codec(CODEC_ID_AAC)
            .with_sample_rate(asc.sample_rate);
        params.extra_data = Some(config.asc.to_vec().into_boxed_slice());
        let decoder = AacDecoder::try_new(&params, &AudioDecoderOptions::default())
            .map_err(|e| lib("AAC decoder", e))?;
        Ok(AudioInputDecoder {
            decoder,
            asc: config.asc.clone(),
            rate: asc.sample_rate,
            channels,
            pcm: Vec::with_capacity(AAC_FRAME * 2),
        })
    }

    /// Whether this decoder was made for `config`.
    pub(crate) fn serves(&self, config: &AudioConfig) -> bool {
        config.codec == AudioCodec::Aac && config.asc == self.asc
    }

    /// Decodes one access unit; a frame that fails to decode becomes one
    /// frame of silence, so the input keeps its time.
    pub(crate) fn decode(&mut self, data: &[u8]) -> &[f32] {
        let packet = PacketRef::new(0, Timestamp::new(0), Duration::new(AAC_FRAME as u64), data);
        match self.decoder.decode_ref(&packet) {
            Ok(buf) if buf.frames() > 0 && buf.num_planes() == self.channels => {
                buf.copy_to_vec_interleaved(&mut self.pcm);
            }
            _ => {
                self.pcm.clear();
                self.pcm.resize(AAC_FRAME * self.channels, 0.0);
            }
        }
        &self.pcm
    }
}

/// Encodes the mixed audio to raw AAC-LC access units.
pub(crate) struct AudioEncoder {
    encoder: fdk_aac::enc::Encoder,
    /// The AudioSpecificConfig of the output.
    pub(crate) asc: Bytes,
    out: Vec<u8>,
}

impl std::fmt::Debug for AudioEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioEncoder").finish_non_exhaustive()
    }
}

impl AudioEncoder {
    /// An AAC-LC encoder at `rate` Hz, `channels` (1 or 2), `bitrate_bps`.
    pub(crate) fn new(rate: u32, channels: usize, bitrate_bps: u32) -> Result<Self, CodecError> {
        use fdk_aac::enc::{
            AudioObjectType, BitRate, ChannelMode, Encoder, EncoderParams, Transport,
        };
        let encoder = Encoder::new(EncoderParams {
            bit_rate: BitRate::Cbr(bitrate_bps),
            sample_rate: rate,
            transport: Transport::Raw,
            channels: if channels == 1 {
                ChannelMode::Mono
            } else {
                ChannelMode::Stereo
            },
            audio_object_type: AudioObjectType::Mpeg4LowComplexity,
        })
        .map_err(|e| lib("AAC encoder", e))?;
        let info = encoder.info().map_err(|e| lib("AAC encoder info", e))?;
        let size = usize::try_from(info.confSize)
            .unwrap_or(0)
            .min(info.confBuf.len());
        let asc = Bytes::copy_from_slice(&info.confBuf[..size]);
        Ok(AudioEncoder {
            encoder,
            asc,
            out: vec![0; 8192],
        })
    }

    /// Encodes one frame of interleaved samples ([`AAC_FRAME`] per
    /// channel); returns the access unit the encoder released, if any (it
    /// holds back its look-ahead at the start).
    pub(crate) fn encode(&mut self, pcm: &[i16]) -> Result<Option<Bytes>, CodecError> {
        let info = self
            .encoder
            .encode(pcm, &mut self.out)
            .map_err(|e| lib("AAC encode", e))?;
        Ok((info.output_size > 0)
            .then(|| Bytes::copy_from_slice(&self.out[..info.output_size.min(self.out.len())])))
    }
}

#[cfg(test)]
mod tests {
    use super::super::canvas::{Picture, Rect, Yuv};
    use super::*;

    fn settings() -> VideoSettings {
        VideoSettings {
            bitrate_bps: 800_000,
            fps: 30,
            gop_frames: 30,
        }
    }

    #[test]
    fn h264_round_trip_keeps_colours_and_positions() {
        let mut enc = VideoEncoder::new(settings()).expect("encoder");
        let mut dec = VideoDecoder::new().expect("decoder");
        let red = Yuv::from_rgb(255, 0, 0);
        let blue = Yuv::from_rgb(0, 0, 255);
        let mut pic = Picture::filled(320, 180, Yuv::BLACK);
        pic.draw(
            &Picture::filled(8, 8, red),
            Rect {
                x: 0,
                y: 0,
                width: 160,
                height: 180,
            },
        );
        pic.draw(
            &Picture::filled(8, 8, blue),
            Rect {
                x: 160,
                y: 0,
                width: 160,
                height: 180,
            },
        );
        let mut config: Option<Arc<VideoConfig>> = None;
        let mut last = None;
        for i in 0..5u64 {
            let Some(out) = enc.encode(&pic, i * 33).expect("encode") else {
                continue;
            };
            if i == 0 {
                assert!(out.keyframe, "first picture is an IDR");
                assert!(out.config.is_some(), "with parameter sets");
            }
            if let Some(c) = out.config {
                assert_eq!((c.width, c.height), (320, 180));
                config = Some(Arc::new(c));
            }
            let frame = Frame {
                track: media::Track::Video,
                dts: i as i64 * 33,
                cts: 0,
                keyframe: out.keyframe,
                data: out.data,
            };
            let cfg = config.clone().expect("config first");
            if let Some(p) = dec.decode(&cfg, &frame).expect("decode") {
                last = Some(p);
            }
        }
        let p = last.expect("a decoded picture");
        assert_eq!((p.width, p.height), (320, 180));
        let near = |a: u8, b: u8| a.abs_diff(b) <= 12;
        let l = p.pixel(80, 90).expect("left");
        let r = p.pixel(240, 90).expect("right");
        assert!(near(l.y, red.y) && near(l.v, red.v), "left {l:?}");
        assert!(near(r.y, blue.y) && near(r.u, blue.u), "right {r:?}");
    }

    #[test]
    fn aac_round_trip_through_fdk_and_symphonia() {
        let mut enc = AudioEncoder::new(48_000, 2, 128_000).expect("encoder");
        assert_eq!(enc.asc.len(), 2, "AAC-LC AudioSpecificConfig");
        let config = AudioConfig {
            codec: AudioCodec::Aac,
            sample_rate: 48_000,
            channels: 2,
            asc: enc.asc.clone(),
            flv_header: 0xaf,
        };
        let mut dec = AudioInputDecoder::new(&config).expect("decoder");
        assert_eq!((dec.rate, dec.channels), (48_000, 2));
        let mut energy = 0.0f64;
        let mut units = 0;
        for k in 0..20 {
            let pcm: Vec<i16> = (0..AAC_FRAME)
                .flat_map(|i| {
                    let t = (k * AAC_FRAME + i) as f64 / 48_000.0;
                    let s = ((2.0 * std::f64::consts::PI * 440.0 * t).sin() * 8000.0) as i16;
                    [s, s]
                })
                .collect();
            if let Some(au) = enc.encode(&pcm).expect("encode") {
                units += 1;
                let out = dec.decode(&au);
                assert_eq!(out.len(), AAC_FRAME * 2);
                energy += out.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>();
            }
        }
        assert!(units >= 15, "{units} access units");
        assert!(energy > 1.0, "decoded audio is not silent");
    }

    #[test]
    fn non_aac_and_he_aac_inputs_are_refused() {
        let mp3 = AudioConfig {
            codec: AudioCodec::Mp3,
            sample_rate: 44_100,
            channels: 2,
            asc: Bytes::new(),
            flv_header: 0x2f,
        };
        assert!(matches!(
            AudioInputDecoder::new(&mp3),
            Err(CodecError::Unsupported(_))
        ));
    }
}
