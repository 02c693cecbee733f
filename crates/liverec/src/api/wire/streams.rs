//! Requests and responses of the stream actions: online list, state, drop,
//! publish event list, forbid/resume and the push-authentication keys.

use serde::Serialize;

use super::{Empty, request};

request! {
    /// DescribeLiveStreamOnlineList.
    DescribeLiveStreamOnlineListRequest {
        domain_name: Option<String> = text("DomainName"),
        app_name: Option<String> = text("AppName"),
        page_num: Option<u64> = uint("PageNum"),
        page_size: Option<u64> = uint("PageSize"),
        stream_name: Option<String> = text("StreamName"),
    }
}

/// DescribeLiveStreamOnlineList's answer.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct DescribeLiveStreamOnlineListResponse {
    /// Live streams matching the filter.
    pub(in crate::api) total_num: usize,
    /// Pages.
    pub(in crate::api) total_page: u64,
    /// This page (1-based).
    pub(in crate::api) page_num: u64,
    /// Page size.
    pub(in crate::api) page_size: u64,
    /// This page's streams.
    pub(in crate::api) online_info: Vec<StreamOnlineInfo>,
}

/// `StreamOnlineInfo`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct StreamOnlineInfo {
    /// StreamName.
    pub(in crate::api) stream_name: String,
    /// AppName.
    pub(in crate::api) app_name: String,
    /// DomainName.
    pub(in crate::api) domain_name: String,
    /// When the current publish started.
    pub(in crate::api) publish_time_list: Vec<PublishTime>,
    /// 0: not a delayed stream.
    pub(in crate::api) push_to_delay: i64,
}

/// `PublishTime`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct PublishTime {
    /// UTC `2019-01-04T12:00:00Z`.
    pub(in crate::api) publish_time: String,
}

/// The DomainName, AppName and StreamName of one stream.
macro_rules! stream_request {
    ($(#[$meta:meta])* $name:ident) => {
        request! {
            $(#[$meta])*
            $name {
                app_name: Option<String> = text("AppName"),
                domain_name: Option<String> = text("DomainName"),
                stream_name: Option<String> = text("StreamName"),
            }
        }
    };
}

stream_request! {
    /// DescribeLiveStreamState.
    DescribeLiveStreamStateRequest
}

/// DescribeLiveStreamState's answer.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct DescribeLiveStreamStateResponse {
    /// `active`, `inactive` or `forbid`.
    pub(in crate::api) stream_state: &'static str,
}

stream_request! {
    /// DropLiveStream.
    DropLiveStreamRequest
}

/// DropLiveStream's answer.
pub(in crate::api) type DropLiveStreamResponse = Empty;

request! {
    /// DescribeLiveStreamEventList.
    DescribeLiveStreamEventListRequest {
        start_time: Option<String> = text("StartTime"),
        end_time: Option<String> = text("EndTime"),
        app_name: Option<String> = text("AppName"),
        domain_name: Option<String> = text("DomainName"),
        stream_name: Option<String> = text("StreamName"),
        page_num: Option<u64> = uint("PageNum"),
        page_size: Option<u64> = uint("PageSize"),
        is_filter: Option<i64> = int("IsFilter"),
        is_strict: Option<i64> = int("IsStrict"),
        is_asc: Option<i64> = int("IsAsc"),
    }
}

/// DescribeLiveStreamEventList's answer.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct DescribeLiveStreamEventListResponse {
    /// This page's sessions.
    pub(in crate::api) event_list: Vec<StreamEventInfo>,
    /// This page (1-based).
    pub(in crate::api) page_num: u64,
    /// Page size.
    pub(in crate::api) page_size: u64,
    /// Sessions matching the filter.
    pub(in crate::api) total_num: u64,
    /// Pages.
    pub(in crate::api) total_page: u64,
}

/// `StreamEventInfo`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct StreamEventInfo {
    /// AppName.
    pub(in crate::api) app_name: String,
    /// DomainName.
    pub(in crate::api) domain_name: String,
    /// StreamName.
    pub(in crate::api) stream_name: String,
    /// UTC start.
    pub(in crate::api) stream_start_time: String,
    /// UTC end, "" while live.
    pub(in crate::api) stream_end_time: String,
    /// Why the publish ended.
    pub(in crate::api) stop_reason: String,
    /// Seconds (so far, while live).
    pub(in crate::api) duration: i64,
    /// The publisher's address.
    pub(in crate::api) client_ip: String,
    /// `WIDTHxHEIGHT`.
    pub(in crate::api) resolution: String,
}

request! {
    /// ForbidLiveStream.
    ForbidLiveStreamRequest {
        app_name: Option<String> = text("AppName"),
        domain_name: Option<String> = text("DomainName"),
        stream_name: Option<String> = text("StreamName"),
        resume_time: Option<String> = text("ResumeTime"),
        reason: Option<String> = text("Reason"),
    }
}

/// ForbidLiveStream's answer.
pub(in crate::api) type ForbidLiveStreamResponse = Empty;

stream_request! {
    /// ResumeLiveStream.
    ResumeLiveStreamRequest
}

/// ResumeLiveStream's answer.
pub(in crate::api) type ResumeLiveStreamResponse = Empty;

request! {
    /// DescribeLivePushAuthKey.
    DescribeLivePushAuthKeyRequest {
        domain_name: Option<String> = text("DomainName"),
    }
}

/// DescribeLivePushAuthKey's answer.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct DescribeLivePushAuthKeyResponse {
    /// The caller's settings for the domain.
    pub(in crate::api) push_auth_key_info: PushAuthKeyInfo,
}

/// `PushAuthKeyInfo`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(in crate::api) struct PushAuthKeyInfo {
    /// DomainName.
    pub(in crate::api) domain_name: String,
    /// 1 enabled, 0 disabled.
    pub(in crate::api) enable: i64,
    /// Master key.
    pub(in crate::api) master_auth_key: String,
    /// Backup key.
    pub(in crate::api) backup_auth_key: String,
    /// Validity, seconds.
    pub(in crate::api) auth_delta: i64,
}

request! {
    /// ModifyLivePushAuthKey.
    ModifyLivePushAuthKeyRequest {
        domain_name: Option<String> = text("DomainName"),
        enable: Option<i64> = int("Enable"),
        master_auth_key: Option<String> = text("MasterAuthKey"),
        backup_auth_key: Option<String> = text("BackupAuthKey"),
        auth_delta: Option<u64> = uint("AuthDelta"),
    }
}

/// ModifyLivePushAuthKey's answer.
pub(in crate::api) type ModifyLivePushAuthKeyResponse = Empty;
