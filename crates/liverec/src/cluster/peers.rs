//! Commands between nodes over PostgreSQL LISTEN/NOTIFY on one channel:
//! JSON messages naming the sending node. A task created, stopped or
//! deleted through one node's API, or a rule changed, reaches every node's
//! scheduler (the node holding the publisher is the one that records); a
//! drop or forbid reaches the node holding the stream. A node ignores its
//! own messages. After the listening connection is lost and restored, the
//! node re-reads its armed plans and rules, since messages sent meanwhile
//! are gone.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::hub::{Hub, StopReason};
use crate::plan::PlanKey;
use crate::recorder::Scheduler;
use crate::store::Store;
use crate::task::StreamKey;

/// The notification channel.
const CHANNEL: &str = "liverec_cluster";
/// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7900;

/// A command from one node to the others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Message {
    /// A task was created: arm it (row id).
    ArmTask {
        /// Sending node.
        from: String,
        /// Task row id.
        task: i64,
    },
    /// A task was stopped: stop its recordings.
    StopTask {
        /// Sending node.
        from: String,
        /// Task row id.
        task: i64,
    },
    /// A task was deleted: disarm it (recordings go on when `keep_running`).
    DeleteTask {
        /// Sending node.
        from: String,
        /// Task row id.
        task: i64,
        /// DeleteRecordTask (true) or DeleteLiveRecord (false).
        keep_running: bool,
    },
    /// Rules or their templates changed: re-read them.
    Rules {
        /// Sending node.
        from: String,
    },
    /// Disconnect a publisher held by `node`.
    Disconnect {
        /// Sending node.
        from: String,
        /// The node holding the stream.
        node: String,
        /// Push domain.
        domain: String,
        /// AppName.
        app: String,
        /// StreamName.
        stream: String,
        /// `dropped` or `forbidden`.
        reason: String,
    },
}

impl Message {
    fn from(&self) -> &str {
        match self {
            Message::ArmTask { from, .. }
            | Message::StopTask { from, .. }
            | Message::DeleteTask { from, .. }
            | Message::Rules { from }
            | Message::Disconnect { from, .. } => from,
        }
    }
}

/// Sends messages to the other nodes; cheap to clone.
#[derive(Clone, Debug)]
pub struct Peers {
    store: Store,
    url: Arc<str>,
}

impl Peers {
    /// Peers reached through the database of `store`, at `url`.
    pub(super) fn new(store: Store, url: &str) -> Peers {
        Peers {
            store,
            url: url.into(),
        }
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        self.store.node()
    }

    /// Sends `msg` to every node; a failure is logged (the command still
    /// took effect on this node).
    pub async fn send(&self, msg: &Message) {
        let payload = match serde_json::to_string(msg) {
            Ok(p) if p.len() <= MAX_PAYLOAD => p,
            Ok(_) => {
                tracing::error!(?msg, "cluster message too long");
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "could not encode a cluster message");
                return;
            }
        };
        match self.store.notify(CHANNEL, &payload).await {
            Ok(()) => tracing::debug!(?msg, "cluster message sent"),
            Err(e) => tracing::error!(error = %e, ?msg, "could not notify peers"),
        }
    }

    /// Listens for peers' messages and carries them out with `hub` and the
    /// local `scheduler`, until `shutdown`.
    pub(super) async fn listen(
        self,
        node: String,
        hub: Arc<Hub>,
        scheduler: Scheduler,
        shutdown: CancellationToken,
    ) {
        let mut first = true;
        while !shutdown.is_cancelled() {
            let mut listener = match sqlx::postgres::PgListener::connect(&self.url).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(error = %e, "could not connect to listen for peers");
                    if pause(&shutdown).await {
                        break;
                    }
                    continue;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::error!(error = %e, "could not listen for peers");
                if pause(&shutdown).await {
                    break;
                }
                continue;
            }
            if !first {
                tracing::warn!("listening to peers again: re-reading armed tasks and rules");
                scheduler.resync().await;
            }
            first = false;
            loop {
                let n = tokio::select! {
                    () = shutdown.cancelled() => return,
                    n = listener.try_recv() => n,
                };
                match n {
                    Ok(Some(n)) => match serde_json::from_str::<Message>(n.payload()) {
                        Ok(msg) if msg.from() != node => apply(&node, &hub, &scheduler, msg).await,
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "unreadable cluster message"),
                    },
                    Ok(None) => {
                        tracing::warn!("lost the connection listening for peers");
                        break;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "listening for peers failed");
                        break;
                    }
                }
            }
        }
    }
}

/// Waits a second (or until shutdown: true).
async fn pause(shutdown: &CancellationToken) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => true,
        () = tokio::time::sleep(Duration::from_secs(1)) => false,
    }
}

/// Carries out a peer's `msg` on this node.
async fn apply(node: &str, hub: &Hub, scheduler: &Scheduler, msg: Message) {
    tracing::debug!(?msg, "cluster message");
    match msg {
        Message::ArmTask { task, .. } => scheduler.arm_row(task).await,
        Message::StopTask { task, .. } => scheduler.stop(PlanKey::Task(task)).await,
        Message::DeleteTask {
            task, keep_running, ..
        } => {
            let _ = scheduler.delete(PlanKey::Task(task), keep_running).await;
        }
        Message::Rules { .. } => scheduler.rules_changed().await,
        Message::Disconnect {
            node: holder,
            domain,
            app,
            stream,
            reason,
            ..
        } if holder == node => {
            let key = StreamKey {
                domain,
                app,
                stream,
            };
            let reason = match reason.as_str() {
                "forbidden" => StopReason::Forbidden,
                _ => StopReason::Dropped,
            };
            if let Some(s) = hub.get(&key) {
                s.disconnect(reason);
                tracing::info!(stream = %key, reason = reason.as_str(), "publisher disconnected at a peer's request");
            }
        }
        Message::Disconnect { .. } => {}
    }
}
