//! Media formats for liverec, pure and synchronous: no sockets, no files, no
//! clock. Bytes and [`Frame`]s in, bytes out.
//!
//! # Layout
//!
//! - [`frame`]: the codec-neutral model ([`Frame`], [`VideoConfig`],
//!   [`AudioConfig`], [`Tracks`]).
//! - [`amf0`]: AMF0 values, shared by RTMP commands and FLV script data.
//! - [`codec`]: codec configuration parsing: AVC/HEVC configuration records
//!   and SPS picture size ([`codec::h264`], [`codec::h265`]), the AAC
//!   AudioSpecificConfig and ADTS header ([`codec::aac`]), MPEG audio frame
//!   headers ([`codec::mp3`]).
//! - [`flv`]: FLV tag-body demuxing for RTMP ingest ([`TagDemuxer`]), the
//!   sans-IO file muxer ([`FlvMuxer`]) and the file reader used for tests and
//!   crash recovery ([`flv::scan`], [`flv::recover`]).
//! - [`timestamp`]: 32-bit RTMP timestamp unwrapping ([`Unwrap32`]),
//!   per-recording repair ([`TimestampRepair`]) and media span
//!   ([`MediaSpan`]).
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

pub mod amf0;
pub mod codec;
pub mod flv;
pub mod frame;
pub mod timestamp;

pub use flv::{DemuxEvent, Demuxed, FlvError, FlvMuxer, Patch, TagDemuxer};
pub use frame::{AudioCodec, AudioConfig, Frame, Track, Tracks, VideoCodec, VideoConfig};
pub use timestamp::{MediaSpan, TimestampRepair, Unwrap32};
