//! The scheduler: keeps the armed plans (tasks of both API families and
//! rules; loaded from the store at start, told of changes by the API) and
//! reconciles them with the live streams: whenever a plan's window contains
//! "now" and a matching stream is live, a recording of that publish session
//! runs (once per session; at most 3 overlapping new-API tasks per session).
//! An HLS output whose publisher leaves is parked for the plan's reconnect
//! window and resumed by the next session. It wakes on API commands, hub
//! events and the next StartTime/EndTime/parking deadline. The decisions are
//! made without I/O by `state` ("now" and the live streams are arguments);
//! one actor (`actor`) owns that state and carries them out; recordings run
//! as their own tasks.

mod actor;
mod armed;
mod state;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::RecorderCtx;
use crate::cluster::{Message, Peers};
use crate::hub::Hub;
use crate::plan::{Plan, PlanKey};

/// The task is recording right now, so it cannot be deleted.
#[derive(Debug, thiserror::Error)]
#[error("task is recording")]
pub struct StillRecording;

pub(super) enum Command {
    Arm(Plan),
    Stop {
        key: PlanKey,
        done: oneshot::Sender<()>,
    },
    Delete {
        key: PlanKey,
        keep_running: bool,
        done: oneshot::Sender<Result<(), StillRecording>>,
    },
    ReloadRules(Vec<Plan>),
    Shutdown {
        grace: Duration,
        done: oneshot::Sender<()>,
    },
}

/// How long a stop waits for a peer node to finalize the task's files.
const PEER_STOP_WAIT: Duration = Duration::from_secs(5);

/// Handle to the scheduler actor; cheap to clone. With peers (several
/// nodes), every command is also sent to the other nodes' schedulers.
#[derive(Clone, Debug)]
pub struct Scheduler {
    tx: mpsc::Sender<Command>,
    ctx: Arc<RecorderCtx>,
    peers: Option<Peers>,
}

impl Scheduler {
    /// Starts the actor with the plans armed in the store.
    pub fn start(ctx: Arc<RecorderCtx>, hub: Arc<Hub>, plans: Vec<Plan>) -> Scheduler {
        let tx = actor::spawn(ctx.clone(), hub, plans);
        Scheduler {
            tx,
            ctx,
            peers: None,
        }
    }

    /// This scheduler, also telling `peers` of every command.
    pub fn with_peers(self, peers: Option<Peers>) -> Scheduler {
        Scheduler { peers, ..self }
    }

    /// This scheduler, acting on this node only (for commands that came
    /// from a peer).
    pub fn local(&self) -> Scheduler {
        Scheduler {
            peers: None,
            ..self.clone()
        }
    }

    async fn tell_peers(&self, msg: impl FnOnce(String) -> Message) {
        if let Some(p) = &self.peers {
            p.send(&msg(p.node().to_string())).await;
        }
    }

    /// Arms a newly created task.
    pub async fn arm(&self, plan: Plan) {
        let key = plan.key;
        let _ = self.tx.send(Command::Arm(plan)).await;
        if let PlanKey::Task(task) = key {
            self.tell_peers(|from| Message::ArmTask { from, task })
                .await;
        }
    }

    /// Arms the task with row id `id` as the store has it (a peer created it).
    pub async fn arm_row(&self, id: i64) {
        let task = match self.ctx.store.task_by_row(id).await {
            Ok(Some(t)) => t,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(task = id, error = %e, "could not read a task a peer created");
                return;
            }
        };
        match super::plans::task_plan(&self.ctx.store, &task).await {
            Ok(plan) => {
                let _ = self.tx.send(Command::Arm(plan)).await;
            }
            Err(e) => {
                tracing::error!(task = id, error = %e, "could not plan a task a peer created")
            }
        }
    }

    /// Re-arms every task armed in the store and re-reads the rules (after
    /// peers' messages may have been missed).
    pub async fn resync(&self) {
        match super::plans::armed_plans(&self.ctx.store, self.ctx.clock.now_ms()).await {
            Ok(plans) => {
                for plan in plans
                    .into_iter()
                    .filter(|p| matches!(p.key, PlanKey::Task(_)))
                {
                    let _ = self.tx.send(Command::Arm(plan)).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "could not re-read armed tasks"),
        }
        self.local().rules_changed().await;
    }

    /// Stops a plan's recordings and disarms it; returns once its open
    /// files are finalized (with peers: on whichever node records them, or
    /// after [`PEER_STOP_WAIT`]).
    pub async fn stop(&self, key: PlanKey) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Command::Stop { key, done }).await.is_ok() {
            let _ = rx.await;
        }
        if let (Some(_), PlanKey::Task(task)) = (&self.peers, key) {
            self.tell_peers(|from| Message::StopTask { from, task })
                .await;
            self.wait_for_files(task).await;
        }
    }

    /// Waits until no file of task `task` is being written, anywhere.
    async fn wait_for_files(&self, task: i64) {
        let deadline = tokio::time::Instant::now() + PEER_STOP_WAIT;
        loop {
            match self.ctx.store.task_files_recording(task).await {
                Ok(0) => return,
                Ok(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(n) => {
                    tracing::warn!(
                        task,
                        files = n,
                        "a peer has not finalized the task's files yet"
                    );
                    return;
                }
                Err(e) => {
                    tracing::error!(task, error = %e, "could not check the task's files");
                    return;
                }
            }
        }
    }

    /// Disarms a plan. With `keep_running`, its running recordings go on
    /// (DeleteRecordTask); otherwise a plan that is recording (with peers:
    /// on any node) is refused (DeleteLiveRecord).
    pub async fn delete(&self, key: PlanKey, keep_running: bool) -> Result<(), StillRecording> {
        if let (Some(_), PlanKey::Task(task), false) = (&self.peers, key, keep_running) {
            match self.ctx.store.task_files_recording(task).await {
                Ok(0) => {}
                Ok(_) => return Err(StillRecording),
                Err(e) => tracing::error!(task, error = %e, "could not check the task's files"),
            }
        }
        let (done, rx) = oneshot::channel();
        if self
            .tx
            .send(Command::Delete {
                key,
                keep_running,
                done,
            })
            .await
            .is_err()
        {
            return Ok(());
        }
        rx.await.unwrap_or(Ok(()))?;
        if let PlanKey::Task(task) = key {
            self.tell_peers(|from| Message::DeleteTask {
                from,
                task,
                keep_running,
            })
            .await;
        }
        Ok(())
    }

    /// Re-reads recording rules and their templates (after a rule or
    /// template changed); affects publishes from now on.
    pub async fn rules_changed(&self) {
        match super::plans::rule_plans(&self.ctx.store).await {
            Ok(plans) => {
                let _ = self.tx.send(Command::ReloadRules(plans)).await;
            }
            Err(e) => tracing::error!(error = %e, "could not reload recording rules"),
        }
        self.tell_peers(|from| Message::Rules { from }).await;
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
