//! One recording: a plan (task or rule) recording one publish session of
//! one stream, in every format the plan asks for, from one subscription (one copy of the
//! pre-roll, one stream of packets). It reads the stream from the pre-roll
//! start point, waits for a video keyframe when an output carries video,
//! hands each packet to every output, and ends at the task's EndTime, when
//! stopped, or when the publisher leaves. Where a mix starts or stops
//! replacing the stream (A+B=A) the open files end and new ones start.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::RecorderCtx;
use super::output::Output;
use crate::hub::{LiveStream, Next, Packet};
use crate::plan::Plan;

/// Stands in for "no end time" (rules): about 30 years.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 86_400);

/// Packets written in a row from the queue before the stop and EndTime
/// are looked at again.
const MAX_BURST: u32 = 32;

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
    pub(super) plan: Arc<Plan>,
    pub(super) stream: Arc<LiveStream>,
    /// Wall-clock point to start from (pre-roll), ms.
    pub(super) from_ms: i64,
    pub(super) stop: CancellationToken,
    /// Open outputs of the previous session, continued (reconnect window).
    pub(super) resume: Vec<Output>,
}

impl Recording {
    /// Runs to the end; returns why it ended and the outputs left open for
    /// a reconnecting publisher (outputs with a reconnect window).
    pub(super) async fn run(self) -> (Ended, Vec<Output>) {
        let span = tracing::info_span!("task", task_id = %self.plan.task_id, stream = %self.stream.key, session = %self.stream.info.session_id);
        self.run_inner().instrument(span).await
    }

    async fn run_inner(self) -> (Ended, Vec<Output>) {
        let Recording {
            ctx,
            plan,
            stream,
            from_ms,
            stop,
            resume,
        } = self;
        run(ctx, plan, stream, from_ms, stop, resume).await
    }
}

/// The outputs, decided at the first packet (when the stream's tracks are
/// known); resumed outputs of the same format are continued.
async fn build_outputs(
    ctx: &RecorderCtx,
    plan: &Plan,
    stream: &LiveStream,
    first: &Packet,
    resume: &mut Vec<Output>,
) -> Vec<Output> {
    let has_video = stream.has_video().unwrap_or(first.tracks.video.is_some());
    let has_audio = stream.has_audio().unwrap_or(first.tracks.audio.is_some());
    let mut outs = Vec::new();
    for spec in &plan.outputs {
        let found = resume.iter().position(|o| o.format() == spec.format);
        if let Some(i) = found {
            let mut o = resume.swap_remove(i);
            if o.within_window(ctx, ctx.clock.now_ms()) {
                o.resume(ctx).await;
                tracing::info!(format = %spec.format, "publisher is back: continuing the file");
                outs.push(o);
                continue;
            }
            // Back after this format's own (shorter) window: a new file.
            o.close(ctx).await;
        }
        match Output::new(spec, plan, has_video, has_audio) {
            Some(o) => outs.push(o),
            None => {
                tracing::warn!(format = %spec.format, "the stream has no audio: no {} file for this session", spec.format);
            }
        }
    }
    outs
}

async fn run(
    ctx: Arc<RecorderCtx>,
    plan: Arc<Plan>,
    stream: Arc<LiveStream>,
    from_ms: i64,
    stop: CancellationToken,
    mut resume: Vec<Output>,
) -> (Ended, Vec<Output>) {
    let mut sub = stream.subscribe(Some(from_ms));
    let end_ms = plan.end_ms;
    // Rules never end by time; a far deadline stands in for "never".
    let wait = Duration::from_millis(
        u64::try_from(end_ms.saturating_sub(ctx.clock.now_ms())).unwrap_or(0),
    )
    .min(FAR_FUTURE);
    let deadline = tokio::time::sleep(wait);
    tokio::pin!(deadline);
    let mut outputs: Option<Vec<Output>> = None;
    let mut need_keyframe = true;
    tracing::info!(from_ms, end_ms, "recording started");
    // Packets that arrived before this wall-clock time belong in the
    // recording; EndTime or a stop lowers it. Once it is known, what is
    // already queued is drained (a busy recorder may lag behind the
    // publisher) before the files are closed.
    let mut cutoff = end_ms;
    let mut draining: Option<Ended> = None;
    // Packets taken straight from the queue since the stop and EndTime
    // were last looked at: a burst (one tick of the publisher's reads) is
    // written without a `select!` per packet; whatever is queued when a
    // stop is seen is drained anyway, so this changes nothing recorded.
    let mut burst = 0u32;
    let ended = loop {
        let quick = match draining {
            None if burst < MAX_BURST => sub.try_next(),
            _ => None,
        };
        burst = if quick.is_some() { burst + 1 } else { 0 };
        let next = match (quick, draining) {
            (Some(n), _) => n,
            (None, Some(reason)) => match sub.try_next() {
                Some(n) => n,
                None => break reason,
            },
            (None, None) => tokio::select! {
                biased;
                _ = stop.cancelled() => {
                    cutoff = cutoff.min(ctx.clock.now_ms());
                    draining = Some(Ended::Stopped);
                    continue;
                }
                _ = &mut deadline, if wait < FAR_FUTURE => {
                    draining = Some(Ended::EndTime);
                    continue;
                }
                n = sub.next() => n,
            },
        };
        let packet = match next {
            Next::End => break Ended::Unpublished,
            Next::Switch => {
                // A mix started or stopped replacing the stream (A+B=A):
                // other codec settings and another timeline, so each file
                // holds one source and starts at its keyframe.
                for o in outputs.iter_mut().flatten() {
                    o.close(&ctx).await;
                }
                need_keyframe = true;
                tracing::info!("the stream changed source; starting new files");
                continue;
            }
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
        if outputs.is_none() {
            outputs = Some(build_outputs(&ctx, &plan, &stream, &packet, &mut resume).await);
        }
        let outs = outputs.get_or_insert_default();
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
            o.write(&ctx, &plan, &stream, &packet).await;
        }
    };
    // Resumed outputs this session never used end now.
    for mut o in resume {
        o.close(&ctx).await;
    }
    // A publisher that left may come back within the reconnect window:
    // outputs with one stay open for it.
    let left_ms = ctx.clock.now_ms();
    let mut parked = Vec::new();
    for mut o in outputs.unwrap_or_default() {
        if ended == Ended::Unpublished && o.park(&ctx, left_ms) {
            parked.push(o);
        } else {
            o.close(&ctx).await;
        }
    }
    tracing::info!(reason = ?ended, kept_open = parked.len(), "recording ended");
    (ended, parked)
}

#[cfg(test)]
mod tests;
