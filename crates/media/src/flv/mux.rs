//! The FLV file muxer, sans-IO: it appends file bytes to a caller's buffer
//! and, at close, returns [`Patch`]es that make the `onMetaData` duration and
//! file size right. Owns the tag layout written to files; the caller owns the
//! file, its name and when bytes hit the disk.
//!
//! H.264 is written as legacy CodecID 7. H.265 is written as enhanced RTMP
//! (`hvc1`, `CodedFrames` with the composition time): FFmpeg 5.1, the
//! ffprobe of Debian 12, reads neither that nor the legacy CodecID 12
//! convention, and enhanced RTMP is what FFmpeg 6.1+ and current players
//! read. AAC uses SoundFormat 10; MP3 keeps the publisher's header byte.

use std::sync::Arc;

use super::metadata::{self, Field};
use super::{FlvError, MAX_TAG_BODY, TAG_HEADER_LEN, audio_code as ac, tag_type, video_code as vc};
use crate::frame::{
    AudioCodec, AudioConfig, Frame, Track, Tracks, VideoCodec, VideoConfig, same_config,
};
use crate::timestamp::MediaSpan;

/// Bytes to overwrite in place, at `offset` from the start of the file,
/// when the file is closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    /// Offset from the start of the file.
    pub offset: u64,
    /// The bytes to write there.
    pub bytes: Vec<u8>,
}

