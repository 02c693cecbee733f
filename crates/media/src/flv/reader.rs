//! Reading FLV files back: the file header, a strict tag scan that stops at
//! the first incomplete or inconsistent tag, and crash recovery of a file
//! [`super::FlvMuxer`] was writing when the process died. Works on a byte
//! slice; the caller reads and truncates the file.

use std::ops::Range;

use super::metadata::{self, Field};
use super::{FlvError, Patch, TAG_HEADER_LEN, audio_code as ac, tag_type, video_code as vc};
use crate::frame::Track;
use crate::timestamp::{MediaSpan, Unwrap32};

/// The FLV file header (FLV spec §E.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileHeader {
    /// Format version (1).
    pub version: u8,
    /// `TypeFlagsAudio`.
    pub has_audio: bool,
    /// `TypeFlagsVideo`.
    pub has_video: bool,
    /// Offset of the first `PreviousTagSize` (9 for version 1).
    pub data_offset: u32,
}

/// Reads the 9-byte file header.
pub fn read_header(data: &[u8]) -> Result<FileHeader, FlvError> {
    let h = data.get(..9).ok_or(FlvError::Truncated("file header"))?;
    if &h[..3] != b"FLV" {
        return Err(FlvError::NotFlv);
    }
    let data_offset = u32::from_be_bytes([h[5], h[6], h[7], h[8]]);
    if data_offset < 9 {
        return Err(FlvError::NotFlv);
    }
    Ok(FileHeader {
        version: h[3],
        has_audio: h[4] & 0x04 != 0,
        has_video: h[4] & 0x01 != 0,
        data_offset,
    })
}

/// One tag found by [`scan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagInfo {
    /// Offset of the tag header in the file.
    pub offset: u64,
    /// `TagType` (8 audio, 9 video, 18 script), without the filter bit.
    pub tag_type: u8,
    /// Timestamp in ms: 24 bits plus the 8-bit extension.
    pub timestamp: u32,
    /// Where the body lies in the scanned slice.
    pub body: Range<usize>,
}

/// The result of [`scan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanResult {
    /// Every complete, consistent tag, in file order.
    pub tags: Vec<TagInfo>,
    /// End of the last complete tag including its `PreviousTagSize` (or of
    /// the header and `PreviousTagSize0`); 0 if even those are incomplete.
    pub valid_len: usize,
}

fn u24(b: &[u8]) -> usize {
    (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2])
}

/// Scans the tags of an FLV file, stopping at the first tag that is
/// incomplete or whose `PreviousTagSize` does not match its size.
pub fn scan(data: &[u8]) -> ScanResult {
    let mut result = ScanResult {
        tags: Vec::new(),
        valid_len: 0,
    };
    let Ok(header) = read_header(data) else {
        return result;
    };
    let mut pos = header.data_offset as usize;
    if data.len() < pos.saturating_add(4) {
        return result;
    }
    pos += 4;
    result.valid_len = pos;
    while let Some(h) = data.get(pos..pos + TAG_HEADER_LEN) {
        let size = u24(&h[1..4]);
        let timestamp = (u32::from(h[7]) << 24) | u24(&h[4..7]) as u32;
        let body = pos + TAG_HEADER_LEN..pos + TAG_HEADER_LEN + size;
        let Some(&[a, b, c, d]) = data.get(body.end..body.end + 4) else {
            break;
        };
        if u32::from_be_bytes([a, b, c, d]) as usize != TAG_HEADER_LEN + size {
            break;
        }
        result.tags.push(TagInfo {
            offset: pos as u64,
            tag_type: h[0] & 0x1f,
            timestamp,
            body: body.clone(),
        });
        pos = body.end + 4;
        result.valid_len = pos;
    }
    result
}

/// The track of a tag that carries a coded frame (not a sequence header,
/// end of sequence or command frame).
fn frame_track(tag_type: u8, body: &[u8]) -> Option<Track> {
    let b0 = *body.first()?;
    match tag_type {
        tag_type::VIDEO => {
            let frame_type = (b0 >> 4) & 7;
            let coded = if b0 & vc::EX_HEADER != 0 {
                matches!(b0 & 0x0f, vc::CODED_FRAMES | vc::CODED_FRAMES_X)
            } else if matches!(b0 & 0x0f, vc::CODEC_AVC | vc::CODEC_HEVC) {
                body.get(1) == Some(&vc::CODED_FRAMES)
            } else {
                true
            };
            (coded && frame_type != vc::FRAME_COMMAND).then_some(Track::Video)
        }
        tag_type::AUDIO => {
            let coded = match b0 >> 4 {
                ac::FORMAT_AAC => body.get(1) == Some(&ac::CODED_FRAMES),
                ac::FORMAT_EX => b0 & 0x0f == ac::CODED_FRAMES,
                _ => true,
            };
            coded.then_some(Track::Audio)
        }
        _ => None,
    }
}

/// What [`recover`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Recovery {
    /// Length to truncate the file to: the end of its last complete tag.
    pub valid_len: u64,
    /// Media duration of the kept tags in ms.
    pub duration_ms: i64,
    /// Patches (all within `valid_len`) that set the `onMetaData` duration
    /// and file size for the truncated content; empty if the file has no
    /// such metadata.
    pub patches: Vec<Patch>,
}

/// Crash recovery of a file [`super::FlvMuxer`] wrote: given the bytes of a
/// truncated file, the length to truncate to and the patches that make its
/// `onMetaData` duration and file size right for the truncated content.
/// Every complete tag is kept (a file may end mid-GOP); a tag whose
/// `PreviousTagSize` is missing or wrong is not.
pub fn recover(data: &[u8]) -> Result<Recovery, FlvError> {
    read_header(data)?;
    let scanned = scan(data);
    if scanned.valid_len == 0 {
        return Err(FlvError::Truncated("file header"));
    }
    let mut span = MediaSpan::new();
    let mut unwrap = Unwrap32::new();
    for tag in &scanned.tags {
        let body = data.get(tag.body.clone()).unwrap_or_default();
        if let Some(track) = frame_track(tag.tag_type, body) {
            span.observe(track, unwrap.unwrap(tag.timestamp));
        }
    }
    let duration_ms = span.duration_ms();
    let valid_len = scanned.valid_len as u64;
    let mut patches = Vec::new();
    if let Some(meta) = scanned.tags.iter().find(|t| t.tag_type == tag_type::SCRIPT) {
        let body = data.get(meta.body.clone()).unwrap_or_default();
        for (key, offset) in metadata::locate_numbers(body) {
            let value = match key.as_str() {
                "duration" => duration_ms as f64 / 1000.0,
                "filesize" => valid_len as f64,
                _ => continue,
            };
            patches.push(Patch {
                offset: (meta.body.start + offset) as u64,
                bytes: Field::Number(value).bytes(),
            });
        }
    }
    Ok(Recovery {
        valid_len,
        duration_ms,
        patches,
    })
}
