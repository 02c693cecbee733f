//! Every variant of [`Error`]: its wire code and the HTTP envelope the
//! client receives, byte for byte.

use super::*;

const RID: &str = "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6";

/// (failure, code, message) for every variant.
fn table() -> Vec<(Error, &'static str, String)> {
    vec![
        (
            Error::Request(ApiError::missing("StreamName")),
            "MissingParameter",
            "StreamName is required".into(),
        ),
        (
            Error::Nested {
                parent: "FlvParam".into(),
                error: ApiError::not_integer("Enable"),
            },
            "InvalidParameter",
            "FlvParam.Enable must be an integer".into(),
        ),
        (
            Error::TooLarge {
                what: "request body",
                limit: 10,
            },
            "RequestSizeLimitExceeded",
            "The request body exceeds the limit of 10 bytes.".into(),
        ),
        (
            Error::SecretIdNotFound,
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.".into(),
        ),
        (
            Error::Replayed,
            "AuthFailure.InvalidAuthorization",
            "This Nonce was already used with this Timestamp (replayed request).".into(),
        ),
        (
            Error::NoSuchVersion("2017-03-12".into()),
            "NoSuchVersion",
            "The API version `2017-03-12` does not exist; use 2018-08-01.".into(),
        ),
        (
            Error::RateLimited("CreateLiveRecord".into()),
            "RequestLimitExceeded",
            "The request rate of CreateLiveRecord for this SecretId exceeds the limit.".into(),
        ),
        (
            Error::NoSuchAction("Nope".into()),
            "InvalidAction",
            "The action `Nope` does not exist.".into(),
        ),
        (
            Error::ActionNotYet("CreateCommonMixStream".into()),
            "InvalidAction",
            "The action `CreateCommonMixStream` is not supported by this liverec version yet."
                .into(),
        ),
        (
            Error::Missing("EndTime".into()),
            "MissingParameter",
            "EndTime is required".into(),
        ),
        (
            Error::Invalid("TaskId must be a string or an integer".into()),
            "InvalidParameter",
            "TaskId must be a string or an integer".into(),
        ),
        (
            Error::InvalidValue("EndTime must be in the future".into()),
            "InvalidParameterValue",
            "EndTime must be in the future".into(),
        ),
        (
            Error::VodFileName("FlvParam.VodFileName has an unknown placeholder {X}".into()),
            "InvalidParameter.InvalidVodFileName",
            "FlvParam.VodFileName has an unknown placeholder {X}".into(),
        ),
        (
            Error::DomainFormat("DomainName \"a b\" is not a valid domain name".into()),
            "InvalidParameter.DomainFormatError",
            "DomainName \"a b\" is not a valid domain name".into(),
        ),
        (
            Error::LegacyTaskNotFound {
                id: 7,
                stream: "s".into(),
            },
            "ResourceNotFound.TaskId",
            "TaskId 7 does not exist for stream s.".into(),
        ),
        (
            Error::TaskNotFound("abc".into()),
            "InvalidParameter.TaskNotExist",
            "TaskId abc does not exist.".into(),
        ),
        (
            Error::TaskRecording(7),
            "FailedOperation.AlterTaskState",
            "Task 7 is recording; stop it with StopLiveRecord before deleting it.".into(),
        ),
        (
            Error::StreamOffline {
                app: "live".into(),
                stream: "s".into(),
            },
            "ResourceUnavailable.StreamNotExist",
            "Stream live/s is not being published; highlight recording needs a live stream.".into(),
        ),
        (
            Error::DailyTaskQuota(3),
            "LimitExceeded.MaximumTask",
            "At most 3 tasks may be created per day.".into(),
        ),
        (
            Error::RunningTaskQuota(2),
            "LimitExceeded.MaximumRunningTask",
            "At most 2 tasks may run at the same time.".into(),
        ),
        (
            Error::FileNotFound("f1".into()),
            "ResourceNotFound",
            "FileId f1 does not exist.".into(),
        ),
        (
            Error::FileRecording("f1".into()),
            "FailedOperation",
            "FileId f1 is still being recorded; stop its task first.".into(),
        ),
        (
            Error::TemplateNotFound(5),
            "FailedOperation.NotFound",
            "TemplateId 5 does not exist.".into(),
        ),
        (
            Error::TemplateConfNotFound(5),
            "InternalError.ConfNotFound",
            "TemplateId 5 does not exist.".into(),
        ),
        (
            Error::TemplateInUse(5),
            "FailedOperation.ConfInUsed",
            "TemplateId 5 is used by a recording rule; delete the rule first.".into(),
        ),
        (
            Error::TooManyTemplates(50),
            "InternalError.ConfOutLimit",
            "An account has at most 50 recording templates; delete one first.".into(),
        ),
        (
            Error::RuleExists("d.com/live/s".into()),
            "FailedOperation.RuleAlreadyExist",
            "A recording rule for d.com/live/s already exists.".into(),
        ),
        (
            Error::TooManyRules(1000),
            "InternalError.RuleOutLimit",
            "An account has at most 1000 recording rules.".into(),
        ),
        (
            Error::RuleNotFound("d.com/live/".into()),
            "FailedOperation.NotFound",
            "No recording rule for d.com/live/.".into(),
        ),
        (
            Error::CallbackTemplateNotFound(7),
            "FailedOperation.NotFound",
            "Callback TemplateId 7 does not exist.".into(),
        ),
        (
            Error::CallbackConfNotFound(7),
            "InvalidParameter.ConfNotFound",
            "Callback TemplateId 7 does not exist.".into(),
        ),
        (
            Error::CallbackTemplateInUse(7),
            "FailedOperation.ConfInUsed",
            "Callback TemplateId 7 is used by a callback rule; delete the rule first.".into(),
        ),
        (
            Error::TooManyCallbackTemplates(50),
            "InternalError.ConfOutLimit",
            "An account has at most 50 callback templates; delete one first.".into(),
        ),
        (
            Error::CallbackRuleExists("d.com/live".into()),
            "FailedOperation.RuleAlreadyExist",
            "A callback rule for d.com/live already exists; delete it first.".into(),
        ),
        (
            Error::TooManyCallbackRules(1000),
            "InternalError.RuleOutLimit",
            "An account has at most 1000 callback rules.".into(),
        ),
        (
            Error::CallbackRuleNotFound("d.com/live".into()),
            "FailedOperation.NotFound",
            "No callback rule for d.com/live.".into(),
        ),
        (
            Error::DomainTooLong("DomainName must be at most 253 characters".into()),
            "InvalidParameter.DomainTooLong",
            "DomainName must be at most 253 characters".into(),
        ),
        (
            Error::DomainExists("a.com".into()),
            "InvalidParameter.DomainAlreadyExist",
            "Domain a.com is already one of this account's push domains.".into(),
        ),
        (
            Error::DomainTaken("a.com".into()),
            "FailedOperation.DomainAdded",
            "Domain a.com was already added by another account.".into(),
        ),
        (
            Error::DomainNotFound("a.com".into()),
            "ResourceNotFound.DomainNotExist",
            "Domain a.com is not a push domain of this account.".into(),
        ),
        (
            Error::TooManyDomains(100),
            "FailedOperation.HostOutLimit",
            "An account has at most 100 push domains; delete one first.".into(),
        ),
        (
            Error::StreamDomainNotOwned("a.com".into()),
            "InternalError.ConfigNotExist",
            "DomainName a.com is not a push domain of this account.".into(),
        ),
        (
            Error::PushDomainNotOwned("a.com".into()),
            "ResourceNotFound.PushDomainNoRecord",
            "DomainName a.com is not a push domain of this account.".into(),
        ),
        (
            Error::MixInput("m".into()),
            "InvalidParameter.InvalidMixInputParam",
            "m".into(),
        ),
        (
            Error::MixOutputId("m".into()),
            "InvalidParameter.InvalidOutputStreamID",
            "m".into(),
        ),
        (
            Error::MixOutputType("m".into()),
            "InvalidParameter.InvalidOutputType",
            "m".into(),
        ),
        (
            Error::MixTemplateInputs("m".into()),
            "InvalidParameter.TemplateNotMatchInputNum",
            "m".into(),
        ),
        (
            Error::MixOther("m".into()),
            "InvalidParameter.OtherError",
            "m".into(),
        ),
        (
            Error::MixOutputChanged("m".into()),
            "InvalidParameter.SessionOutputStreamChanged",
            "m".into(),
        ),
        (
            Error::MixStreamNotExist("m".into()),
            "FailedOperation.StreamNotExist",
            "m".into(),
        ),
        (
            Error::MixSessionNotExist("m".into()),
            "FailedOperation.CancelSessionNotExist",
            "m".into(),
        ),
        (
            Error::MixProcess("m".into()),
            "FailedOperation.ProcessMixError",
            "m".into(),
        ),
        (
            Error::Internal("disk on fire".into()),
            "InternalError",
            format!("Internal error; quote RequestId {RID} when reporting it."),
        ),
    ]
}

