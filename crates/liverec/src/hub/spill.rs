//! The pre-roll on disk (`preroll_storage = "disk"`): the same keyframe-
//! aligned window as the in-memory ring, but the packets are appended to
//! segment files (one per GOP of at least a second, or per configuration
//! change) under the spill directory, and memory holds only one small
//! record per segment and a 16 KiB write buffer per stream. A long look-back
//! (minutes per stream, for retroactive highlights) then costs disk, not
//! RAM.
//!
//! Record layout: `len u32 | wall_ms i64 | dts i64 | cts i32 | track u8 |
//! keyframe u8 | payload[len]`, big-endian. A segment file is deleted when
//! the window moves past it and no subscriber still needs it (files are
//! shared through `Arc`s; the last holder deletes). A write that fails
//! (disk full) turns the stream's pre-roll off instead of failing the
//! publish. Reads are small sequential reads of recently written data.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use media::{Frame, Track, Tracks};

use super::Packet;

/// A new segment starts at a video keyframe once the current one is this old.
const MIN_SEGMENT_MS: i64 = 1000;
/// Bytes on disk per stream, whatever the pre-roll setting.
const MAX_BYTES: u64 = 4 << 30;
/// Largest payload of one record (what the RTMP reader accepts is smaller).
const MAX_RECORD: u32 = 64 << 20;
/// Write buffer per stream (a few writes a second per stream; measured:
/// 64 KiB put a recorded stream at 265 KiB of RSS, over the 256 KiB aim).
const WRITE_BUFFER: usize = 16 * 1024;
/// Read buffer per subscriber reading the backlog.
const READ_BUFFER: usize = 64 * 1024;
const HEADER: usize = 4 + 8 + 8 + 4 + 1 + 1;

/// A segment file, deleted when the last holder drops it.
#[derive(Debug)]
struct SegmentFile(PathBuf);

impl Drop for SegmentFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[derive(Debug)]
struct Segment {
    file: Arc<SegmentFile>,
    start_wall: i64,
    /// Starts with a video keyframe (a place a recording may start).
    keyframe: bool,
    tracks: Tracks,
    records: u64,
    bytes: u64,
}

/// The disk pre-roll of one publish session.
#[derive(Debug)]
pub(super) struct DiskRing {
    preroll_ms: i64,
    /// Files are `<dir>/<prefix>-<n>`.
    dir: PathBuf,
    prefix: String,
    next_id: u64,
    segments: VecDeque<Segment>,
    writer: Option<BufWriter<File>>,
    bytes: u64,
    last_tracks: Tracks,
    newest_wall: i64,
    video_seen: bool,
    /// A write failed: no pre-roll for this stream any more.
    failed: bool,
}

fn same_tracks(a: &Tracks, b: &Tracks) -> bool {
    fn same<T: PartialEq>(x: &Option<Arc<T>>, y: &Option<Arc<T>>) -> bool {
        match (x, y) {
            (None, None) => true,
            (Some(x), Some(y)) => Arc::ptr_eq(x, y) || **x == **y,
            _ => false,
        }
    }
    same(&a.video, &b.video) && same(&a.audio, &b.audio)
}

