//! Requests and responses of the task and file actions: the legacy
//! CreateLiveRecord family, the CreateRecordTask family, and liverec's own
//! DescribeRecordFiles / DeleteRecordFiles.

use serde::Serialize;
use serde_json::Value;

use super::request;

request! {
    /// CreateLiveRecord.
    CreateLiveRecordRequest {
        stream_name: Option<String> = text("StreamName"),
        app_name: Option<String> = text("AppName"),
        domain_name: Option<String> = text("DomainName"),
        start_time: Option<String> = text("StartTime"),
        end_time: Option<String> = text("EndTime"),
        record_type: Option<String> = text("RecordType"),
        file_format: Option<String> = text("FileFormat"),
        highlight: Option<i64> = int("Highlight"),
        mix_stream: Option<i64> = int("MixStream"),
        stream_param: Option<String> = text("StreamParam"),
    }
}

/// CreateLiveRecord's answer.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct CreateLiveRecordResponse {
    /// The legacy (integer) TaskId.
    pub(in crate::api) task_id: i64,
}

/// StopLiveRecord's answer.
pub(in crate::api) type StopLiveRecordResponse = Empty;

request! {
    /// StopLiveRecord.
    StopLiveRecordRequest {
        stream_name: Option<String> = text("StreamName"),
        task_id: Option<i64> = int("TaskId"),
    }
}

/// DeleteLiveRecord's answer.
pub(in crate::api) type DeleteLiveRecordResponse = Empty;

request! {
    /// DeleteLiveRecord.
    DeleteLiveRecordRequest {
        stream_name: Option<String> = text("StreamName"),
        task_id: Option<i64> = int("TaskId"),
    }
}

request! {
    /// CreateRecordTask.
    CreateRecordTaskRequest {
        stream_name: Option<String> = text("StreamName"),
        domain_name: Option<String> = text("DomainName"),
        app_name: Option<String> = text("AppName"),
        end_time: Option<u64> = uint("EndTime"),
        start_time: Option<u64> = uint("StartTime"),
        stream_type: Option<u64> = uint("StreamType"),
        template_id: Option<u64> = uint("TemplateId"),
        /// Accepted, unused.
        _extension: Option<Value> = ignored("Extension"),
    }
}

/// CreateRecordTask's answer.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct CreateRecordTaskResponse {
    /// The opaque TaskId.
    pub(in crate::api) task_id: String,
}

/// StopRecordTask's answer.
pub(in crate::api) type StopRecordTaskResponse = Empty;

request! {
    /// StopRecordTask.
    StopRecordTaskRequest {
        task_id: Option<String> = text("TaskId"),
    }
}

/// DeleteRecordTask's answer.
pub(in crate::api) type DeleteRecordTaskResponse = Empty;

request! {
    /// DeleteRecordTask.
    DeleteRecordTaskRequest {
        task_id: Option<String> = text("TaskId"),
    }
}

request! {
    /// DescribeRecordTask.
    DescribeRecordTaskRequest {
        start_time: Option<u64> = uint("StartTime"),
        end_time: Option<u64> = uint("EndTime"),
        stream_name: Option<String> = text("StreamName"),
        domain_name: Option<String> = text("DomainName"),
        app_name: Option<String> = text("AppName"),
        scroll_token: Option<String> = text("ScrollToken"),
    }
}

/// DescribeRecordTask's answer.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct DescribeRecordTaskResponse {
    /// The next page's token ("" on the last page).
    pub(in crate::api) scroll_token: String,
    /// The tasks.
    pub(in crate::api) task_list: Vec<RecordTask>,
}

/// `RecordTask`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct RecordTask {
    /// TaskId.
    pub(in crate::api) task_id: Option<String>,
    /// DomainName.
    pub(in crate::api) domain_name: String,
    /// AppName.
    pub(in crate::api) app_name: String,
    /// StreamName.
    pub(in crate::api) stream_name: String,
    /// Unix seconds.
    pub(in crate::api) start_time: i64,
    /// Unix seconds.
    pub(in crate::api) end_time: i64,
    /// TemplateId.
    pub(in crate::api) template_id: i64,
    /// Unix seconds of the stop, 0 if not stopped.
    pub(in crate::api) stopped: i64,
}

request! {
    /// DescribeRecordFiles (liverec's own).
    DescribeRecordFilesRequest {
        task_id: Option<String> = id("TaskId"),
        domain_name: Option<String> = text("DomainName"),
        app_name: Option<String> = text("AppName"),
        stream_name: Option<String> = text("StreamName"),
        start_time: Option<i64> = int("StartTime"),
        end_time: Option<i64> = int("EndTime"),
        offset: Option<i64> = int("Offset"),
        limit: Option<i64> = int("Limit"),
    }
}

/// DescribeRecordFiles's answer.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct DescribeRecordFilesResponse {
    /// Files matching the filter.
    pub(in crate::api) total_count: i64,
    /// This page.
    pub(in crate::api) file_list: Vec<RecordFile>,
}

/// One file of DescribeRecordFiles.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct RecordFile {
    /// FileId.
    pub(in crate::api) file_id: String,
    /// TaskId.
    pub(in crate::api) task_id: String,
    /// DomainName.
    pub(in crate::api) domain_name: String,
    /// AppName.
    pub(in crate::api) app_name: String,
    /// StreamName.
    pub(in crate::api) stream_name: String,
    /// flv, hls, mp4, aac, mp3.
    pub(in crate::api) file_format: &'static str,
    /// video, audio.
    pub(in crate::api) record_type: &'static str,
    /// Unix seconds.
    pub(in crate::api) start_time: i64,
    /// Unix seconds.
    pub(in crate::api) end_time: i64,
    /// Unix ms.
    pub(in crate::api) start_time_ms: i64,
    /// Unix ms.
    pub(in crate::api) end_time_ms: i64,
    /// Seconds.
    pub(in crate::api) duration: f64,
    /// Bytes.
    pub(in crate::api) file_size: i64,
    /// Download URL.
    pub(in crate::api) video_url: String,
    /// recording, finished, …
    pub(in crate::api) status: &'static str,
}

/// DeleteRecordFiles's answer.
pub(in crate::api) type DeleteRecordFilesResponse = Empty;

request! {
    /// DeleteRecordFiles (liverec's own).
    DeleteRecordFilesRequest {
        file_ids: Option<Vec<String>> = texts("FileIds"),
    }
}

/// The answer of an action that returns only its RequestId.
#[derive(Debug, Default, Serialize)]
pub(in crate::api) struct Empty {}
