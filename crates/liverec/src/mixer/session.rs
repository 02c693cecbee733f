//! One running mix session: publishes the output stream C into the hub as
//! an ingest session would (publish-session row, callbacks 1 and 0, so it
//! is listed online and recordable), forwards its inputs' packets from the
//! hub to a dedicated media thread through a bounded queue (`feed`), and
//! runs the
//! [`Engine`] there, clocked by the output frame rate. Late ticks are
//! skipped and counted (`liverec_mix_frames_dropped_total`) so a session
//! that cannot keep real time never falls behind without bound; the
//! thread's CPU time is reported (`liverec_mix_cpu_microseconds_total`).
//! An A+B=A session (`OutputStreamType` 0) publishes nothing new: it
//! overlays the input it replaces ([`crate::hub::Overlay`]), reads that
//! input's own media from the overlay's hidden source, writes no session
//! row of its own (the stream stays its publisher's session), and ends
//! when that publisher leaves.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use media::Tracks;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::MixError;
use super::codec::AAC_FRAME;
use super::engine::{Engine, OutputFormat};
use super::layout::{Layout, MixSpec};
use crate::callbacks::Callbacks;
use crate::clock::Clock;
use crate::hub::{
    Hub, LiveStream, Overlay, OverlayError, Packet, Publisher, SessionInfo, StopReason,
};
use crate::ingest::history::SessionLog;
use crate::store::Store;
use crate::task::StreamKey;
use feed::{Inputs, feed};

/// Input packets queued for the media thread before the newest are dropped
/// (about 4 s of two 30 fps inputs with audio).
const INPUT_QUEUE: usize = 512;

/// What sessions need from the server.
#[derive(Clone, Debug)]
pub(crate) struct SessionCtx {
    pub(crate) hub: Arc<Hub>,
    pub(crate) store: Store,
    pub(crate) callbacks: Callbacks,
    pub(crate) clock: Arc<dyn Clock>,
    /// Registers C in the cluster-wide list of live streams (several nodes).
    pub(crate) cluster: Option<crate::cluster::Cluster>,
}

/// Messages to the media thread besides packets.
#[derive(Debug)]
enum Control {
    /// A new layout (same session id).
    Layout(Layout),
    /// An input stopped publishing.
    Gone(String),
    /// End the session.
    Stop,
}

/// A running session, owned by the [`super::Mixer`] registry.
#[derive(Debug)]
pub(crate) struct Session {
    /// The request it runs now.
    pub(crate) spec: MixSpec,
    /// The output stream C.
    pub(crate) output: StreamKey,
    control: Sender<Control>,
    names: watch::Sender<Vec<String>>,
    cancel: CancellationToken,
    done: JoinHandle<()>,
}

/// The live stream of input `name` among `owner`'s streams (the first by
/// key when several domains or apps carry the name).
pub(crate) fn find_input(hub: &Hub, owner: &str, name: &str) -> Option<Arc<LiveStream>> {
    let mut found: Vec<_> = hub
        .list()
        .into_iter()
        .filter(|s| s.info.owner == owner && s.key.stream == name && !s.is_kicked())
        .collect();
    found.sort_by(|a, b| a.key.cmp(&b.key));
    found.into_iter().next()
}

