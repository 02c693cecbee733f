//! [`TimestampRepair`]: the per-recording rewrite of a publisher's DTS
//! (SPEC §4 "Timestamps") into a timeline that starts at 0, only goes
//! forward, keeps A/V in sync across jumps and continues across a
//! reconnected publish session. Arithmetic on [`Frame`] timestamps only.

use super::{MAX_INTERVAL_MS, MAX_LEAD_MS};
use crate::frame::{Frame, Track};

/// How many recent frame intervals a track's typical interval is the median
/// of: one odd step (a frame the publisher dropped, a glitch) does not move
/// it.
const INTERVALS: usize = 5;

#[derive(Clone, Copy, Debug)]
struct TrackRepair {
    /// Output = input + offset.
    offset: i64,
    last_out: Option<i64>,
    /// Still clamping frames that precede the origin.
    lead_in: bool,
    /// Typical frame interval of the track: the median of `recent`.
    interval: i64,
    /// The last frame intervals measured, oldest overwritten first.
    recent: [i64; INTERVALS],
    measured: usize,
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
            recent: [interval; INTERVALS],
            measured: 0,
        }
    }

    fn measure(&mut self, delta: i64) {
        self.recent[self.measured % INTERVALS] = delta;
        self.measured = self.measured.saturating_add(1);
        let mut window = self.recent;
        let window = &mut window[..self.measured.min(INTERVALS)];
        window.sort_unstable();
        self.interval = window[(window.len() - 1) / 2];
    }

    /// Where the track's written media ends: its last frame plus one
    /// interval.
    fn end(&self) -> Option<i64> {
        self.last_out.map(|l| l.saturating_add(self.interval))
    }

    /// The earliest DTS at which a frame with composition offset `cts` both
    /// follows the track's last frame by one interval and presents after
    /// everything the track presented.
    fn next_after(&self, cts: i32) -> Option<i64> {
        let after_pts = self.max_pts.map(|p| {
            p.saturating_add(self.interval)
                .saturating_sub(i64::from(cts))
        });
        match (self.end(), after_pts) {
            (Some(e), Some(p)) => Some(e.max(p)),
            (e, p) => e.or(p),
        }
    }

    fn write(&mut self, frame: &mut Frame, out: i64) {
        self.last_out = Some(out);
        let pts = out.saturating_add(i64::from(frame.cts));
        self.max_pts = Some(self.max_pts.map_or(pts, |p| p.max(pts)));
        frame.dts = out;
    }
}

