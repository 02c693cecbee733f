//! Reading FLV files back: the file header and a strict tag walk that stops
//! at the first incomplete or inconsistent tag. [`TagWalker`] streams
//! through any `Read + Seek` with one small read per tag (crash recovery of
//! multi-gigabyte files, [`crate::recover::flv`]); [`scan`] runs it over a
//! byte slice and keeps where each body lies.

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::ops::Range;

use super::{FlvError, TAG_HEADER_LEN, tag_type};

/// Length of the FLV file header (FLV spec §E.2).
const FILE_HEADER_LEN: usize = 9;

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
    let h = data
        .get(..FILE_HEADER_LEN)
        .ok_or(FlvError::Truncated("file header"))?;
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

/// The header of one complete tag found by [`TagWalker`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagHead {
    /// Offset of the tag header in the file.
    pub offset: u64,
    /// `TagType` (8 audio, 9 video, 18 script), without the filter bit.
    pub tag_type: u8,
    /// Timestamp in ms: 24 bits plus the 8-bit extension.
    pub timestamp: u32,
    /// `DataSize`: length of the body.
    pub size: u32,
}

impl TagHead {
    /// Offset of the body in the file.
    pub fn body_offset(&self) -> u64 {
        self.offset + TAG_HEADER_LEN as u64
    }
}

/// Walks the tags of an FLV file of `len` bytes through `Read + Seek`,
/// stopping at the first tag that is incomplete, of an unknown type, or
/// whose `PreviousTagSize` does not match its size. Reads only tag headers
/// and `PreviousTagSize` fields; bodies on request.
#[derive(Debug)]
pub struct TagWalker<'r, R> {
    r: &'r mut R,
    len: u64,
    pos: u64,
    done: bool,
}

impl<'r, R: Read + Seek> TagWalker<'r, R> {
    /// Reads the file header; `None` when the file is not FLV or ends before
    /// its `PreviousTagSize0`.
    pub fn new(r: &'r mut R, len: u64) -> std::io::Result<Option<Self>> {
        let mut head = [0u8; FILE_HEADER_LEN];
        if len < FILE_HEADER_LEN as u64 {
            return Ok(None);
        }
        r.seek(SeekFrom::Start(0))?;
        r.read_exact(&mut head)?;
        let Ok(header) = read_header(&head) else {
            return Ok(None);
        };
        let pos = u64::from(header.data_offset) + 4;
        Ok((pos <= len).then_some(TagWalker {
            r,
            len,
            pos,
            done: false,
        }))
    }

    /// End of the last complete tag (with its `PreviousTagSize`), or of the
    /// header and `PreviousTagSize0` before the first tag.
    pub fn valid_len(&self) -> u64 {
        self.pos
    }

    /// The next complete tag, or `None` at the end of the valid part.
    pub fn next_tag(&mut self) -> std::io::Result<Option<TagHead>> {
        let header_len = TAG_HEADER_LEN as u64;
        if self.done || self.pos + header_len > self.len {
            return Ok(None);
        }
        self.done = true;
        self.r.seek(SeekFrom::Start(self.pos))?;
        let mut h = [0u8; TAG_HEADER_LEN];
        self.r.read_exact(&mut h)?;
        let tag = TagHead {
            offset: self.pos,
            tag_type: h[0] & 0x1f,
            size: u32::from_be_bytes([0, h[1], h[2], h[3]]),
            timestamp: u32::from_be_bytes([h[7], h[4], h[5], h[6]]),
        };
        let body_end = tag.body_offset() + u64::from(tag.size);
        let known = matches!(
            tag.tag_type,
            tag_type::AUDIO | tag_type::VIDEO | tag_type::SCRIPT
        );
        if !known || body_end + 4 > self.len {
            return Ok(None);
        }
        self.r.seek(SeekFrom::Start(body_end))?;
        let mut prev = [0u8; 4];
        self.r.read_exact(&mut prev)?;
        if u64::from(u32::from_be_bytes(prev)) != header_len + u64::from(tag.size) {
            return Ok(None);
        }
        self.pos = body_end + 4;
        self.done = false;
        Ok(Some(tag))
    }

    /// The first `max` bytes of the body of `tag` (one returned by
    /// [`TagWalker::next_tag`]), or the whole body if it is shorter.
    pub fn read_body(&mut self, tag: &TagHead, max: usize) -> std::io::Result<Vec<u8>> {
        let mut body = vec![0u8; (tag.size as usize).min(max)];
        self.r.seek(SeekFrom::Start(tag.body_offset()))?;
        self.r.read_exact(&mut body)?;
        Ok(body)
    }
}

/// Scans the tags of an FLV file held in memory (see [`TagWalker`]).
pub fn scan(data: &[u8]) -> ScanResult {
    let mut result = ScanResult {
        tags: Vec::new(),
        valid_len: 0,
    };
    let mut cursor = Cursor::new(data);
    // Reads from a slice within its length cannot fail.
    let Ok(Some(mut walker)) = TagWalker::new(&mut cursor, data.len() as u64) else {
        return result;
    };
    result.valid_len = walker.valid_len() as usize;
    while let Ok(Some(tag)) = walker.next_tag() {
        let start = tag.body_offset() as usize;
        result.tags.push(TagInfo {
            offset: tag.offset,
            tag_type: tag.tag_type,
            timestamp: tag.timestamp,
            body: start..start + tag.size as usize,
        });
        result.valid_len = walker.valid_len() as usize;
    }
    result
}
