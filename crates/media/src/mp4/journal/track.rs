//! One track of the journal: its sample entry, the sample held back until
//! its successor's decode time is known, and the samples buffered for the
//! next fragment.

use std::sync::Arc;

use bytes::Bytes;

use crate::codec::{aac, mp3};
use crate::frame::{AudioCodec, AudioConfig, Frame, Track, Tracks, VideoConfig};
use crate::mp4::boxes::TrackHeader;
use crate::mp4::fragment::Sample;
use crate::mp4::{TrackSpan, VIDEO_TIMESCALE, entry, ms_to_units};
use crate::mux::MuxError;

/// Video duration assumed for a lone last frame: 1/30 s.
const DEFAULT_VIDEO_DURATION: u32 = VIDEO_TIMESCALE / 30;

/// The decoder configuration a track was started with.
#[derive(Debug)]
pub(super) enum Config {
    Video(Arc<VideoConfig>),
    Audio(Arc<AudioConfig>),
}

impl Config {
    /// An error if `tracks` carries a configuration the sample entry written
    /// at start cannot describe.
    fn check(&self, tracks: &Tracks) -> Result<(), MuxError> {
        // Looser than `frame::same_config` on purpose: only the fields the
        // sample entry is built from must stay the same; the others (such
        // as the FLV audio header byte) may change within a file.
        let same = match (self, &tracks.video, &tracks.audio) {
            (Config::Video(old), Some(new), _) => {
                Arc::ptr_eq(old, new) || (old.codec == new.codec && old.record == new.record)
            }
            (Config::Audio(old), _, Some(new)) => {
                Arc::ptr_eq(old, new)
                    || (old.codec == new.codec
                        && old.asc == new.asc
                        && old.sample_rate == new.sample_rate
                        && old.channels == new.channels)
            }
            _ => true,
        };
        if same {
            Ok(())
        } else {
            Err(MuxError::Unsupported(
                "mp4: the codec configuration changed mid-file; start a new file".into(),
            ))
        }
    }
}

/// The newest sample of a track, waiting for its successor's decode time.
#[derive(Debug)]
pub(super) struct Pending {
    pub(super) dts: i64,
    /// Expected duration from the codec (audio), 0 if unknown.
    nominal: u32,
    cts: i32,
    sync: bool,
    data: Bytes,
}

#[derive(Debug)]
pub(super) struct JTrack {
    pub(super) kind: Track,
    pub(super) header: TrackHeader,
    config: Config,
    pub(super) stsd: Vec<u8>,
    pub(super) pending: Option<Pending>,
    pub(super) buffered: Vec<Sample>,
    /// Decode time of `buffered[0]`.
    pub(super) buffered_dts: i64,
    /// Decode time of the end of the last sample moved out of `pending`.
    end: i64,
    first: Option<i64>,
    last_ms: Option<i64>,
    last_duration: u32,
    seen_keyframe: bool,
}

impl JTrack {
    /// A track for `config`, its `track_ID` still 0 (numbered when the init
    /// segment is written).
    pub(super) fn new(kind: Track, config: Config) -> Result<Self, MuxError> {
        let track_id = 0; // assigned by write_init
        let (header, stsd) = match &config {
            Config::Video(v) => (
                TrackHeader {
                    track_id,
                    handler: *b"vide",
                    timescale: VIDEO_TIMESCALE,
                    width: v.width.min(0xffff) << 16,
                    height: v.height.min(0xffff) << 16,
                },
                entry::video_stsd(v)?,
            ),
            Config::Audio(a) => {
                if a.sample_rate == 0 {
                    return Err(MuxError::Unsupported("mp4: audio sampling rate 0".into()));
                }
                let header = TrackHeader {
                    track_id,
                    handler: *b"soun",
                    timescale: a.sample_rate,
                    width: 0,
                    height: 0,
                };
                (header, entry::audio_stsd(a)?)
            }
        };
        Ok(JTrack {
            kind,
            header,
            config,
            stsd,
            pending: None,
            buffered: Vec::new(),
            buffered_dts: 0,
            end: 0,
            first: None,
            last_ms: None,
            last_duration: 0,
            seen_keyframe: false,
        })
    }