/// The variant's name, so the table can be checked for completeness.
fn variant(e: &Error) -> &'static str {
    match e {
        Error::Request(_) => "Request",
        Error::Nested { .. } => "Nested",
        Error::TooLarge { .. } => "TooLarge",
        Error::SecretIdNotFound => "SecretIdNotFound",
        Error::Replayed => "Replayed",
        Error::NoSuchVersion(_) => "NoSuchVersion",
        Error::RateLimited(_) => "RateLimited",
        Error::NoSuchAction(_) => "NoSuchAction",
        Error::ActionNotYet(_) => "ActionNotYet",
        Error::Missing(_) => "Missing",
        Error::Invalid(_) => "Invalid",
        Error::InvalidValue(_) => "InvalidValue",
        Error::VodFileName(_) => "VodFileName",
        Error::DomainFormat(_) => "DomainFormat",
        Error::DomainTooLong(_) => "DomainTooLong",
        Error::DomainExists(_) => "DomainExists",
        Error::DomainTaken(_) => "DomainTaken",
        Error::DomainNotFound(_) => "DomainNotFound",
        Error::TooManyDomains(_) => "TooManyDomains",
        Error::StreamDomainNotOwned(_) => "StreamDomainNotOwned",
        Error::PushDomainNotOwned(_) => "PushDomainNotOwned",
        Error::LegacyTaskNotFound { .. } => "LegacyTaskNotFound",
        Error::TaskNotFound(_) => "TaskNotFound",
        Error::TaskRecording(_) => "TaskRecording",
        Error::StreamOffline { .. } => "StreamOffline",
        Error::DailyTaskQuota(_) => "DailyTaskQuota",
        Error::RunningTaskQuota(_) => "RunningTaskQuota",
        Error::FileNotFound(_) => "FileNotFound",
        Error::FileRecording(_) => "FileRecording",
        Error::TemplateNotFound(_) => "TemplateNotFound",
        Error::TemplateConfNotFound(_) => "TemplateConfNotFound",
        Error::TemplateInUse(_) => "TemplateInUse",
        Error::TooManyTemplates(_) => "TooManyTemplates",
        Error::RuleExists(_) => "RuleExists",
        Error::TooManyRules(_) => "TooManyRules",
        Error::RuleNotFound(_) => "RuleNotFound",
        Error::CallbackTemplateNotFound(_) => "CallbackTemplateNotFound",
        Error::CallbackConfNotFound(_) => "CallbackConfNotFound",
        Error::CallbackTemplateInUse(_) => "CallbackTemplateInUse",
        Error::TooManyCallbackTemplates(_) => "TooManyCallbackTemplates",
        Error::CallbackRuleExists(_) => "CallbackRuleExists",
        Error::TooManyCallbackRules(_) => "TooManyCallbackRules",
        Error::CallbackRuleNotFound(_) => "CallbackRuleNotFound",
        Error::MixInput(_) => "MixInput",
        Error::MixOutputId(_) => "MixOutputId",
        Error::MixOutputType(_) => "MixOutputType",
        Error::MixTemplateInputs(_) => "MixTemplateInputs",
        Error::MixOther(_) => "MixOther",
        Error::MixOutputChanged(_) => "MixOutputChanged",
        Error::MixStreamNotExist(_) => "MixStreamNotExist",
        Error::MixSessionNotExist(_) => "MixSessionNotExist",
        Error::MixProcess(_) => "MixProcess",
        Error::Internal(_) => "Internal",
    }
}

