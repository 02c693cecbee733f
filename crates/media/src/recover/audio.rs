//! Recovery of the headerless audio files: ADTS (`.aac`) and MP3 are frames
//! back to back, each announcing its length, so the walk keeps every frame
//! that is wholly in the file and counts its samples. An MP3 LAME/Info (or
//! Xing) tag frame holds the counts of the finished file, which an
//! unfinished one does not match: it is blanked (it then decodes as
//! silence) and not counted.

use std::io::{Read, Seek, SeekFrom};

use super::Recovery;
use crate::codec::{aac, mp3 as mpa};
use crate::flv::Patch;

/// Bytes read to learn a frame's length (the ADTS header; the MPEG audio
/// header needs 4).
const PEEK: usize = 7;

/// Length and duration (ms) of the frame whose header is `h`.
type FrameParser = fn(&[u8; PEEK]) -> Option<(u64, f64)>;

fn adts_frame(h: &[u8; PEEK]) -> Option<(u64, f64)> {
    let (len, rate) = aac::parse_adts_header(h)?;
    Some((
        len as u64,
        f64::from(aac::FRAME_SAMPLES) * 1000.0 / f64::from(rate),
    ))
}

fn mpeg_audio_frame(h: &[u8; PEEK]) -> Option<(u64, f64)> {
    let h = mpa::parse_header(h).ok()?;
    (h.frame_len > 0 && h.sample_rate > 0).then(|| {
        (
            h.frame_len as u64,
            f64::from(h.samples) * 1000.0 / f64::from(h.sample_rate),
        )
    })
}

/// Where an ADTS file of `len` bytes ends its last complete frame.
pub fn adts<R: Read + Seek>(r: &mut R, len: u64) -> std::io::Result<Recovery> {
    walk(r, len, adts_frame, false)
}

/// Where an MP3 file of `len` bytes ends its last complete frame, and the
/// patch that blanks an Info/Xing tag.
pub fn mp3<R: Read + Seek>(r: &mut R, len: u64) -> std::io::Result<Recovery> {
    walk(r, len, mpeg_audio_frame, true)
}

fn walk<R: Read + Seek>(
    r: &mut R,
    len: u64,
    frame: FrameParser,
    info_tag: bool,
) -> std::io::Result<Recovery> {
    let mut out = Recovery::default();
    let mut pos = 0u64;
    let mut total_ms = 0f64;
    let mut tag = None;
    let mut hdr = [0u8; PEEK];
    while pos + PEEK as u64 <= len {
        r.seek(SeekFrom::Start(pos))?;
        r.read_exact(&mut hdr)?;
        let Some((frame_len, frame_ms)) = frame(&hdr) else {
            break;
        };
        if pos + frame_len > len {
            break;
        }
        if info_tag && out.units == 0 {
            let mut first = vec![0u8; frame_len as usize];
            r.seek(SeekFrom::Start(pos))?;
            r.read_exact(&mut first)?;
            let at = first.windows(4).position(|w| w == b"Info" || w == b"Xing");
            if let Some(at) = at {
                // The tag frame holds no audio.
                tag = Some((pos + at as u64, pos + frame_len));
                pos += frame_len;
                out.valid_len = pos;
                continue;
            }
        }
        out.units += 1;
        total_ms += frame_ms;
        pos += frame_len;
        out.valid_len = pos;
    }
    out.duration_ms = total_ms.round() as i64;
    if let Some((from, to)) = tag {
        out.patches.push(Patch {
            offset: from,
            bytes: vec![0u8; (to - from) as usize],
        });
    }
    Ok(out)
}