    /// Takes `frame` as the new pending sample, settling the previous one:
    /// returns it, or `None` when the frame is dropped (empty, or video
    /// before the first keyframe).
    pub(super) fn accept(
        &mut self,
        frame: &Frame,
        tracks: &Tracks,
    ) -> Result<Option<Pending>, MuxError> {
        self.config.check(tracks)?;
        if frame.dts < 0 || self.last_ms.is_some_and(|last| frame.dts <= last) {
            return Err(MuxError::Timestamp(format!(
                "mp4: {:?} DTS {} after {:?}",
                frame.track, frame.dts, self.last_ms
            )));
        }
        if frame.data.is_empty()
            || (self.kind == Track::Video && !self.seen_keyframe && !frame.keyframe)
        {
            return Ok(None);
        }
        if u32::try_from(frame.data.len()).is_err() {
            return Err(MuxError::Unsupported(format!(
                "mp4: {}-byte frame",
                frame.data.len()
            )));
        }
        let dts = self.dts_of(frame.dts);
        let nominal = match &self.config {
            Config::Audio(a) if a.codec == AudioCodec::Aac => aac::FRAME_SAMPLES,
            Config::Audio(_) => mp3::frame_samples(&frame.data),
            Config::Video(_) => 0,
        };
        let cts = match self.kind {
            Track::Video => ms_to_units(i64::from(frame.cts), VIDEO_TIMESCALE),
            Track::Audio => 0,
        };
        self.settle(dts);
        self.first.get_or_insert(dts);
        self.last_ms = Some(frame.dts);
        self.seen_keyframe |= frame.keyframe;
        let pending = Pending {
            dts,
            nominal,
            cts: i32::try_from(cts).unwrap_or(if cts < 0 { i32::MIN } else { i32::MAX }),
            sync: frame.keyframe || self.kind == Track::Audio,
            data: frame.data.clone(),
        };
        Ok(Some(pending))
    }

    pub(super) fn timescale(&self) -> u32 {
        self.header.timescale
    }

    /// Decode time of a frame at `ms` in the track timescale, strictly after
    /// the pending sample.
    fn dts_of(&self, ms: i64) -> i64 {
        let actual = ms_to_units(ms, self.timescale());
        let Some(p) = &self.pending else {
            return actual;
        };
        let tolerance = i64::from(self.timescale() / 500).max(1);
        let expected = p.dts + i64::from(p.nominal);
        let dts = if p.nominal > 0 && (actual - expected).abs() <= tolerance {
            expected
        } else {
            actual
        };
        dts.max(p.dts + 1)
    }

    /// Gives the pending sample its duration (up to `next_dts`) and moves it
    /// into the fragment buffer.
    pub(super) fn settle(&mut self, next_dts: i64) {
        let Some(p) = self.pending.take() else {
            return;
        };
        let duration = u32::try_from(next_dts - p.dts).unwrap_or(u32::MAX).max(1);
        if self.buffered.is_empty() {
            self.buffered_dts = p.dts;
        }
        self.last_duration = duration;
        self.end = p.dts + i64::from(duration);
        self.buffered.push(Sample {
            duration,
            cts: p.cts,
            sync: p.sync,
            data: p.data,
        });
    }

    /// Duration given to the last sample when no successor comes.
    pub(super) fn estimate(&self, p: &Pending) -> u32 {
        if p.nominal > 0 {
            p.nominal
        } else if self.last_duration > 0 {
            self.last_duration
        } else if self.kind == Track::Video {
            DEFAULT_VIDEO_DURATION
        } else {
            (self.timescale() / 50).max(1)
        }
    }

    pub(super) fn span(&self) -> Option<TrackSpan> {
        let end = match &self.pending {
            Some(p) => p.dts + i64::from(self.estimate(p)),
            None => self.end,
        };
        self.first.map(|first| TrackSpan {
            timescale: self.timescale(),
            first,
            end,
        })
    }
}
