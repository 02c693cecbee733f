//! Requests and responses of the callback template and rule actions
//! (`CreateLiveCallbackTemplate` … `DescribeLiveCallbackRules`), field names
//! as the SDK's models. Values are checked by `api::callbacks`.

use super::{Empty, request, response};

request! {
    /// CreateLiveCallbackTemplate.
    CreateLiveCallbackTemplateRequest {
        template_name: Option<String> = text("TemplateName"),
        description: Option<String> = text("Description"),
        stream_begin_notify_url: Option<String> = text("StreamBeginNotifyUrl"),
        stream_end_notify_url: Option<String> = text("StreamEndNotifyUrl"),
        record_notify_url: Option<String> = text("RecordNotifyUrl"),
        record_status_notify_url: Option<String> = text("RecordStatusNotifyUrl"),
        snapshot_notify_url: Option<String> = text("SnapshotNotifyUrl"),
        porn_censorship_notify_url: Option<String> = text("PornCensorshipNotifyUrl"),
        callback_key: Option<String> = text("CallbackKey"),
        stream_mix_notify_url: Option<String> = text("StreamMixNotifyUrl"),
        push_exception_notify_url: Option<String> = text("PushExceptionNotifyUrl"),
        audio_audit_notify_url: Option<String> = text("AudioAuditNotifyUrl"),
        record_exception_notify_url: Option<String> = text("RecordExceptionNotifyUrl"),
        record_exception_levels: Option<Vec<String>> = texts("RecordExceptionLevels"),
    }
}

response! {
    /// CreateLiveCallbackTemplate's answer.
    CreateLiveCallbackTemplateResponse {
        /// The new template.
        template_id: i64,
    }
}

request! {
    /// ModifyLiveCallbackTemplate (the SDK's model has no
    /// StreamMixNotifyUrl: it is ignored like any unknown field).
    ModifyLiveCallbackTemplateRequest {
        template_id: Option<i64> = int("TemplateId"),
        template_name: Option<String> = text("TemplateName"),
        description: Option<String> = text("Description"),
        stream_begin_notify_url: Option<String> = text("StreamBeginNotifyUrl"),
        stream_end_notify_url: Option<String> = text("StreamEndNotifyUrl"),
        record_notify_url: Option<String> = text("RecordNotifyUrl"),
        record_status_notify_url: Option<String> = text("RecordStatusNotifyUrl"),
        snapshot_notify_url: Option<String> = text("SnapshotNotifyUrl"),
        porn_censorship_notify_url: Option<String> = text("PornCensorshipNotifyUrl"),
        callback_key: Option<String> = text("CallbackKey"),
        push_exception_notify_url: Option<String> = text("PushExceptionNotifyUrl"),
        audio_audit_notify_url: Option<String> = text("AudioAuditNotifyUrl"),
        record_exception_notify_url: Option<String> = text("RecordExceptionNotifyUrl"),
        record_exception_levels: Option<Vec<String>> = texts("RecordExceptionLevels"),
    }
}

/// ModifyLiveCallbackTemplate's answer.
pub(in crate::api) type ModifyLiveCallbackTemplateResponse = Empty;

