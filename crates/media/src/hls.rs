//! HLS (RFC 8216) for MPEG-TS recordings: the rule that cuts a stream into
//! segments ([`Segmenter`]) and the EVENT media playlist that lists them
//! ([`Playlist`]), rendered after every segment and read back for crash
//! recovery. Pure text and arithmetic: the caller owns the segment files,
//! their names and when the playlist is written.
//!
//! # How the recorder drives it
//!
//! For every frame, call [`Segmenter::should_cut`] before writing it. On
//! `true`, finish the current [`TsMuxer`](crate::ts::TsMuxer), push a
//! [`Segment`] whose `duration_ms` is [`Segmenter::closed_duration_ms`] (the
//! next segment's first DTS minus this one's, so the EXTINF values add up to
//! the timeline exactly), and write the frame into a new muxer. At close,
//! the last segment's duration is [`Segmenter::open_duration_ms`] (its media
//! span including the last frame's duration).

mod playlist;

use crate::frame::{Frame, Track};
use crate::timestamp::MediaSpan;

pub use playlist::{HlsError, Playlist, Segment};

/// When to cut: at a video keyframe (or any audio frame for audio-only
/// streams) once the current segment holds at least `target_ms`.
#[derive(Clone, Debug)]
pub struct Segmenter {
    target_ms: i64,
    /// First DTS of the open segment (None before the first frame).
    start: Option<i64>,
    /// What the open segment holds.
    span: MediaSpan,
    /// Duration of the segment the last cut closed.
    closed: i64,
}

impl Segmenter {
    /// A segmenter aiming at segments of `target_ms` (SPEC §4: 6 s by default).
    pub fn new(target_ms: i64) -> Self {
        Segmenter {
            target_ms,
            start: None,
            span: MediaSpan::new(),
            closed: 0,
        }
    }

    /// Call for every frame before writing it. True = close the current
    /// segment and start a new one with this frame. The first frame opens
    /// the first segment and returns false. `has_video` says whether the
    /// recording has a video track (then only video keyframes cut).
    pub fn should_cut(&mut self, frame: &Frame, has_video: bool) -> bool {
        let Some(start) = self.start else {
            self.open(frame);
            return false;
        };
        let boundary = match frame.track {
            Track::Video => has_video && frame.keyframe,
            Track::Audio => !has_video,
        };
        let held = frame.dts.saturating_sub(start);
        if boundary && held >= self.target_ms {
            self.closed = held;
            self.open(frame);
            return true;
        }
        self.span.observe(frame.track, frame.dts);
        false
    }

    fn open(&mut self, frame: &Frame) {
        self.start = Some(frame.dts);
        self.span = MediaSpan::new();
        self.span.observe(frame.track, frame.dts);
    }

    /// EXTINF duration (ms) of the segment closed by the last cut: the first
    /// DTS of the new segment minus the first DTS of the closed one. 0
    /// before the first cut.
    pub fn closed_duration_ms(&self) -> i64 {
        self.closed
    }

    /// EXTINF duration (ms) of the open segment if it were closed now: from
    /// its first DTS to the end of its last frame (last DTS plus that
    /// track's frame interval). 0 before the first frame.
    pub fn open_duration_ms(&self) -> i64 {
        match (self.start, self.span.first_dts()) {
            (Some(start), Some(first)) => first
                .saturating_add(self.span.duration_ms())
                .saturating_sub(start)
                .max(0),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests;
