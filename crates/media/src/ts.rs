//! The MPEG-TS muxer (ISO/IEC 13818-1) used for HLS segments: one program,
//! PMT on PID 0x1000, video on 0x100, audio on 0x101, PCR on the video PID
//! (the audio PID for audio-only streams). Owns the TS layout of a file;
//! segmenting and the playlist belong to [`crate::hls`], files to the caller.
//!
//! The packetizer (`ts/packet.rs`) is hand-written rather than built on the
//! `mpeg2ts` crate: that crate has no "mux one access unit" helper, so PES
//! splitting, PCR placement and stuffing would be ours anyway; owning the
//! bytes keeps PAT/PMT identical to FFmpeg's, lets a PCR-only packet keep
//! the PCR interval under 100 ms, and adds no dependency.
//!
//! Each segment is self-contained: PAT and PMT open the file and precede
//! every video keyframe, and keyframes carry their parameter sets. AAC
//! frames are batched several per PES (one frame per PES costs about a third
//! of a low-bitrate stream in overhead).

mod es;
mod packet;
mod recover;

use std::sync::Arc;

use crate::flv::Patch;
use crate::frame::{AudioConfig, Frame, Track, Tracks, VideoConfig, same_config};
use crate::mux::{MuxError, Muxer};
use crate::timestamp::MediaSpan;

pub use es::stream_type;
use es::{AudioEs, VideoEs};
use packet::{FirstPacket, PAT_PID, Payload, Pid, TS_MASK};
pub use recover::{TsRecovery, recover, recover_from};

/// PID of the program map table.
pub(crate) const PMT_PID: u16 = 0x1000;
/// PID of the video elementary stream.
pub(crate) const VIDEO_PID: u16 = 0x100;
/// PID of the audio elementary stream.
pub(crate) const AUDIO_PID: u16 = 0x101;
/// Added to every timestamp before it is written, so that a presentation
/// time before the first decode time (B-frames) stays positive. FFmpeg's
/// MPEG-TS muxer starts at the same 1.4 s.
const TIMESTAMP_OFFSET_MS: i64 = 1400;
/// How far the PCR runs behind the decode time of the data it precedes
/// (FFmpeg's default `muxdelay`), so batched audio still arrives in time.
const PCR_DELAY_MS: i64 = 700;
/// Longest PCR interval (ISO/IEC 13818-1 §2.7.2 asks for at most 100 ms).
const MAX_PCR_GAP_MS: i64 = 100;
/// Most audio frames batched into one PES.
const MAX_AUDIO_FRAMES_PER_PES: usize = 5;
/// Largest audio PES payload: `PES_packet_length` is 16 bits.
const MAX_AUDIO_PES_PAYLOAD: usize = 0xffff - packet::PES_HEADER_MAX;
/// A frame whose DTS step differs from its nominal duration by more than
/// this (ms) starts a new PES: within one PES only the first frame has a
/// timestamp, the others are implied by their durations.
const AUDIO_JITTER_MS: f64 = 2.0;
/// `stream_id` of the first video and audio streams (§2.4.3.7 Table 2-22).
const STREAM_ID_VIDEO: u8 = 0xe0;
const STREAM_ID_AUDIO: u8 = 0xc0;

/// A timestamp in ms as 90 kHz ticks, offset by [`TIMESTAMP_OFFSET_MS`],
/// clamped at 0 and wrapped to 33 bits.
fn ticks(ms: i64) -> u64 {
    let ms = ms.saturating_add(TIMESTAMP_OFFSET_MS).max(0) as u64;
    ms.saturating_mul(90) & TS_MASK
}

/// True when `cur` differs from the configuration last used.
fn changed<T: PartialEq, E>(prev: &Option<(Arc<T>, E)>, cur: &Arc<T>) -> bool {
    prev.as_ref().is_none_or(|(p, _)| !same_config(p, cur))
}

/// Audio frames waiting to be written as one PES.
#[derive(Debug)]
struct AudioBatch {
    data: Vec<u8>,
    first_dts: i64,
    last_dts: i64,
    frames: usize,
}

