//! Every way an API call can fail, in one enum ([`Error`]), and the one
//! place that turns a failure into the Tencent error code and message a
//! client sees ([`Error::to_api`]). Handlers, guards and parameter decoders
//! return [`Error`]; the endpoint renders it. The mapping is an exhaustive
//! match, so a new failure cannot be added without choosing its code.
//!
//! Codes follow each action's list in Tencent's SDKs (see the `templates`
//! module for the template and rule codes). Internal failures carry their
//! cause, which is logged once by the endpoint with the RequestId; the
//! client sees only the RequestId to quote.

use std::fmt;

use tcapi::{ApiError, ErrorCode};

use crate::mixer::MixError;
use crate::store::StoreError;

/// A failed API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Error {
    // ---- the request itself ----
    /// A refusal `tcapi` already worded: parsing, signature, clock skew,
    /// or the type of a parameter (`X must be an integer`).
    Request(ApiError),
    /// A `tcapi` refusal of a field inside the object `parent`
    /// (`FlvParam.Enable must be an integer`).
    Nested {
        /// The enclosing object, e.g. `FlvParam`.
        parent: String,
        /// The refusal of the inner field.
        error: ApiError,
    },
    /// The query string or body is larger than `limit` bytes.
    TooLarge {
        /// `query string` or `request body`.
        what: &'static str,
        /// The limit, bytes.
        limit: usize,
    },
    /// No key with this SecretId.
    SecretIdNotFound,
    /// A v1 Nonce seen before with the same Timestamp.
    Replayed,
    /// `Version` is not the one liverec speaks.
    NoSuchVersion(String),
    /// The action rate of the SecretId exceeds its class's limit.
    RateLimited(String),
    /// No such action.
    NoSuchAction(String),
    /// A Tencent action liverec does not implement yet.
    ActionNotYet(String),

    // ---- parameters ----
    /// A required parameter is absent or empty (its name).
    Missing(String),
    /// A parameter has the wrong type or format (the message names it).
    Invalid(String),
    /// A parameter value is not allowed (the message names the field).
    InvalidValue(String),
    /// A VodFileName with an unknown placeholder (the message names it).
    VodFileName(String),
    /// A malformed rule DomainName (the message quotes it).
    DomainFormat(String),

    // ---- push domains ----
    /// A DomainName longer than allowed (the message says the limit).
    DomainTooLong(String),
    /// AddLiveDomain of a domain the caller claimed already.
    DomainExists(String),
    /// AddLiveDomain of a domain another account claimed.
    DomainTaken(String),
    /// Describe/Delete of a domain the caller did not claim.
    DomainNotFound(String),
    /// The account has the maximum number (the value) of domains.
    TooManyDomains(usize),
    /// A stream action naming a domain another account owns (or nobody
    /// claimed, for any account but the bootstrap one).
    StreamDomainNotOwned(String),
    /// Push-authentication keys of a domain the caller does not own.
    PushDomainNotOwned(String),

    // ---- tasks and files ----
    /// A legacy TaskId that does not exist for this stream.
    LegacyTaskNotFound {
        /// TaskId.
        id: i64,
        /// StreamName.
        stream: String,
    },
    /// A CreateRecordTask TaskId that does not exist.
    TaskNotFound(String),
    /// DeleteLiveRecord of a task that is recording.
    TaskRecording(i64),
    /// Highlight recording of a stream that is not live.
    StreamOffline {
        /// AppName.
        app: String,
        /// StreamName.
        stream: String,
    },
    /// The daily task quota (its value) is used up.
    DailyTaskQuota(u64),
    /// The concurrent task quota (its value) is used up.
    RunningTaskQuota(u64),
    /// A FileId that does not exist.
    FileNotFound(String),
    /// A FileId still being recorded.
    FileRecording(String),

    // ---- templates and rules ----
    /// Describe/Modify of a template that does not exist.
    TemplateNotFound(i64),
    /// Delete of a template, or a rule naming one, that does not exist
    /// (those actions' lists have only `InternalError.ConfNotFound`).
    TemplateConfNotFound(i64),
    /// Delete of a template a rule uses.
    TemplateInUse(i64),
    /// The account has the maximum number (the value) of templates.
    TooManyTemplates(i64),
    /// A rule for the same target exists (`domain/app/stream`).
    RuleExists(String),
    /// The account has the maximum number (the value) of rules.
    TooManyRules(i64),
    /// No rule for the target (`domain/app/stream`).
    RuleNotFound(String),

    // ---- callback templates and rules ----
    /// Describe/Modify/Delete of a callback template that does not exist.
    CallbackTemplateNotFound(i64),
    /// A callback rule naming a callback template that does not exist.
    CallbackConfNotFound(i64),
    /// Delete of a callback template a callback rule uses.
    CallbackTemplateInUse(i64),
    /// The account has the maximum number (the value) of callback templates.
    TooManyCallbackTemplates(i64),
    /// A callback rule for the same target exists (`domain/app`).
    CallbackRuleExists(String),
    /// The account has the maximum number (the value) of callback rules.
    TooManyCallbackRules(i64),
    /// No callback rule for the target (`domain/app`).
    CallbackRuleNotFound(String),

    // ---- A+B=C mixing (reference §4.3) ----
    /// A bad `InputStreamList` entry.
    MixInput(String),
    /// The output stream name is an input or already live.
    MixOutputId(String),
    /// `OutputStreamType` does not fit the output name.
    MixOutputType(String),
    /// The template lays out another number of inputs.
    MixTemplateInputs(String),
    /// Another mix parameter problem (unknown template).
    MixOther(String),
    /// An update names another output stream.
    MixOutputChanged(String),
    /// An input is not live (or not the caller's).
    MixStreamNotExist(String),
    /// Cancel of a session the caller does not have.
    MixSessionNotExist(String),
    /// The mix could not be started.
    MixProcess(String),

    // ---- the server ----
    /// A failure of the server, not of the request; the cause is logged.
    Internal(String),
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Error {
        Error::Request(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Internal(e.to_string())
    }
}