impl Session {
    /// Starts publishing `output` from `spec` laid out as `layout`; for
    /// A+B=A (`spec.output.replace`) `output` is the input it replaces.
    pub(crate) fn start(
        ctx: &SessionCtx,
        owner: &str,
        spec: MixSpec,
        layout: Layout,
        output: StreamKey,
    ) -> Result<Session, MixError> {
        let format = OutputFormat::new(&spec.output, layout.width, layout.height);
        let engine = Engine::new(layout, format).map_err(|e| MixError::Process(e.to_string()))?;
        let (out, log) = if spec.output.replace {
            let overlay = ctx.hub.overlay(&output).map_err(|e| match e {
                OverlayError::Busy(_) => MixError::OutputTaken(output.stream.clone()),
                OverlayError::NotLive(_) => MixError::StreamNotExist(output.stream.clone()),
            })?;
            (Out::Replace(overlay), None)
        } else {
            let info = SessionInfo {
                session_id: uuid::Uuid::now_v7().to_string(),
                started_ms: ctx.clock.now_ms(),
                client_addr: "127.0.0.1:0".into(),
                stream_param: String::new(),
                owner: owner.to_string(),
            };
            let publisher = ctx
                .hub
                .publish(output.clone(), info)
                .map_err(|_| MixError::OutputTaken(output.stream.clone()))?;
            publisher.declare_tracks(true, true);
            let stream = publisher.stream().clone();
            let log = SessionLog::start(&ctx.store, &ctx.callbacks, &stream);
            if let Some(cluster) = ctx.cluster.clone() {
                // C is listed and controlled from every node like a publisher;
                // a claim another node holds is only logged (the hub of this
                // node already refused a second C here).
                let stream = stream.clone();
                tokio::spawn(async move {
                    if let Err(node) = cluster.claim(&stream).await {
                        tracing::warn!(stream = %stream.key, %node, "mix output is also published on another node");
                    }
                });
            }
            (Out::New(publisher), Some(log))
        };
        let stream = out.stream().clone();
        // The replaced input is read from the overlay's source, never by
        // name (that is the mix itself now).
        let replaced = match &out {
            Out::Replace(o) => Some((spec.output.name.clone(), o.source().clone())),
            Out::New(_) => None,
        };
        let (data_tx, data_rx) = mpsc::sync_channel(INPUT_QUEUE);
        let (control_tx, control_rx) = mpsc::channel();
        let (names_tx, names_rx) = watch::channel(input_names(&spec));
        let cancel = CancellationToken::new();
        let (result_tx, result_rx) = oneshot::channel();
        let media = Media {
            engine,
            out,
            data: data_rx,
            control: control_rx,
            clock: ctx.clock.clone(),
            format,
        };
        let thread = std::thread::Builder::new()
            .name(format!("mix-{}", spec.session_id))
            .spawn(move || {
                let _ = result_tx.send(media.run());
            })
            .map_err(|e| MixError::Process(format!("starting the mix thread: {e}")))?;
        drop(thread);
        tokio::spawn(feed(
            Inputs {
                hub: ctx.hub.clone(),
                owner: owner.to_string(),
                replaced,
            },
            names_rx,
            data_tx,
            control_tx.clone(),
            cancel.clone(),
        ));
        let done = {
            let (ctx, cancel, session) = (ctx.clone(), cancel.clone(), spec.session_id.clone());
            tokio::spawn(async move {
                let (tracks, reason) = result_rx
                    .await
                    .unwrap_or((Tracks::default(), StopReason::Error));
                cancel.cancel();
                let end_ms = ctx.clock.now_ms();
                tracing::info!(session = %session, stream = %stream.key, "mix session ended");
                if let Some(log) = log {
                    if let Some(cluster) = &ctx.cluster {
                        cluster.release(&stream).await;
                    }
                    log.end(&ctx.store, &ctx.callbacks, &stream, end_ms, reason, &tracks)
                        .await;
                }
                metrics::gauge!("liverec_mix_sessions").decrement(1.0);
            })
        };
        metrics::gauge!("liverec_mix_sessions").increment(1.0);
        Ok(Session {
            spec,
            output,
            control: control_tx,
            names: names_tx,
            cancel,
            done,
        })
    }

    /// Whether the session ended by itself (its output was dropped, or
    /// the media thread failed).
    pub(crate) fn is_finished(&self) -> bool {
        self.done.is_finished() || self.cancel.is_cancelled()
    }

    /// Applies a new request with the same session id and output.
    pub(crate) fn update(&mut self, spec: MixSpec, layout: Layout) {
        let _ = self.names.send(input_names(&spec));
        let _ = self.control.send(Control::Layout(layout));
        self.spec = spec;
    }

    /// Ends the session: C ends, its recordings finalize, its session row
    /// and callback are written. Returns once all that is done.
    pub(crate) async fn stop(self) {
        let _ = self.control.send(Control::Stop);
        self.cancel.cancel();
        let _ = self.done.await;
    }
}

/// The inputs read from streams (canvas layers are not).
fn input_names(spec: &MixSpec) -> Vec<String> {
    spec.inputs
        .iter()
        .filter(|i| i.kind.is_stream())
        .map(|i| i.name.clone())
        .collect()
}

/// The media thread's state.
struct Media {
    engine: Engine,
    out: Out,
    data: Receiver<(Arc<str>, Packet)>,
    control: Receiver<Control>,
    clock: Arc<dyn Clock>,
    format: OutputFormat,
}

/// Where the mix goes.
enum Out {
    /// A+B=C: a new stream, published.
    New(Publisher),
    /// A+B=A: the input it replaces.
    Replace(Overlay),
}

impl Out {
    fn stream(&self) -> &Arc<LiveStream> {
        match self {
            Out::New(p) => p.stream(),
            Out::Replace(o) => o.stream(),
        }
    }

    fn push(&mut self, packet: Packet) {
        match self {
            Out::New(p) => p.push(packet),
            Out::Replace(o) => o.push(packet),
        }
    }

    /// Why the output cannot go on, if it cannot: it was dropped, or the
    /// publisher of the replaced input left.
    fn ended(&self) -> Option<StopReason> {
        match self {
            Out::New(p) => p
                .stream()
                .is_kicked()
                .then(|| p.stream().stop_reason().unwrap_or(StopReason::Dropped)),
            Out::Replace(o) => o.is_ended().then_some(StopReason::Unpublish),
        }
    }
}

/// The video frame to encode now and how many ticks were missed: the
/// frame the clock is at, when it is past `expected` (a late tick is
/// dropped, not made up, so a slow session never falls further behind).
fn catch_up(expected: u64, elapsed: Duration, fps: u64) -> (u64, u64) {
    let current = (elapsed.as_nanos() * u128::from(fps) / 1_000_000_000) as u64;
    if current > expected {
        (current, current - expected)
    } else {
        (expected, 0)
    }
}

