//! Crash recovery of an FLV file [`super::FlvMuxer`] was writing: keeps
//! every complete tag (a file may end mid-GOP; a tag whose `PreviousTagSize`
//! is missing or wrong is not kept), measures the media the way the muxer
//! does ([`MediaSpan`] over the coded frames), and patches the `onMetaData`
//! duration and file size for what remains. Streams through the file with
//! [`TagWalker`], reading tag headers and the first bytes of each body.

use std::io::{Read, Seek};

use super::metadata::{Field, locate_numbers};
use super::{Patch, TagWalker, audio_code as ac, tag_type, video_code as vc};
use crate::frame::Track;
use crate::recover::Recovery;
use crate::timestamp::{MediaSpan, Unwrap32};

/// The `onMetaData` tag is small; a larger script tag is not read.
const MAX_SCRIPT_TAG: usize = 64 * 1024;
/// Body bytes that tell a coded frame from a header or command.
const LEAD: usize = 2;

/// The track of a tag that carries a coded frame (not a sequence header,
/// end of sequence or command frame), from the first bytes of its body.
fn frame_track(tag_type: u8, lead: &[u8]) -> Option<Track> {
    let b0 = *lead.first()?;
    match tag_type {
        tag_type::VIDEO => {
            let frame_type = (b0 >> 4) & 7;
            let coded = if b0 & vc::EX_HEADER != 0 {
                matches!(b0 & 0x0f, vc::CODED_FRAMES | vc::CODED_FRAMES_X)
            } else if matches!(b0 & 0x0f, vc::CODEC_AVC | vc::CODEC_HEVC) {
                lead.get(1) == Some(&vc::CODED_FRAMES)
            } else {
                true
            };
            (coded && frame_type != vc::FRAME_COMMAND).then_some(Track::Video)
        }
        tag_type::AUDIO => {
            let coded = match b0 >> 4 {
                ac::FORMAT_AAC => lead.get(1) == Some(&ac::CODED_FRAMES),
                ac::FORMAT_EX => b0 & 0x0f == ac::CODED_FRAMES,
                _ => true,
            };
            coded.then_some(Track::Audio)
        }
        _ => None,
    }
}

/// Where to cut an FLV file of `len` bytes and how to patch its header.
/// `units` counts the media (audio and video) tags kept, `duration_ms` is
/// what [`super::FlvMuxer::duration_ms`] said for the same frames. A file
/// that is not FLV, or ends inside its header, gives `valid_len` 0. Patches
/// (from the first script tag, if it is `onMetaData`) lie within
/// `valid_len`. I/O errors of `r` are returned.
pub fn recover<R: Read + Seek>(r: &mut R, len: u64) -> std::io::Result<Recovery> {
    let mut out = Recovery::default();
    let Some(mut walker) = TagWalker::new(r, len)? else {
        return Ok(out);
    };
    out.valid_len = walker.valid_len();
    let mut span = MediaSpan::new();
    let mut unwrap = Unwrap32::new();
    let mut numbers = None;
    while let Some(tag) = walker.next_tag()? {
        if tag.tag_type == tag_type::SCRIPT {
            if numbers.is_none() && tag.size as usize <= MAX_SCRIPT_TAG {
                let body = walker.read_body(&tag, MAX_SCRIPT_TAG)?;
                let at = tag.body_offset();
                let found = locate_numbers(&body).into_iter();
                numbers = Some(found.map(move |(k, offset)| (k, at + offset as u64)));
            }
        } else if tag.size > 0 {
            out.units += 1;
            let lead = walker.read_body(&tag, LEAD)?;
            if let Some(track) = frame_track(tag.tag_type, &lead) {
                span.observe(track, unwrap.unwrap(tag.timestamp));
            }
        }
        out.valid_len = walker.valid_len();
    }
    out.duration_ms = span.duration_ms();
    for (key, offset) in numbers.into_iter().flatten() {
        let value = match key.as_str() {
            "duration" => out.duration_ms as f64 / 1000.0,
            "filesize" => out.valid_len as f64,
            _ => continue,
        };
        out.patches.push(Patch {
            offset,
            bytes: Field::Number(value).bytes(),
        });
    }
    Ok(out)
}