impl DiskRing {
    /// An empty ring writing `<dir>/<prefix>-<n>` files.
    pub(super) fn new(preroll_ms: i64, dir: &Path, prefix: &str) -> DiskRing {
        DiskRing {
            preroll_ms,
            dir: dir.to_path_buf(),
            prefix: prefix.to_string(),
            next_id: 0,
            segments: VecDeque::new(),
            writer: None,
            bytes: 0,
            last_tracks: Tracks::default(),
            newest_wall: i64::MIN,
            video_seen: false,
            failed: false,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.segments.iter().all(|s| s.records == 0)
    }

    pub(super) fn last_tracks(&self) -> Tracks {
        self.last_tracks.clone()
    }

    /// Drops every segment (the publisher left); subscribers reading the
    /// backlog keep the files they still need.
    pub(super) fn clear(&mut self) {
        self.writer = None;
        self.segments.clear();
        self.bytes = 0;
    }

    fn fail(&mut self, e: &std::io::Error) {
        tracing::error!(error = %e, dir = %self.dir.display(), "writing the disk pre-roll failed; pre-roll off for this stream");
        metrics::counter!("liverec_preroll_disk_failures_total").increment(1);
        self.failed = true;
        self.clear();
    }

    fn open_segment(&mut self, p: &Packet) -> std::io::Result<()> {
        let path = self.dir.join(format!("{}-{}", self.prefix, self.next_id));
        self.next_id += 1;
        let f = File::create(&path)?;
        self.writer = Some(BufWriter::with_capacity(WRITE_BUFFER, f));
        self.segments.push_back(Segment {
            file: Arc::new(SegmentFile(path)),
            start_wall: p.wall_ms,
            keyframe: p.is_video_keyframe(),
            tracks: p.tracks.clone(),
            records: 0,
            bytes: 0,
        });
        Ok(())
    }

    pub(super) fn push(&mut self, p: Packet) {
        self.last_tracks = p.tracks.clone();
        if self.failed {
            return;
        }
        self.newest_wall = self.newest_wall.max(p.wall_ms);
        if p.frame.track == Track::Video {
            self.video_seen = true;
        }
        let cut = match self.segments.back() {
            None => true,
            Some(s) => {
                !same_tracks(&s.tracks, &p.tracks)
                    || (p.frame.track == Track::Video
                        && p.frame.keyframe
                        && p.wall_ms - s.start_wall >= MIN_SEGMENT_MS)
                    || (!self.video_seen && p.wall_ms - s.start_wall >= MIN_SEGMENT_MS)
            }
        };
        if cut {
            // The finished segment must be readable by subscribers.
            if let Some(mut w) = self.writer.take()
                && let Err(e) = w.flush()
            {
                return self.fail(&e);
            }
            if let Err(e) = self.open_segment(&p) {
                return self.fail(&e);
            }
        }
        let Some(w) = self.writer.as_mut() else {
            return;
        };
        let len = p.frame.data.len();
        let mut head = [0u8; HEADER];
        head[0..4].copy_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
        head[4..12].copy_from_slice(&p.wall_ms.to_be_bytes());
        head[12..20].copy_from_slice(&p.frame.dts.to_be_bytes());
        head[20..24].copy_from_slice(&p.frame.cts.to_be_bytes());
        head[24] = u8::from(p.frame.track == Track::Video);
        head[25] = u8::from(p.frame.keyframe);
        if let Err(e) = w.write_all(&head).and_then(|()| w.write_all(&p.frame.data)) {
            return self.fail(&e);
        }
        if let Some(s) = self.segments.back_mut() {
            s.records += 1;
            s.bytes += (HEADER + len) as u64;
        }
        self.bytes += (HEADER + len) as u64;
        self.trim();
    }

    fn pop_front(&mut self) {
        if let Some(s) = self.segments.pop_front() {
            self.bytes -= s.bytes;
            if self.segments.is_empty() {
                self.writer = None;
            }
        }
    }

    /// Index of the `n`th keyframe segment.
    fn keyframe_segment(&self, n: usize) -> Option<usize> {
        self.segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.keyframe)
            .nth(n)
            .map(|(i, _)| i)
    }

    fn trim(&mut self) {
        let cutoff = self.newest_wall - self.preroll_ms;
        if self.video_seen {
            // Drop whole GOPs while the next one alone covers the pre-roll.
            while let Some(i) = self.keyframe_segment(1) {
                if self.segments[i].start_wall > cutoff {
                    break;
                }
                for _ in 0..i {
                    self.pop_front();
                }
            }
            // What comes before the first keyframe cannot start a recording.
            if let Some(i) = self.keyframe_segment(0) {
                for _ in 0..i {
                    self.pop_front();
                }
            }
        } else {
            while self.segments.len() >= 2 && self.segments[1].start_wall <= cutoff {
                self.pop_front();
            }
        }
        while self.bytes > MAX_BYTES && self.segments.len() > 1 {
            match self.keyframe_segment(1) {
                Some(i) => {
                    for _ in 0..i {
                        self.pop_front();
                    }
                }
                None => self.pop_front(),
            }
        }
    }

