//! The codec-neutral media model every muxer consumes: [`Frame`]s of one
//! [`Track`], plus the decoder configuration of each track ([`VideoConfig`],
//! [`AudioConfig`]). Owns no I/O and knows no container format.

use std::sync::Arc;

use bytes::Bytes;

/// Video codecs liverec carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    /// H.264 / AVC (FLV CodecID 7, enhanced FourCC `avc1`).
    H264,
    /// H.265 / HEVC (enhanced FourCC `hvc1`, legacy CodecID 12).
    H265,
}

impl VideoCodec {
    /// Lower-case name as used in callbacks and logs (`h264`, `h265`).
    pub fn name(self) -> &'static str {
        match self {
            VideoCodec::H264 => "h264",
            VideoCodec::H265 => "h265",
        }
    }
}

/// Audio codecs liverec carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// AAC (FLV SoundFormat 10).
    Aac,
    /// MPEG-1/2 Layer III (FLV SoundFormat 2).
    Mp3,
}

impl AudioCodec {
    /// Lower-case name as used in callbacks and logs (`aac`, `mp3`).
    pub fn name(self) -> &'static str {
        match self {
            AudioCodec::Aac => "aac",
            AudioCodec::Mp3 => "mp3",
        }
    }
}

/// Decoder configuration of a video track.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoConfig {
    /// The codec.
    pub codec: VideoCodec,
    /// AVCDecoderConfigurationRecord (H.264) or HEVCDecoderConfigurationRecord
    /// (H.265), as carried in the FLV sequence header.
    pub record: Bytes,
    /// Coded width in pixels after cropping (0 when the SPS could not be read).
    pub width: u32,
    /// Coded height in pixels after cropping (0 when the SPS could not be read).
    pub height: u32,
    /// Size in bytes of the NAL unit length prefix used by frames (1, 2 or 4).
    pub nal_length_size: u8,
}

/// Decoder configuration of an audio track.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioConfig {
    /// The codec.
    pub codec: AudioCodec,
    /// Sampling rate in Hz.
    pub sample_rate: u32,
    /// Channel count (1 or 2 in practice).
    pub channels: u8,
    /// AAC AudioSpecificConfig; empty for MP3.
    pub asc: Bytes,
    /// The FLV audio tag header byte (SoundFormat, SoundRate, SoundSize,
    /// SoundType) as received, so FLV output reproduces it exactly.
    pub flv_header: u8,
}

/// Which track a frame belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Track {
    /// The video track.
    Video,
    /// The audio track.
    Audio,
}

/// One access unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Track of this frame.
    pub track: Track,
    /// Decode timestamp in milliseconds on the caller's timeline.
    pub dts: i64,
    /// Composition offset in milliseconds: `pts = dts + cts` (0 for audio).
    pub cts: i32,
    /// Video: a random access point (IDR / key frame). Audio: always true.
    pub keyframe: bool,
    /// Video: NAL units, each prefixed by its length (`nal_length_size` bytes,
    /// as in the codec's configuration record). Audio: one raw AAC access
    /// unit, or MP3 frame(s) with their headers.
    pub data: Bytes,
}

impl Frame {
    /// Presentation timestamp in milliseconds.
    pub fn pts(&self) -> i64 {
        self.dts + i64::from(self.cts)
    }
}

/// The decoder configurations in effect for a frame. Cheap to clone; a
/// muxer detects a change by `Arc::ptr_eq` (falling back to a value compare).
#[derive(Clone, Debug, Default)]
pub struct Tracks {
    /// Current video configuration, if the stream has shown one.
    pub video: Option<Arc<VideoConfig>>,
    /// Current audio configuration, if the stream has shown one.
    pub audio: Option<Arc<AudioConfig>>,
}

/// Whether two configurations are the same: the same `Arc` (the usual case,
/// as the demuxer hands out one `Arc` per configuration) or equal values.
pub(crate) fn same_config<T: PartialEq>(a: &Arc<T>, b: &Arc<T>) -> bool {
    Arc::ptr_eq(a, b) || **a == **b
}