/// Writes one MPEG-TS file: [`start`](Muxer::start) once,
/// [`push`](Muxer::push) per frame, [`finish`](Muxer::finish) at close
/// (which flushes batched audio and never patches).
///
/// Frames of a track the muxer was not created for are ignored. Timestamps
/// are written as `(ms + 1.4 s) × 90` modulo 2^33, so a recording's segments
/// share one continuous timeline when the caller keeps feeding the same
/// timeline to a new muxer per segment.
#[derive(Debug)]
pub struct TsMuxer {
    video: bool,
    audio: bool,
    started: bool,
    span: MediaSpan,
    pat: Pid,
    pmt: Pid,
    video_pid: Pid,
    audio_pid: Pid,
    pmt_version: u8,
    /// Stream types announced by the last PMT.
    video_type: u8,
    audio_type: u8,
    /// Nothing but PAT/PMT written since the last PAT/PMT.
    psi_fresh: bool,
    /// The PMT must be rewritten (a stream type changed).
    psi_dirty: bool,
    video_es: Option<(Arc<VideoConfig>, VideoEs)>,
    audio_es: Option<(Arc<AudioConfig>, AudioEs)>,
    batch: Option<AudioBatch>,
    /// The last batch's buffer, emptied, for the next batch's data.
    spare: Vec<u8>,
    /// Audio PES packets written so far.
    audio_pes: u64,
    /// Last PCR written, ms on the frames' timeline.
    last_pcr: Option<i64>,
    /// Continues an earlier segment ([`TsMuxer::continuing`]): a stream
    /// type that differs from the one it announced bumps the PMT version.
    carried: bool,
}

impl TsMuxer {
    /// A muxer whose PMT lists video and/or audio.
    pub fn new(video: bool, audio: bool) -> TsMuxer {
        TsMuxer {
            video,
            audio,
            started: false,
            span: MediaSpan::new(),
            pat: Pid::new(PAT_PID),
            pmt: Pid::new(PMT_PID),
            video_pid: Pid::new(VIDEO_PID),
            audio_pid: Pid::new(AUDIO_PID),
            pmt_version: 0,
            video_type: stream_type::H264,
            audio_type: stream_type::AAC_ADTS,
            psi_fresh: false,
            psi_dirty: false,
            video_es: None,
            audio_es: None,
            batch: None,
            spare: Vec::new(),
            audio_pes: 0,
            last_pcr: None,
            carried: false,
        }
    }

    /// A muxer for the next segment of the same recording: a new file
    /// (PAT and PMT first, timestamps as fed) whose packets carry on the
    /// continuity counters of every PID and whose PMT keeps the version (a
    /// changed stream type gets the next one), so a player reading the
    /// segments back to back sees one continuous transport stream.
    pub fn continuing(&self) -> TsMuxer {
        TsMuxer {
            pat: self.pat,
            pmt: self.pmt,
            video_pid: self.video_pid,
            audio_pid: self.audio_pid,
            pmt_version: self.pmt_version,
            video_type: self.video_type,
            audio_type: self.audio_type,
            carried: true,
            ..TsMuxer::new(self.video, self.audio)
        }
    }

    /// Writes PAT and PMT.
    fn write_psi(&mut self, out: &mut Vec<u8>) {
        let mut streams = Vec::with_capacity(2);
        if self.video {
            streams.push((self.video_type, VIDEO_PID));
        }
        if self.audio {
            streams.push((self.audio_type, AUDIO_PID));
        }
        let pcr_pid = match (self.video, self.audio) {
            (true, _) => VIDEO_PID,
            (false, true) => AUDIO_PID,
            // No PCR stream (§2.4.4.9: PCR_PID 0x1FFF).
            (false, false) => 0x1fff,
        };
        let pat = packet::pat(PMT_PID);
        let pmt = packet::pmt(self.pmt_version, pcr_pid, &streams);
        self.pat.write_section(&pat, out);
        self.pmt.write_section(&pmt, out);
        self.psi_fresh = true;
        self.psi_dirty = false;
    }

    /// Announces a stream type; a change needs a new PMT version.
    fn set_type(&mut self, track: Track, stream_type: u8) {
        let slot = match track {
            Track::Video => &mut self.video_type,
            Track::Audio => &mut self.audio_type,
        };
        if *slot != stream_type {
            *slot = stream_type;
            if self.started {
                self.pmt_version = (self.pmt_version + 1) & 0x1f;
                self.psi_dirty = true;
            }
        }
    }

    /// The PCR for data decoded at `dts`: behind it by the mux delay, never
    /// going back.
    fn next_pcr(&mut self, dts: i64) -> i64 {
        let pcr = dts
            .saturating_sub(PCR_DELAY_MS)
            .max(self.last_pcr.unwrap_or(i64::MIN));
        self.last_pcr = Some(pcr);
        pcr
    }

