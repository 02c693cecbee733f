//! Compatibility with Tencent's SDK: the field lists of the official
//! Python SDK's `live/v20180801/models.py`, copied here as data, against
//! our request and response structs. Every request field the SDK can send
//! is one our struct reads (or ignores by name); every field we answer with
//! has the SDK's name.

use serde::Serialize;
use serde_json::Value;

use super::*;
use crate::api::action::Action;

/// (action, request fields, response fields without RequestId), from the
/// SDK's `<Action>Request` / `<Action>Response` models.
const SDK_ACTIONS: &[(&str, &[&str], &[&str])] = &[
    (
        "CreateCommonMixStream",
        &[
            "MixStreamSessionId",
            "InputStreamList",
            "OutputParams",
            "MixStreamTemplateId",
            "ControlParams",
        ],
        &[],
    ),
    ("CancelCommonMixStream", &["MixStreamSessionId"], &[]),
    (
        "CreateLiveRecord",
        &[
            "StreamName",
            "AppName",
            "DomainName",
            "StartTime",
            "EndTime",
            "RecordType",
            "FileFormat",
            "Highlight",
            "MixStream",
            "StreamParam",
        ],
        &["TaskId"],
    ),
    ("StopLiveRecord", &["StreamName", "TaskId"], &[]),
    ("DeleteLiveRecord", &["StreamName", "TaskId"], &[]),
    (
        "CreateRecordTask",
        &[
            "StreamName",
            "DomainName",
            "AppName",
            "EndTime",
            "StartTime",
            "StreamType",
            "TemplateId",
            "Extension",
        ],
        &["TaskId"],
    ),
    ("StopRecordTask", &["TaskId"], &[]),
    ("DeleteRecordTask", &["TaskId"], &[]),
    (
        "DescribeRecordTask",
        &[
            "StartTime",
            "EndTime",
            "StreamName",
            "DomainName",
            "AppName",
            "ScrollToken",
        ],
        &["ScrollToken", "TaskList"],
    ),
    (
        "CreateLiveRecordTemplate",
        &[
            "TemplateName",
            "Description",
            "FlvParam",
            "HlsParam",
            "Mp4Param",
            "AacParam",
            "IsDelayLive",
            "HlsSpecialParam",
            "Mp3Param",
            "CosStore",
            "RemoveWatermark",
            "FlvSpecialParam",
        ],
        &["TemplateId"],
    ),
    (
        "ModifyLiveRecordTemplate",
        &[
            "TemplateId",
            "TemplateName",
            "Description",
            "FlvParam",
            "HlsParam",
            "Mp4Param",
            "AacParam",
            "HlsSpecialParam",
            "Mp3Param",
            "RemoveWatermark",
            "FlvSpecialParam",
        ],
        &[],
    ),
    ("DeleteLiveRecordTemplate", &["TemplateId"], &[]),
    ("DescribeLiveRecordTemplate", &["TemplateId"], &["Template"]),
    (
        "DescribeLiveRecordTemplates",
        &["IsDelayLive"],
        &["Templates"],
    ),
    (
        "CreateLiveRecordRule",
        &["DomainName", "TemplateId", "AppName", "StreamName"],
        &[],
    ),
    (
        "DeleteLiveRecordRule",
        &["DomainName", "AppName", "StreamName"],
        &[],
    ),
    ("DescribeLiveRecordRules", &[], &["Rules"]),
    (
        "DescribeLiveStreamOnlineList",
        &["DomainName", "AppName", "PageNum", "PageSize", "StreamName"],
        &["TotalNum", "TotalPage", "PageNum", "PageSize", "OnlineInfo"],
    ),
    (
        "DescribeLiveStreamState",
        &["AppName", "DomainName", "StreamName"],
        &["StreamState"],
    ),
    (
        "DropLiveStream",
        &["StreamName", "DomainName", "AppName"],
        &[],
    ),
    (
        "DescribeLiveStreamEventList",
        &[
            "StartTime",
            "EndTime",
            "AppName",
            "DomainName",
            "StreamName",
            "PageNum",
            "PageSize",
            "IsFilter",
            "IsStrict",
            "IsAsc",
        ],
        &["EventList", "PageNum", "PageSize", "TotalNum", "TotalPage"],
    ),
    (
        "ForbidLiveStream",
        &[
            "AppName",
            "DomainName",
            "StreamName",
            "ResumeTime",
            "Reason",
        ],
        &[],
    ),
    (
        "ResumeLiveStream",
        &["AppName", "DomainName", "StreamName"],
        &[],
    ),
    (
        "DescribeLivePushAuthKey",
        &["DomainName"],
        &["PushAuthKeyInfo"],
    ),
    (
        "ModifyLivePushAuthKey",
        &[
            "DomainName",
            "Enable",
            "MasterAuthKey",
            "BackupAuthKey",
            "AuthDelta",
        ],
        &[],
    ),
    (
        "AddLiveDomain",
        &[
            "DomainName",
            "DomainType",
            "PlayType",
            "IsDelayLive",
            "IsMiniProgramLive",
            "VerifyOwnerType",
        ],
        &[],
    ),
    (
        "DescribeLiveDomains",
        &[
            "DomainStatus",
            "DomainType",
            "PageSize",
            "PageNum",
            "IsDelayLive",
            "DomainPrefix",
            "PlayType",
        ],
        &[
            "AllCount",
            "DomainList",
            "CreateLimitCount",
            "PlayTypeCount",
        ],
    ),
    ("DescribeLiveDomain", &["DomainName"], &["DomainInfo"]),
    ("DeleteLiveDomain", &["DomainName", "DomainType"], &[]),
    (
        "CreateLiveCallbackTemplate",
        &[
            "TemplateName",
            "Description",
            "StreamBeginNotifyUrl",
            "StreamEndNotifyUrl",
            "RecordNotifyUrl",
            "RecordStatusNotifyUrl",
            "SnapshotNotifyUrl",
            "PornCensorshipNotifyUrl",
            "CallbackKey",
            "StreamMixNotifyUrl",
            "PushExceptionNotifyUrl",
            "AudioAuditNotifyUrl",
            "RecordExceptionNotifyUrl",
            "RecordExceptionLevels",
        ],
        &["TemplateId"],
    ),
    (
        "ModifyLiveCallbackTemplate",
        &[
            "TemplateId",
            "TemplateName",
            "Description",
            "StreamBeginNotifyUrl",
            "StreamEndNotifyUrl",
            "RecordNotifyUrl",
            "RecordStatusNotifyUrl",
            "SnapshotNotifyUrl",
            "PornCensorshipNotifyUrl",
            "CallbackKey",
            "PushExceptionNotifyUrl",
            "AudioAuditNotifyUrl",
            "RecordExceptionNotifyUrl",
            "RecordExceptionLevels",
        ],
        &[],
    ),
    ("DeleteLiveCallbackTemplate", &["TemplateId"], &[]),
    (
        "DescribeLiveCallbackTemplate",
        &["TemplateId"],
        &["Template"],
    ),
    ("DescribeLiveCallbackTemplates", &[], &["Templates"]),
    (
        "CreateLiveCallbackRule",
        &["DomainName", "AppName", "TemplateId"],
        &[],
    ),
    ("DeleteLiveCallbackRule", &["DomainName", "AppName"], &[]),
    ("DescribeLiveCallbackRules", &[], &["Rules"]),
];

