//! Journal → faststart MP4. [`scan`] reads the journal's init segment and
//! fragments into sample tables kept in memory (about 16 bytes per sample
//! plus one record per fragment and track); this module plans the timing
//! (edit lists, composition offsets), writes `ftyp`, `moov` and one `mdat`,
//! and copies the media bytes from the journal's `mdat`s in bounded chunks.
//! Whatever follows the last complete fragment (a write cut short by a
//! crash, or damage) is ignored.

mod scan;

use std::io::{Read, Seek, SeekFrom, Write};

use super::boxes::{self, Edit};
use super::reader::InitTrack;
use super::{TrackSpan, tables};
use crate::mux::MuxError;
use scan::{Collected, Table};

/// Copy buffer for media bytes.
const COPY_CHUNK: usize = 256 << 10;

/// What [`finalize`] produced. A journal without any complete fragment
/// gives a file without samples (`duration_ms` 0), which players refuse: the
/// caller should drop it rather than report a recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalizeInfo {
    /// Movie duration in ms (`mvhd`).
    pub duration_ms: i64,
    /// Samples in the video track.
    pub video_samples: u64,
    /// Samples in the audio track.
    pub audio_samples: u64,
    /// Bytes written to the output.
    pub bytes_written: u64,
    /// The journal ended inside a fragment (or at damaged bytes), whose
    /// media was left out.
    pub truncated: bool,
}

/// Timing of one output track.
struct TrackPlan {
    /// Added to every composition offset so `ctts` version 0 holds them.
    cts_shift: u32,
    edits: Vec<Edit>,
    movie_duration: u64,
    media_duration: u64,
}

/// Places every track on the common timeline: time 0 is the earliest first
/// decode time of all tracks; a track that starts later gets an empty edit
/// of the difference, so A/V sync is kept without touching sample times.
/// Negative composition offsets are shifted into `ctts` version 0 and the
/// edit's `media_time` takes the shift back (frames presented before their
/// track's first decode time fall before the edit and are not shown).
fn plan(tracks: &[InitTrack], tables: &[Table]) -> Vec<TrackPlan> {
    let spans: Vec<Option<TrackSpan>> = tracks
        .iter()
        .zip(tables)
        .map(|(t, table)| {
            (!table.samples.is_empty()).then_some(TrackSpan {
                timescale: t.header.timescale,
                first: table.first,
                end: table.next,
            })
        })
        .collect();
    let origin = spans
        .iter()
        .flatten()
        .map(TrackSpan::start_ms)
        .min()
        .unwrap_or(0);
    spans
        .into_iter()
        .zip(tables)
        .map(|(span, table)| {
            let min_cts = table.samples.iter().map(|s| s.cts).min().unwrap_or(0);
            let cts_shift = min_cts.min(0).unsigned_abs();
            let (start, length) = span.map_or((0, 0), |s| (s.start_ms() - origin, s.length_ms()));
            let (start, length) = (start.max(0) as u64, length.max(0) as u64);
            let mut edits = Vec::new();
            if start > 0 {
                edits.push(Edit {
                    segment_duration: start,
                    media_time: -1,
                });
            }
            if start > 0 || cts_shift > 0 {
                edits.push(Edit {
                    segment_duration: length,
                    media_time: i64::from(cts_shift),
                });
            }
            TrackPlan {
                cts_shift,
                edits,
                movie_duration: start + length,
                media_duration: span.map_or(0, |s| (s.end - s.first).max(0) as u64),
            }
        })
        .collect()
}

/// The movie duration in ms: from the earliest track start to the latest
/// track end (what `mvhd` carries).
fn movie_duration(plans: &[TrackPlan]) -> u64 {
    plans.iter().map(|p| p.movie_duration).max().unwrap_or(0)
}

