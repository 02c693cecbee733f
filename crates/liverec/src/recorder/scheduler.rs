//! The scheduler: keeps the armed tasks (loaded from the store at start and
//! told of new ones by the API), and reconciles them with the live streams:
//! whenever a task's window contains "now" and a matching stream is live, a
//! recording of that publish session runs (once per session). It wakes on
//! API commands, on hub events and at the next StartTime/EndTime. One actor
//! owns all scheduling state; recordings run as their own tasks.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::RecorderCtx;
use super::recording::Recording;
use crate::hub::{Hub, HubEvent, LiveStream};
use crate::store::Task;

/// Longest sleep between reconciliations (also bounds clock drift effects).
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// The task is recording right now, so it cannot be deleted.
#[derive(Debug, thiserror::Error)]
#[error("task is recording")]
pub struct StillRecording;

enum Command {
    Arm(Task),
    Stop {
        task_id: i64,
        done: oneshot::Sender<()>,
    },
    Delete {
        task_id: i64,
        done: oneshot::Sender<Result<(), StillRecording>>,
    },
    Shutdown {
        grace: Duration,
        done: oneshot::Sender<()>,
    },
}

/// Handle to the scheduler actor; cheap to clone.
#[derive(Clone, Debug)]
pub struct Scheduler {
    tx: mpsc::Sender<Command>,
}

type SessionKey = (i64, String);

struct Running {
    stop: CancellationToken,
    handle: JoinHandle<()>,
}

struct Actor {
    ctx: Arc<RecorderCtx>,
    hub: Arc<Hub>,
    armed: HashMap<i64, Arc<Task>>,
    running: HashMap<SessionKey, Running>,
    /// Sessions a task already recorded (a session is recorded once).
    done: HashSet<SessionKey>,
    finished_tx: mpsc::UnboundedSender<SessionKey>,
}

impl Scheduler {
    /// Starts the actor with the tasks armed in the store.
    pub fn start(ctx: Arc<RecorderCtx>, hub: Arc<Hub>, armed: Vec<Task>) -> Scheduler {
        let (tx, rx) = mpsc::channel(1024);
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        let events = hub.events();
        let actor = Actor {
            ctx,
            hub,
            armed: armed.into_iter().map(|t| (t.id, Arc::new(t))).collect(),
            running: HashMap::new(),
            done: HashSet::new(),
            finished_tx,
        };
        tokio::spawn(actor.run(rx, finished_rx, events));
        Scheduler { tx }
    }

    /// Arms a newly created task.
    pub async fn arm(&self, task: Task) {
        let _ = self.tx.send(Command::Arm(task)).await;
    }

    /// Stops a task's recordings and disarms it; returns once its open
    /// files are finalized.
    pub async fn stop(&self, task_id: i64) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Command::Stop { task_id, done }).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Disarms a task unless it is recording.
    pub async fn delete(&self, task_id: i64) -> Result<(), StillRecording> {
        let (done, rx) = oneshot::channel();
        if self
            .tx
            .send(Command::Delete { task_id, done })
            .await
            .is_err()
        {
            return Ok(());
        }
        rx.await.unwrap_or(Ok(()))
    }

    /// Stops every recording (finalizing files) within `grace`.
    pub async fn shutdown(&self, grace: Duration) {
        let (done, rx) = oneshot::channel();
        if self
            .tx
            .send(Command::Shutdown { grace, done })
            .await
            .is_ok()
        {
            let _ = rx.await;
        }
    }
}

/// Waits for recordings to finish, at most `grace`.
async fn join_all(handles: Vec<JoinHandle<()>>, grace: Duration) {
    let all = async {
        for h in handles {
            let _ = h.await;
        }
    };
    if tokio::time::timeout(grace, all).await.is_err() {
        tracing::error!(?grace, "recordings did not finish in time");
    }
}