/// Fields liverec answers with beyond an SDK model's (the SDK ignores
/// unknown keys): (model, fields).
const LIVEREC_EXTRAS: &[(&str, &[&str])] = &[("CallBackTemplateInfo", &["RecordStatusNotifyUrl"])];

/// (model, fields) of the nested SDK models we answer with.
pub(in crate::api) const SDK_MODELS: &[(&str, &[&str])] = &[
    (
        "RecordTemplateInfo",
        &[
            "TemplateId",
            "TemplateName",
            "Description",
            "FlvParam",
            "HlsParam",
            "Mp4Param",
            "AacParam",
            "IsDelayLive",
            "HlsSpecialParam",
            "Mp3Param",
            "RemoveWatermark",
            "CosStore",
            "FlvSpecialParam",
        ],
    ),
    (
        "RecordParam",
        &[
            "RecordInterval",
            "StorageTime",
            "Enable",
            "VodSubAppId",
            "VodFileName",
            "Procedure",
            "StorageMode",
            "ClassId",
            "CosBucketName",
            "CosBucketRegion",
            "CosBucketPath",
        ],
    ),
    ("HlsSpecialParam", &["FlowContinueDuration"]),
    ("FlvSpecialParam", &["UploadInRecording"]),
    (
        "RuleInfo",
        &[
            "CreateTime",
            "UpdateTime",
            "TemplateId",
            "DomainName",
            "AppName",
            "StreamName",
        ],
    ),
    (
        "RecordTask",
        &[
            "TaskId",
            "DomainName",
            "AppName",
            "StreamName",
            "StartTime",
            "EndTime",
            "TemplateId",
            "Stopped",
        ],
    ),
    (
        "StreamOnlineInfo",
        &[
            "StreamName",
            "PublishTimeList",
            "AppName",
            "DomainName",
            "PushToDelay",
        ],
    ),
    ("PublishTime", &["PublishTime"]),
    (
        "StreamEventInfo",
        &[
            "AppName",
            "DomainName",
            "StreamName",
            "StreamStartTime",
            "StreamEndTime",
            "StopReason",
            "Duration",
            "ClientIp",
            "Resolution",
        ],
    ),
    (
        "PushAuthKeyInfo",
        &[
            "DomainName",
            "Enable",
            "MasterAuthKey",
            "BackupAuthKey",
            "AuthDelta",
        ],
    ),
    (
        "CallBackTemplateInfo",
        &[
            "TemplateId",
            "TemplateName",
            "Description",
            "StreamBeginNotifyUrl",
            "StreamMixNotifyUrl",
            "StreamEndNotifyUrl",
            "RecordNotifyUrl",
            "SnapshotNotifyUrl",
            "PornCensorshipNotifyUrl",
            "CallbackKey",
            "PushExceptionNotifyUrl",
            "AudioAuditNotifyUrl",
            "RecordExceptionNotifyUrl",
            "RecordExceptionLevels",
        ],
    ),
    (
        "CallBackRuleInfo",
        &[
            "CreateTime",
            "UpdateTime",
            "TemplateId",
            "DomainName",
            "AppName",
        ],
    ),
    (
        "DomainInfo",
        &[
            "Name",
            "Type",
            "Status",
            "CreateTime",
            "BCName",
            "TargetDomain",
            "PlayType",
            "IsDelayLive",
            "CurrentCName",
            "RentTag",
            "RentExpireTime",
            "IsMiniProgramLive",
        ],
    ),
];

