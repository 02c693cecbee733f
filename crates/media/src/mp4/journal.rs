//! The fragmented MP4 journal writer: init segment at start, then a
//! `moof` + `mdat` fragment whenever about a second of media is buffered.
//!
//! Each track holds back its newest sample until the next one arrives, so
//! every sample in a fragment has its exact duration; only the last sample
//! of each track gets an estimated duration, in [`Muxer::finish`]. Audio
//! decode times are snapped to whole codec frames (1024 samples for AAC, the
//! header's count for MP3) while the millisecond timestamps agree within
//! 2 ms, so durations come out exact instead of jittering by the ms rounding.

mod track;

use std::sync::Arc;

use super::boxes::{self, Put, full};
use super::fragment::{self, Run};
use super::{TrackSpan, tables};
use crate::flv::Patch;
use crate::frame::{Frame, Track, Tracks};
use crate::mux::{MuxError, Muxer};
use track::{Config, JTrack};

/// Default fragment length; see [`Fmp4Journal::with_fragment_ms`].
const DEFAULT_FRAGMENT_MS: i64 = 1000;

/// Journal writer: `ftyp` + `moov` (`mvex`/`trex`; `avc1`/`avcC` or
/// `hvc1`/`hvcC`, `mp4a`/`esds` for AAC and MP3) at start, then
/// `moof` + `mdat` fragments.
///
/// A fragment (all tracks) is emitted when the buffered media reaches the
/// fragment length (1000 ms by default), at a video keyframe once half of it
/// is buffered, and in [`Muxer::finish`]; nothing is patched afterwards.
/// Video frames before the first keyframe are dropped, as are empty frames.
///
/// The init segment is written as soon as every track announced in
/// [`new`](Self::new) has a configuration (at [`Muxer::start`] when the
/// publisher sent its sequence headers first; MP3 audio only has one from its
/// first frame on), and at the latest with the first fragment: a track still
/// without a configuration then is left out of the file and its frames are
/// ignored. A configuration change mid-file (new SPS, other
/// AudioSpecificConfig) is refused with [`MuxError::Unsupported`]: the caller
/// starts a new file.
#[derive(Debug)]
pub struct Fmp4Journal {
    video: bool,
    audio: bool,
    fragment_ms: i64,
    init_written: bool,
    tracks: Vec<JTrack>,
    sequence: u32,
}

impl Fmp4Journal {
    /// A journal whose file carries video and/or audio.
    pub fn new(video: bool, audio: bool) -> Self {
        Fmp4Journal {
            video,
            audio,
            fragment_ms: DEFAULT_FRAGMENT_MS,
            init_written: false,
            tracks: Vec::new(),
            sequence: 0,
        }
    }

    /// Sets the fragment length in ms (at least 1): the most media a crash
    /// can lose. Keyframes also end a fragment once half of it is buffered.
    pub fn with_fragment_ms(mut self, ms: u32) -> Self {
        self.fragment_ms = i64::from(ms.max(1));
        self
    }

    fn has(&self, kind: Track) -> bool {
        self.tracks.iter().any(|t| t.kind == kind)
    }

    /// Adds the announced tracks whose configuration just became known and
    /// writes the init segment once all of them have one (until it is
    /// written).
    fn add_tracks(&mut self, tracks: &Tracks, out: &mut Vec<u8>) -> Result<(), MuxError> {
        if self.init_written {
            return Ok(());
        }
        if let (true, false, Some(v)) = (self.video, self.has(Track::Video), &tracks.video) {
            self.tracks
                .push(JTrack::new(Track::Video, Config::Video(Arc::clone(v)))?);
        }
        if let (true, false, Some(a)) = (self.audio, self.has(Track::Audio), &tracks.audio) {
            self.tracks
                .push(JTrack::new(Track::Audio, Config::Audio(Arc::clone(a)))?);
        }
        let complete =
            (!self.video || self.has(Track::Video)) && (!self.audio || self.has(Track::Audio));
        if complete && !self.tracks.is_empty() {
            self.write_init(out);
        }
        Ok(())
    }

