//! Media formats for liverec, pure and synchronous: no sockets, no files, no
//! clock. Bytes and [`Frame`]s in, bytes out; the recoverers read through
//! the caller's `Read + Seek`.
//!
//! # Layout
//!
//! - [`frame`]: the codec-neutral model ([`Frame`], [`VideoConfig`],
//!   [`AudioConfig`], [`Tracks`]).
//! - [`adts`]: the `.aac` output, AAC frames behind ADTS headers
//!   ([`AdtsWriter`]).
//! - [`amf0`]: AMF0 values, shared by RTMP commands and FLV script data.
//! - [`codec`]: codec configuration parsing: AVC/HEVC configuration records
//!   and SPS picture size ([`codec::h264`], [`codec::h265`]), the AAC
//!   AudioSpecificConfig and ADTS header ([`codec::aac`]), MPEG audio frame
//!   headers ([`codec::mp3`]).
//! - [`flv`]: FLV tag-body demuxing for RTMP ingest ([`TagDemuxer`]), the
//!   sans-IO file muxer ([`FlvMuxer`]) and the tag walker over files
//!   ([`flv::TagWalker`], [`flv::scan`]).
//! - [`hls`]: HLS segmenting rule ([`hls::Segmenter`]) and the EVENT
//!   playlist ([`hls::Playlist`]), rendered and parsed back.
//! - [`mp3`]: the `.mp3` output ([`Mp3Writer`]): MP3 passthrough, or AAC-LC
//!   decoded and encoded with LAME.
//! - [`mp4`]: crash-safe MP4 recording: the fragmented MP4 journal
//!   ([`Fmp4Journal`]) and its conversion to a faststart MP4
//!   ([`mp4::finalize`]).
//! - [`mux`]: the [`Muxer`] interface every single-file output implements.
//! - [`recover`]: crash recovery of every recorded format (FLV, ADTS, MP3,
//!   MPEG-TS, the MP4 journal), streaming through `Read + Seek`.
//! - [`timestamp`]: 32-bit RTMP timestamp unwrapping ([`Unwrap32`]),
//!   per-recording repair ([`TimestampRepair`]) and media span
//!   ([`MediaSpan`]).
//! - [`ts`]: the MPEG-TS muxer for HLS segments ([`TsMuxer`]).
//!
//! # Specifications
//!
//! | Format | Reference |
//! |---|---|
//! | FLV | Adobe Flash Video File Format Specification v10.1, annex E |
//! | Enhanced RTMP / FLV | veovera enhanced-rtmp v1 and v2 |
//! | AMF0 | Adobe AMF0 File Format Specification |
//! | AVC | ITU-T H.264 §7.3.2.1; ISO/IEC 14496-15 §5.3.3 |
//! | HEVC | ITU-T H.265 §7.3.2.2; ISO/IEC 14496-15 §8.3.3 |
//! | AAC | ISO/IEC 14496-3 §1.6.2.1 (ASC), §1.A.2.2 (ADTS) |
//! | MP3 | ISO/IEC 11172-3 §2.4.2.3, ISO/IEC 13818-3 |
#![deny(missing_docs)]

pub mod adts;
pub mod amf0;
pub mod codec;
pub mod flv;
pub mod frame;
pub mod hls;
pub mod mp3;
pub mod mp4;
pub mod mux;
pub mod recover;
#[cfg(test)]
pub(crate) mod test_support;
pub mod timestamp;
pub mod ts;

pub use adts::AdtsWriter;
pub use flv::{DemuxEvent, Demuxed, FlvError, FlvMuxer, Patch, TagDemuxer};
pub use frame::{AudioCodec, AudioConfig, Frame, Track, Tracks, VideoCodec, VideoConfig};
pub use mp3::Mp3Writer;
pub use mp4::{FinalizeInfo, Fmp4Journal};
pub use mux::{MuxError, Muxer};
pub use timestamp::{MediaSpan, TimestampRepair, Unwrap32};
pub use ts::TsMuxer;