/// The output `moov` with chunk offsets counted from `base`, as `co64`
/// when `wide` (its length does not depend on `base`).
fn moov(
    tracks: &[InitTrack],
    c: &Collected,
    plans: &[TrackPlan],
    base: u64,
    wide: bool,
) -> Vec<u8> {
    let mut offsets: Vec<Vec<u64>> = vec![Vec::new(); tracks.len()];
    let mut at = base;
    for chunk in &c.chunks {
        if let Some(o) = offsets.get_mut(chunk.track) {
            o.push(at);
        }
        at += chunk.len;
    }
    let movie = movie_duration(plans);
    let next_id = tracks.iter().map(|t| t.header.track_id).max().unwrap_or(0);
    let mut out = Vec::new();
    boxes::bx(&mut out, b"moov", |out| {
        boxes::mvhd(out, movie, next_id.saturating_add(1));
        for (i, ((t, table), p)) in tracks.iter().zip(&c.tables).zip(plans).enumerate() {
            let s = &table.samples;
            boxes::trak(
                out,
                &t.header,
                p.movie_duration,
                p.media_duration,
                &p.edits,
                |out| {
                    out.extend_from_slice(&t.stsd);
                    tables::stts(out, s.iter().map(|r| r.duration));
                    if s.iter().any(|r| r.cts != 0) {
                        let shift = i64::from(p.cts_shift);
                        tables::ctts(out, s.iter().map(|r| (i64::from(r.cts) + shift) as u32));
                    }
                    if s.iter().any(|r| !r.sync) {
                        tables::stss(out, s.iter().map(|r| r.sync));
                    }
                    let per_chunk = c.chunks.iter().filter(|k| k.track == i).map(|k| k.samples);
                    tables::stsc(out, per_chunk);
                    tables::stsz(out, s.iter().map(|r| r.size));
                    tables::chunk_offsets(out, offsets[i].iter().copied(), wide);
                },
            );
        }
    });
    out
}

/// Converts a journal (complete or truncated at any byte) of `journal_len`
/// bytes into a faststart MP4 written to `out`: `ftyp`, `moov`, `mdat`.
/// Sample tables are kept in memory; media bytes are copied in chunks.
/// Incomplete trailing fragments are ignored; chunk offsets use `co64` only
/// when the file passes 4 GiB.
///
/// Fails with [`MuxError::Io`] on I/O errors (including a journal shorter
/// than `journal_len`), and with [`MuxError::Codec`] when the journal has no
/// complete init segment ([`crate::codec::CodecError::Truncated`] when it
/// ends inside it, `Invalid` when it is damaged).
pub fn finalize<R: Read + Seek, W: Write>(
    journal: &mut R,
    journal_len: u64,
    out: &mut W,
) -> Result<FinalizeInfo, MuxError> {
    let (tracks, c, truncated) = scan::scan(journal, journal_len)?;
    let plans = plan(&tracks, &c.tables);

    let payload: u64 = c.chunks.iter().map(|k| k.len).sum();
    let mdat_header = boxes::mdat_header_len(payload);
    let mut head = Vec::new();
    boxes::ftyp(
        &mut head,
        b"isom",
        0x200,
        &[b"isom", b"iso2", b"avc1", b"mp41"],
    );
    let narrow_len = moov(&tracks, &c, &plans, 0, false).len() as u64;
    let wide = head.len() as u64 + narrow_len + mdat_header + payload > u64::from(u32::MAX);
    let moov_len = if wide {
        // `co64` entries take 8 bytes instead of `stco`'s 4.
        let offsets = c.chunks.iter().filter(|k| k.track < tracks.len()).count();
        narrow_len + 4 * offsets as u64
    } else {
        narrow_len
    };
    if moov_len > u64::from(u32::MAX) {
        return Err(MuxError::Unsupported(format!("mp4: {moov_len}-byte moov")));
    }
    let base = head.len() as u64 + moov_len + mdat_header;
    let moov = moov(&tracks, &c, &plans, base, wide);
    debug_assert_eq!(moov.len() as u64, moov_len);
    head.extend_from_slice(&moov);
    boxes::mdat_header(&mut head, payload);
    out.write_all(&head)?;

    let mut buf = vec![0u8; COPY_CHUNK];
    for chunk in &c.chunks {
        journal.seek(SeekFrom::Start(chunk.offset))?;
        let mut left = chunk.len;
        while left > 0 {
            let n = left.min(COPY_CHUNK as u64) as usize;
            journal.read_exact(&mut buf[..n])?;
            out.write_all(&buf[..n])?;
            left -= n as u64;
        }
    }

    let count = |handler: &[u8; 4]| -> u64 {
        tracks
            .iter()
            .zip(&c.tables)
            .filter(|(t, _)| &t.header.handler == handler)
            .map(|(_, table)| table.samples.len() as u64)
            .sum()
    };
    Ok(FinalizeInfo {
        duration_ms: i64::try_from(movie_duration(&plans)).unwrap_or(i64::MAX),
        video_samples: count(b"vide"),
        audio_samples: count(b"soun"),
        bytes_written: head.len() as u64 + payload,
        truncated,
    })
}
