//! Elementary-stream payloads as MPEG-TS carries them: H.264/H.265 access
//! units in Annex-B with an access unit delimiter and, on keyframes, the
//! parameter sets (ISO/IEC 13818-1 §2.14, ITU-T H.264 §7.4.1.2.3); AAC in
//! ADTS (§2.4.4.9 stream type 0x0F); MPEG audio as is. Also the PMT stream
//! types of each codec.

use super::packet::Payload;
use crate::codec::{CodecError, aac, h264, h265, mp3, nal_units};
use crate::frame::{AudioCodec, AudioConfig, VideoCodec, VideoConfig};

/// PMT `stream_type` values (ISO/IEC 13818-1 Table 2-34).
pub mod stream_type {
    /// ISO/IEC 11172-3 (MPEG-1) audio: MP3 at 32, 44.1 or 48 kHz.
    pub const MPEG1_AUDIO: u8 = 0x03;
    /// ISO/IEC 13818-3 (MPEG-2) audio: MP3 at the lower rates.
    pub const MPEG2_AUDIO: u8 = 0x04;
    /// ISO/IEC 13818-7 audio with ADTS transport syntax (AAC).
    pub const AAC_ADTS: u8 = 0x0f;
    /// ITU-T H.264 / AVC.
    pub const H264: u8 = 0x1b;
    /// ITU-T H.265 / HEVC.
    pub const H265: u8 = 0x24;
}

/// H.264 access unit delimiter, `primary_pic_type` 7 (any slice type).
const AUD_H264: [u8; 6] = [0, 0, 0, 1, h264::nal_type::AUD, 0xf0];
/// H.265 access unit delimiter, `pic_type` 2 (any).
const AUD_H265: [u8; 7] = [0, 0, 0, 1, h265::nal_type::AUD << 1, 0x01, 0x50];

/// The Annex-B start code put before each NAL unit.
const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// The PMT stream type of a video codec.
pub(crate) fn video_stream_type(codec: VideoCodec) -> u8 {
    match codec {
        VideoCodec::H264 => stream_type::H264,
        VideoCodec::H265 => stream_type::H265,
    }
}

/// The PMT stream type of an audio configuration.
pub(crate) fn audio_stream_type(cfg: &AudioConfig) -> u8 {
    match cfg.codec {
        AudioCodec::Aac => stream_type::AAC_ADTS,
        AudioCodec::Mp3 if mp3::is_mpeg1_rate(cfg.sample_rate) => stream_type::MPEG1_AUDIO,
        AudioCodec::Mp3 => stream_type::MPEG2_AUDIO,
    }
}

/// What a video configuration contributes to each access unit.
#[derive(Clone, Debug)]
pub(crate) struct VideoEs {
    codec: VideoCodec,
    nal_length_size: u8,
    /// Parameter sets of the record in Annex-B (VPS, SPS, PPS order).
    params: Vec<u8>,
}

impl VideoEs {
    /// Reads the parameter sets out of `cfg`'s configuration record.
    pub(crate) fn new(cfg: &VideoConfig) -> Result<Self, CodecError> {
        let mut params = Vec::new();
        let mut put = |nal: &[u8]| {
            params.extend_from_slice(&[0, 0, 0, 1]);
            params.extend_from_slice(nal);
        };
        let nal_length_size = match cfg.codec {
            VideoCodec::H264 => {
                let rec = h264::parse_record(&cfg.record)?;
                rec.sps.iter().chain(&rec.pps).for_each(|n| put(n));
                rec.nal_length_size
            }
            VideoCodec::H265 => {
                let rec = h265::parse_record(&cfg.record)?;
                use h265::nal_type::{PPS, SPS, VPS};
                for t in [VPS, SPS, PPS] {
                    rec.nalus(t).for_each(|n| put(n));
                }
                rec.nal_length_size
            }
        };
        Ok(VideoEs {
            codec: cfg.codec,
            // The config's own field wins: it is what the frames use.
            nal_length_size: if (1..=4).contains(&cfg.nal_length_size) {
                cfg.nal_length_size
            } else {
                nal_length_size
            },
            params,
        })
    }

