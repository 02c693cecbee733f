//! The new task API (SPEC §3.2, reference §1.5–1.8): CreateRecordTask,
//! StopRecordTask, DeleteRecordTask, DescribeRecordTask. String TaskIds,
//! Unix-second times; formats come from the task's template (HLS without
//! one). Tasks of this family are invisible to the legacy actions and the
//! other way round. A DomainName the caller does not own (SPEC §2) is
//! `ResourceNotFound.DomainNotExist`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::domains::require_owner;
use super::endpoint::{ActionResult, Call};
use super::error::Error;
use super::params::{check_name, invalid_value, missing, required, trimmed};
use super::wire::{
    CreateRecordTaskRequest, CreateRecordTaskResponse, DeleteRecordTaskRequest,
    DeleteRecordTaskResponse, DescribeRecordTaskRequest, DescribeRecordTaskResponse, RecordTask,
    StopRecordTaskRequest, StopRecordTaskResponse, reply,
};
use super::{AppState, task_ops};
use crate::plan::{Family, PlanKey};
use crate::recorder::task_plan;
use crate::store::{Inserted, NewTask, Task, TaskQuery, TaskSpec};
use crate::task::{FileFormat, RecordType, normalize_domain};

/// EndTime at most this far ahead (Tencent: 7 days).
const MAX_AHEAD_S: i64 = 7 * 86_400;
/// A task spans at most this long (Tencent: 24 h).
const MAX_SPAN_S: i64 = 86_400;
/// DescribeRecordTask: window at most a week, not before 90 days ago.
const MAX_WINDOW_S: i64 = 7 * 86_400;
const MAX_LOOKBACK_S: i64 = 90 * 86_400;

