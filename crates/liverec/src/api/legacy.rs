//! The legacy task API of the seed page: CreateLiveRecord, StopLiveRecord,
//! DeleteLiveRecord (SPEC §3.1). Validation first, then de-duplication of
//! client retries, then quotas, then the effect.
//!
//! Ownership (SPEC §2): a DomainName the caller does not own is
//! `ResourceNotFound.DomainNotExist` (a highlight recording of it
//! `ResourceUnavailable.StreamNotExist`, as for a stream that is not live);
//! without a DomainName the task records only the caller's streams.

use serde_json::json;

use super::domains::owns;
use super::endpoint::{ActionResult, Call};
use super::error::Error;
use super::params::{
    MAX_NAME_LEN, check_name, flag_value, invalid_value, missing, parse_cst, parse_stream_param,
    required, trimmed,
};
use super::wire::{
    CreateLiveRecordRequest, CreateLiveRecordResponse, DeleteLiveRecordRequest,
    DeleteLiveRecordResponse, StopLiveRecordRequest, StopLiveRecordResponse, reply,
};
use super::{AppState, task_ops};
use crate::plan::{Family, Plan, PlanKey};
use crate::store::{Inserted, NewTask, Task, TaskSpec};
use crate::task::{FileFormat, RecordType, normalize_domain};

/// Highlight recordings last at most this long (Tencent: 30 minutes).
const HIGHLIGHT_MAX_MS: i64 = 30 * 60 * 1000;
/// CreateLiveRecord.
pub(super) async fn create(state: &AppState, call: &Call) -> ActionResult {
    let r = CreateLiveRecordRequest::from_params(&call.req.params)?;
    let now = state.clock.now_ms();
    let stream = required("StreamName", r.stream_name)?;
    check_name("StreamName", &stream)?;
    let app = trimmed(r.app_name).unwrap_or_else(|| "live".to_string());
    check_name("AppName", &app)?;
    let domain = normalize_domain(&r.domain_name.unwrap_or_default());
    if domain.len() > MAX_NAME_LEN {
        return Err(invalid_value("DomainName is too long"));
    }
    let highlight = flag_value("Highlight", r.highlight)?.unwrap_or(false);
    if !domain.is_empty() && !owns(state, &call.account_id, &domain).await? {
        tracing::info!(%domain, account = %call.account_id, "CreateLiveRecord refused: the domain belongs to another account");
        return Err(if highlight {
            Error::StreamOffline { app, stream }
        } else {
            Error::DomainNotFound(domain)
        });
    }
    // MixStream=1 names the output stream C of an A+B=C mix session (SPEC
    // §6): C is a live stream of the hub like any other, so the task is
    // the same; a highlight recording needs C to be a running mix output.
    let mix_stream = flag_value("MixStream", r.mix_stream)?.unwrap_or(false);
    let record_type = match r.record_type {
        None => RecordType::Video,
        Some(s) if s.trim().is_empty() => RecordType::Video,
        Some(s) => RecordType::parse(&s).ok_or_else(|| {
            invalid_value(format!("RecordType must be video or audio, got {s:?}"))
        })?,
    };
    let format = match r.file_format {
        None => FileFormat::Flv,
        Some(s) if s.trim().is_empty() => FileFormat::Flv,
        Some(s) => FileFormat::parse(&s).ok_or_else(|| {
            invalid_value(format!(
                "FileFormat must be one of flv, hls, mp4, aac, mp3, got {s:?}"
            ))
        })?,
    };
    let start_raw = r.start_time.filter(|s| !s.trim().is_empty());
    let end_raw = r.end_time.filter(|s| !s.trim().is_empty());
    let start = start_raw
        .as_deref()
        .map(|s| parse_cst("StartTime", s))
        .transpose()?;
    let end = end_raw
        .as_deref()
        .map(|s| parse_cst("EndTime", s))
        .transpose()?;
    let stream_param = parse_stream_param(
        &r.stream_param.unwrap_or_default(),
        i64::try_from(state.settings.min_record_interval_s).unwrap_or(1800),
    )?;
    let (start_ms, end_ms) = if highlight {
        // Tencent ignores StartTime; liverec honours one in the past (the
        // pre-roll covers it) and starts now otherwise.
        let from = start.filter(|&s| s < now).unwrap_or(now);
        let latest = now + HIGHLIGHT_MAX_MS;
        let end = match end {
            Some(e) if e > now && e <= latest => e,
            _ => latest,
        };
        (from, end)
    } else {
        let start = start.ok_or_else(|| missing("StartTime"))?;
        let end = end.ok_or_else(|| missing("EndTime"))?;
        if end <= start {
            return Err(invalid_value("EndTime must be later than StartTime"));
        }
        if end <= now {
            return Err(invalid_value("EndTime must be in the future"));
        }
        (start, end)
    };

    let hash = task_ops::request_hash(&json!([
        stream,
        app,
        domain,
        highlight,
        record_type.as_str(),
        format.as_str(),
        start_raw,
        end_raw,
        stream_param.text,
    ]));
    let serial = state.create_locks.lock(&call.account_id).await?;
    let checks = async {
        let live: Vec<_> = state
            .cluster
            .live(&call.account_id)
            .await?
            .into_iter()
            .filter(|s| s.key.matches(&domain, &app, &stream))
            .collect();
        if format.audio_only()
            && !live.is_empty()
            && live.iter().all(|s| s.has_audio == Some(false))
        {
            return Err(invalid_value(format!(
                "FileFormat {format} records audio, but stream {app}/{stream} is live without audio"
            )));
        }
        let live_mix = live
            .iter()
            .any(|s| state.mixer.is_output(&call.account_id, &s.key));
        if highlight && (live.is_empty() || (mix_stream && !live_mix)) {
            return Err(Error::StreamOffline {
                app: app.clone(),
                stream: stream.clone(),
            });
        }
        task_ops::check_quotas(state, call, Family::Legacy, (start_ms, end_ms), now).await
    }
    .await;
    let new = NewTask {
        spec: TaskSpec {
            family: Family::Legacy,
            public_id: None,
            template_id: 0,
            account_id: call.account_id.clone(),
            domain,
            app,
            stream,
            start_ms,
            end_ms,
            highlight,
            record_type,
            formats: vec![format],
            stream_param: stream_param.text,
            record_interval_s: stream_param.record_interval_s,
            storage_time_s: stream_param.storage_time_s,
            created_ms: now,
        },
        request_hash: hash,
    };
    let task = match task_ops::insert_unless_retry(state, call, serial, checks, &new).await? {
        Inserted::New(t) => t,
        Inserted::Retry(t) => {
            tracing::info!(
                task_id = t.id,
                "identical CreateLiveRecord within 60 s: returning the first task"
            );
            return reply(&CreateLiveRecordResponse { task_id: t.id });
        }
    };
    tracing::info!(
        task_id = task.id,
        start_ms,
        end_ms,
        highlight,
        "task created"
    );
    let answer = reply(&CreateLiveRecordResponse { task_id: task.id });
    state.scheduler.arm(Plan::legacy(&task)).await;
    answer
}