    /// One access unit in Annex-B, read where it lies: an AUD first
    /// (unless the frame has one), then on keyframes the record's parameter
    /// sets (unless the frame carries an SPS), then the frame's NAL units.
    /// An error when a NAL unit's length prefix is malformed.
    pub(crate) fn access_unit<'a>(
        &'a self,
        data: &'a [u8],
        keyframe: bool,
    ) -> Result<AccessUnit<'a>, CodecError> {
        let (mut has_aud, mut has_sps) = (false, false);
        let mut nals_len = 0;
        for nal in nal_units(data, self.nal_length_size) {
            let nal = nal?;
            nals_len += START_CODE.len() + nal.len();
            if let Some(&h) = nal.first() {
                let (aud, sps) = match self.codec {
                    VideoCodec::H264 => {
                        let t = h264::nal_unit_type(h);
                        (t == h264::nal_type::AUD, t == h264::nal_type::SPS)
                    }
                    VideoCodec::H265 => {
                        let t = h265::nal_unit_type(h);
                        (t == h265::nal_type::AUD, t == h265::nal_type::SPS)
                    }
                };
                has_aud |= aud;
                has_sps |= sps;
            }
        }
        let aud: &'static [u8] = match (has_aud, self.codec) {
            (true, _) => &[],
            (false, VideoCodec::H264) => &AUD_H264,
            (false, VideoCodec::H265) => &AUD_H265,
        };
        let params = if keyframe && !has_sps {
            &self.params[..]
        } else {
            &[]
        };
        Ok(AccessUnit {
            aud,
            params,
            nals: data,
            nal_length_size: self.nal_length_size,
            len: aud.len() + params.len() + nals_len,
        })
    }
}

/// An access unit in Annex-B as [`VideoEs::access_unit`] found it: what
/// is added before the frame's NAL units and the NAL units themselves,
/// which the muxer copies once, into the transport packets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AccessUnit<'a> {
    /// The access unit delimiter to add, or nothing.
    aud: &'static [u8],
    /// The parameter sets to add, in Annex-B, or nothing.
    params: &'a [u8],
    /// The frame's length-prefixed NAL units, all well-formed.
    nals: &'a [u8],
    nal_length_size: u8,
    /// Bytes in all, in Annex-B.
    len: usize,
}

impl<'a> AccessUnit<'a> {
    /// The access unit's bytes in order, as slices: the AUD, the parameter
    /// sets, then a start code and the body of each NAL unit.
    pub(crate) fn payload(self) -> Payload<impl Iterator<Item = &'a [u8]>> {
        let nals = nal_units(self.nals, self.nal_length_size)
            .map_while(Result::ok)
            .flat_map(|nal| [&START_CODE[..], nal]);
        Payload {
            len: self.len,
            slices: [self.aud, self.params].into_iter().chain(nals),
        }
    }
}

/// How audio frames become PES payload.
#[derive(Clone, Debug)]
pub(crate) enum AudioEs {
    /// Raw AAC access units get an ADTS header built from this.
    Aac(aac::AscInfo),
    /// MPEG audio frames carry their own headers.
    Mpeg,
}

impl AudioEs {
    /// Reads what framing `cfg` needs (the AudioSpecificConfig for AAC).
    pub(crate) fn new(cfg: &AudioConfig) -> Result<Self, CodecError> {
        Ok(match cfg.codec {
            AudioCodec::Aac => AudioEs::Aac(aac::parse_asc(&cfg.asc)?),
            AudioCodec::Mp3 => AudioEs::Mpeg,
        })
    }

    /// Nominal duration of `data` in ms: 1024 samples for AAC, the header's
    /// sample count for MPEG audio (1152 when it cannot be read).
    pub(crate) fn frame_ms(&self, data: &[u8], sample_rate: u32) -> f64 {
        let (samples, rate) = match self {
            AudioEs::Aac(asc) => (aac::FRAME_SAMPLES, asc.sample_rate),
            AudioEs::Mpeg => {
                mp3::parse_header(data).map_or((1152, sample_rate), |h| (h.samples, h.sample_rate))
            }
        };
        f64::from(samples) * 1000.0 / f64::from(rate.max(1))
    }

    /// The header the stream puts before a frame of `data`: ADTS for AAC,
    /// none for MPEG audio, which carries its own.
    pub(crate) fn header(&self, data: &[u8]) -> Result<Option<[u8; 7]>, CodecError> {
        match self {
            AudioEs::Aac(asc) => aac::adts_header(asc, data.len()).map(Some),
            AudioEs::Mpeg => Ok(None),
        }
    }
}
