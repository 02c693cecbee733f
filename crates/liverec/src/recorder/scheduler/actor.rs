//! The scheduler's actor: carries out the decisions of [`State`] — spawns
//! recordings, stops them, finalizes parked outputs — on every command, hub
//! event and deadline. Time is read from the recorder's clock and waited
//! for with tokio's timer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::state::{Action, Live, SessionKey, Start, State};
use super::{Command, StillRecording};
use crate::hub::{Hub, HubEvent, LiveStream};
use crate::plan::Plan;
use crate::recorder::RecorderCtx;
use crate::recorder::output::Output;
use crate::recorder::recording::{Ended, Recording};
use crate::task::StreamKey;

impl Live for Arc<LiveStream> {
    fn key(&self) -> &StreamKey {
        &self.key
    }

    fn session_id(&self) -> &str {
        &self.info.session_id
    }

    fn started_ms(&self) -> i64 {
        self.info.started_ms
    }

    fn is_kicked(&self) -> bool {
        LiveStream::is_kicked(self)
    }

    fn owner(&self) -> &str {
        &self.info.owner
    }
}

/// A running recording task.
struct Running {
    stop: CancellationToken,
    handle: JoinHandle<()>,
}

/// What a recording task reports when it ends.
struct Finished {
    key: SessionKey,
    stream: StreamKey,
    /// Outputs kept open for a reconnecting publisher, and until when.
    parked: Option<(Vec<Output>, i64)>,
}

type Act = Action<Arc<LiveStream>, Vec<Output>>;

struct Actor {
    ctx: Arc<RecorderCtx>,
    hub: Arc<Hub>,
    state: State<Vec<Output>>,
    running: HashMap<SessionKey, Running>,
    finished_tx: mpsc::UnboundedSender<Finished>,
}

/// Starts the actor; returns its command channel.
pub(super) fn spawn(
    ctx: Arc<RecorderCtx>,
    hub: Arc<Hub>,
    plans: Vec<Plan>,
) -> mpsc::Sender<Command> {
    let (tx, rx) = mpsc::channel(1024);
    let (finished_tx, finished_rx) = mpsc::unbounded_channel();
    let events = hub.events();
    let actor = Actor {
        ctx,
        hub,
        state: State::new(plans),
        running: HashMap::new(),
        finished_tx,
    };
    tokio::spawn(
        actor
            .run(rx, finished_rx, events)
            .instrument(tracing::info_span!("scheduler")),
    );
    tx
}

/// Waits for recordings to finish, at most `grace`.
pub(super) async fn join_all(handles: Vec<JoinHandle<()>>, grace: Duration) {
    let all = async {
        for h in handles {
            let _ = h.await;
        }
    };
    if tokio::time::timeout(grace, all).await.is_err() {
        tracing::error!(?grace, "recordings did not finish in time");
    }
}

/// Finalizes parked outputs in the background.
fn close_parked(ctx: &Arc<RecorderCtx>, outputs: Vec<Output>) -> JoinHandle<()> {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let count = outputs.len();
        for mut o in outputs {
            o.close(&ctx).await;
        }
        tracing::info!(
            outputs = count,
            "parked recording closed: no publisher returned within its reconnect window"
        );
    })
}

impl Actor {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut finished_rx: mpsc::UnboundedReceiver<Finished>,
        mut events: broadcast::Receiver<HubEvent>,
    ) {
        self.reconcile();
        loop {
            let sleep = self.state.next_wakeup(self.now());
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(Command::Shutdown { grace, done }) => {
                        let actions = self.state.shutdown();
                        let handles = self.execute(actions);
                        join_all(handles, grace).await;
                        let _ = done.send(());
                        return;
                    }
                    Some(cmd) => self.command(cmd),
                    None => return,
                },
                Some(f) = finished_rx.recv() => {
                    let actions = self.state.finished(f.key.clone(), f.stream, f.parked);
                    self.running.remove(&f.key);
                    self.execute(actions);
                }
                ev = events.recv() => match ev {
                    Ok(HubEvent::Live(stream)) => {
                        let actions = self.state.published(self.now(), &stream);
                        self.execute(actions);
                    }
                    Ok(HubEvent::Ended(stream)) => self.state.session_ended(&stream.info.session_id),
                    Err(broadcast::error::RecvError::Lagged(_)) => self.reconcile(),
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(sleep) => {
                    let actions = self.state.tick(self.now(), &self.hub.list());
                    self.execute(actions);
                }
            }
        }
    }

    fn now(&self) -> i64 {
        self.ctx.clock.now_ms()
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Arm(plan) => {
                let actions = self.state.arm(plan, self.now(), &self.hub.list());
                self.execute(actions);
            }
            Command::Stop { key, done } => {
                let actions = self.state.stop(key);
                let handles = self.execute(actions);
                tokio::spawn(async move {
                    join_all(handles, Duration::from_secs(5)).await;
                    let _ = done.send(());
                });
            }
            Command::Delete {
                key,
                keep_running,
                done,
            } => match self.state.delete(key, keep_running) {
                Some(actions) => {
                    self.execute(actions);
                    let _ = done.send(Ok(()));
                }
                None => {
                    let _ = done.send(Err(StillRecording));
                }
            },
            Command::ReloadRules(plans) => {
                let actions = self.state.reload_rules(plans, self.now(), &self.hub.list());
                self.execute(actions);
            }
            Command::Shutdown { .. } => {}
        }
    }

    /// Reconciles every armed plan with every live stream (at start, and
    /// when hub events were missed).
    fn reconcile(&mut self) {
        let actions = self.state.reconcile(self.now(), &self.hub.list());
        self.execute(actions);
    }

    /// Carries out `actions`; returns the tasks that finish stopped
    /// recordings and finalize closed outputs.
    fn execute(&mut self, actions: Vec<Act>) -> Vec<JoinHandle<()>> {
        let mut handles = Vec::new();
        for a in actions {
            match a {
                Action::Start(start) => self.start(start),
                Action::Stop(keys) => {
                    handles.extend(keys.iter().filter_map(|k| self.running.remove(k)).map(|r| {
                        r.stop.cancel();
                        r.handle
                    }));
                }
                Action::Close(outputs) => handles.push(close_parked(&self.ctx, outputs)),
            }
        }
        handles
    }

    fn start(&mut self, start: Start<Arc<LiveStream>, Vec<Output>>) {
        let Start {
            key,
            plan,
            stream,
            from_ms,
            resume,
        } = start;
        let resume = resume.unwrap_or_default();
        let stop = CancellationToken::new();
        let finished = self.finished_tx.clone();
        let rec = Recording {
            ctx: self.ctx.clone(),
            plan,
            stream: stream.clone(),
            from_ms,
            stop: stop.clone(),
            resume,
        };
        let ctx = self.ctx.clone();
        let k = key.clone();
        let handle = tokio::spawn(async move {
            let (ended, outputs) = rec.run().await;
            // A publisher that left may come back within the reconnect
            // window: what the recording kept open waits for it until the
            // longest window of its outputs passes.
            let window = outputs.iter().map(|o| o.window_ms(&ctx)).max();
            let parked = match window {
                Some(w) if ended == Ended::Unpublished => Some((outputs, ctx.clock.now_ms() + w)),
                _ => None,
            };
            let _ = finished.send(Finished {
                key: k,
                stream: stream.key.clone(),
                parked,
            });
        });
        metrics::counter!("liverec_recordings_started_total").increment(1);
        self.running.insert(key, Running { stop, handle });
    }
}

#[cfg(test)]
mod tests;