    /// The backlog from the chosen start point to the newest packet (see
    /// `LiveStream::subscribe`).
    pub(super) fn from(&mut self, from_ms: Option<i64>) -> DiskBacklog {
        if let Some(w) = self.writer.as_mut()
            && let Err(e) = w.flush()
        {
            self.fail(&e);
        }
        let (start, min_wall) = if self.video_seen {
            let chosen = match from_ms {
                None => self.segments.iter().rposition(|s| s.keyframe),
                Some(t) => self
                    .segments
                    .iter()
                    .rposition(|s| s.keyframe && s.start_wall <= t)
                    .or_else(|| self.keyframe_segment(0)),
            };
            (chosen, i64::MIN)
        } else {
            match from_ms {
                None => (None, i64::MIN),
                Some(t) => (
                    Some(
                        self.segments
                            .iter()
                            .rposition(|s| s.start_wall <= t)
                            .unwrap_or(0),
                    ),
                    t,
                ),
            }
        };
        let parts = match start {
            None => VecDeque::new(),
            Some(i) => self
                .segments
                .iter()
                .skip(i)
                .filter(|s| s.records > 0)
                .map(|s| Part {
                    file: s.file.clone(),
                    tracks: s.tracks.clone(),
                    records: s.records,
                })
                .collect(),
        };
        DiskBacklog {
            parts,
            reader: None,
            min_wall,
        }
    }
}

#[derive(Debug)]
struct Part {
    file: Arc<SegmentFile>,
    tracks: Tracks,
    records: u64,
}

/// A subscriber's backlog on disk: the segments it starts from, read one
/// record at a time.
#[derive(Debug)]
pub(super) struct DiskBacklog {
    parts: VecDeque<Part>,
    reader: Option<(BufReader<File>, Part)>,
    /// Audio-only streams start at the first packet at or after this.
    min_wall: i64,
}

impl DiskBacklog {
    /// Records not yet read.
    pub(super) fn len(&self) -> u64 {
        self.parts.iter().map(|p| p.records).sum::<u64>()
            + self.reader.as_ref().map_or(0, |(_, p)| p.records)
    }

