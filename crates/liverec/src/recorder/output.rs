//! One output format of a recording: which tracks it carries, its open
//! file (single-file formats, cut at `record_interval` on a keyframe) or
//! HLS playlist. A failing output is closed and logged without stopping the
//! recording's other formats. Cuts follow media time; the free-space check
//! follows tokio's clock.

use std::time::Duration;

use tokio::time::Instant;

use media::{MuxError, Track};

use super::RecorderCtx;
use super::file::OpenFile;
use super::hls::HlsOutput;
use super::start::{FileError, FileStart};
use crate::callbacks::{Exception, RecordSubject};
use crate::hub::{LiveStream, Packet};
use crate::plan::{OutputPlan, Plan};
use crate::task::{FileFormat, RecordType};

enum State {
    Idle,
    File(Box<OpenFile>),
    Hls(Box<HlsOutput>),
    /// Ended (failure, or nothing it can record); ignores further packets.
    Done,
}

pub(super) struct Output {
    spec: OutputPlan,
    video: bool,
    audio: bool,
    state: State,
    /// After a forced cut (codec change), the next file starts at a keyframe.
    need_keyframe: bool,
    /// When the free space was last checked.
    disk_checked: Instant,
    /// When the publisher left while this output stayed open for it, ms.
    parked_ms: Option<i64>,
    /// Whether a file was opened (the status event "started" was sent).
    started: bool,
}

/// What this output's status and exception events are about.
fn subject(spec: &OutputPlan, plan: &Plan, stream: &LiveStream) -> RecordSubject {
    RecordSubject {
        account_id: plan.account_id.clone(),
        domain: stream.key.domain.clone(),
        app: stream.key.app.clone(),
        stream: stream.key.stream.clone(),
        session_id: stream.info.session_id.clone(),
        task_id: plan.task_id.clone(),
        format: spec.format,
    }
}

/// How often an open output re-checks the free space.
const DISK_CHECK_EVERY: Duration = Duration::from_secs(5);

/// Whether a file holding `duration_ms` of media ends before a frame that
/// `key` says may start a file: once it reached `record_interval_s`
/// (0 = never), at the first such frame.
fn cut_due(duration_ms: i64, record_interval_s: i64, key: bool) -> bool {
    let interval_ms = record_interval_s.saturating_mul(1000);
    key && interval_ms > 0 && duration_ms >= interval_ms
}

impl Output {
    /// An output for a stream with these tracks. None when the format
    /// cannot record anything of it (audio formats, no audio).
    pub(super) fn new(
        spec: &OutputPlan,
        plan: &Plan,
        has_video: bool,
        has_audio: bool,
    ) -> Option<Output> {
        let audio_only = spec.format.audio_only() || plan.record_type == RecordType::Audio;
        let video = has_video && !audio_only;
        if !video && !has_audio {
            return None;
        }
        Some(Output {
            spec: spec.clone(),
            video,
            audio: has_audio,
            state: State::Idle,
            need_keyframe: false,
            disk_checked: Instant::now(),
            parked_ms: None,
            started: false,
        })
    }

    pub(super) fn format(&self) -> FileFormat {
        self.spec.format
    }

    pub(super) fn carries_video(&self) -> bool {
        self.video
    }

    /// How long a publisher that left may take to come back and continue
    /// this output, ms: the plan's window for the format, else the
    /// server's (0 = not at all).
    pub(super) fn window_ms(&self, ctx: &RecorderCtx) -> i64 {
        if self.spec.continue_ms > 0 {
            self.spec.continue_ms
        } else {
            ctx.reconnect_window_ms
        }
    }

    /// Keeps the output open for a publisher that left at `now_ms`, if it
    /// holds an open file or playlist and has a reconnect window; false
    /// when it should be closed instead.
    pub(super) fn park(&mut self, ctx: &RecorderCtx, now_ms: i64) -> bool {
        let open = matches!(self.state, State::Hls(_) | State::File(_));
        if open && self.window_ms(ctx) > 0 {
            self.parked_ms = Some(now_ms);
            true
        } else {
            false
        }
    }

    /// Whether a publisher back at `now_ms` is within this output's window.
    pub(super) fn within_window(&self, ctx: &RecorderCtx, now_ms: i64) -> bool {
        self.parked_ms
            .is_some_and(|left| now_ms.saturating_sub(left) <= self.window_ms(ctx))
    }

    /// Continues after the publisher came back: the file goes on with
    /// re-based timestamps (no gap, overlap or repeated frame at the join);
    /// an HLS playlist's next segment starts with `#EXT-X-DISCONTINUITY`.
    pub(super) async fn resume(&mut self, ctx: &RecorderCtx) {
        self.parked_ms = None;
        let r = match &mut self.state {
            State::Hls(h) => h.resume(ctx).await,
            State::File(f) => {
                f.splice();
                Ok(())
            }
            State::Idle | State::Done => Ok(()),
        };
        if let Err(e) = r {
            tracing::error!(format = %self.spec.format, error = %e, "could not continue the playlist");
            self.abandon(ctx).await;
        }
    }