/// A track that follows the other one's re-base after a splice.
#[derive(Clone, Copy, Debug)]
struct Follow {
    track: Track,
    /// Where the track's media written before the splice ends.
    floor: i64,
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
/// - A new publish session of the same stream ([`splice`](Self::splice)) is
///   anchored on its first frame's own track instead (see there).
/// - Both tracks share one offset, so when a publisher's whole timeline jumps
///   the second track follows the first one's re-base and A/V stay in sync. A
///   track whose own timeline is inconsistent with that offset keeps its own.
/// - A first frame of a track slightly before the origin (an audio frame just
///   before the first video keyframe) is clamped to 0, not dropped, unless it
///   is more than [`MAX_LEAD_MS`] before it
///   ([`presenting_from_zero`](Self::presenting_from_zero) drops audio there).
/// - A frame at most one interval behind the previous one of its track (an
///   interleaving glitch) is moved to previous + 1 ms.
/// - Composition offsets (`cts`) are never touched, except by
///   [`presenting_from_zero`](Self::presenting_from_zero).
/// - A track's typical frame interval is the median of its last few.
#[derive(Clone, Debug)]
pub struct TimestampRepair {
    max_forward_jump: i64,
    /// The next frame starts a new publish session ([`Self::splice`]).
    splice: bool,
    /// After a splice, the other track joining the new session's offset.
    follow: Option<Follow>,
    /// Audio frames of the new session dropped at the last splice because
    /// they overlapped the audio written before it.
    join_drops: u32,
    /// `join_drops` of a splice the follower has completed, until taken.
    join_report: Option<u32>,
    /// Time 0 is when the first video frame presents, not when it decodes.
    present_from_zero: bool,
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
            follow: None,
            join_drops: 0,
            join_report: None,
            present_from_zero: false,
            shared: None,
            // Until measured: 30 fps video, 1024-sample AAC at 44.1 kHz.
            video: TrackRepair::new(33),
            audio: TrackRepair::new(23),
        }
    }

    /// Makes time 0 the instant the first video frame presents, for outputs
    /// that Media Source Extensions players (hls.js) read: they start the
    /// timeline at the lowest DTS and take a first picture presented later
    /// (a keyframe followed by B-frames has a positive `cts`) for a hole at
    /// the start. The first keyframe decodes and presents at 0; the frames
    /// decoded after it whose DTS is raised to stay increasing keep their
    /// presentation time (their `cts` shrinks by as much), and one that would
    /// present before 0 (a leading picture of an open GOP, undecodable
    /// without the GOP before it) is dropped; so is audio that starts before
    /// 0, so the audio starts less than one frame after the picture.
    pub fn presenting_from_zero(mut self) -> Self {
        self.present_from_zero = true;
        self
    }

    /// The highest output DTS so far, over both tracks.
    pub fn last_dts(&self) -> Option<i64> {
        match (self.video.last_out, self.audio.last_out) {
            (Some(v), Some(a)) => Some(v.max(a)),
            (v, a) => v.or(a),
        }
    }

    /// The frames that follow come from another publish session of the
    /// same stream (a publisher that reconnected). Whatever its timestamps,
    /// the new session is anchored on its first frame's track: that frame
    /// (a video keyframe when the file has video: the recorder waits for
    /// one) goes one interval of that track after its last frame, presenting
    /// after everything the track presented, so the video has no hole at the
    /// join even when the old session's last frame was audio. The other
    /// track follows with the same offset (A/V stay in sync): its frames that
    /// would begin before its old media ends are dropped (counted:
    /// [`take_join_drops`](Self::take_join_drops)); video is never dropped,
    /// but re-based past that end. A track on another time base (more than
    /// [`MAX_LEAD_MS`] before that end, or a jump ahead) continues right at
    /// it. So a file continued across a reconnect has no overlap or repeated
    /// timestamp at the join, and no gap in the anchor track.
    pub fn splice(&mut self) {
        self.splice = true;
        self.follow = None;
        self.join_drops = 0;
    }

    /// Once the second track has joined the new session after a
    /// [`splice`](Self::splice): how many of its audio frames were dropped
    /// because they overlapped the old session's audio, if any (once).
    pub fn take_join_drops(&mut self) -> Option<u32> {
        self.join_report.take()
    }

    /// Rewrites `frame.dts` in place (`cts` unchanged, except as
    /// [`presenting_from_zero`](Self::presenting_from_zero) says); returns
    /// false if the frame must be dropped.
    pub fn apply(&mut self, frame: &mut Frame) -> bool {
        if std::mem::take(&mut self.splice)
            && (self.video.last_out.is_some() || self.audio.last_out.is_some())
        {
            self.anchor(frame);
            return true;
        }
        match self.follow {
            Some(f) if f.track == frame.track => self.follow(frame, f.floor),
            _ => self.repair(frame),
        }
    }

    /// The first frame of a new publish session: one interval after its own
    /// track (or, if that track has written nothing, where the other ends).
    fn anchor(&mut self, frame: &mut Frame) {
        let input = frame.dts;
        let (t, other, other_track) = match frame.track {
            Track::Video => (&mut self.video, &mut self.audio, Track::Audio),
            Track::Audio => (&mut self.audio, &mut self.video, Track::Video),
        };
        let out = t.next_after(frame.cts).or(other.end()).unwrap_or(0).max(0);
        t.offset = out.saturating_sub(input);
        t.lead_in = false;
        t.write(frame, out);
        self.shared = Some(t.offset);
        self.follow = other.end().map(|floor| Follow {
            track: other_track,
            floor,
        });
    }

    /// A frame of the track that follows the anchor after a splice.
    fn follow(&mut self, frame: &mut Frame, floor: i64) -> bool {
        let input = frame.dts;
        let top = self
            .last_dts()
            .unwrap_or(floor)
            .saturating_add(self.max_forward_jump);
        let candidate = input.saturating_add(self.shared.unwrap_or(0));
        let t = match frame.track {
            Track::Video => &mut self.video,
            Track::Audio => &mut self.audio,
        };
        // Video also presents after what it presented.
        let floor = t.next_after(frame.cts).map_or(floor, |n| n.max(floor));
        let other_base = candidate > top || candidate < floor.saturating_sub(MAX_LEAD_MS);
        let out = if !other_base && candidate >= floor {
            t.offset = self.shared.unwrap_or(t.offset);
            candidate
        } else if !other_base && frame.track == Track::Audio {
            self.join_drops = self.join_drops.saturating_add(1);
            return false;
        } else {
            t.offset = floor.saturating_sub(input);
            floor
        };
        t.lead_in = false;
        t.write(frame, out);
        self.follow = None;
        if self.join_drops > 0 {
            self.join_report = Some(self.join_drops);
        }
        true
    }

    /// Every frame but those of a splice.
    fn repair(&mut self, frame: &mut Frame) -> bool {
        let input = frame.dts;
        let present_from_zero = self.present_from_zero;
        let shared = *self.shared.get_or_insert_with(|| {
            let lead = if present_from_zero {
                i64::from(frame.cts).clamp(0, MAX_LEAD_MS)
            } else {
                0
            };
            input.saturating_add(lead).saturating_neg()
        });
        let horizon = self.last_dts();
        // Where a re-based timeline resumes: one interval after the latest
        // frame of either track, so that neither track overlaps itself.
        let resume = [self.video, self.audio]
            .iter()
            .filter_map(TrackRepair::end)
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
            } else if candidate < -MAX_LEAD_MS || (present_from_zero && frame.track == Track::Audio)
            {
                return false;
            } else {
                t.offset = shared;
                let out = t.last_out.map_or(0, |l| l.saturating_add(1));
                if present_from_zero {
                    let pts = candidate.saturating_add(i64::from(frame.cts));
                    if pts < out {
                        return false;
                    }
                    frame.cts = i32::try_from(pts.saturating_sub(out)).unwrap_or(i32::MAX);
                }
                out
            }
        } else if let Some(last) = t.last_out {
            let top = horizon.unwrap_or(last).saturating_add(max_fwd);
            let acceptable = |c: i64| c > last.saturating_sub(t.interval) && c <= top;
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
                        t.measure(delta);
                    }
                    t.lead_in = false;
                    let out = c.max(last.saturating_add(1));
                    if present_from_zero && out > c {
                        // Raised: present when it would have, if it can.
                        let cts = i64::from(frame.cts)
                            .saturating_sub(out.saturating_sub(c))
                            .max(0);
                        frame.cts = i32::try_from(cts).unwrap_or(i32::MAX);
                    }
                    out
                }
                None => {
                    // A jump: continue one interval on, and let the other
                    // track follow through the shared offset. The new
                    // timeline also starts presenting after everything
                    // presented so far: B-frames before the jump may present
                    // later than their DTS, and equal or backward PTS across
                    // the jump would make decoders drop or reorder frames.
                    let out = resume
                        .unwrap_or(last)
                        .max(t.next_after(frame.cts).unwrap_or(last));
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
        t.write(frame, out);
        true
    }
}
