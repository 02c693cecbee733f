//! One recording: a task recording one publish session of one stream. It
//! reads the stream from the pre-roll start point, waits for a video
//! keyframe when the stream has video, writes files (a new one at each
//! `record_interval` boundary, cut at a keyframe), and ends at the task's
//! EndTime, when stopped, or when the publisher leaves.

use std::sync::Arc;
use std::time::Duration;

use media::Track;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::RecorderCtx;
use super::file::{FileStart, OpenFile};
use crate::hub::{LiveStream, Next, Packet};
use crate::store::{FileRow, Task};
use crate::task::{FileFormat, RecordType};

/// Why a recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    /// The task's EndTime passed.
    EndTime,
    /// StopLiveRecord or shutdown.
    Stopped,
    /// The publisher left.
    Unpublished,
    /// Writing failed (logged).
    Failed,
}

/// What a recording needs to run.
pub(super) struct Recording {
    pub(super) ctx: Arc<RecorderCtx>,
    pub(super) task: Arc<Task>,
    pub(super) format: FileFormat,
    pub(super) stream: Arc<LiveStream>,
    /// Wall-clock point to start from (pre-roll), ms.
    pub(super) from_ms: i64,
    pub(super) stop: CancellationToken,
}

impl Recording {
    /// Runs to the end; returns why it ended and the files it finished.
    pub(super) async fn run(self) -> (Ended, Vec<FileRow>) {
        let span = tracing::info_span!("task", task_id = self.task.id, stream = %self.stream.key, session = %self.stream.info.session_id);
        self.run_inner().instrument(span).await
    }

    async fn run_inner(self) -> (Ended, Vec<FileRow>) {
        let ctx = self.ctx.clone();
        let mut sub = self.stream.subscribe(Some(self.from_ms));
        let end_ms = self.task.end_ms;
        let wait = Duration::from_millis(u64::try_from(end_ms - ctx.clock.now_ms()).unwrap_or(0));
        let deadline = tokio::time::sleep(wait);
        tokio::pin!(deadline);
        let interval_ms = self.task.record_interval_s * 1000;
        let audio_only = self.task.record_type == RecordType::Audio;
        let mut files = Vec::new();
        let mut file: Option<OpenFile> = None;
        // Until the first packet we do not know whether to wait for video.
        let mut need_keyframe = true;
        let mut started = false;
        tracing::info!(from_ms = self.from_ms, end_ms, "recording started");
        // Packets that arrived before this wall-clock time belong in the
        // recording; EndTime or a stop lowers it. Once it is known, what is
        // already queued is drained (a busy recorder may lag behind the
        // publisher) before the file is closed.
        let mut cutoff = end_ms;
        let mut draining: Option<Ended> = None;
        let ended = loop {
            let next = match draining {
                Some(reason) => match sub.try_next() {
                    Some(n) => n,
                    None => break reason,
                },
                None => tokio::select! {
                    biased;
                    _ = self.stop.cancelled() => {
                        cutoff = cutoff.min(ctx.clock.now_ms());
                        draining = Some(Ended::Stopped);
                        continue;
                    }
                    _ = &mut deadline => {
                        draining = Some(Ended::EndTime);
                        continue;
                    }
                    n = sub.next() => n,
                },
            };
            let packet = match next {
                Next::End => break Ended::Unpublished,
                Next::Lost(n) => {
                    tracing::warn!(
                        lost = n,
                        "recording fell behind; resuming at the next keyframe"
                    );
                    need_keyframe = true;
                    continue;
                }
                Next::Packet(p) => p,
            };
            if packet.wall_ms >= cutoff {
                break draining.unwrap_or(Ended::EndTime);
            }
            let has_video = !audio_only
                && self
                    .stream
                    .has_video()
                    .unwrap_or(packet.tracks.video.is_some());
            if !started {
                started = true;
                need_keyframe = has_video;
            }
            if packet.frame.track == Track::Video && !has_video {
                continue;
            }
            if need_keyframe {
                if !packet.is_video_keyframe() {
                    continue;
                }
                need_keyframe = false;
            }
            let cut = interval_ms > 0
                && file
                    .as_ref()
                    .is_some_and(|f| f.duration_ms() >= interval_ms)
                && (packet.is_video_keyframe() || !has_video);
            if cut && let Some(f) = file.take() {
                match f.close(&ctx).await {
                    Ok(row) => files.extend(row),
                    Err(e) => {
                        tracing::error!(error = %e, "closing a segment failed");
                        break Ended::Failed;
                    }
                }
            }
            match self.write(&mut file, packet, has_video).await {
                Ok(()) => {}
                Err(e) => {
                    tracing::error!(error = %e, "writing the recording failed; ending it");
                    if let Some(f) = file.take() {
                        match f.abandon(&ctx).await {
                            Ok(row) => files.extend(row),
                            Err(e) => {
                                tracing::error!(error = %e, "could not save the partial file")
                            }
                        }
                    }
                    break Ended::Failed;
                }
            }
        };
        if let Some(f) = file.take() {
            match f.close(&ctx).await {
                Ok(row) => files.extend(row),
                Err(e) => tracing::error!(error = %e, "closing the recording failed"),
            }
        }
        tracing::info!(reason = ?ended, files = files.len(), "recording ended");
        (ended, files)
    }

    async fn write(
        &self,
        file: &mut Option<OpenFile>,
        packet: Packet,
        has_video: bool,
    ) -> Result<(), super::file::FileError> {
        let f = match file {
            Some(f) => f,
            None => {
                let has_audio = self
                    .stream
                    .has_audio()
                    .unwrap_or(packet.tracks.audio.is_some());
                file.insert(
                    OpenFile::create(
                        &self.ctx,
                        &self.task,
                        &self.stream,
                        FileStart {
                            format: self.format,
                            first_wall_ms: packet.wall_ms,
                            tracks: &packet.tracks,
                            video: has_video,
                            audio: has_audio,
                        },
                    )
                    .await?,
                )
            }
        };
        f.write(packet.frame, &packet.tracks).await
    }
}