    /// Writes one packet; failures end this output only.
    pub(super) async fn write(
        &mut self,
        ctx: &RecorderCtx,
        plan: &Plan,
        stream: &LiveStream,
        packet: &Packet,
    ) {
        if matches!(self.state, State::Done) {
            return;
        }
        let is_video = packet.frame.track == Track::Video;
        if (is_video && !self.video) || (!is_video && !self.audio) {
            return;
        }
        let key = packet.is_video_keyframe() || !self.video;
        if self.need_keyframe {
            if !key {
                return;
            }
            self.need_keyframe = false;
        }
        if let State::File(f) = &self.state
            && cut_due(f.duration_ms(), self.spec.record_interval_s, key)
        {
            self.close(ctx).await;
        }
        if let Err(e) = self.write_inner(ctx, plan, stream, packet).await {
            match e {
                // A codec configuration change the container cannot carry
                // in one file (MP4): start a new file at the next keyframe.
                FileError::Mux(MuxError::Unsupported(why))
                    if matches!(self.state, State::File(_)) =>
                {
                    tracing::info!(format = %self.spec.format, reason = %why, "starting a new file");
                    self.close(ctx).await;
                    self.need_keyframe = self.video;
                }
                FileError::LowDisk(free) => {
                    // Refuse to start, or finish what is open cleanly, rather
                    // than run the disk full mid-file (SPEC §4 disk safety).
                    tracing::error!(format = %self.spec.format, free, min = ctx.min_free_bytes, "storage is nearly full: recording refused or ended");
                    self.announce_problem(ctx, plan, stream, Exception::DiskSpace);
                    self.close(ctx).await;
                    self.state = State::Done;
                }
                e => {
                    tracing::error!(format = %self.spec.format, error = %e, "writing the recording failed; ending this output");
                    self.announce_problem(ctx, plan, stream, Exception::StorageWrite);
                    self.abandon(ctx).await;
                }
            }
        }
    }

    async fn write_inner(
        &mut self,
        ctx: &RecorderCtx,
        plan: &Plan,
        stream: &LiveStream,
        p: &Packet,
    ) -> Result<(), FileError> {
        let idle = matches!(self.state, State::Idle);
        // Before a file is opened, and every few seconds while one is open.
        if idle || self.disk_checked.elapsed() >= DISK_CHECK_EVERY {
            self.disk_checked = Instant::now();
            ctx.check_free_space().map_err(FileError::LowDisk)?;
        }
        if idle {
            let start = FileStart {
                spec: &self.spec,
                first_wall_ms: p.wall_ms,
                tracks: &p.tracks,
                video: self.video,
                audio: self.audio,
            };
            self.state = match self.spec.format {
                FileFormat::Hls => {
                    State::Hls(Box::new(HlsOutput::create(ctx, plan, stream, start).await?))
                }
                _ => State::File(Box::new(OpenFile::create(ctx, plan, stream, start).await?)),
            };
        }
        if !self.started && !matches!(self.state, State::Idle | State::Done) {
            self.started = true;
            let now = ctx.clock.now_ms();
            let s = subject(&self.spec, plan, stream);
            ctx.announce(vec![ctx.callbacks.record_status(
                &s,
                "record_start_succeeded",
                now,
            )]);
        }
        match &mut self.state {
            State::File(f) => f.write(p.frame.clone(), &p.tracks).await,
            State::Hls(h) => h.write(ctx, p.frame.clone(), &p.tracks).await,
            State::Idle | State::Done => Ok(()),
        }
    }

    /// Sends the status event (332: the start failed, or the recording
    /// failed) and the exception event (341) of a problem.
    fn announce_problem(
        &self,
        ctx: &RecorderCtx,
        plan: &Plan,
        stream: &LiveStream,
        problem: Exception,
    ) {
        let now = ctx.clock.now_ms();
        let s = subject(&self.spec, plan, stream);
        let status = if self.started {
            "record_error"
        } else {
            "record_start_failed"
        };
        ctx.announce(vec![
            ctx.callbacks.record_status(&s, status, now),
            ctx.callbacks.record_exception(&s, problem, now),
        ]);
    }

    /// Finalizes the open file, if any; the output stays usable.
    pub(super) async fn close(&mut self, ctx: &RecorderCtx) {
        let closed = match std::mem::replace(&mut self.state, State::Idle) {
            State::File(f) => (*f).close(ctx).await,
            State::Hls(h) => (*h).close(ctx).await,
            State::Done => {
                self.state = State::Done;
                return;
            }
            State::Idle => return,
        };
        if let Err(e) = closed {
            tracing::error!(format = %self.spec.format, error = %e, "closing the recording failed");
        }
    }

    async fn abandon(&mut self, ctx: &RecorderCtx) {
        let saved = match std::mem::replace(&mut self.state, State::Done) {
            State::File(f) => (*f).abandon(ctx).await,
            State::Hls(h) => (*h).abandon(ctx).await,
            State::Idle | State::Done => return,
        };
        if let Err(e) = saved {
            tracing::error!(format = %self.spec.format, error = %e, "could not save the partial file");
        }
    }
}

#[cfg(test)]
mod tests;