    /// Writes one PES on the stream of `track`.
    fn write_pes<'p>(
        &mut self,
        track: Track,
        pts: i64,
        dts: i64,
        random_access: bool,
        payload: Payload<impl Iterator<Item = &'p [u8]>>,
        out: &mut Vec<u8>,
    ) {
        let carries_pcr = match track {
            Track::Video => true,
            Track::Audio => !self.video,
        };
        let pcr = if carries_pcr {
            Some(ticks(self.next_pcr(dts)))
        } else {
            // The PCR stream (video) is quiet: keep the PCR interval short.
            let due = self.last_pcr.is_none_or(|l| {
                dts.saturating_sub(PCR_DELAY_MS).saturating_sub(l) >= MAX_PCR_GAP_MS
            });
            if due && self.video {
                let pcr = ticks(self.next_pcr(dts));
                self.video_pid.write_pcr_only(pcr, out);
            }
            None
        };
        let (stream_id, pid) = match track {
            Track::Video => (STREAM_ID_VIDEO, &mut self.video_pid),
            Track::Audio => (STREAM_ID_AUDIO, &mut self.audio_pid),
        };
        let header = packet::pes_header(stream_id, ticks(pts), ticks(dts), payload.len);
        pid.write(FirstPacket { random_access, pcr }, &header, payload, out);
        self.psi_fresh = false;
    }

    /// Writes the batched audio frames, if any, as one PES.
    fn flush_audio(&mut self, out: &mut Vec<u8>) {
        if let Some(mut b) = self.batch.take() {
            self.write_pes(
                Track::Audio,
                b.first_dts,
                b.first_dts,
                true,
                Payload::one(&b.data),
                out,
            );
            self.audio_pes += 1;
            b.data.clear();
            self.spare = b.data;
        }
    }

    fn push_video(
        &mut self,
        frame: &Frame,
        tracks: &Tracks,
        out: &mut Vec<u8>,
    ) -> Result<(), MuxError> {
        let cfg = configured(tracks.video.as_ref(), "a video frame")?;
        if changed(&self.video_es, cfg) {
            self.video_es = Some((Arc::clone(cfg), VideoEs::new(cfg)?));
        }
        let stream_type = es::video_stream_type(cfg.codec);
        // Held apart while the access unit, which borrows it, is written.
        let Some(entry) = self.video_es.take() else {
            return Ok(());
        };
        let written = self.write_video(frame, &entry.1, stream_type, tracks, out);
        self.video_es = Some(entry);
        written
    }

    /// Writes a video frame as one access unit of `stream_type`, its data
    /// copied straight from the frame into the packets. On error nothing is
    /// written.
    fn write_video(
        &mut self,
        frame: &Frame,
        video_es: &VideoEs,
        stream_type: u8,
        tracks: &Tracks,
        out: &mut Vec<u8>,
    ) -> Result<(), MuxError> {
        let au = video_es.access_unit(&frame.data, frame.keyframe)?;
        self.set_type(Track::Video, stream_type);
        self.start_with(tracks, out);
        if frame.keyframe || self.psi_dirty {
            self.flush_audio(out);
            if !self.psi_fresh || self.psi_dirty {
                self.write_psi(out);
            }
        }
        self.write_pes(
            Track::Video,
            frame.pts(),
            frame.dts,
            frame.keyframe,
            au.payload(),
            out,
        );
        Ok(())
    }

    fn push_audio(
        &mut self,
        frame: &Frame,
        tracks: &Tracks,
        out: &mut Vec<u8>,
    ) -> Result<(), MuxError> {
        let cfg = configured(tracks.audio.as_ref(), "an audio frame")?;
        let fresh = if changed(&self.audio_es, cfg) {
            Some(AudioEs::new(cfg)?)
        } else {
            None
        };
        let Some(audio_es) = fresh.as_ref().or(self.audio_es.as_ref().map(|(_, e)| e)) else {
            return Ok(());
        };
        let nominal = audio_es.frame_ms(&frame.data, cfg.sample_rate);
        let header = audio_es.header(&frame.data)?;
        let header = header.as_ref().map_or(&[][..], |h| &h[..]);
        let len = header.len() + frame.data.len();
        if let Some(audio_es) = fresh {
            // Frames of the old configuration must not share a PES with new ones.
            self.flush_audio(out);
            self.audio_es = Some((Arc::clone(cfg), audio_es));
        }
        self.set_type(Track::Audio, es::audio_stream_type(cfg));
        self.start_with(tracks, out);
        if self.psi_dirty {
            self.flush_audio(out);
            self.write_psi(out);
        }
        let pcr_limited = !self.video;
        let joins = self.batch.as_ref().is_some_and(|b| {
            let step = frame.dts.saturating_sub(b.last_dts) as f64;
            // The first audio PES of a file holds one frame: FFmpeg's HLS
            // demuxer gives the second frame of a first multi-frame PES the
            // first one's timestamp.
            self.audio_pes > 0
                && b.frames < MAX_AUDIO_FRAMES_PER_PES
                && b.data.len() + len <= MAX_AUDIO_PES_PAYLOAD
                && (step - nominal).abs() <= AUDIO_JITTER_MS
                // With the PCR on this PID, a PES must not span the PCR interval.
                && (!pcr_limited
                    || (frame.dts.saturating_sub(b.first_dts) as f64 + nominal)
                        <= MAX_PCR_GAP_MS as f64)
        });
        if !joins {
            self.flush_audio(out);
        }
        let b = self.batch.get_or_insert_with(|| AudioBatch {
            data: std::mem::take(&mut self.spare),
            first_dts: frame.dts,
            last_dts: frame.dts,
            frames: 0,
        });
        b.data.extend_from_slice(header);
        b.data.extend_from_slice(&frame.data);
        b.last_dts = frame.dts;
        b.frames += 1;
        Ok(())
    }

    /// [`Muxer::start`] without the `Result`.
    fn start_with(&mut self, tracks: &Tracks, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        let (video_type, audio_type) = (self.video_type, self.audio_type);
        if let Some(v) = &tracks.video {
            self.video_type = es::video_stream_type(v.codec);
        }
        if let Some(a) = &tracks.audio {
            self.audio_type = es::audio_stream_type(a);
        }
        if self.carried && (video_type, audio_type) != (self.video_type, self.audio_type) {
            self.pmt_version = (self.pmt_version + 1) & 0x1f;
        }
        self.started = true;
        self.write_psi(out);
    }
}

