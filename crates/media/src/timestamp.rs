//! Timestamp arithmetic shared by ingest and the muxers: extending RTMP's
//! 32-bit millisecond clock ([`Unwrap32`]), repairing a publisher's timeline
//! for one recording ([`TimestampRepair`], SPEC §4 "Timestamps"), and
//! measuring the media span of what was written ([`MediaSpan`]). Pure
//! arithmetic on [`Frame`](crate::frame::Frame) timestamps; no clock.

use crate::frame::Track;

mod repair;

pub use repair::TimestampRepair;

/// Extends RTMP's 32-bit millisecond timestamps to `i64` across wrap-around
/// (a jump back of more than 2^31 ms is a wrap).
///
/// ```
/// # use media::timestamp::Unwrap32;
/// let mut u = Unwrap32::new();
/// assert_eq!(u.unwrap(u32::MAX - 10), 4_294_967_285);
/// assert_eq!(u.unwrap(5), 4_294_967_301);
/// assert_eq!(u.unwrap(2), 4_294_967_298); // a small step back stays a step back
/// ```
#[derive(Clone, Debug, Default)]
pub struct Unwrap32 {
    last: Option<i64>,
}

impl Unwrap32 {
    /// A fresh unwrapper: the first timestamp is taken as is.
    pub fn new() -> Self {
        Unwrap32::default()
    }

    /// The extended value of `ts`: the one nearest to the previous value.
    pub fn unwrap(&mut self, ts: u32) -> i64 {
        let extended = match self.last {
            None => i64::from(ts),
            // The low 32 bits of `last` are the previous wire value.
            Some(last) => last + i64::from(ts.wrapping_sub(last as u32) as i32),
        };
        self.last = Some(extended);
        extended
    }
}

/// A frame this far (ms) before the recording's origin is clamped to the
/// origin rather than dropped.
pub const MAX_LEAD_MS: i64 = 1000;
/// Longest frame interval (ms) taken as "typical" for a track.
const MAX_INTERVAL_MS: i64 = 1000;

#[derive(Clone, Copy, Debug, Default)]
struct SpanTrack {
    last: Option<i64>,
    interval: i64,
}

/// The media span written so far: from the first DTS to the end of the last
/// frame of the longest track, the last frame lasting as long as the interval
/// before it. Used for container durations.
#[derive(Clone, Debug, Default)]
pub struct MediaSpan {
    first: Option<i64>,
    video: SpanTrack,
    audio: SpanTrack,
}

impl MediaSpan {
    /// An empty span.
    pub fn new() -> Self {
        MediaSpan::default()
    }

    /// Records a frame of `track` at `dts` (ms).
    pub fn observe(&mut self, track: Track, dts: i64) {
        self.first = Some(self.first.map_or(dts, |f| f.min(dts)));
        let t = match track {
            Track::Video => &mut self.video,
            Track::Audio => &mut self.audio,
        };
        if let Some(last) = t.last {
            let delta = dts.saturating_sub(last);
            if (1..=MAX_INTERVAL_MS).contains(&delta) {
                t.interval = delta;
            }
        }
        t.last = Some(t.last.map_or(dts, |l| l.max(dts)));
    }

    /// The first DTS seen.
    pub fn first_dts(&self) -> Option<i64> {
        self.first
    }

    /// Duration in ms (0 when nothing was observed).
    pub fn duration_ms(&self) -> i64 {
        let end = [self.video, self.audio]
            .iter()
            .filter_map(|t| t.last.map(|l| l.saturating_add(t.interval)))
            .max();
        match (self.first, end) {
            (Some(first), Some(end)) => end.saturating_sub(first),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests;
