//! Elementary-stream payloads as MPEG-TS carries them: H.264/H.265 access
//! units in Annex-B with an access unit delimiter and, on keyframes, the
//! parameter sets (ISO/IEC 13818-1 §2.14, ITU-T H.264 §7.4.1.2.3); AAC in
//! ADTS (§2.4.4.9 stream type 0x0F); MPEG audio as is. Also the PMT stream
//! types of each codec.

use crate::codec::{CodecError, aac, h264, h265, length_prefixed_to_annexb, mp3, nal_units};
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

    /// Appends one access unit in Annex-B: an AUD first (unless the frame
    /// has one), then on keyframes the record's parameter sets (unless the
    /// frame carries an SPS), then the frame's NAL units. On error `out` is
    /// unchanged.
    pub(crate) fn access_unit(
        &self,
        data: &[u8],
        keyframe: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let start = out.len();
        let (has_aud, has_sps) = self.scan(data);
        if !has_aud {
            match self.codec {
                VideoCodec::H264 => out.extend_from_slice(&AUD_H264),
                VideoCodec::H265 => out.extend_from_slice(&AUD_H265),
            }
        }
        if keyframe && !has_sps {
            out.extend_from_slice(&self.params);
        }
        length_prefixed_to_annexb(data, self.nal_length_size, out).inspect_err(|_| {
            out.truncate(start);
        })
    }

    /// Whether the frame's NAL units (up to a malformed one) include an AUD
    /// and an SPS.
    fn scan(&self, data: &[u8]) -> (bool, bool) {
        let (mut aud, mut sps) = (false, false);
        for nal in nal_units(data, self.nal_length_size).map_while(Result::ok) {
            if let Some(&h) = nal.first() {
                let (a, s) = match self.codec {
                    VideoCodec::H264 => {
                        let t = h264::nal_unit_type(h);
                        (t == h264::nal_type::AUD, t == h264::nal_type::SPS)
                    }
                    VideoCodec::H265 => {
                        let t = h265::nal_unit_type(h);
                        (t == h265::nal_type::AUD, t == h265::nal_type::SPS)
                    }
                };
                aud |= a;
                sps |= s;
            }
        }
        (aud, sps)
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
