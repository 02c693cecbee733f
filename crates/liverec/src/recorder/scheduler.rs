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

/// Handle to the scheduler actor; cheap to clone.
#[derive(Clone, Debug)]
pub struct Scheduler {
    tx: mpsc::Sender<Command>,
    ctx: Arc<RecorderCtx>,
}

impl Scheduler {
    /// Starts the actor with the plans armed in the store.
    pub fn start(ctx: Arc<RecorderCtx>, hub: Arc<Hub>, plans: Vec<Plan>) -> Scheduler {
        let tx = actor::spawn(ctx.clone(), hub, plans);
        Scheduler { tx, ctx }
    }

    /// Arms a newly created task.
    pub async fn arm(&self, plan: Plan) {
        let _ = self.tx.send(Command::Arm(plan)).await;
    }

    /// Stops a plan's recordings and disarms it; returns once its open
    /// files are finalized.
    pub async fn stop(&self, key: PlanKey) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Command::Stop { key, done }).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Disarms a plan. With `keep_running`, its running recordings go on
    /// (DeleteRecordTask); otherwise a plan that is recording is refused
    /// (DeleteLiveRecord).
    pub async fn delete(&self, key: PlanKey, keep_running: bool) -> Result<(), StillRecording> {
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
        rx.await.unwrap_or(Ok(()))
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
