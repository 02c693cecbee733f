//! liverec's file actions (SPEC §3.4): DescribeRecordFiles and
//! DeleteRecordFiles, scoped to the caller's account.

use super::AppState;
use super::endpoint::{ActionResult, Call};
use super::error::Error;
use super::params::{invalid_value, missing, trimmed};
use super::wire::{
    DeleteRecordFilesRequest, DeleteRecordFilesResponse, DescribeRecordFilesRequest,
    DescribeRecordFilesResponse, RecordFile, reply,
};
use crate::store::{FileFilter, FileRow, FileStatus};

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

async fn file_info(state: &AppState, f: FileRow) -> RecordFile {
    RecordFile {
        video_url: state.listed_video_url(&f.storage_key).await,
        file_id: f.id,
        task_id: f.task_id,
        domain_name: f.domain,
        app_name: f.app,
        stream_name: f.stream,
        file_format: f.format.as_str(),
        record_type: f.record_type.as_str(),
        start_time: f.start_ms.div_euclid(1000),
        end_time: f.end_ms.div_euclid(1000),
        start_time_ms: f.start_ms,
        end_time_ms: f.end_ms,
        duration: f.duration_ms as f64 / 1000.0,
        file_size: f.file_size,
        status: f.status.as_str(),
    }
}

/// DescribeRecordFiles.
pub(super) async fn describe(state: &AppState, call: &Call) -> ActionResult {
    let r = DescribeRecordFilesRequest::from_params(&call.req.params)?;
    let limit = r.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid_value(format!(
            "Limit must be between 1 and {MAX_LIMIT}, got {limit}"
        )));
    }
    let offset = r.offset.unwrap_or(0);
    if offset < 0 {
        return Err(invalid_value(format!(
            "Offset must not be negative, got {offset}"
        )));
    }
    let (from, to) = (r.start_time, r.end_time);
    if let (Some(a), Some(b)) = (from, to)
        && b < a
    {
        return Err(invalid_value("EndTime must not be earlier than StartTime"));
    }
    let filter = FileFilter {
        task_id: r.task_id,
        domain: trimmed(r.domain_name).map(|d| crate::task::normalize_domain(&d)),
        app: trimmed(r.app_name),
        stream: trimmed(r.stream_name),
        from_ms: from.map(|s| s.saturating_mul(1000)),
        to_ms: to.map(|s| s.saturating_mul(1000)),
        offset,
        limit,
    };
    let (total, rows) = state.store.list_files(&call.account_id, &filter).await?;
    let mut file_list = Vec::with_capacity(rows.len());
    for f in rows {
        file_list.push(file_info(state, f).await);
    }
    reply(&DescribeRecordFilesResponse {
        total_count: total,
        file_list,
    })
}

/// Files deleted per call at most.
const MAX_DELETE: usize = 100;

/// DeleteRecordFiles.
pub(super) async fn delete(state: &AppState, call: &Call) -> ActionResult {
    let r = DeleteRecordFilesRequest::from_params(&call.req.params)?;
    let ids = r.file_ids.ok_or_else(|| missing("FileIds"))?;
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
            None => return Err(Error::FileNotFound(id.to_string())),
            Some(f) if f.status == FileStatus::Recording => {
                return Err(Error::FileRecording(id.to_string()));
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
    reply(&DeleteRecordFilesResponse::default())
}
