//! What the legacy (CreateLiveRecord) and new (CreateRecordTask) task
//! families share: recognising a client's retry of a create call, and
//! stopping a task.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::AppState;
use super::endpoint::Call;
use super::error::Error;
use crate::plan::PlanKey;
use crate::store::Task;

/// An identical create call within this window is a retry of the first.
const RETRY_WINDOW_MS: i64 = 60_000;

/// The hash that identifies a create request: SHA-256 of the canonical JSON
/// of the fields that define the task.
pub(super) fn request_hash(canonical: &Value) -> String {
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// The task an identical create call of this account made within the retry
/// window, if any. Call it under the account's `AppState::create_locks` lock.
pub(super) async fn find_retry(
    state: &AppState,
    call: &Call,
    hash: &str,
) -> Result<Option<Task>, Error> {
    state
        .store
        .find_duplicate(
            &call.account_id,
            hash,
            state.clock.now_ms() - RETRY_WINDOW_MS,
        )
        .await
        .map_err(Error::from)
}

/// Marks the task stopped and ends its recordings; returns once their files
/// are final. A stopped task never starts again.
pub(super) async fn stop(state: &AppState, task: &Task) -> Result<(), Error> {
    state.store.stop_task(task.id, state.clock.now_ms()).await?;
    state.scheduler.stop(PlanKey::Task(task.id)).await;
    Ok(())
}