/// How many variants [`variant`] names (update with the enum).
const VARIANTS: usize = 53;

#[test]
fn every_variant_has_its_code_and_envelope() {
    let table = table();
    let names: std::collections::HashSet<_> = table.iter().map(|(e, _, _)| variant(e)).collect();
    assert_eq!(names.len(), VARIANTS, "every variant is in the table once");
    assert_eq!(table.len(), VARIANTS);
    for (err, code, message) in &table {
        let api = err.to_api(RID);
        assert_eq!(api.code.as_str(), *code, "{err:?}");
        assert_eq!(&api.message, message, "{err:?}");
        let body = String::from_utf8(tcapi::error_body(&api, RID)).unwrap();
        let expected = serde_json::json!({
            "Response": {
                "Error": {"Code": code, "Message": message},
                "RequestId": RID,
            }
        });
        assert_eq!(body, expected.to_string(), "{err:?}");
    }
}

#[test]
fn internal_cause_stays_out_of_the_message() {
    let e = Error::from(StoreError::Corrupt("secret detail".into()));
    assert_eq!(
        e.cause(),
        Some("database holds an invalid value: secret detail")
    );
    let api = e.to_api(RID);
    assert!(!api.message.contains("secret"));
    assert!(api.message.contains(RID));
    assert_eq!(Error::Missing("X".into()).cause(), None);
}

#[test]
fn tcapi_refusals_pass_through_unchanged() {
    let e = ApiError::signature_failure();
    assert_eq!(Error::from(e.clone()).to_api(RID), e);
}
