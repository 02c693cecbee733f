//! One recording: a task recording one publish session of one stream, in
//! every format the task asks for, from one subscription (one copy of the
//! pre-roll, one stream of packets). It reads the stream from the pre-roll
//! start point, waits for a video keyframe when an output carries video,
//! hands each packet to every output, and ends at the task's EndTime, when
//! stopped, or when the publisher leaves.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::RecorderCtx;
use super::output::Output;
use crate::hub::{LiveStream, Next, Packet};
use crate::store::{FileRow, Task};

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

    /// The outputs, decided at the first packet (when the stream's tracks
    /// are known).
    fn outputs(&self, first: &Packet) -> Vec<Output> {
        let has_video = self
            .stream
            .has_video()
            .unwrap_or(first.tracks.video.is_some());
        let has_audio = self
            .stream
            .has_audio()
            .unwrap_or(first.tracks.audio.is_some());
        self.task
            .formats
            .iter()
            .filter_map(|&format| {
                let o = Output::new(format, &self.task, has_video, has_audio);
                if o.is_none() {
                    tracing::warn!(%format, "the stream has no audio: no {format} file for this session");
                }
                o
            })
            .collect()
    }

    async fn run_inner(self) -> (Ended, Vec<FileRow>) {
        let ctx = self.ctx.clone();
        let mut sub = self.stream.subscribe(Some(self.from_ms));
        let end_ms = self.task.end_ms;
        let wait = Duration::from_millis(u64::try_from(end_ms - ctx.clock.now_ms()).unwrap_or(0));
        let deadline = tokio::time::sleep(wait);
        tokio::pin!(deadline);
        let interval_ms = self.task.record_interval_s * 1000;
        let mut outputs: Option<Vec<Output>> = None;
        let mut need_keyframe = true;
        tracing::info!(from_ms = self.from_ms, end_ms, "recording started");
        // Packets that arrived before this wall-clock time belong in the
        // recording; EndTime or a stop lowers it. Once it is known, what is
        // already queued is drained (a busy recorder may lag behind the
        // publisher) before the files are closed.
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
            let outs = outputs.get_or_insert_with(|| self.outputs(&packet));
            if outs.is_empty() {
                break Ended::Failed;
            }
            if need_keyframe {
                // Files start at a video keyframe when any output carries
                // video; audio-only recordings start at once.
                if outs.iter().any(Output::carries_video) && !packet.is_video_keyframe() {
                    continue;
                }
                need_keyframe = false;
            }
            for o in outs.iter_mut() {
                o.write(&ctx, &self.task, &self.stream, &packet, interval_ms)
                    .await;
            }
        };
        let mut files = Vec::new();
        for mut o in outputs.unwrap_or_default() {
            o.close(&ctx).await;
            files.append(&mut o.files);
        }
        tracing::info!(reason = ?ended, files = files.len(), "recording ended");
        (ended, files)
    }
}