impl From<MixError> for Error {
    fn from(e: MixError) -> Error {
        let m = e.to_string();
        match e {
            MixError::StreamNotExist(_) => Error::MixStreamNotExist(m),
            MixError::SessionNotExist(_) => Error::MixSessionNotExist(m),
            MixError::OutputTaken(_) => Error::MixOutputId(m),
            MixError::OutputChanged { .. } => Error::MixOutputChanged(m),
            MixError::Process(_) => Error::MixProcess(m),
        }
    }
}

impl Error {
    /// An internal failure with its cause.
    pub(crate) fn internal(cause: impl fmt::Display) -> Error {
        Error::Internal(cause.to_string())
    }

    /// The cause of an internal failure (to log), if this is one.
    pub(crate) fn cause(&self) -> Option<&str> {
        match self {
            Error::Internal(cause) => Some(cause),
            _ => None,
        }
    }

    /// The code and message the client sees. `request_id` is quoted in
    /// the message of an internal failure.
    pub(crate) fn to_api(&self, request_id: &str) -> ApiError {
        use ErrorCode as C;
        let (code, message) = match self {
            Error::Request(e) => return e.clone(),
            Error::Nested { parent, error } => (error.code, format!("{parent}.{}", error.message)),
            Error::TooLarge { what, limit } => (
                C::RequestSizeLimitExceeded,
                format!("The {what} exceeds the limit of {limit} bytes."),
            ),
            Error::SecretIdNotFound => (
                C::AuthFailureSecretIdNotFound,
                "The SecretId is not found, please ensure that your SecretId is correct.".into(),
            ),
            Error::Replayed => (
                C::AuthFailureInvalidAuthorization,
                "This Nonce was already used with this Timestamp (replayed request).".into(),
            ),
            Error::NoSuchVersion(v) => (
                C::NoSuchVersion,
                format!(
                    "The API version `{v}` does not exist; use {}.",
                    super::endpoint::VERSION
                ),
            ),
            Error::RateLimited(action) => (
                C::RequestLimitExceeded,
                format!("The request rate of {action} for this SecretId exceeds the limit."),
            ),
            Error::NoSuchAction(a) => (
                C::InvalidAction,
                format!("The action `{a}` does not exist."),
            ),
            Error::ActionNotYet(a) => (
                C::InvalidAction,
                format!("The action `{a}` is not supported by this liverec version yet."),
            ),
            Error::Missing(name) => (C::MissingParameter, format!("{name} is required")),
            Error::Invalid(m) => (C::InvalidParameter, m.clone()),
            Error::InvalidValue(m) => (C::InvalidParameterValue, m.clone()),
            Error::VodFileName(m) => (C::InvalidParameterInvalidVodFileName, m.clone()),
            Error::DomainFormat(m) => (C::InvalidParameterDomainFormatError, m.clone()),
            Error::DomainTooLong(m) => (C::InvalidParameterDomainTooLong, m.clone()),
            Error::DomainExists(d) => (
                C::InvalidParameterDomainAlreadyExist,
                format!("Domain {d} is already one of this account's push domains."),
            ),
            Error::DomainTaken(d) => (
                C::FailedOperationDomainAdded,
                format!("Domain {d} was already added by another account."),
            ),
            Error::DomainNotFound(d) => (
                C::ResourceNotFoundDomainNotExist,
                format!("Domain {d} is not a push domain of this account."),
            ),
            Error::TooManyDomains(max) => (
                C::FailedOperationHostOutLimit,
                format!("An account has at most {max} push domains; delete one first."),
            ),
            Error::StreamDomainNotOwned(d) => (
                C::InternalErrorConfigNotExist,
                format!("DomainName {d} is not a push domain of this account."),
            ),
            Error::PushDomainNotOwned(d) => (
                C::ResourceNotFoundPushDomainNoRecord,
                format!("DomainName {d} is not a push domain of this account."),
            ),
            Error::LegacyTaskNotFound { id, stream } => (
                C::ResourceNotFoundTaskId,
                format!("TaskId {id} does not exist for stream {stream}."),
            ),
            Error::TaskNotFound(id) => (
                C::InvalidParameterTaskNotExist,
                format!("TaskId {id} does not exist."),
            ),
            Error::TaskRecording(id) => (
                C::FailedOperationAlterTaskState,
                format!("Task {id} is recording; stop it with StopLiveRecord before deleting it."),
            ),
            Error::StreamOffline { app, stream } => (
                C::ResourceUnavailableStreamNotExist,
                format!(
                    "Stream {app}/{stream} is not being published; highlight recording needs a live stream."
                ),
            ),
            Error::DailyTaskQuota(n) => (
                C::LimitExceededMaximumTask,
                format!("At most {n} tasks may be created per day."),
            ),
            Error::RunningTaskQuota(n) => (
                C::LimitExceededMaximumRunningTask,
                format!("At most {n} tasks may run at the same time."),
            ),
            Error::FileNotFound(id) => {
                (C::ResourceNotFound, format!("FileId {id} does not exist."))
            }
            Error::FileRecording(id) => (
                C::FailedOperation,
                format!("FileId {id} is still being recorded; stop its task first."),
            ),
            Error::TemplateNotFound(id) => (
                C::FailedOperationNotFound,
                format!("TemplateId {id} does not exist."),
            ),
            Error::TemplateConfNotFound(id) => (
                C::InternalErrorConfNotFound,
                format!("TemplateId {id} does not exist."),
            ),
            Error::TemplateInUse(id) => (
                C::FailedOperationConfInUsed,
                format!("TemplateId {id} is used by a recording rule; delete the rule first."),
            ),
            Error::TooManyTemplates(max) => (
                C::InternalErrorConfOutLimit,
                format!("An account has at most {max} recording templates; delete one first."),
            ),
            Error::RuleExists(target) => (
                C::FailedOperationRuleAlreadyExist,
                format!("A recording rule for {target} already exists."),
            ),
            Error::TooManyRules(max) => (
                C::InternalErrorRuleOutLimit,
                format!("An account has at most {max} recording rules."),
            ),
            Error::RuleNotFound(target) => (
                C::FailedOperationNotFound,
                format!("No recording rule for {target}."),
            ),
            Error::CallbackTemplateNotFound(id) => (
                C::FailedOperationNotFound,
                format!("Callback TemplateId {id} does not exist."),
            ),
            Error::CallbackConfNotFound(id) => (
                C::InvalidParameterConfNotFound,
                format!("Callback TemplateId {id} does not exist."),
            ),
            Error::CallbackTemplateInUse(id) => (
                C::FailedOperationConfInUsed,
                format!(
                    "Callback TemplateId {id} is used by a callback rule; delete the rule first."
                ),
            ),
            Error::TooManyCallbackTemplates(max) => (
                C::InternalErrorConfOutLimit,
                format!("An account has at most {max} callback templates; delete one first."),
            ),
            Error::CallbackRuleExists(target) => (
                C::FailedOperationRuleAlreadyExist,
                format!("A callback rule for {target} already exists; delete it first."),
            ),
            Error::TooManyCallbackRules(max) => (
                C::InternalErrorRuleOutLimit,
                format!("An account has at most {max} callback rules."),
            ),
            Error::CallbackRuleNotFound(target) => (
                C::FailedOperationNotFound,
                format!("No callback rule for {target}."),
            ),
            Error::MixInput(m) => (C::InvalidParameterInvalidMixInputParam, m.clone()),
            Error::MixOutputId(m) => (C::InvalidParameterInvalidOutputStreamId, m.clone()),
            Error::MixOutputType(m) => (C::InvalidParameterInvalidOutputType, m.clone()),
            Error::MixTemplateInputs(m) => (C::InvalidParameterTemplateNotMatchInputNum, m.clone()),
            Error::MixOther(m) => (C::InvalidParameterOtherError, m.clone()),
            Error::MixOutputChanged(m) => {
                (C::InvalidParameterSessionOutputStreamChanged, m.clone())
            }
            Error::MixStreamNotExist(m) => (C::FailedOperationStreamNotExist, m.clone()),
            Error::MixSessionNotExist(m) => (C::FailedOperationCancelSessionNotExist, m.clone()),
            Error::MixProcess(m) => (C::FailedOperationProcessMixError, m.clone()),
            Error::Internal(_) => (
                C::InternalError,
                format!("Internal error; quote RequestId {request_id} when reporting it."),
            ),
        };
        ApiError { code, message }
    }
}

#[cfg(test)]
mod tests;