    /// The next packet; None at the end of the backlog; `Err(n)` when `n`
    /// records could not be read (the rest of the backlog is given up).
    pub(super) fn next(&mut self) -> Result<Option<Packet>, u64> {
        loop {
            if self.reader.as_ref().is_none_or(|(_, p)| p.records == 0) {
                let Some(part) = self.parts.pop_front() else {
                    self.reader = None;
                    return Ok(None);
                };
                match File::open(&part.file.0) {
                    Ok(f) => self.reader = Some((BufReader::with_capacity(READ_BUFFER, f), part)),
                    Err(e) => return Err(self.give_up(&e, part.records)),
                }
            }
            let Some((r, part)) = self.reader.as_mut() else {
                continue;
            };
            let mut head = [0u8; HEADER];
            let read = r.read_exact(&mut head).and_then(|()| {
                let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
                if len > MAX_RECORD {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "record too long",
                    ));
                }
                let mut data = vec![0u8; len as usize];
                r.read_exact(&mut data)?;
                Ok(data)
            });
            let data = match read {
                Ok(d) => d,
                Err(e) => {
                    let left = part.records;
                    return Err(self.give_up(&e, left));
                }
            };
            part.records -= 1;
            let word = |i: usize| {
                let mut b = [0u8; 8];
                b.copy_from_slice(&head[i..i + 8]);
                i64::from_be_bytes(b)
            };
            let wall_ms = word(4);
            if wall_ms < self.min_wall {
                continue;
            }
            let frame = Frame {
                track: if head[24] == 1 {
                    Track::Video
                } else {
                    Track::Audio
                },
                dts: word(12),
                cts: i32::from_be_bytes([head[20], head[21], head[22], head[23]]),
                keyframe: head[25] == 1,
                data: Bytes::from(data),
            };
            return Ok(Some(Packet {
                frame,
                tracks: part.tracks.clone(),
                wall_ms,
            }));
        }
    }

    fn give_up(&mut self, e: &std::io::Error, current: u64) -> u64 {
        tracing::warn!(error = %e, "reading the disk pre-roll failed; the backlog is skipped");
        let lost = current + self.parts.iter().map(|p| p.records).sum::<u64>();
        self.parts.clear();
        self.reader = None;
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use media::frame::{AudioCodec, AudioConfig};

    fn packet(track: Track, wall_ms: i64, keyframe: bool, tracks: &Tracks) -> Packet {
        Packet {
            frame: Frame {
                track,
                dts: wall_ms - 1000,
                cts: if track == Track::Video { 40 } else { 0 },
                keyframe,
                data: Bytes::from(vec![wall_ms as u8; 100 + (wall_ms % 7) as usize]),
            },
            tracks: tracks.clone(),
            wall_ms,
        }
    }

    fn drain(b: &mut DiskBacklog) -> Vec<Packet> {
        let mut v = Vec::new();
        while let Some(p) = b.next().unwrap() {
            v.push(p);
        }
        v
    }

    /// 25 fps video with a keyframe every 2 s, plus audio every 20 ms.
    fn feed(ring: &mut DiskRing, from: i64, to: i64, tracks: &Tracks) -> Vec<Packet> {
        let mut sent = Vec::new();
        for t in (from..to).step_by(20) {
            if t % 40 == 0 {
                sent.push(packet(Track::Video, t, t % 2000 == 0, tracks));
            }
            sent.push(packet(Track::Audio, t, true, tracks));
        }
        for p in &sent {
            ring.push(p.clone());
        }
        sent
    }

    #[test]
    fn keeps_a_keyframe_aligned_window_and_reads_it_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = DiskRing::new(5000, dir.path(), "s");
        let sent = feed(&mut ring, 0, 20_000, &Tracks::default());
        let mut b = ring.from(Some(0));
        let got = drain(&mut b);
        // The window covers at least 5 s and starts at a keyframe.
        let first = &got[0];
        assert!(first.is_video_keyframe());
        assert!(
            first.wall_ms <= 20_000 - 5000 && first.wall_ms >= 20_000 - 7000,
            "{}",
            first.wall_ms
        );
        let at = sent
            .iter()
            .position(|p| p.wall_ms == first.wall_ms && p.frame.track == Track::Video)
            .unwrap();
        assert_eq!(got.len(), sent.len() - at);
        for (g, s) in got.iter().zip(&sent[at..]) {
            assert_eq!((g.wall_ms, &g.frame), (s.wall_ms, &s.frame));
        }
        // Trimmed segment files are gone from disk.
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert!(
            files <= 5,
            "{files} segment files for a 5 s window of 1-2 s segments"
        );
        // From a time: the keyframe at or before it.
        let got = drain(&mut ring.from(Some(17_500)));
        assert_eq!(got[0].wall_ms, 16_000);
        // None: the newest keyframe.
        let got = drain(&mut ring.from(None));
        assert_eq!(got[0].wall_ms, 18_000);
    }

    proptest::proptest! {
        /// Whatever the packets (sizes, tracks, keyframes, time steps),
        /// the window read back from a video keyframe start is exactly what
        /// was pushed.
        #[test]
        fn packets_read_back_exactly(
            steps in proptest::collection::vec((0i64..400, proptest::bool::ANY, 0u8..8, 0usize..3000), 1..300)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut ring = DiskRing::new(i64::MAX / 4, dir.path(), "p");
            let mut sent = Vec::new();
            let mut wall = 0;
            for (i, (dt, video, kind, size)) in steps.into_iter().enumerate() {
                wall += dt;
                let track = if video || i == 0 { Track::Video } else { Track::Audio };
                let p = Packet {
                    frame: Frame {
                        track,
                        dts: wall - 7,
                        cts: i32::from(kind) * 40 - 80,
                        keyframe: i == 0 || kind == 0,
                        data: Bytes::from(vec![kind; size]),
                    },
                    tracks: Tracks::default(),
                    wall_ms: wall,
                };
                ring.push(p.clone());
                sent.push(p);
            }
            let got = drain(&mut ring.from(Some(i64::MIN)));
            proptest::prop_assert_eq!(got.len(), sent.len());
            for (g, s) in got.iter().zip(&sent) {
                proptest::prop_assert_eq!((g.wall_ms, &g.frame), (s.wall_ms, &s.frame));
            }
        }
    }

    #[test]
    fn a_backlog_outlives_the_stream_and_its_files_go_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = DiskRing::new(3000, dir.path(), "s");
        feed(&mut ring, 0, 6000, &Tracks::default());
        let mut b = ring.from(Some(0));
        let n = b.len();
        ring.clear();
        assert!(
            std::fs::read_dir(dir.path()).unwrap().count() > 0,
            "kept for the subscriber"
        );
        assert_eq!(drain(&mut b).len() as u64, n);
        drop(b);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_configuration_change_starts_a_segment_with_the_new_tracks() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = DiskRing::new(60_000, dir.path(), "s");
        let a = Tracks::default();
        let b = Tracks {
            video: None,
            audio: Some(Arc::new(AudioConfig {
                codec: AudioCodec::Aac,
                sample_rate: 44_100,
                channels: 2,
                asc: Bytes::from_static(&[0x12, 0x10]),
                flv_header: 0xaf,
            })),
        };
        feed(&mut ring, 0, 2500, &a);
        feed(&mut ring, 2500, 5000, &b);
        let got = drain(&mut ring.from(Some(0)));
        assert!(
            got.iter()
                .filter(|p| p.wall_ms < 2500)
                .all(|p| p.tracks.audio.is_none())
        );
        assert!(
            got.iter()
                .filter(|p| p.wall_ms >= 2500)
                .all(|p| p.tracks.audio.is_some())
        );
        assert!(same_tracks(&ring.last_tracks(), &b));
    }

    #[test]
    fn audio_only_starts_at_the_first_packet_at_or_after_the_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = DiskRing::new(4000, dir.path(), "a");
        for t in (0..10_000).step_by(20) {
            ring.push(packet(Track::Audio, t, true, &Tracks::default()));
        }
        let got = drain(&mut ring.from(Some(7_010)));
        assert_eq!(got[0].wall_ms, 7_020);
        assert_eq!(got.last().unwrap().wall_ms, 9_980);
        assert!(drain(&mut ring.from(None)).is_empty());
        let oldest = drain(&mut ring.from(Some(0)))[0].wall_ms;
        assert!((5000..=6000).contains(&oldest), "{oldest}");
    }

    #[test]
    fn a_write_failure_turns_the_pre_roll_off_and_a_lost_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = DiskRing::new(60_000, &dir.path().join("missing"), "s");
        feed(&mut ring, 0, 3000, &Tracks::default());
        assert!(ring.failed);
        assert!(drain(&mut ring.from(Some(0))).is_empty());
        assert!(ring.last_tracks().audio.is_none());

        let mut ring = DiskRing::new(60_000, dir.path(), "s");
        feed(&mut ring, 0, 3000, &Tracks::default());
        let mut b = ring.from(Some(0));
        let total = b.len();
        for e in std::fs::read_dir(dir.path()).unwrap() {
            std::fs::remove_file(e.unwrap().path()).unwrap();
        }
        assert_eq!(b.next().unwrap_err(), total);
        assert!(matches!(b.next(), Ok(None)));
    }
}