/// The request fields our struct of `action` reads.
fn request_fields(action: Action) -> &'static [&'static str] {
    match action {
        Action::CreateLiveRecord => CreateLiveRecordRequest::FIELDS,
        Action::StopLiveRecord => StopLiveRecordRequest::FIELDS,
        Action::DeleteLiveRecord => DeleteLiveRecordRequest::FIELDS,
        Action::DescribeRecordFiles => DescribeRecordFilesRequest::FIELDS,
        Action::DeleteRecordFiles => DeleteRecordFilesRequest::FIELDS,
        Action::CreateRecordTask => CreateRecordTaskRequest::FIELDS,
        Action::StopRecordTask => StopRecordTaskRequest::FIELDS,
        Action::DeleteRecordTask => DeleteRecordTaskRequest::FIELDS,
        Action::DescribeRecordTask => DescribeRecordTaskRequest::FIELDS,
        Action::CreateLiveRecordTemplate => CreateLiveRecordTemplateRequest::FIELDS,
        Action::ModifyLiveRecordTemplate => ModifyLiveRecordTemplateRequest::FIELDS,
        Action::DeleteLiveRecordTemplate => DeleteLiveRecordTemplateRequest::FIELDS,
        Action::DescribeLiveRecordTemplate => DescribeLiveRecordTemplateRequest::FIELDS,
        Action::DescribeLiveRecordTemplates => DescribeLiveRecordTemplatesRequest::FIELDS,
        Action::CreateLiveRecordRule => CreateLiveRecordRuleRequest::FIELDS,
        Action::DeleteLiveRecordRule => DeleteLiveRecordRuleRequest::FIELDS,
        Action::DescribeLiveRecordRules => DescribeLiveRecordRulesRequest::FIELDS,
        Action::DescribeLiveStreamOnlineList => DescribeLiveStreamOnlineListRequest::FIELDS,
        Action::DescribeLiveStreamState => DescribeLiveStreamStateRequest::FIELDS,
        Action::DropLiveStream => DropLiveStreamRequest::FIELDS,
        Action::DescribeLiveStreamEventList => DescribeLiveStreamEventListRequest::FIELDS,
        Action::ForbidLiveStream => ForbidLiveStreamRequest::FIELDS,
        Action::ResumeLiveStream => ResumeLiveStreamRequest::FIELDS,
        Action::DescribeLivePushAuthKey => DescribeLivePushAuthKeyRequest::FIELDS,
        Action::ModifyLivePushAuthKey => ModifyLivePushAuthKeyRequest::FIELDS,
        Action::AddLiveDomain => AddLiveDomainRequest::FIELDS,
        Action::DescribeLiveDomains => DescribeLiveDomainsRequest::FIELDS,
        Action::DescribeLiveDomain => DescribeLiveDomainRequest::FIELDS,
        Action::DeleteLiveDomain => DeleteLiveDomainRequest::FIELDS,
        Action::CreateLiveCallbackTemplate => CreateLiveCallbackTemplateRequest::FIELDS,
        Action::ModifyLiveCallbackTemplate => ModifyLiveCallbackTemplateRequest::FIELDS,
        Action::DeleteLiveCallbackTemplate => DeleteLiveCallbackTemplateRequest::FIELDS,
        Action::DescribeLiveCallbackTemplate => DescribeLiveCallbackTemplateRequest::FIELDS,
        Action::DescribeLiveCallbackTemplates => DescribeLiveCallbackTemplatesRequest::FIELDS,
        Action::CreateLiveCallbackRule => CreateLiveCallbackRuleRequest::FIELDS,
        Action::DeleteLiveCallbackRule => DeleteLiveCallbackRuleRequest::FIELDS,
        Action::DescribeLiveCallbackRules => DescribeLiveCallbackRulesRequest::FIELDS,
        Action::DescribeCallbackDeliveries => DescribeCallbackDeliveriesRequest::FIELDS,
        Action::CreateCommonMixStream => CreateCommonMixStreamRequest::FIELDS,
        Action::CancelCommonMixStream => CancelCommonMixStreamRequest::FIELDS,
    }
}

