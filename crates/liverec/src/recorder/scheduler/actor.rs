//! The scheduler's actor: owns the armed plans, the running recordings,
//! the sessions already recorded and the parked outputs, and reconciles them
//! with the live streams on every command, hub event and deadline.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Command, StillRecording};
use crate::hub::{Hub, HubEvent, LiveStream};
use crate::plan::{Family, Plan, PlanKey};
use crate::recorder::RecorderCtx;
use crate::recorder::output::Output;
use crate::recorder::recording::{Ended, Recording};
use crate::task::StreamKey;

/// Longest sleep between reconciliations (also bounds clock drift effects).
const MAX_SLEEP: Duration = Duration::from_secs(30);
/// Overlapping new-API tasks of one stream that record (Tencent: 3).
const MAX_OVERLAPPING_TASKS: usize = 3;

type SessionKey = (PlanKey, String);

struct Running {
    family: Family,
    stop: CancellationToken,
    handle: JoinHandle<()>,
}

/// Outputs of a finished session waiting for the publisher to come back.
struct Parked {
    outputs: Vec<Output>,
    until_ms: i64,
}

/// What a recording task reports when it ends.
struct Finished {
    key: SessionKey,
    stream: StreamKey,
    parked: Option<Parked>,
}

struct Actor {
    ctx: Arc<RecorderCtx>,
    hub: Arc<Hub>,
    armed: HashMap<PlanKey, Arc<Plan>>,
    running: HashMap<SessionKey, Running>,
    /// Sessions a plan already recorded (a session is recorded once).
    done: HashSet<SessionKey>,
    parked: HashMap<(PlanKey, StreamKey), Parked>,
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
        armed: plans.into_iter().map(|p| (p.key, Arc::new(p))).collect(),
        running: HashMap::new(),
        done: HashSet::new(),
        parked: HashMap::new(),
        finished_tx,
    };
    tokio::spawn(actor.run(rx, finished_rx, events));
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
fn close_parked(ctx: &Arc<RecorderCtx>, p: Parked) -> JoinHandle<()> {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        for mut o in p.outputs {
            o.close(&ctx).await;
        }
    })
}

