//! Timestamp arithmetic shared by ingest and the muxers: extending RTMP's
//! 32-bit millisecond clock ([`Unwrap32`]), repairing a publisher's timeline
//! for one recording ([`TimestampRepair`], SPEC §4 "Timestamps"), and
//! measuring the media span of what was written ([`MediaSpan`]). Pure
//! arithmetic on [`Frame`] timestamps; no clock.

use crate::frame::{Frame, Track};

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

#[derive(Clone, Copy, Debug)]
struct TrackRepair {
    /// Output = input + offset.
    offset: i64,
    last_out: Option<i64>,
    /// Still clamping frames that precede the origin.
    lead_in: bool,
    /// Typical frame interval of the track.
    interval: i64,
    /// Highest presentation time written (DTS + CTS), ms.
    max_pts: Option<i64>,
}

impl TrackRepair {
    fn new(interval: i64) -> Self {
        TrackRepair {
            offset: 0,
            last_out: None,
            max_pts: None,
            lead_in: true,
            interval,
        }
    }
}

/// Per-recording timestamp repair (SPEC §4 "Timestamps").
///
/// - The output starts at 0 and DTS is strictly increasing per track.
/// - A backward jump, or a forward jump of more than `max_forward_jump_ms`
///   beyond the stream's latest output, is re-based: the track continues at
///   its previous output plus one typical frame interval, or later if the
///   other track's latest frame ends later (so that, when the whole timeline
///   jumped, the other track does not overlap itself when it follows), and
///   never so early that its first frame would present before a frame that
///   was already presented.
/// - Both tracks share one offset, so when a publisher's whole timeline jumps
///   the second track follows the first one's re-base and A/V stay in sync. A
///   track whose own timeline is inconsistent with that offset keeps its own.
/// - A first frame of a track slightly before the origin (an audio frame just
///   before the first video keyframe) is clamped to 0, not dropped, unless it
///   is more than [`MAX_LEAD_MS`] before it.
/// - A frame at most one interval behind the previous one of its track (an
///   interleaving glitch) is moved to previous + 1 ms.
/// - Composition offsets (`cts`) are never touched.
#[derive(Clone, Debug)]
pub struct TimestampRepair {
    max_forward_jump: i64,
    /// The next frame of a track that already has output starts a new
    /// timeline ([`TimestampRepair::splice`]).
    splice: bool,
    shared: Option<i64>,
    video: TrackRepair,
    audio: TrackRepair,
}

impl TimestampRepair {
    /// A repairer for one recording; SPEC §4 uses `max_forward_jump_ms` =
    /// 10 000.
    pub fn new(max_forward_jump_ms: i64) -> Self {
        TimestampRepair {
            max_forward_jump: max_forward_jump_ms.max(1),
            splice: false,
            shared: None,
            // Until measured: 30 fps video, 1024-sample AAC at 44.1 kHz.
            video: TrackRepair::new(33),
            audio: TrackRepair::new(23),
        }
    }

    /// The highest output DTS so far, over both tracks.
    pub fn last_dts(&self) -> Option<i64> {
        match (self.video.last_out, self.audio.last_out) {
            (Some(v), Some(a)) => Some(v.max(a)),
            (v, a) => v.or(a),
        }
    }

    /// The frames that follow come from another publish session of the
    /// same stream (a publisher that reconnected): whatever their
    /// timestamps, the first of them continues one frame interval after
    /// everything written so far (presenting after it too), as a jump
    /// would, and the other track follows through the shared offset. So a
    /// file continued across a reconnect has no gap, overlap or repeated
    /// timestamp at the join.
    pub fn splice(&mut self) {
        self.splice = true;
    }

    /// Rewrites `frame.dts` in place (`cts` unchanged); returns false if the
    /// frame must be dropped.
    pub fn apply(&mut self, frame: &mut Frame) -> bool {
        let input = frame.dts;
        let shared = *self.shared.get_or_insert(input.saturating_neg());
        let horizon = self.last_dts();
        // Where a re-based timeline resumes: one interval after the latest
        // frame of either track, so that neither track overlaps itself.
        let resume = [self.video, self.audio]
            .iter()
            .filter_map(|t| t.last_out.map(|l| l.saturating_add(t.interval)))
            .max();
        let max_fwd = self.max_forward_jump;
        let t = match frame.track {
            Track::Video => &mut self.video,
            Track::Audio => &mut self.audio,
        };
        let candidate = input.saturating_add(shared);
        let out = if t.lead_in && candidate < 0 {
            // Before the origin.
            let h = horizon.unwrap_or(0);
            if t.last_out.is_none() && candidate < -max_fwd.max(MAX_LEAD_MS) {
                // So far off that it is another time base: join the stream now.
                t.offset = h.saturating_sub(input);
                t.lead_in = false;
                h
            } else if candidate < -MAX_LEAD_MS {
                return false;
            } else {
                t.last_out.map_or(0, |l| l.saturating_add(1))
            }
        } else if let Some(last) = t.last_out {
            let top = horizon.unwrap_or(last).saturating_add(max_fwd);
            let splice = std::mem::take(&mut self.splice);
            let acceptable = |c: i64| !splice && c > last.saturating_sub(t.interval) && c <= top;
            let own = input.saturating_add(t.offset);
            // After the other track re-based the shared offset, this track
            // either jumped too (the shared candidate is the continuous one)
            // or did not (its own offset is): take the one nearer to where
            // the track is expected next, the shared one on a tie.
            let expected = last.saturating_add(t.interval);
            let chosen = [(candidate, true), (own, false)]
                .into_iter()
                .filter(|&(c, _)| acceptable(c))
                .min_by_key(|&(c, is_shared)| {
                    (c.saturating_sub(expected).saturating_abs(), !is_shared)
                })
                .map(|(c, is_shared)| {
                    if is_shared {
                        t.offset = shared;
                    }
                    c
                });
            match chosen {
                Some(c) => {
                    let delta = c.saturating_sub(last);
                    if (1..=MAX_INTERVAL_MS).contains(&delta) && !t.lead_in {
                        t.interval = delta;
                    }
                    t.lead_in = false;
                    c.max(last.saturating_add(1))
                }
                None => {
                    // A jump: continue one interval on, and let the other
                    // track follow through the shared offset. The new
                    // timeline also starts presenting after everything
                    // presented so far: B-frames before the jump may present
                    // later than their DTS, and equal or backward PTS across
                    // the splice would make decoders drop or reorder frames.
                    let after_pts = t.max_pts.map(|p| {
                        p.saturating_add(t.interval)
                            .saturating_sub(i64::from(frame.cts))
                    });
                    let out = resume
                        .unwrap_or(last)
                        .max(last.saturating_add(t.interval))
                        .max(after_pts.unwrap_or(i64::MIN));
                    t.offset = out.saturating_sub(input);
                    self.shared = Some(t.offset);
                    t.lead_in = false;
                    out
                }
            }
        } else {
            let h = horizon.unwrap_or(0);
            t.lead_in = false;
            if candidate > h.saturating_add(max_fwd) {
                // First frame of a track far ahead of the stream: another
                // time base; start it at the stream's current time.
                t.offset = h.saturating_sub(input);
                h
            } else {
                t.offset = shared;
                candidate
            }
        };
        t.last_out = Some(out);
        let pts = out.saturating_add(i64::from(frame.cts));
        t.max_pts = Some(t.max_pts.map_or(pts, |p| p.max(pts)));
        frame.dts = out;
        true
    }
}

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