/// The top-level keys a response renders with every list non-empty.
fn keys<T: Serialize>(v: &T) -> Vec<String> {
    match serde_json::to_value(v).unwrap() {
        Value::Object(m) => m.keys().cloned().collect(),
        other => panic!("not an object: {other}"),
    }
}

/// The response keys of `action` (lists with one default element).
fn response_fields(action: Action) -> Vec<String> {
    match action {
        Action::CreateLiveRecord => keys(&CreateLiveRecordResponse::default()),
        Action::StopLiveRecord => keys(&StopLiveRecordResponse::default()),
        Action::DeleteLiveRecord => keys(&DeleteLiveRecordResponse::default()),
        Action::DescribeRecordFiles => keys(&DescribeRecordFilesResponse::default()),
        Action::DeleteRecordFiles => keys(&DeleteRecordFilesResponse::default()),
        Action::CreateRecordTask => keys(&CreateRecordTaskResponse::default()),
        Action::StopRecordTask => keys(&StopRecordTaskResponse::default()),
        Action::DeleteRecordTask => keys(&DeleteRecordTaskResponse::default()),
        Action::DescribeRecordTask => keys(&DescribeRecordTaskResponse::default()),
        Action::CreateLiveRecordTemplate => keys(&CreateLiveRecordTemplateResponse::default()),
        Action::ModifyLiveRecordTemplate => keys(&ModifyLiveRecordTemplateResponse::default()),
        Action::DeleteLiveRecordTemplate => keys(&DeleteLiveRecordTemplateResponse::default()),
        Action::DescribeLiveRecordTemplate => keys(&DescribeLiveRecordTemplateResponse::default()),
        Action::DescribeLiveRecordTemplates => {
            keys(&DescribeLiveRecordTemplatesResponse::default())
        }
        Action::CreateLiveRecordRule => keys(&CreateLiveRecordRuleResponse::default()),
        Action::DeleteLiveRecordRule => keys(&DeleteLiveRecordRuleResponse::default()),
        Action::DescribeLiveRecordRules => keys(&DescribeLiveRecordRulesResponse::default()),
        Action::DescribeLiveStreamOnlineList => {
            keys(&DescribeLiveStreamOnlineListResponse::default())
        }
        Action::DescribeLiveStreamState => keys(&DescribeLiveStreamStateResponse::default()),
        Action::DropLiveStream => keys(&DropLiveStreamResponse::default()),
        Action::DescribeLiveStreamEventList => {
            keys(&DescribeLiveStreamEventListResponse::default())
        }
        Action::ForbidLiveStream => keys(&ForbidLiveStreamResponse::default()),
        Action::ResumeLiveStream => keys(&ResumeLiveStreamResponse::default()),
        Action::DescribeLivePushAuthKey => keys(&DescribeLivePushAuthKeyResponse::default()),
        Action::ModifyLivePushAuthKey => keys(&ModifyLivePushAuthKeyResponse::default()),
        Action::AddLiveDomain => keys(&AddLiveDomainResponse::default()),
        Action::DescribeLiveDomains => keys(&DescribeLiveDomainsResponse {
            domain_list: vec![DomainInfo::default()],
            ..Default::default()
        }),
        Action::DescribeLiveDomain => keys(&DescribeLiveDomainResponse::default()),
        Action::DeleteLiveDomain => keys(&DeleteLiveDomainResponse::default()),
        Action::CreateLiveCallbackTemplate => keys(&CreateLiveCallbackTemplateResponse::default()),
        Action::ModifyLiveCallbackTemplate => keys(&ModifyLiveCallbackTemplateResponse::default()),
        Action::DeleteLiveCallbackTemplate => keys(&DeleteLiveCallbackTemplateResponse::default()),
        Action::DescribeLiveCallbackTemplate => {
            keys(&DescribeLiveCallbackTemplateResponse::default())
        }
        Action::DescribeLiveCallbackTemplates => {
            keys(&DescribeLiveCallbackTemplatesResponse::default())
        }
        Action::CreateLiveCallbackRule => keys(&CreateLiveCallbackRuleResponse::default()),
        Action::DeleteLiveCallbackRule => keys(&DeleteLiveCallbackRuleResponse::default()),
        Action::DescribeLiveCallbackRules => keys(&DescribeLiveCallbackRulesResponse::default()),
        Action::DescribeCallbackDeliveries => keys(&DescribeCallbackDeliveriesResponse::default()),
        Action::CreateCommonMixStream => keys(&CreateCommonMixStreamResponse::default()),
        Action::CancelCommonMixStream => keys(&CancelCommonMixStreamResponse::default()),
    }
}