/// Looks up the task named by StreamName + TaskId, as both Stop and Delete do.
async fn lookup(
    state: &AppState,
    call: &Call,
    stream: Option<String>,
    id: Option<i64>,
) -> Result<Task, Error> {
    let stream = required("StreamName", stream)?;
    let id = id.ok_or_else(|| missing("TaskId"))?;
    match state.store.task(&call.account_id, id).await? {
        Some(t) if t.spec.stream == stream => Ok(t),
        Some(_) | None => Err(Error::LegacyTaskNotFound { id, stream }),
    }
}

/// StopLiveRecord: ends the task now; returns after its files are final.
pub(super) async fn stop(state: &AppState, call: &Call) -> ActionResult {
    let r = StopLiveRecordRequest::from_params(&call.req.params)?;
    let task = lookup(state, call, r.stream_name, r.task_id).await?;
    task_ops::stop(state, &task).await?;
    tracing::info!(task_id = task.id, "task stopped");
    reply(&StopLiveRecordResponse::default())
}

/// DeleteLiveRecord: removes a task that is not recording.
pub(super) async fn delete(state: &AppState, call: &Call) -> ActionResult {
    let r = DeleteLiveRecordRequest::from_params(&call.req.params)?;
    let task = lookup(state, call, r.stream_name, r.task_id).await?;
    if state
        .scheduler
        .delete(PlanKey::Task(task.id), false)
        .await
        .is_err()
    {
        return Err(Error::TaskRecording(task.id));
    }
    state
        .store
        .delete_task(task.id, state.clock.now_ms())
        .await?;
    tracing::info!(task_id = task.id, "task deleted");
    reply(&DeleteLiveRecordResponse::default())
}