impl Actor {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut finished_rx: mpsc::UnboundedReceiver<Finished>,
        mut events: broadcast::Receiver<HubEvent>,
    ) {
        self.reconcile(None);
        loop {
            let sleep = self.next_wakeup();
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(Command::Shutdown { grace, done }) => {
                        self.armed.clear();
                        let mut handles: Vec<_> = self.running.drain().map(|(_, r)| { r.stop.cancel(); r.handle }).collect();
                        handles.extend(self.parked.drain().map(|(_, p)| close_parked(&self.ctx, p)));
                        join_all(handles, grace).await;
                        let _ = done.send(());
                        return;
                    }
                    Some(cmd) => self.command(cmd),
                    None => return,
                },
                Some(f) = finished_rx.recv() => {
                    self.running.remove(&f.key);
                    if let Some(p) = f.parked {
                        self.parked.insert((f.key.0, f.stream), p);
                    }
                    self.done.insert(f.key);
                }
                ev = events.recv() => match ev {
                    Ok(HubEvent::Live(stream)) => self.reconcile(Some(&stream)),
                    Ok(HubEvent::Ended(stream)) => {
                        let session = stream.info.session_id.clone();
                        self.done.retain(|(_, s)| *s != session);
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => self.reconcile(None),
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(sleep) => self.reconcile(None),
            }
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Arm(plan) => {
                self.armed.insert(plan.key, Arc::new(plan));
                self.reconcile(None);
            }
            Command::Stop { key, done } => {
                self.armed.remove(&key);
                let mut handles = self.stop_plan(key);
                handles.extend(self.unpark(key));
                tokio::spawn(async move {
                    join_all(handles, Duration::from_secs(5)).await;
                    let _ = done.send(());
                });
            }
            Command::Delete {
                key,
                keep_running,
                done,
            } => {
                let busy = self.running.keys().any(|(k, _)| *k == key);
                if busy && !keep_running {
                    let _ = done.send(Err(StillRecording));
                } else {
                    self.armed.remove(&key);
                    self.unpark(key);
                    let _ = done.send(Ok(()));
                }
            }
            Command::ReloadRules(plans) => {
                let before: HashSet<PlanKey> = self.armed.keys().copied().collect();
                self.armed.retain(|k, _| !matches!(k, PlanKey::Rule(_)));
                let live = self.hub.list();
                for p in plans {
                    // A new rule records from the next publish on, not the
                    // sessions already live (SPEC §3.2).
                    if !before.contains(&p.key) {
                        for s in live.iter().filter(|s| p.matches(&s.key)) {
                            self.done.insert((p.key, s.info.session_id.clone()));
                        }
                    }
                    self.armed.insert(p.key, Arc::new(p));
                }
                self.reconcile(None);
            }
            Command::Shutdown { .. } => {}
        }
    }

    /// Time until the next StartTime, EndTime or parking deadline.
    fn next_wakeup(&self) -> Duration {
        let now = self.ctx.clock.now_ms();
        let next = self
            .armed
            .values()
            .flat_map(|t| [t.start_ms, t.end_ms])
            .chain(self.parked.values().map(|p| p.until_ms))
            .filter(|&t| t > now)
            .min();
        match next {
            Some(t) => Duration::from_millis(u64::try_from(t - now).unwrap_or(0)).min(MAX_SLEEP),
            None => MAX_SLEEP,
        }
    }

    fn stop_plan(&mut self, key: PlanKey) -> Vec<JoinHandle<()>> {
        let keys: Vec<SessionKey> = self
            .running
            .keys()
            .filter(|(k, _)| *k == key)
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| self.running.remove(&k))
            .map(|r| {
                r.stop.cancel();
                r.handle
            })
            .collect()
    }

    /// Finalizes the parked outputs of `key`.
    fn unpark(&mut self, key: PlanKey) -> Vec<JoinHandle<()>> {
        let keys: Vec<_> = self
            .parked
            .keys()
            .filter(|(k, _)| *k == key)
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| self.parked.remove(&k))
            .map(|p| close_parked(&self.ctx, p))
            .collect()
    }

    /// Starts every recording that should run and is not running; drops
    /// plans whose window has passed and parked outputs whose window did.
    /// `only` limits the work to one stream.
    fn reconcile(&mut self, only: Option<&Arc<LiveStream>>) {
        let now = self.ctx.clock.now_ms();
        self.armed.retain(|_, t| t.end_ms > now);
        let armed = &self.armed;
        self.done.retain(|(k, _)| armed.contains_key(k));
        let expired: Vec<_> = self
            .parked
            .iter()
            .filter(|(_, p)| p.until_ms <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in expired {
            if let Some(p) = self.parked.remove(&k) {
                close_parked(&self.ctx, p);
            }
        }
        let mut active: Vec<Arc<Plan>> = self
            .armed
            .values()
            .filter(|t| t.start_ms <= now)
            .cloned()
            .collect();
        // Older plans first: they win the overlapping-task limit.
        active.sort_by_key(|p| (p.created_ms, p.key));
        let live = match only {
            Some(s) => vec![s.clone()],
            None => self.hub.list(),
        };
        for plan in active {
            for stream in live.iter().filter(|s| plan.matches(&s.key)).cloned() {
                let key = (plan.key, stream.info.session_id.clone());
                if self.running.contains_key(&key) || self.done.contains(&key) || stream.is_kicked()
                {
                    continue;
                }
                if plan.family == Family::Task
                    && self.overlapping_tasks(&stream.info.session_id) >= MAX_OVERLAPPING_TASKS
                {
                    tracing::info!(task_id = %plan.task_id, stream = %stream.key, "3 overlapping tasks already record this stream; not recording");
                    self.done.insert(key);
                    continue;
                }
                self.start(plan.clone(), stream, key);
            }
        }
    }

    fn overlapping_tasks(&self, session: &str) -> usize {
        self.running
            .iter()
            .filter(|((_, s), r)| s == session && r.family == Family::Task)
            .count()
    }

    fn start(&mut self, plan: Arc<Plan>, stream: Arc<LiveStream>, key: SessionKey) {
        let stop = CancellationToken::new();
        let from_ms = plan.start_ms.max(stream.info.started_ms);
        let finished = self.finished_tx.clone();
        let resume = self
            .parked
            .remove(&(plan.key, stream.key.clone()))
            .map(|p| p.outputs)
            .unwrap_or_default();
        let continue_ms = plan.hls_continue_ms;
        let family = plan.family;
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
            // window: keep what can continue (HLS) open until then.
            let parked = if ended == Ended::Unpublished && continue_ms > 0 && !outputs.is_empty() {
                Some(Parked {
                    outputs,
                    until_ms: ctx.clock.now_ms() + continue_ms,
                })
            } else {
                None
            };
            let _ = finished.send(Finished {
                key: k,
                stream: stream.key.clone(),
                parked,
            });
        });
        metrics::counter!("liverec_recordings_started_total").increment(1);
        self.running.insert(
            key,
            Running {
                family,
                stop,
                handle,
            },
        );
    }
}