impl Muxer for TsMuxer {
    /// Appends PAT and PMT (stream types from `tracks`, H.264/AAC when a
    /// configuration is not known yet; a later change bumps the PMT version).
    fn start(&mut self, tracks: &Tracks, out: &mut Vec<u8>) -> Result<(), MuxError> {
        self.start_with(tracks, out);
        Ok(())
    }

    /// Appends one frame (audio may wait in a batch until the next PES is
    /// due). Frames with no data are skipped. On error nothing is appended.
    fn push(&mut self, frame: &Frame, tracks: &Tracks, out: &mut Vec<u8>) -> Result<(), MuxError> {
        if frame.dts < 0 {
            return Err(MuxError::Timestamp(format!("negative DTS {}", frame.dts)));
        }
        let wanted = match frame.track {
            Track::Video => self.video,
            Track::Audio => self.audio,
        };
        if !wanted || frame.data.is_empty() {
            return Ok(());
        }
        match frame.track {
            Track::Video => self.push_video(frame, tracks, out)?,
            Track::Audio => self.push_audio(frame, tracks, out)?,
        }
        self.span.observe(frame.track, frame.dts);
        Ok(())
    }

    /// Flushes batched audio. MPEG-TS needs no patches.
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<Vec<Patch>, MuxError> {
        self.flush_audio(out);
        Ok(Vec::new())
    }

    /// Media span written: first DTS to last DTS plus the last frame's
    /// duration (see [`MediaSpan`]).
    fn duration_ms(&self) -> i64 {
        self.span.duration_ms()
    }

    /// [`TsMuxer::continuing`].
    fn next_segment(&self) -> Option<Box<dyn Muxer>> {
        Some(Box::new(self.continuing()))
    }
}

/// A track's configuration, or the error for `what` arriving before it.
fn configured<'a, T>(cfg: Option<&'a Arc<T>>, what: &str) -> Result<&'a Arc<T>, MuxError> {
    cfg.ok_or_else(|| MuxError::Unsupported(format!("{what} before its configuration")))
}

#[cfg(test)]
pub(crate) mod tests;