/// An opaque TaskId: 32 random bytes, URL-safe base64 (43 characters).
fn new_task_id() -> String {
    let mut b = [0u8; 32];
    b[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    b[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    URL_SAFE_NO_PAD.encode(b)
}

/// A Unix-second time parameter, as ms.
fn seconds(name: &str, value: Option<u64>) -> Result<Option<i64>, Error> {
    match value {
        None => Ok(None),
        Some(s) => i64::try_from(s)
            .ok()
            .and_then(|s| s.checked_mul(1000))
            .map(Some)
            .ok_or_else(|| invalid_value(format!("{name} is out of range"))),
    }
}

/// CreateRecordTask.
pub(super) async fn create(state: &AppState, call: &Call) -> ActionResult {
    let r = CreateRecordTaskRequest::from_params(&call.req.params)?;
    let now = state.clock.now_ms();
    let stream = required("StreamName", r.stream_name)?;
    check_name("StreamName", &stream)?;
    let app = required("AppName", r.app_name)?;
    check_name("AppName", &app)?;
    let domain = normalize_domain(&required("DomainName", r.domain_name)?);
    check_name("DomainName", &domain)?;
    // SPEC §2: only the owner of the domain records its streams.
    require_owner(state, &call.account_id, &domain, Error::DomainNotFound).await?;
    let end = seconds("EndTime", r.end_time)?.ok_or_else(|| missing("EndTime"))?;
    let start_raw = seconds("StartTime", r.start_time)?;
    let start = start_raw.unwrap_or(now);
    // StreamType 1 names the output stream C of an A+B=C mix session (SPEC
    // §6), which the hub carries like any live stream: the task is the same.
    match r.stream_type {
        None | Some(0 | 1) => {}
        Some(n) => return Err(invalid_value(format!("StreamType must be 0 or 1, got {n}"))),
    }
    let template_id = i64::try_from(r.template_id.unwrap_or(0))
        .map_err(|_| invalid_value("TemplateId is out of range"))?;
    if end <= start {
        return Err(invalid_value("EndTime must be later than StartTime"));
    }
    if end <= now {
        return Err(invalid_value("EndTime must be in the future"));
    }
    if end > now + MAX_AHEAD_S * 1000 {
        return Err(invalid_value("EndTime must be within 7 days from now"));
    }
    if end - start > MAX_SPAN_S * 1000 {
        return Err(invalid_value(
            "EndTime - StartTime must be at most 24 hours",
        ));
    }
    let hash = task_ops::request_hash(&json!([
        "task",
        stream,
        app,
        domain,
        start_raw,
        end,
        template_id
    ]));
    let serial = state.create_locks.lock(&call.account_id).await?;
    let checks = task_ops::check_quotas(state, call, Family::Task, (start, end), now).await;
    let store = &state.store;
    let new = NewTask {
        spec: TaskSpec {
            family: Family::Task,
            public_id: Some(new_task_id()),
            template_id,
            account_id: call.account_id.clone(),
            domain,
            app,
            stream,
            start_ms: start,
            end_ms: end,
            highlight: false,
            record_type: RecordType::Video,
            formats: vec![FileFormat::Hls],
            stream_param: String::new(),
            record_interval_s: 0,
            storage_time_s: 0,
            created_ms: now,
        },
        request_hash: hash,
    };
    let task = match task_ops::insert_unless_retry(state, call, serial, checks, &new).await? {
        Inserted::New(t) => t,
        Inserted::Retry(t) => {
            tracing::info!(task_id = ?t.spec.public_id, "identical CreateRecordTask within 60 s: returning the first task");
            return task_id_reply(t);
        }
    };
    let plan = task_plan(store, &task).await?;
    tracing::info!(task_id = ?task.spec.public_id, start_ms = start, end_ms = end, template_id, "record task created");
    state.scheduler.arm(plan).await;
    task_id_reply(task)
}

fn task_id_reply(task: Task) -> ActionResult {
    reply(&CreateRecordTaskResponse {
        task_id: task.spec.public_id.unwrap_or_default(),
    })
}

async fn lookup(state: &AppState, call: &Call, id: Option<String>) -> Result<Task, Error> {
    let id = required("TaskId", id)?;
    match state.store.task_by_public_id(&call.account_id, &id).await? {
        Some(t) => Ok(t),
        None => Err(Error::TaskNotFound(id)),
    }
}

/// StopRecordTask: ends the task now (its files are finalized before the
/// reply); it never starts again.
pub(super) async fn stop(state: &AppState, call: &Call) -> ActionResult {
    let r = StopRecordTaskRequest::from_params(&call.req.params)?;
    let task = lookup(state, call, r.task_id).await?;
    task_ops::stop(state, &task).await?;
    tracing::info!(task_id = ?task.spec.public_id, "record task stopped");
    reply(&StopRecordTaskResponse::default())
}

/// DeleteRecordTask: a running recording goes on; later publishes are not
/// recorded.
pub(super) async fn delete(state: &AppState, call: &Call) -> ActionResult {
    let r = DeleteRecordTaskRequest::from_params(&call.req.params)?;
    let task = lookup(state, call, r.task_id).await?;
    let _ = state.scheduler.delete(PlanKey::Task(task.id), true).await;
    state
        .store
        .delete_task(task.id, state.clock.now_ms())
        .await?;
    tracing::info!(task_id = ?task.spec.public_id, "record task deleted");
    reply(&DeleteRecordTaskResponse::default())
}

/// ScrollToken: the last row id seen, opaque to clients.
fn encode_token(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("liverec:{id}"))
}

fn decode_token(token: &str) -> Result<i64, Error> {
    URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("liverec:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| invalid_value("ScrollToken is not one this server returned"))
}

/// DescribeRecordTask: tasks whose start and end both lie in the window,
/// oldest first, a page at a time.
pub(super) async fn describe(state: &AppState, call: &Call) -> ActionResult {
    let r = DescribeRecordTaskRequest::from_params(&call.req.params)?;
    let now = state.clock.now_ms();
    let from = seconds("StartTime", r.start_time)?.ok_or_else(|| missing("StartTime"))?;
    let to = seconds("EndTime", r.end_time)?.ok_or_else(|| missing("EndTime"))?;
    if to <= from {
        return Err(invalid_value("EndTime must be later than StartTime"));
    }
    if to - from > MAX_WINDOW_S * 1000 {
        return Err(invalid_value(
            "EndTime - StartTime must be at most one week",
        ));
    }
    if from < now - MAX_LOOKBACK_S * 1000 {
        return Err(invalid_value("StartTime must be within the last 90 days"));
    }
    let after_id = match r.scroll_token.filter(|t| !t.trim().is_empty()) {
        Some(t) => decode_token(&t)?,
        None => 0,
    };
    let page = i64::try_from(state.settings.describe_task_page_size).unwrap_or(100);
    let q = TaskQuery {
        from_ms: from,
        to_ms: to,
        stream: trimmed(r.stream_name).unwrap_or_default(),
        domain: normalize_domain(&trimmed(r.domain_name).unwrap_or_default()),
        app: trimmed(r.app_name).unwrap_or_default(),
        after_id,
        // One more than a page tells whether another page follows.
        limit: page + 1,
    };
    let mut tasks = state
        .store
        .new_tasks_in_window(&call.account_id, &q)
        .await?;
    let more = tasks.len() as i64 > page;
    tasks.truncate(usize::try_from(page).unwrap_or(100));
    let token = match (more, tasks.last()) {
        (true, Some(t)) => encode_token(t.id),
        _ => String::new(),
    };
    let task_list = tasks
        .iter()
        .map(|t| RecordTask {
            task_id: t.spec.public_id.clone(),
            domain_name: t.spec.domain.clone(),
            app_name: t.spec.app.clone(),
            stream_name: t.spec.stream.clone(),
            start_time: t.spec.start_ms.div_euclid(1000),
            end_time: t.spec.end_ms.div_euclid(1000),
            template_id: t.spec.template_id,
            stopped: t.stopped_ms.map_or(0, |s| s.div_euclid(1000)),
        })
        .collect();
    reply(&DescribeRecordTaskResponse {
        scroll_token: token,
        task_list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_tokens() {
        let a = new_task_id();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_task_id());
        assert_eq!(decode_token(&encode_token(42)).unwrap(), 42);
        assert!(decode_token("garbage").is_err());
        assert!(decode_token(&URL_SAFE_NO_PAD.encode("other:1")).is_err());
    }
}

#[cfg(test)]
mod props;