/// The template fields of a Create or Modify request, as the handler
/// applies them (absent = keep, or empty on Create).
#[derive(Debug, Clone, PartialEq, Default)]
pub(in crate::api) struct CallbackTemplateFields {
    /// Description.
    pub(in crate::api) description: Option<String>,
    /// (wire name, value) of every notify URL the request can carry.
    pub(in crate::api) urls: Vec<(&'static str, Option<String>)>,
    /// CallbackKey.
    pub(in crate::api) callback_key: Option<String>,
    /// RecordExceptionLevels.
    pub(in crate::api) record_exception_levels: Option<Vec<String>>,
}

impl From<CreateLiveCallbackTemplateRequest> for CallbackTemplateFields {
    fn from(r: CreateLiveCallbackTemplateRequest) -> CallbackTemplateFields {
        CallbackTemplateFields {
            description: r.description,
            urls: vec![
                ("StreamBeginNotifyUrl", r.stream_begin_notify_url),
                ("StreamEndNotifyUrl", r.stream_end_notify_url),
                ("RecordNotifyUrl", r.record_notify_url),
                ("RecordStatusNotifyUrl", r.record_status_notify_url),
                ("SnapshotNotifyUrl", r.snapshot_notify_url),
                ("PornCensorshipNotifyUrl", r.porn_censorship_notify_url),
                ("StreamMixNotifyUrl", r.stream_mix_notify_url),
                ("PushExceptionNotifyUrl", r.push_exception_notify_url),
                ("AudioAuditNotifyUrl", r.audio_audit_notify_url),
                ("RecordExceptionNotifyUrl", r.record_exception_notify_url),
            ],
            callback_key: r.callback_key,
            record_exception_levels: r.record_exception_levels,
        }
    }
}

impl From<ModifyLiveCallbackTemplateRequest> for CallbackTemplateFields {
    fn from(r: ModifyLiveCallbackTemplateRequest) -> CallbackTemplateFields {
        CallbackTemplateFields {
            description: r.description,
            urls: vec![
                ("StreamBeginNotifyUrl", r.stream_begin_notify_url),
                ("StreamEndNotifyUrl", r.stream_end_notify_url),
                ("RecordNotifyUrl", r.record_notify_url),
                ("RecordStatusNotifyUrl", r.record_status_notify_url),
                ("SnapshotNotifyUrl", r.snapshot_notify_url),
                ("PornCensorshipNotifyUrl", r.porn_censorship_notify_url),
                ("PushExceptionNotifyUrl", r.push_exception_notify_url),
                ("AudioAuditNotifyUrl", r.audio_audit_notify_url),
                ("RecordExceptionNotifyUrl", r.record_exception_notify_url),
            ],
            callback_key: r.callback_key,
            record_exception_levels: r.record_exception_levels,
        }
    }
}

request! {
    /// DeleteLiveCallbackTemplate.
    DeleteLiveCallbackTemplateRequest {
        template_id: Option<i64> = int("TemplateId"),
    }
}

/// DeleteLiveCallbackTemplate's answer.
pub(in crate::api) type DeleteLiveCallbackTemplateResponse = Empty;

request! {
    /// DescribeLiveCallbackTemplate.
    DescribeLiveCallbackTemplateRequest {
        template_id: Option<i64> = int("TemplateId"),
    }
}

response! {
    /// DescribeLiveCallbackTemplate's answer.
    DescribeLiveCallbackTemplateResponse {
        /// The template.
        template: CallBackTemplateInfo,
    }
}

request! {
    /// DescribeLiveCallbackTemplates (no parameters).
    DescribeLiveCallbackTemplatesRequest {}
}

response! {
    /// DescribeLiveCallbackTemplates's answer.
    DescribeLiveCallbackTemplatesResponse {
        /// The templates.
        templates: Vec<CallBackTemplateInfo>,
    }
}

response! {
    /// `CallBackTemplateInfo`, plus RecordStatusNotifyUrl, which the
    /// request models have and this model lacks (the SDK ignores the extra
    /// key; a CommonClient caller sees what it set).
    CallBackTemplateInfo {
        /// TemplateId.
        template_id: i64,
        /// TemplateName.
        template_name: String,
        /// Description.
        description: String,
        /// StreamBeginNotifyUrl.
        stream_begin_notify_url: String,
        /// StreamMixNotifyUrl (deprecated).
        stream_mix_notify_url: String,
        /// StreamEndNotifyUrl.
        stream_end_notify_url: String,
        /// RecordNotifyUrl.
        record_notify_url: String,
        /// SnapshotNotifyUrl.
        snapshot_notify_url: String,
        /// PornCensorshipNotifyUrl.
        porn_censorship_notify_url: String,
        /// CallbackKey.
        callback_key: String,
        /// PushExceptionNotifyUrl.
        push_exception_notify_url: String,
        /// AudioAuditNotifyUrl.
        audio_audit_notify_url: String,
        /// RecordExceptionNotifyUrl.
        record_exception_notify_url: String,
        /// RecordExceptionLevels.
        record_exception_levels: Vec<String>,
        /// RecordStatusNotifyUrl (liverec addition, see above).
        record_status_notify_url: String,
    }
}

request! {
    /// CreateLiveCallbackRule.
    CreateLiveCallbackRuleRequest {
        domain_name: Option<String> = text("DomainName"),
        app_name: Option<String> = text("AppName"),
        template_id: Option<i64> = int("TemplateId"),
    }
}

/// CreateLiveCallbackRule's answer.
pub(in crate::api) type CreateLiveCallbackRuleResponse = Empty;

request! {
    /// DeleteLiveCallbackRule.
    DeleteLiveCallbackRuleRequest {
        domain_name: Option<String> = text("DomainName"),
        app_name: Option<String> = text("AppName"),
    }
}

/// DeleteLiveCallbackRule's answer.
pub(in crate::api) type DeleteLiveCallbackRuleResponse = Empty;

request! {
    /// DescribeLiveCallbackRules (no parameters).
    DescribeLiveCallbackRulesRequest {}
}

response! {
    /// DescribeLiveCallbackRules's answer.
    DescribeLiveCallbackRulesResponse {
        /// The rules.
        rules: Vec<CallBackRuleInfo>,
    }
}

response! {
    /// `CallBackRuleInfo`.
    CallBackRuleInfo {
        /// Beijing time.
        create_time: String,
        /// Beijing time.
        update_time: String,
        /// TemplateId.
        template_id: i64,
        /// DomainName.
        domain_name: String,
        /// AppName.
        app_name: String,
    }
}

request! {
    /// DescribeCallbackDeliveries (liverec's own): the callback outbox of
    /// the caller's account.
    DescribeCallbackDeliveriesRequest {
        event_type: Option<i64> = int("EventType"),
        stream_name: Option<String> = text("StreamName"),
        status: Option<String> = text("Status"),
        page_num: Option<u64> = uint("PageNum"),
        page_size: Option<u64> = uint("PageSize"),
    }
}

response! {
    /// DescribeCallbackDeliveries's answer.
    DescribeCallbackDeliveriesResponse {
        /// Events matching the filters.
        total_num: i64,
        /// Pages of PageSize.
        total_page: i64,
        /// This page's number.
        page_num: u64,
        /// Events per page.
        page_size: u64,
        /// This page, newest first.
        delivery_list: Vec<CallbackDelivery>,
    }
}

response! {
    /// One event of DescribeCallbackDeliveries.
    CallbackDelivery {
        /// Stable event id (body `event_id`, header `X-Liverec-Event-Id`).
        event_id: String,
        /// `event_type`: 1, 0, 100, 332 or 341.
        event_type: i64,
        /// DomainName.
        domain_name: String,
        /// AppName.
        app_name: String,
        /// StreamName.
        stream_name: String,
        /// Receiver.
        url: String,
        /// pending, delivered, failed.
        status: &'static str,
        /// Attempts made.
        attempts: i64,
        /// HTTP status of the last attempt (0 = no answer or none yet).
        last_http_status: i64,
        /// Why the last attempt failed ("" = none).
        last_error: String,
        /// Next attempt (pending only), UTC `2019-01-04T12:00:00Z`.
        next_attempt_time: String,
        /// Written, UTC.
        create_time: String,
        /// Delivered or given up, UTC ("" = not yet).
        done_time: String,
        /// Next attempt, Unix ms (0 unless pending).
        next_attempt_time_ms: i64,
        /// Written, Unix ms.
        create_time_ms: i64,
    }
}