/// Where the metadata values sit, and what was written there.
#[derive(Debug)]
struct MetaLayout {
    body_offset: u64,
    offsets: Vec<usize>,
    written: Vec<(&'static str, Field)>,
}

/// Writes one FLV file: [`start`](Self::start) once, [`push`](Self::push)
/// per frame, [`finish`](Self::finish) at close.
#[derive(Debug)]
pub struct FlvMuxer {
    video: bool,
    audio: bool,
    written: u64,
    meta: Option<MetaLayout>,
    /// Configurations whose sequence headers were written last.
    video_cfg: Option<Arc<VideoConfig>>,
    audio_cfg: Option<Arc<AudioConfig>>,
    /// First configuration of each track, for the metadata.
    first: Tracks,
    span: MediaSpan,
}

/// Short tag-body prefix (codec header) built on the stack.
struct Prefix {
    bytes: [u8; 8],
    len: usize,
}

impl Prefix {
    fn new(parts: &[&[u8]]) -> Self {
        let mut p = Prefix {
            bytes: [0; 8],
            len: 0,
        };
        for part in parts {
            for &b in *part {
                p.bytes[p.len] = b;
                p.len += 1;
            }
        }
        p
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

fn video_prefix(codec: VideoCodec, frame_type: u8, packet_type: u8, cts: i32) -> Prefix {
    let cts = super::si24_bytes(cts);
    match codec {
        VideoCodec::H264 => Prefix::new(&[&[(frame_type << 4) | vc::CODEC_AVC, packet_type], &cts]),
        VideoCodec::H265 => {
            let b0 = vc::EX_HEADER | (frame_type << 4) | packet_type;
            if packet_type == vc::CODED_FRAMES {
                Prefix::new(&[&[b0], &vc::FOURCC_HEVC, &cts])
            } else {
                Prefix::new(&[&[b0], &vc::FOURCC_HEVC])
            }
        }
    }
}

fn audio_prefix(cfg: &AudioConfig, packet_type: u8) -> Prefix {
    match cfg.codec {
        AudioCodec::Aac => {
            Prefix::new(&[&[(ac::FORMAT_AAC << 4) | (cfg.flv_header & 0x0f), packet_type]])
        }
        AudioCodec::Mp3 => {
            let h = match cfg.flv_header >> 4 {
                ac::FORMAT_MP3 | ac::FORMAT_MP3_8K => cfg.flv_header,
                _ => (ac::FORMAT_MP3 << 4) | 0x0f,
            };
            Prefix::new(&[&[h]])
        }
    }
}

/// True when `cur` must be announced with a new sequence header.
fn changed<T: PartialEq>(prev: &Option<Arc<T>>, cur: &Arc<T>) -> bool {
    prev.as_ref().is_none_or(|p| !same_config(p, cur))
}

fn check_len(prefix: &Prefix, data_len: usize) -> Result<usize, FlvError> {
    let len = prefix.len + data_len;
    if len > MAX_TAG_BODY {
        return Err(FlvError::TagTooLarge(len));
    }
    Ok(len)
}

impl FlvMuxer {
    /// A muxer whose file header announces video and/or audio.
    pub fn new(video: bool, audio: bool) -> Self {
        FlvMuxer {
            video,
            audio,
            written: 0,
            meta: None,
            video_cfg: None,
            audio_cfg: None,
            first: Tracks::default(),
            span: MediaSpan::new(),
        }
    }

    /// Appends the file header, `PreviousTagSize0` and an `onMetaData` tag
    /// whose values are patched by [`finish`](Self::finish). Does nothing if
    /// already started ([`push`](Self::push) starts implicitly).
    pub fn start(&mut self, tracks: &Tracks, out: &mut Vec<u8>) {
        if self.meta.is_some() {
            return;
        }
        let flags = (u8::from(self.audio) << 2) | u8::from(self.video);
        out.extend_from_slice(&[b'F', b'L', b'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0]);
        self.written += 13;
        self.first = tracks.clone();
        let written = metadata::fields(self.video, self.audio, tracks, 0, 0);
        let (body, offsets) = metadata::encode(&written);
        self.meta = Some(MetaLayout {
            body_offset: self.written + TAG_HEADER_LEN as u64,
            offsets,
            written,
        });
        self.write_tag(tag_type::SCRIPT, 0, &[], &body, out);
    }

    fn write_tag(
        &mut self,
        tag_type: u8,
        timestamp: u32,
        prefix: &[u8],
        data: &[u8],
        out: &mut Vec<u8>,
    ) {
        let len = prefix.len() + data.len();
        super::write_tag_header(tag_type, len, timestamp, out);
        out.extend_from_slice(prefix);
        out.extend_from_slice(data);
        let tag_size = (TAG_HEADER_LEN + len) as u32;
        out.extend_from_slice(&tag_size.to_be_bytes());
        self.written += (TAG_HEADER_LEN + len + 4) as u64;
    }

    /// Appends `frame` (DTS >= 0, already repaired; timestamps past 2^32 ms
    /// wrap as FLV's do), preceded by a sequence-header tag when its track's
    /// configuration in `tracks` is new or changed. On error nothing is
    /// appended.
    pub fn push(
        &mut self,
        frame: &Frame,
        tracks: &Tracks,
        out: &mut Vec<u8>,
    ) -> Result<(), FlvError> {
        if frame.dts < 0 {
            return Err(FlvError::NegativeTimestamp(frame.dts));
        }
        // FLV timestamps are 32-bit milliseconds (24 bits + 8 extended).
        let ts = frame.dts as u32;
        match frame.track {
            Track::Video => {
                let cfg = tracks
                    .video
                    .as_ref()
                    .ok_or(FlvError::MissingConfig(Track::Video))?;
                let frame_type = if frame.keyframe {
                    vc::FRAME_KEY
                } else {
                    vc::FRAME_INTER
                };
                let prefix = video_prefix(cfg.codec, frame_type, vc::CODED_FRAMES, frame.cts);
                check_len(&prefix, frame.data.len())?;
                let header = if changed(&self.video_cfg, cfg) {
                    let p = video_prefix(cfg.codec, vc::FRAME_KEY, vc::SEQUENCE_START, 0);
                    check_len(&p, cfg.record.len())?;
                    Some(p)
                } else {
                    None
                };
                self.start(tracks, out);
                if let Some(p) = header {
                    self.write_tag(tag_type::VIDEO, ts, p.as_slice(), &cfg.record, out);
                    self.video_cfg = Some(Arc::clone(cfg));
                }
                self.first.video.get_or_insert_with(|| Arc::clone(cfg));
                self.write_tag(tag_type::VIDEO, ts, prefix.as_slice(), &frame.data, out);
            }
            Track::Audio => {
                let cfg = tracks
                    .audio
                    .as_ref()
                    .ok_or(FlvError::MissingConfig(Track::Audio))?;
                let prefix = audio_prefix(cfg, ac::CODED_FRAMES);
                check_len(&prefix, frame.data.len())?;
                let header = if changed(&self.audio_cfg, cfg) && cfg.codec == AudioCodec::Aac {
                    let p = audio_prefix(cfg, ac::SEQUENCE_START);
                    check_len(&p, cfg.asc.len())?;
                    Some(p)
                } else {
                    None
                };
                self.start(tracks, out);
                if let Some(p) = header {
                    self.write_tag(tag_type::AUDIO, ts, p.as_slice(), &cfg.asc, out);
                }
                self.audio_cfg = Some(Arc::clone(cfg));
                self.first.audio.get_or_insert_with(|| Arc::clone(cfg));
                self.write_tag(tag_type::AUDIO, ts, prefix.as_slice(), &frame.data, out);
            }
        }
        self.span.observe(frame.track, frame.dts);
        Ok(())
    }

    /// The patches that make the `onMetaData` values right: duration (first
    /// to last frame, plus the last frame's estimated duration), file size,
    /// and track facts that were unknown at [`start`](Self::start). Empty if
    /// nothing was started.
    pub fn finish(&mut self) -> Vec<Patch> {
        let Some(meta) = &self.meta else {
            return Vec::new();
        };
        let fields = metadata::fields(
            self.video,
            self.audio,
            &self.first,
            self.duration_ms(),
            self.written,
        );
        fields
            .iter()
            .zip(&meta.written)
            .zip(&meta.offsets)
            .filter(|(((key, now), (_, then)), _)| {
                matches!(*key, "duration" | "filesize") || now != then
            })
            .map(|(((_, now), _), &offset)| Patch {
                offset: meta.body_offset + offset as u64,
                bytes: now.bytes(),
            })
            .collect()
    }

    /// Bytes appended so far (the file size).
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Media duration so far in ms (see [`MediaSpan`]).
    pub fn duration_ms(&self) -> i64 {
        self.span.duration_ms()
    }
}