    /// Writes `ftyp` + `moov` for the tracks known now, video first.
    fn write_init(&mut self, out: &mut Vec<u8>) {
        self.init_written = true;
        self.tracks.sort_by_key(|t| t.kind != Track::Video);
        for (i, t) in self.tracks.iter_mut().enumerate() {
            t.header.track_id = i as u32 + 1;
        }
        boxes::ftyp(out, b"isom", 0x200, &[b"isom", b"iso6", b"mp41"]);
        boxes::bx(out, b"moov", |out| {
            boxes::mvhd(out, 0, self.tracks.len() as u32 + 1);
            for t in &self.tracks {
                boxes::trak(out, &t.header, 0, 0, &[], |out| {
                    out.extend_from_slice(&t.stsd);
                    tables::stts(out, std::iter::empty());
                    tables::stsc(out, std::iter::empty());
                    tables::stsz(out, std::iter::empty());
                    tables::chunk_offsets(out, std::iter::empty(), false);
                });
            }
            boxes::bx(out, b"mvex", |out| {
                for t in &self.tracks {
                    full(out, b"trex", 0, 0, |out| {
                        out.u32(t.header.track_id);
                        out.u32(1); // default_sample_description_index
                        out.zeros(12);
                    });
                }
            });
        });
    }

    /// Decode time in ms of the oldest buffered sample.
    fn buffered_since_ms(&self) -> Option<i64> {
        self.tracks
            .iter()
            .filter(|t| !t.buffered.is_empty())
            .map(|t| super::units_to_ms(t.buffered_dts, t.timescale()))
            .min()
    }

    /// Writes the buffered samples of every track as one fragment (after
    /// the init segment if it is still due).
    fn flush(&mut self, out: &mut Vec<u8>) -> Result<(), MuxError> {
        if self.tracks.iter().all(|t| t.buffered.is_empty()) {
            return Ok(());
        }
        if !self.init_written {
            self.write_init(out);
        }
        let runs: Vec<Run<'_>> = self
            .tracks
            .iter()
            .filter(|t| !t.buffered.is_empty())
            .map(|t| Run {
                track_id: t.header.track_id,
                base_dts: t.buffered_dts.max(0) as u64,
                samples: &t.buffered,
            })
            .collect();
        self.sequence = self.sequence.wrapping_add(1);
        fragment::write(out, self.sequence, &runs)?;
        for t in &mut self.tracks {
            t.buffered.clear();
        }
        Ok(())
    }
}

impl Muxer for Fmp4Journal {
    fn start(&mut self, tracks: &Tracks, out: &mut Vec<u8>) -> Result<(), MuxError> {
        self.add_tracks(tracks, out)
    }

    fn push(&mut self, frame: &Frame, tracks: &Tracks, out: &mut Vec<u8>) -> Result<(), MuxError> {
        self.add_tracks(tracks, out)?;
        let Some(i) = self.tracks.iter().position(|t| t.kind == frame.track) else {
            return Ok(());
        };
        let Some(pending) = self.tracks[i].accept(frame, tracks)? else {
            return Ok(());
        };
        if let Some(since) = self.buffered_since_ms() {
            let span = frame.dts - since;
            let at_keyframe = frame.track == Track::Video && frame.keyframe;
            if span >= self.fragment_ms || (at_keyframe && span * 2 >= self.fragment_ms) {
                self.flush(out)?;
            }
        }
        // Writing the init segment in flush may have reordered the tracks.
        if let Some(t) = self.tracks.iter_mut().find(|t| t.kind == frame.track) {
            t.pending = Some(pending);
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<Vec<Patch>, MuxError> {
        for t in &mut self.tracks {
            if let Some(p) = &t.pending {
                let end = p.dts + i64::from(t.estimate(p));
                t.settle(end);
            }
        }
        self.flush(out)?;
        Ok(Vec::new())
    }

    fn duration_ms(&self) -> i64 {
        let spans: Vec<TrackSpan> = self.tracks.iter().filter_map(JTrack::span).collect();
        super::movie_duration_ms(&spans)
    }
}
