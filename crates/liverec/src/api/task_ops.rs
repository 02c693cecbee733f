//! What the legacy (CreateLiveRecord) and new (CreateRecordTask) task
//! families share: recognising a client's retry of a create call, the
//! per-account quotas, and stopping a task.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::AppState;
use super::endpoint::Call;
use super::error::Error;
use crate::plan::PlanKey;
use crate::store::Task;
use crate::task::Family;

/// An identical create call within this window is a retry of the first.
const RETRY_WINDOW_MS: i64 = 60_000;

/// The hash that identifies a create request: SHA-256 of the canonical JSON
/// of the fields that define the task.
pub(super) fn request_hash(canonical: &Value) -> String {
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Refuses a create that would pass the account's quotas for its family:
/// tasks created since midnight China Standard Time (`max_tasks_per_day`)
/// and tasks armed at some moment of the new task's window
/// (`max_running_tasks`). Each count stops at its quota, so its cost is
/// bounded by the quota; a quota of 0 is no limit and costs nothing. Call it
/// under the account's create lock.
pub(super) async fn check_quotas(
    state: &AppState,
    call: &Call,
    family: Family,
    window: (i64, i64),
    now: i64,
) -> Result<(), Error> {
    let settings = &state.settings;
    let per_day = i64::try_from(settings.max_tasks_per_day).unwrap_or(i64::MAX);
    if per_day > 0 {
        let day_start = crate::clock::cst_day_start(now);
        let created = state
            .store
            .count_tasks_created_since(&call.account_id, family, day_start, per_day)
            .await?;
        if created >= per_day {
            return Err(Error::DailyTaskQuota(settings.max_tasks_per_day));
        }
    }
    let at_once = i64::try_from(settings.max_running_tasks).unwrap_or(i64::MAX);
    if at_once > 0 {
        let (start, end) = window;
        let running = state
            .store
            .count_tasks_overlapping(&call.account_id, family, (start.max(now), end), at_once)
            .await?;
        if running >= at_once {
            return Err(Error::RunningTaskQuota(settings.max_running_tasks));
        }
    }
    Ok(())
}

/// The start of the retry window of a create made now: an identical call
/// since then gets the task that call made.
pub(super) fn retry_since(state: &AppState) -> i64 {
    state.clock.now_ms() - RETRY_WINDOW_MS
}

/// The end of a create call, under the account's create lock `serial`
/// (released on return: arming the task needs no lock, so the account's
/// next create may go on): the task of an identical call within the retry
/// window if there is one; else `checks` (the caller's refusals: quotas,
/// stream state) decide, and the task is inserted. An identical call is
/// answered with its task even when the checks would refuse now; in the
/// common case (no retry, checks passed) this is one statement.
pub(super) async fn insert_unless_retry(
    state: &AppState,
    call: &Call,
    serial: super::create_lock::CreateGuard,
    checks: Result<(), Error>,
    new: &crate::store::NewTask,
) -> Result<crate::store::Inserted, Error> {
    let inserted = match checks {
        Err(e) => match find_retry(state, call, &new.request_hash).await? {
            Some(t) => Ok(crate::store::Inserted::Retry(t)),
            None => Err(e),
        },
        Ok(()) => Ok(state
            .store
            .insert_task_unless_retry(new, retry_since(state))
            .await?),
    };
    drop(serial);
    inserted
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
        .find_duplicate(&call.account_id, hash, retry_since(state))
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