impl Actor {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut finished_rx: mpsc::UnboundedReceiver<SessionKey>,
        mut events: broadcast::Receiver<HubEvent>,
    ) {
        self.reconcile(None);
        loop {
            let sleep = self.next_wakeup();
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(Command::Arm(task)) => {
                        let task = Arc::new(task);
                        self.armed.insert(task.id, task);
                        self.reconcile(None);
                    }
                    Some(Command::Stop { task_id, done }) => {
                        self.armed.remove(&task_id);
                        let handles = self.stop_task(task_id);
                        tokio::spawn(async move {
                            join_all(handles, Duration::from_secs(5)).await;
                            let _ = done.send(());
                        });
                    }
                    Some(Command::Delete { task_id, done }) => {
                        let busy = self.running.keys().any(|(t, _)| *t == task_id);
                        if busy {
                            let _ = done.send(Err(StillRecording));
                        } else {
                            self.armed.remove(&task_id);
                            self.done.retain(|(t, _)| *t != task_id);
                            let _ = done.send(Ok(()));
                        }
                    }
                    Some(Command::Shutdown { grace, done }) => {
                        self.armed.clear();
                        let handles: Vec<_> = self.running.drain().map(|(_, r)| { r.stop.cancel(); r.handle }).collect();
                        join_all(handles, grace).await;
                        let _ = done.send(());
                        return;
                    }
                    None => return,
                },
                Some(key) = finished_rx.recv() => {
                    self.running.remove(&key);
                    self.done.insert(key);
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

    /// Time until the next StartTime or EndTime among armed tasks.
    fn next_wakeup(&self) -> Duration {
        let now = self.ctx.clock.now_ms();
        let next = self
            .armed
            .values()
            .flat_map(|t| [t.start_ms, t.end_ms])
            .filter(|&t| t > now)
            .min();
        match next {
            Some(t) => Duration::from_millis(u64::try_from(t - now).unwrap_or(0)).min(MAX_SLEEP),
            None => MAX_SLEEP,
        }
    }

    fn stop_task(&mut self, task_id: i64) -> Vec<JoinHandle<()>> {
        let keys: Vec<SessionKey> = self
            .running
            .keys()
            .filter(|(t, _)| *t == task_id)
            .cloned()
            .collect();
        self.done.retain(|(t, _)| *t != task_id);
        keys.into_iter()
            .filter_map(|k| self.running.remove(&k))
            .map(|r| {
                r.stop.cancel();
                r.handle
            })
            .collect()
    }

    /// Starts every recording that should run and is not running; drops
    /// tasks whose window has passed. `only` limits the work to one stream.
    fn reconcile(&mut self, only: Option<&Arc<LiveStream>>) {
        let now = self.ctx.clock.now_ms();
        self.armed.retain(|_, t| t.end_ms > now);
        let armed = &self.armed;
        self.done.retain(|(t, _)| armed.contains_key(t));
        let active: Vec<Arc<Task>> = self
            .armed
            .values()
            .filter(|t| t.start_ms <= now)
            .cloned()
            .collect();
        for task in active {
            let streams = match only {
                Some(s) if s.key.matches(&task.domain, &task.app, &task.stream) => vec![s.clone()],
                Some(_) => continue,
                None => self.hub.find(&task.domain, &task.app, &task.stream),
            };
            for stream in streams {
                let key = (task.id, stream.info.session_id.clone());
                if self.running.contains_key(&key)
                    || self.done.contains(&key)
                    || stream.kick.is_cancelled()
                {
                    continue;
                }
                self.start(task.clone(), stream, key);
            }
        }
    }

    fn start(&mut self, task: Arc<Task>, stream: Arc<LiveStream>, key: SessionKey) {
        let stop = CancellationToken::new();
        let from_ms = task.start_ms.max(stream.info.started_ms);
        let finished = self.finished_tx.clone();
        let k = key.clone();
        let rec = Recording {
            ctx: self.ctx.clone(),
            task,
            stream,
            from_ms,
            stop: stop.clone(),
        };
        let handle = tokio::spawn(async move {
            rec.run().await;
            let _ = finished.send(k);
        });
        metrics::counter!("liverec_recordings_started_total").increment(1);
        self.running.insert(key, Running { stop, handle });
    }
}