/// Whether the clock has passed all samples of audio frame `index`.
fn audio_due(index: u64, elapsed: Duration, rate: u32) -> bool {
    u128::from(index + 1) * AAC_FRAME as u128 * 1_000_000_000
        <= elapsed.as_nanos() * u128::from(rate)
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

impl Media {
    /// Runs until stopped or the output is dropped; returns the output's
    /// tracks and why it ended. The output is dropped first (C ends, or
    /// the replaced input is its publisher's again).
    fn run(mut self) -> (Tracks, StopReason) {
        let fps = u64::from(self.format.video.fps.max(1));
        let rate = self.format.audio_rate.max(1);
        let start = Instant::now();
        let (mut video, mut audio, mut dropped) = (0u64, 0u64, 0u64);
        let cpu_start = thread_cpu();
        let mut cpu_reported = cpu_start;
        let mut last_report = start;
        let reason = 'run: loop {
            loop {
                match self.control.try_recv() {
                    Ok(Control::Layout(l)) => self.engine.set_layout(l),
                    // The input's last packets went on the data channel
                    // before this was sent.
                    Ok(Control::Gone(name)) => {
                        self.engine
                            .input_gone_after(&name, self.data.try_iter(), Instant::now())
                    }
                    Ok(Control::Stop) | Err(mpsc::TryRecvError::Disconnected) => {
                        break 'run StopReason::Unpublish;
                    }
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            if let Some(reason) = self.out.ended() {
                break reason;
            }
            let due = start + Duration::from_nanos(video.saturating_mul(1_000_000_000) / fps);
            let now = Instant::now();
            if now < due {
                match self.data.recv_timeout(due - now) {
                    Ok((name, packet)) => self.engine.input(&name, &packet, Instant::now()),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => std::thread::sleep(due - now),
                }
                continue;
            }
            let elapsed = now - start;
            let (next, missed) = catch_up(video, elapsed, fps);
            if missed > 0 {
                dropped += missed;
                metrics::counter!("liverec_mix_frames_dropped_total").increment(missed);
            }
            video = next;
            let wall = self.clock.now_ms();
            match self.engine.video_frame(video, now, wall) {
                Ok(Some(p)) => self.out.push(p),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "mix video encoding failed");
                    break StopReason::Error;
                }
            }
            metrics::counter!("liverec_mix_frames_total").increment(1);
            video += 1;
            // Audio frames whose samples the clock has passed.
            while audio_due(audio, elapsed, rate) {
                match self.engine.audio_frame(audio, wall) {
                    Ok(Some(p)) => self.out.push(p),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "mix audio encoding failed");
                        break 'run StopReason::Error;
                    }
                }
                audio += 1;
            }
            if now.duration_since(last_report) >= Duration::from_secs(1) {
                let cpu = thread_cpu();
                let us = cpu.saturating_sub(cpu_reported).as_micros();
                metrics::counter!("liverec_mix_cpu_microseconds_total")
                    .increment(u64::try_from(us).unwrap_or(u64::MAX));
                cpu_reported = cpu;
                last_report = now;
            }
        };
        let tracks = self.engine.tracks();
        let cpu = thread_cpu().saturating_sub(cpu_start);
        let wall = start.elapsed();
        tracing::info!(
            stream = %self.out.stream().key,
            video_frames = self.engine.stats.video_frames,
            audio_frames = self.engine.stats.audio_frames,
            dropped_frames = dropped,
            decode_errors = self.engine.stats.decode_errors,
            cpu_ms = cpu.as_millis() as u64,
            cpu_share = cpu.as_secs_f64() / wall.as_secs_f64().max(1e-3),
            "mix media thread ended"
        );
        drop(self.out);
        (tracks, reason)
    }
}

mod feed;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_ticks_are_skipped_not_made_up() {
        let ms = Duration::from_millis;
        // On time: the expected frame, nothing missed.
        assert_eq!(catch_up(3, ms(100), 30), (3, 0));
        assert_eq!(catch_up(3, ms(90), 30), (3, 0));
        // 200 ms late at 30 fps: six ticks skipped, the seventh encoded.
        assert_eq!(catch_up(3, ms(300), 30), (9, 6));
        // However late, one frame per call: never a backlog.
        assert_eq!(catch_up(0, Duration::from_secs(60), 25), (1500, 1500));
    }

    #[test]
    fn audio_frames_follow_the_sample_clock() {
        // 1024 samples at 48 kHz are 21.33 ms.
        assert!(!audio_due(0, Duration::from_millis(21), 48_000));
        assert!(audio_due(0, Duration::from_millis(22), 48_000));
        // After one second exactly 46 whole frames (46.875) are due.
        let s = Duration::from_secs(1);
        assert!(audio_due(45, s, 48_000));
        assert!(!audio_due(46, s, 48_000));
    }
}
