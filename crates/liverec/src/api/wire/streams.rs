//! Requests and responses of the stream actions: online list, state, drop,
//! publish event list, forbid/resume and the push-authentication keys.

use super::{Empty, request, response};

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

response! {
    /// DescribeLiveStreamOnlineList's answer.
    DescribeLiveStreamOnlineListResponse {
        /// Live streams matching the filter.
        total_num: usize,
        /// Pages.
        total_page: u64,
        /// This page (1-based).
        page_num: u64,
        /// Page size.
        page_size: u64,
        /// This page's streams.
        online_info: Vec<StreamOnlineInfo>,
    }
}

response! {
    /// `StreamOnlineInfo`.
    StreamOnlineInfo {
        /// StreamName.
        stream_name: String,
        /// AppName.
        app_name: String,
        /// DomainName.
        domain_name: String,
        /// When the current publish started.
        publish_time_list: Vec<PublishTime>,
        /// 0: not a delayed stream.
        push_to_delay: i64,
    }
}

response! {
    /// `PublishTime`.
    PublishTime {
        /// UTC `2019-01-04T12:00:00Z`.
        publish_time: String,
    }
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

response! {
    /// DescribeLiveStreamState's answer.
    DescribeLiveStreamStateResponse {
        /// `active`, `inactive` or `forbid`.
        stream_state: &'static str,
    }
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

response! {
    /// DescribeLiveStreamEventList's answer.
    DescribeLiveStreamEventListResponse {
        /// This page's sessions.
        event_list: Vec<StreamEventInfo>,
        /// This page (1-based).
        page_num: u64,
        /// Page size.
        page_size: u64,
        /// Sessions matching the filter.
        total_num: u64,
        /// Pages.
        total_page: u64,
    }
}

response! {
    /// `StreamEventInfo`.
    StreamEventInfo {
        /// AppName.
        app_name: String,
        /// DomainName.
        domain_name: String,
        /// StreamName.
        stream_name: String,
        /// UTC start.
        stream_start_time: String,
        /// UTC end, "" while live.
        stream_end_time: String,
        /// Why the publish ended.
        stop_reason: String,
        /// Seconds (so far, while live).
        duration: i64,
        /// The publisher's address.
        client_ip: String,
        /// `WIDTHxHEIGHT`.
        resolution: String,
    }
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

response! {
    /// DescribeLivePushAuthKey's answer.
    DescribeLivePushAuthKeyResponse {
        /// The caller's settings for the domain.
        push_auth_key_info: PushAuthKeyInfo,
    }
}

response! {
    /// `PushAuthKeyInfo`.
    PushAuthKeyInfo {
        /// DomainName.
        domain_name: String,
        /// 1 enabled, 0 disabled.
        enable: i64,
        /// Master key.
        master_auth_key: String,
        /// Backup key.
        backup_auth_key: String,
        /// Validity, seconds.
        auth_delta: i64,
    }
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
