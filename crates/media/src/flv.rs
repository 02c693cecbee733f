//! FLV (Adobe "Video File Format Specification" v10.1 §E, plus veovera
//! enhanced RTMP v1/v2): tag-body demuxing for RTMP ingest ([`TagDemuxer`]),
//! the sans-IO file muxer ([`FlvMuxer`]), a tag walker over any `Read + Seek`
//! ([`TagWalker`], [`scan`]) and crash recovery of a file the muxer wrote
//! ([`recover`]). Owns the FLV wire layout; codec payloads are parsed by
//! [`crate::codec`], and nothing here opens files.

mod demux;
mod metadata;
mod mux;
mod reader;
mod recover;

use thiserror::Error;

use crate::amf0::Amf0Error;
use crate::codec::CodecError;
use crate::frame::Track;

pub use demux::{DemuxEvent, Demuxed, TagDemuxer};
pub use mux::{FlvMuxer, Patch};
pub use reader::{FileHeader, ScanResult, TagHead, TagInfo, TagWalker, read_header, scan};
pub use recover::recover;

/// FLV tag types (FLV spec §E.4.1 `TagType`).
pub mod tag_type {
    /// Audio data.
    pub const AUDIO: u8 = 8;
    /// Video data.
    pub const VIDEO: u8 = 9;
    /// Script data (AMF0, e.g. `onMetaData`).
    pub const SCRIPT: u8 = 18;
}

/// Video tag codes (FLV spec §E.4.3.1 `VIDEODATA`; enhanced RTMP v2
/// "ExVideoTagHeader").
mod video_code {
    /// `FrameType` 1: key frame.
    pub(super) const FRAME_KEY: u8 = 1;
    /// `FrameType` 2: inter frame.
    pub(super) const FRAME_INTER: u8 = 2;
    /// `FrameType` 5: video info / command frame.
    pub(super) const FRAME_COMMAND: u8 = 5;
    /// Legacy `CodecID` 7: AVC.
    pub(super) const CODEC_AVC: u8 = 7;
    /// Legacy `CodecID` 12: HEVC (a de-facto extension, not in the spec).
    pub(super) const CODEC_HEVC: u8 = 12;
    /// Legacy `AVCPacketType` 0 / enhanced `SequenceStart`.
    pub(super) const SEQUENCE_START: u8 = 0;
    /// Legacy `AVCPacketType` 1 / enhanced `CodedFrames` (with SI24 CTS).
    pub(super) const CODED_FRAMES: u8 = 1;
    /// Legacy `AVCPacketType` 2 / enhanced `SequenceEnd`.
    pub(super) const SEQUENCE_END: u8 = 2;
    /// Enhanced `CodedFramesX`: coded frames with CTS 0 and no CTS field.
    pub(super) const CODED_FRAMES_X: u8 = 3;
    /// Enhanced `Multitrack`.
    pub(super) const MULTITRACK: u8 = 6;
    /// Enhanced `ModEx`.
    pub(super) const MOD_EX: u8 = 7;
    /// `IsExHeader` bit of the first byte.
    pub(super) const EX_HEADER: u8 = 0x80;
    /// Enhanced FourCC of AVC.
    pub(super) const FOURCC_AVC: [u8; 4] = *b"avc1";
    /// Enhanced FourCC of HEVC.
    pub(super) const FOURCC_HEVC: [u8; 4] = *b"hvc1";
}

/// Audio tag codes (FLV spec §E.4.2.1 `AUDIODATA`; enhanced RTMP v2
/// "ExAudioTagHeader").
mod audio_code {
    /// `SoundFormat` 2: MP3.
    pub(super) const FORMAT_MP3: u8 = 2;
    /// `SoundFormat` 9: enhanced audio (`ExHeader`).
    pub(super) const FORMAT_EX: u8 = 9;
    /// `SoundFormat` 10: AAC.
    pub(super) const FORMAT_AAC: u8 = 10;
    /// `SoundFormat` 14: MP3 8 kHz.
    pub(super) const FORMAT_MP3_8K: u8 = 14;
    /// `AACPacketType` 0 / enhanced `SequenceStart`.
    pub(super) const SEQUENCE_START: u8 = 0;
    /// `AACPacketType` 1 / enhanced `CodedFrames`.
    pub(super) const CODED_FRAMES: u8 = 1;
    /// Enhanced `Multitrack`.
    pub(super) const MULTITRACK: u8 = 5;
    /// Enhanced `ModEx`.
    pub(super) const MOD_EX: u8 = 7;
    /// The header byte of AAC: format 10, 44 kHz, 16-bit, stereo (the spec
    /// fixes these for AAC).
    pub(super) const AAC_HEADER: u8 = 0xaf;
    /// Enhanced FourCC of AAC.
    pub(super) const FOURCC_AAC: [u8; 4] = *b"mp4a";
    /// Enhanced FourCC of MP3.
    pub(super) const FOURCC_MP3: [u8; 4] = *b".mp3";
}

/// Size of the FLV tag header (FLV spec §E.4.1).
pub const TAG_HEADER_LEN: usize = 11;
/// Largest tag body the 24-bit `DataSize` can describe.
pub const MAX_TAG_BODY: usize = 0xff_ffff;

/// Why FLV bytes could not be read or written.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FlvError {
    /// The input ended inside a header or field.
    #[error("FLV {0} truncated")]
    Truncated(&'static str),
    /// The bytes do not start with an FLV file header.
    #[error("not an FLV file")]
    NotFlv,
    /// A codec configuration could not be parsed.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// Script data could not be decoded.
    #[error(transparent)]
    Amf0(#[from] Amf0Error),
    /// A frame handed to the muxer has a negative DTS (repair it first).
    #[error("negative timestamp {0} ms")]
    NegativeTimestamp(i64),
    /// A frame handed to the muxer belongs to a track with no configuration.
    #[error("no {0:?} configuration for a frame")]
    MissingConfig(Track),
    /// A tag body longer than [`MAX_TAG_BODY`].
    #[error("tag body of {0} bytes exceeds the FLV limit")]
    TagTooLarge(usize),
}

/// Reads a signed 24-bit big-endian integer (the composition time offset
/// `SI24`; it is signed, unlike what some demuxers assume).
fn read_si24(b: [u8; 3]) -> i32 {
    // Place the 24 bits at the top of an i32 and shift back arithmetically.
    i32::from_be_bytes([b[0], b[1], b[2], 0]) >> 8
}

/// Encodes a signed 24-bit big-endian integer, saturating at its range.
fn si24_bytes(v: i32) -> [u8; 3] {
    let [_, a, b, c] = v.clamp(-0x80_0000, 0x7f_ffff).to_be_bytes();
    [a, b, c]
}

/// Appends an 11-byte tag header.
pub(crate) fn write_tag_header(tag_type: u8, body_len: usize, timestamp: u32, out: &mut Vec<u8>) {
    let ts = timestamp.to_be_bytes();
    let len = (body_len as u32).to_be_bytes();
    out.extend_from_slice(&[
        tag_type, len[1], len[2], len[3], ts[1], ts[2], ts[3], ts[0], 0, 0, 0,
    ]);
}

#[cfg(test)]
mod tests;