/// The keys of our nested model called `model` in the SDK.
fn model_fields(model: &str) -> Vec<String> {
    use crate::task::template::{FlvSpecialParam, HlsSpecialParam, RecordParam};
    match model {
        "RecordTemplateInfo" => keys(&RecordTemplateInfo {
            body: crate::api::templates::shown_default(),
            ..RecordTemplateInfo::default()
        }),
        "RecordParam" => keys(&RecordParam::default()),
        "HlsSpecialParam" => keys(&HlsSpecialParam::default()),
        "FlvSpecialParam" => keys(&FlvSpecialParam::default()),
        "RuleInfo" => keys(&RuleInfo::default()),
        "RecordTask" => keys(&RecordTask::default()),
        "StreamOnlineInfo" => keys(&StreamOnlineInfo::default()),
        "PublishTime" => keys(&PublishTime::default()),
        "StreamEventInfo" => keys(&StreamEventInfo::default()),
        "PushAuthKeyInfo" => keys(&PushAuthKeyInfo::default()),
        "DomainInfo" => keys(&DomainInfo::default()),
        "CallBackTemplateInfo" => keys(&CallBackTemplateInfo::default()),
        "CallBackRuleInfo" => keys(&CallBackRuleInfo::default()),
        other => panic!("no model {other}"),
    }
}

