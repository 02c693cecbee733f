//! The pre-roll ring of one live stream: the newest packets covering at least
//! the configured pre-roll, always starting at a video keyframe when the
//! stream has video, and bounded in packets and bytes.

use std::collections::VecDeque;

use media::{Track, Tracks};

use super::Packet;

/// Hard caps, whatever the pre-roll setting: a publisher sending huge or
/// keyframe-less video must not grow memory without bound.
const MAX_PACKETS: usize = 100_000;
const MAX_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug)]
pub(super) struct Ring {
    preroll_ms: i64,
    packets: VecDeque<Packet>,
    /// Sequence number of `packets[0]`.
    base_seq: u64,
    /// Sequence numbers of the video keyframes in `packets`.
    keyframes: VecDeque<u64>,
    bytes: usize,
    video_packets: usize,
}

impl Ring {
    pub(super) fn new(preroll_ms: i64) -> Ring {
        Ring {
            preroll_ms,
            packets: VecDeque::new(),
            base_seq: 0,
            keyframes: VecDeque::new(),
            bytes: 0,
            video_packets: 0,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.base_seq += self.packets.len() as u64;
        self.packets.clear();
        self.keyframes.clear();
        self.bytes = 0;
        self.video_packets = 0;
    }

    pub(super) fn last_tracks(&self) -> Tracks {
        self.packets
            .back()
            .map(|p| p.tracks.clone())
            .unwrap_or_default()
    }

    pub(super) fn push(&mut self, p: Packet) {
        let seq = self.base_seq + self.packets.len() as u64;
        if p.is_video_keyframe() {
            self.keyframes.push_back(seq);
        }
        if p.frame.track == Track::Video {
            self.video_packets += 1;
        }
        self.bytes += p.frame.data.len();
        self.packets.push_back(p);
        self.trim();
    }

    fn pop_front(&mut self) {
        if let Some(p) = self.packets.pop_front() {
            self.bytes -= p.frame.data.len();
            if p.frame.track == Track::Video {
                self.video_packets -= 1;
            }
            if self.keyframes.front() == Some(&self.base_seq) {
                self.keyframes.pop_front();
            }
            self.base_seq += 1;
        }
    }

    fn wall_at(&self, seq: u64) -> Option<i64> {
        let i = usize::try_from(seq.checked_sub(self.base_seq)?).ok()?;
        self.packets.get(i).map(|p| p.wall_ms)
    }

    fn trim(&mut self) {
        let Some(newest) = self.packets.back().map(|p| p.wall_ms) else {
            return;
        };
        let cutoff = newest - self.preroll_ms;
        if self.keyframes.is_empty() {
            if self.video_packets == 0 {
                // Audio only: a plain time window.
                while self.packets.front().is_some_and(|p| p.wall_ms < cutoff) {
                    self.pop_front();
                }
            }
        } else {
            // Drop whole GOPs while the next GOP alone still covers the
            // pre-roll, so the ring always starts with a keyframe.
            while self.keyframes.len() >= 2
                && self.wall_at(self.keyframes[1]).is_some_and(|w| w <= cutoff)
            {
                let next = self.keyframes[1];
                while self.base_seq < next {
                    self.pop_front();
                }
            }
            // Packets before the first keyframe cannot start a recording.
            if let Some(&first) = self.keyframes.front() {
                while self.base_seq < first {
                    self.pop_front();
                }
            }
        }
        while self.packets.len() > MAX_PACKETS || self.bytes > MAX_BYTES {
            match self.keyframes.get(1).copied() {
                Some(next) => {
                    while self.base_seq < next {
                        self.pop_front();
                    }
                }
                None => {
                    // A single enormous GOP: give up the pre-roll entirely.
                    while !self.packets.is_empty() {
                        self.pop_front();
                    }
                }
            }
        }
    }

    /// Packets from the chosen start point to the newest (see
    /// `LiveStream::subscribe`).
    pub(super) fn from(&self, from_ms: Option<i64>) -> Vec<Packet> {
        let start = if self.video_packets == 0 {
            match from_ms {
                None => return Vec::new(),
                Some(t) => self
                    .packets
                    .iter()
                    .position(|p| p.wall_ms >= t)
                    .unwrap_or(self.packets.len()),
            }
        } else {
            let chosen = match from_ms {
                None => self.keyframes.back().copied(),
                Some(t) => self
                    .keyframes
                    .iter()
                    .rev()
                    .find(|&&k| self.wall_at(k).is_some_and(|w| w <= t))
                    .or(self.keyframes.front())
                    .copied(),
            };
            match chosen {
                // No keyframe yet: the subscriber waits for the first one.
                None => return Vec::new(),
                Some(seq) => usize::try_from(seq - self.base_seq).unwrap_or(usize::MAX),
            }
        };
        self.packets.iter().skip(start).cloned().collect()
    }
}
