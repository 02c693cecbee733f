//! liverec's file actions (SPEC §3.4): DescribeRecordFiles and
//! DeleteRecordFiles, scoped to the caller's account.

use serde_json::{Map, Value, json};

use super::AppState;
use super::endpoint::{ActionResult, Call};
use super::error::Error;
use super::params::{id_opt, invalid_value, missing, opt_text};
use crate::store::{FileFilter, FileRow, FileStatus};

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

fn file_json(state: &AppState, f: &FileRow) -> Value {
    json!({
        "FileId": f.id,
        "TaskId": f.task_id,
        "DomainName": f.domain,
        "AppName": f.app,
        "StreamName": f.stream,
        "FileFormat": f.format.as_str(),
        "RecordType": f.record_type.as_str(),
        "StartTime": f.start_ms.div_euclid(1000),
        "EndTime": f.end_ms.div_euclid(1000),
        "StartTimeMs": f.start_ms,
        "EndTimeMs": f.end_ms,
        "Duration": f.duration_ms as f64 / 1000.0,
        "FileSize": f.file_size,
        "VideoUrl": state.video_url(&f.storage_key),
        "Status": f.status.as_str(),
    })
}

/// DescribeRecordFiles.
pub(super) async fn describe(state: &AppState, call: &Call) -> ActionResult {
    let p = &call.req.params;
    let limit = p.i64_opt("Limit")?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid_value(format!(
            "Limit must be between 1 and {MAX_LIMIT}, got {limit}"
        )));
    }
    let offset = p.i64_opt("Offset")?.unwrap_or(0);
    if offset < 0 {
        return Err(invalid_value(format!(
            "Offset must not be negative, got {offset}"
        )));
    }
    let from = p.i64_opt("StartTime")?;
    let to = p.i64_opt("EndTime")?;
    if let (Some(a), Some(b)) = (from, to)
        && b < a
    {
        return Err(invalid_value("EndTime must not be earlier than StartTime"));
    }
    let filter = FileFilter {
        task_id: id_opt(p, "TaskId")?,
        domain: opt_text(p, "DomainName")?.map(|d| crate::task::normalize_domain(&d)),
        app: opt_text(p, "AppName")?,
        stream: opt_text(p, "StreamName")?,
        from_ms: from.map(|s| s.saturating_mul(1000)),
        to_ms: to.map(|s| s.saturating_mul(1000)),
        offset,
        limit,
    };
    let (total, rows) = state.store.list_files(&call.account_id, &filter).await?;
    let mut m = Map::new();
    m.insert("TotalCount".into(), total.into());
    m.insert(
        "FileList".into(),
        rows.iter().map(|f| file_json(state, f)).collect(),
    );
    Ok(m)
}

/// Files deleted per call at most.
const MAX_DELETE: usize = 100;

/// DeleteRecordFiles.
pub(super) async fn delete(state: &AppState, call: &Call) -> ActionResult {
    let ids = call
        .req
        .params
        .str_list_opt("FileIds")?
        .ok_or_else(|| missing("FileIds"))?;
    if ids.is_empty() {
        return Err(missing("FileIds"));
    }
    if ids.len() > MAX_DELETE {
        return Err(invalid_value(format!(
            "FileIds may list at most {MAX_DELETE} files"
        )));
    }
    let mut rows = Vec::with_capacity(ids.len());
    for id in &ids {
        let row = state.store.file(&call.account_id, id).await?;
        match row {
            None => return Err(Error::FileNotFound(id.clone())),
            Some(f) if f.status == FileStatus::Recording => {
                return Err(Error::FileRecording(id.clone()));
            }
            Some(f) => rows.push(f),
        }
    }
    let now = state.clock.now_ms();
    for f in rows {
        crate::recorder::delete_file_bytes(&state.storage, &f)
            .await
            .map_err(Error::internal)?;
        state.store.delete_file(&f.id, now).await?;
        tracing::info!(file_id = %f.id, key = %f.storage_key, "file deleted");
    }
    Ok(Map::new())
}
