//! Crash-safe MP4 recording (ISO/IEC 14496-12 ISO BMFF, 14496-14 MP4,
//! 14496-15 AVC/HEVC file format). While a recording runs, [`Fmp4Journal`]
//! writes a fragmented MP4 journal: an init segment (`ftyp` + `moov` with
//! `mvex`) and then one `moof` + `mdat` per fragment of at most about a
//! second of media, so a process killed at any byte loses at most that last
//! fragment. At close, or at crash recovery, [`finalize`] turns the journal
//! (complete, or truncated at any byte) into a progressive MP4 with `moov`
//! before `mdat` ("faststart").
//!
//! Owns the box layout of both files. It does not open, name or rename
//! files: the journal writer appends to the caller's buffer, and the
//! finalizer works on any `Read + Seek` / `Write` pair the caller hands it.
//!
//! Boxes are written and read by a small hand-written codec (`boxes`,
//! `entry`, `tables`, `fragment`, `reader`) rather than the `mp4-atom` crate: the
//! journal must carry the publisher's AVC/HEVC configuration records and
//! AudioSpecificConfig byte for byte (mp4-atom re-encodes them from parsed
//! structs), the finalizer copies the journal's `stsd` verbatim, and it must
//! walk a possibly truncated or damaged file box by box with bounded
//! allocations and without loading `mdat` payloads (mp4-atom decodes whole
//! boxes into memory). The subset involved is about fifteen box types.
//!
//! Timescales: video 90 kHz, audio the sampling rate; the movie uses ms.

mod boxes;
mod entry;
mod finalize;
mod fragment;
mod journal;
mod reader;
mod tables;

pub use finalize::{FinalizeInfo, finalize};
pub use journal::Fmp4Journal;

/// Media timescale of video tracks.
const VIDEO_TIMESCALE: u32 = 90_000;

/// `units` of a track with `timescale` in ms, rounded to nearest.
fn units_to_ms(units: i64, timescale: u32) -> i64 {
    let ts = i128::from(timescale.max(1));
    let ms = (i128::from(units) * 1000 + ts / 2).div_euclid(ts);
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// `ms` in units of `timescale`, rounded to nearest.
fn ms_to_units(ms: i64, timescale: u32) -> i64 {
    let units = (i128::from(ms) * i128::from(timescale) + 500).div_euclid(1000);
    i64::try_from(units).unwrap_or(if units < 0 { i64::MIN } else { i64::MAX })
}

/// Where one track's media lies: its timescale and the decode times of its
/// first sample and of the end of its last sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TrackSpan {
    timescale: u32,
    first: i64,
    end: i64,
}

impl TrackSpan {
    /// Start in ms on the common (rounded) timeline.
    fn start_ms(&self) -> i64 {
        units_to_ms(self.first, self.timescale)
    }

    /// Length in ms.
    fn length_ms(&self) -> i64 {
        units_to_ms(self.end.saturating_sub(self.first), self.timescale)
    }
}

/// The movie duration in ms that the journal reports while recording and
/// the finalized `mvhd` carries: from the earliest track start to the latest
/// track end, both rounded to ms the way edit lists and `tkhd` are.
fn movie_duration_ms(spans: &[TrackSpan]) -> i64 {
    let Some(origin) = spans.iter().map(TrackSpan::start_ms).min() else {
        return 0;
    };
    spans
        .iter()
        .map(|s| (s.start_ms() - origin).saturating_add(s.length_ms()))
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