fn sorted<S: AsRef<str>>(v: &[S]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.as_ref().to_string()).collect();
    v.sort();
    v
}

/// Request fields liverec reads that Tencent's models do not have (sent
/// with the SDK's generic `call_json` or tccli's raw parameters).
const LIVEREC_EXTENSIONS: &[(&str, &str)] = &[
    ("CreateLiveRecordTemplate", "ReconnectWindow"),
    ("ModifyLiveRecordTemplate", "ReconnectWindow"),
];

#[test]
fn every_sdk_request_field_is_known() {
    for (name, request, _) in SDK_ACTIONS {
        let action = match crate::api::action::ActionName::parse(name) {
            crate::api::action::ActionName::Known(a) => a,
            other => panic!("{name}: {other:?}"),
        };
        let ours = request_fields(action);
        for field in *request {
            assert!(ours.contains(field), "{name}: SDK field {field} is unknown");
        }
        // And we read nothing the SDK does not define, but for liverec's
        // own documented extensions.
        for field in ours {
            assert!(
                request.contains(field) || LIVEREC_EXTENSIONS.contains(&(*name, *field)),
                "{name}: {field} is not an SDK field"
            );
        }
    }
}

#[test]
fn every_response_field_has_the_sdk_name() {
    for (name, _, response) in SDK_ACTIONS {
        let action = match crate::api::action::ActionName::parse(name) {
            crate::api::action::ActionName::Known(a) => a,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(sorted(&response_fields(action)), sorted(response), "{name}");
    }
    for (model, fields) in SDK_MODELS {
        let extras = LIVEREC_EXTRAS
            .iter()
            .find(|(m, _)| m == model)
            .map_or(&[][..], |(_, e)| *e);
        let ours: Vec<String> = model_fields(model)
            .into_iter()
            .filter(|f| !extras.contains(&f.as_str()))
            .collect();
        assert_eq!(sorted(&ours), sorted(fields), "{model}");
        for e in extras {
            assert!(!fields.contains(e), "{model}: {e} is an SDK field now");
        }
    }
}

#[test]
fn every_action_is_covered() {
    // liverec's own file and delivery actions are not in the SDK.
    let own = [
        Action::DescribeRecordFiles,
        Action::DeleteRecordFiles,
        Action::DescribeCallbackDeliveries,
    ];
    for a in Action::ALL {
        let in_sdk = SDK_ACTIONS.iter().any(|(n, _, _)| *n == a.name());
        assert_eq!(in_sdk, !own.contains(a), "{}", a.name());
        // Every struct reads without failing on an empty request.
        assert!(!response_fields(*a).contains(&"RequestId".to_string()));
        let _ = request_fields(*a);
    }
}

#[test]
fn coercions_of_the_wire_types_are_kept() {
    let p = tcapi::Params::from_pairs([
        ("TaskId", "42"),
        ("StreamName", "s"),
        ("Highlight", "1"),
        ("FileIds.0", "a"),
        ("FileIds.1", "b"),
        ("Unknown", "x"),
    ])
    .unwrap();
    let r = StopLiveRecordRequest::from_params(&p).unwrap();
    assert_eq!((r.task_id, r.stream_name.as_deref()), (Some(42), Some("s")));
    let r = CreateLiveRecordRequest::from_params(&p).unwrap();
    assert_eq!(r.highlight, Some(1));
    let r = DeleteRecordFilesRequest::from_params(&p).unwrap();
    assert_eq!(r.file_ids, Some(vec!["a".to_string(), "b".to_string()]));
    // A legacy TaskId given as a number where liverec's files take a string.
    let p = tcapi::Params::from_map(
        serde_json::json!({"TaskId": 7, "Extension": {"any": 1}, "RemoveWatermark": "True"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let r = DescribeRecordFilesRequest::from_params(&p).unwrap();
    assert_eq!(r.task_id.as_deref(), Some("7"));
    let r = CreateRecordTaskRequest::from_params(&p).unwrap();
    assert_eq!(r._extension, Some(serde_json::json!({"any": 1})));
    let r = CreateLiveRecordTemplateRequest::from_params(&p).unwrap();
    assert_eq!(r.remove_watermark, Some(true));
    // Wrong types are refused naming the field, as the accessors word it.
    let p = tcapi::Params::from_map(
        serde_json::json!({"TaskId": "x", "StreamName": 5})
            .as_object()
            .unwrap()
            .clone(),
    );
    let e = StopLiveRecordRequest::from_params(&p)
        .unwrap_err()
        .to_api("");
    assert_eq!(e.code, tcapi::ErrorCode::InvalidParameter);
    assert_eq!(e.message, "StreamName must be a string");
}

#[test]
fn string_fields_are_capped_naming_the_field() {
    use super::read::MAX_TEXT_BYTES;
    let at = "a".repeat(MAX_TEXT_BYTES);
    let over = "a".repeat(MAX_TEXT_BYTES + 1);
    let params = |v: Value| tcapi::Params::from_map(v.as_object().unwrap().clone());
    let ok = params(serde_json::json!({"Reason": at, "FileIds": [at], "TaskId": at}));
    assert_eq!(
        ForbidLiveStreamRequest::from_params(&ok)
            .unwrap()
            .reason
            .map(|r| r.len()),
        Some(MAX_TEXT_BYTES)
    );
    assert!(DeleteRecordFilesRequest::from_params(&ok).is_ok());
    assert!(DescribeRecordFilesRequest::from_params(&ok).is_ok());
    for (field, value) in [
        ("Reason", Value::from(over.clone())),
        ("FileIds", serde_json::json!(["a", over])),
        ("TaskId", Value::from(over.clone())),
    ] {
        let p = params(serde_json::json!({ field: value }));
        let e = match field {
            "Reason" => ForbidLiveStreamRequest::from_params(&p).map(|_| ()),
            "FileIds" => DeleteRecordFilesRequest::from_params(&p).map(|_| ()),
            _ => DescribeRecordFilesRequest::from_params(&p).map(|_| ()),
        }
        .unwrap_err()
        .to_api("");
        assert_eq!(e.code, tcapi::ErrorCode::InvalidParameterValue, "{field}");
        assert_eq!(
            e.message,
            format!(
                "{field} must be at most {MAX_TEXT_BYTES} bytes, got {}",
                MAX_TEXT_BYTES + 1
            )
        );
    }
}
