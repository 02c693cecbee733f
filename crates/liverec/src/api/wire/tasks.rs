//! Requests and responses of the task and file actions: the legacy
//! CreateLiveRecord family, the CreateRecordTask family, and liverec's own
//! DescribeRecordFiles / DeleteRecordFiles.

use serde::Serialize;
use serde_json::Value;

use super::{request, response};

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

response! {
    /// CreateLiveRecord's answer.
    CreateLiveRecordResponse {
        /// The legacy (integer) TaskId.
        task_id: i64,
    }
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

response! {
    /// CreateRecordTask's answer.
    CreateRecordTaskResponse {
        /// The opaque TaskId.
        task_id: String,
    }
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

response! {
    /// DescribeRecordTask's answer.
    DescribeRecordTaskResponse {
        /// The next page's token ("" on the last page).
        scroll_token: String,
        /// The tasks.
        task_list: Vec<RecordTask>,
    }
}

response! {
    /// `RecordTask`.
    RecordTask {
        /// TaskId.
        task_id: Option<String>,
        /// DomainName.
        domain_name: String,
        /// AppName.
        app_name: String,
        /// StreamName.
        stream_name: String,
        /// Unix seconds.
        start_time: i64,
        /// Unix seconds.
        end_time: i64,
        /// TemplateId.
        template_id: i64,
        /// Unix seconds of the stop, 0 if not stopped.
        stopped: i64,
    }
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

response! {
    /// DescribeRecordFiles's answer.
    DescribeRecordFilesResponse {
        /// Files matching the filter.
        total_count: i64,
        /// This page.
        file_list: Vec<RecordFile>,
    }
}

response! {
    /// One file of DescribeRecordFiles.
    RecordFile {
        /// FileId.
        file_id: String,
        /// TaskId.
        task_id: String,
        /// DomainName.
        domain_name: String,
        /// AppName.
        app_name: String,
        /// StreamName.
        stream_name: String,
        /// flv, hls, mp4, aac, mp3.
        file_format: &'static str,
        /// video, audio.
        record_type: &'static str,
        /// Unix seconds.
        start_time: i64,
        /// Unix seconds.
        end_time: i64,
        /// Unix ms.
        start_time_ms: i64,
        /// Unix ms.
        end_time_ms: i64,
        /// Seconds.
        duration: f64,
        /// Bytes.
        file_size: i64,
        /// Download URL.
        video_url: String,
        /// recording, finished, …
        status: &'static str,
    }
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
