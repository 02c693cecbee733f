//! Error codes of Tencent Cloud API 3.0 as they appear on the wire.
//!
//! Owns [`ErrorCode`]: the common codes (`tencent-api.md` §2.6) and the live codes named for the
//! recording, stream, template, rule and mixing actions (§1.2–§1.11, §4.3). One table feeds the
//! enum, its exhaustive [`ErrorCode::as_str`] match and [`FromStr`], so a code cannot be added to
//! one and forgotten in another. Must not know about HTTP or any action's semantics.

use std::fmt;
use std::str::FromStr;

macro_rules! error_codes {
    ($( $(#[$meta:meta])* $variant:ident = $wire:literal, )*) => {
        /// A Tencent Cloud API 3.0 error code (`Response.Error.Code`).
        ///
        /// Defined by: `tencent-api.md` §2.6 (common codes) and §1.11 / live `errorcodes.py`
        /// (product codes).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$meta])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$( ErrorCode::$variant, )*];

            /// The wire spelling, e.g. `"ResourceNotFound.TaskId"`.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $wire, )*
                }
            }
        }

        impl FromStr for ErrorCode {
            type Err = UnknownErrorCode;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $wire => Ok(ErrorCode::$variant), )*
                    _ => Err(UnknownErrorCode(s.to_owned())),
                }
            }
        }
    };
}

error_codes! {
    // ---- common codes, tencent-api.md §2.6 ----
    /// The API has been deactivated.
    ActionOffline = "ActionOffline",
    /// The `Authorization` header is malformed.
    AuthFailureInvalidAuthorization = "AuthFailure.InvalidAuthorization",
    /// The key is not an API key.
    AuthFailureInvalidSecretId = "AuthFailure.InvalidSecretId",
    /// MFA failure.
    AuthFailureMfaFailure = "AuthFailure.MFAFailure",
    /// The SecretId does not exist or is disabled.
    AuthFailureSecretIdNotFound = "AuthFailure.SecretIdNotFound",
    /// The timestamp is more than 5 minutes away from server time.
    AuthFailureSignatureExpire = "AuthFailure.SignatureExpire",
    /// The signature does not match.
    AuthFailureSignatureFailure = "AuthFailure.SignatureFailure",
    /// The STS token is invalid.
    AuthFailureTokenFailure = "AuthFailure.TokenFailure",
    /// The request is not authorized.
    AuthFailureUnauthorizedOperation = "AuthFailure.UnauthorizedOperation",
    /// A DryRun request would have succeeded.
    DryRunOperation = "DryRunOperation",
    /// The operation failed.
    FailedOperation = "FailedOperation",
    /// Internal error.
    InternalError = "InternalError",
    /// The action does not exist.
    InvalidAction = "InvalidAction",
    /// A parameter has the wrong format or type.
    InvalidParameter = "InvalidParameter",
    /// A parameter value is out of range or not allowed.
    InvalidParameterValue = "InvalidParameterValue",
    /// The request body is malformed.
    InvalidRequest = "InvalidRequest",
    /// The client IP is blacklisted.
    IpInBlacklist = "IpInBlacklist",
    /// The client IP is not whitelisted.
    IpNotInWhitelist = "IpNotInWhitelist",
    /// A quota is exceeded.
    LimitExceeded = "LimitExceeded",
    /// A required parameter is missing.
    MissingParameter = "MissingParameter",
    /// The product does not exist.
    NoSuchProduct = "NoSuchProduct",
    /// The API version does not exist.
    NoSuchVersion = "NoSuchVersion",
    /// The request rate limit is exceeded.
    RequestLimitExceeded = "RequestLimitExceeded",
    /// The per-IP request rate limit is exceeded.
    RequestLimitExceededIpLimitExceeded = "RequestLimitExceeded.IPLimitExceeded",
    /// The per-account request rate limit is exceeded.
    RequestLimitExceededUinLimitExceeded = "RequestLimitExceeded.UinLimitExceeded",
    /// The global per-account request rate limit is exceeded.
    RequestLimitExceededGlobalRegionUinLimitExceeded = "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
    /// The request is too large.
    RequestSizeLimitExceeded = "RequestSizeLimitExceeded",
    /// The response is too large.
    ResponseSizeLimitExceeded = "ResponseSizeLimitExceeded",
    /// The resource is in use.
    ResourceInUse = "ResourceInUse",
    /// The resource is insufficient.
    ResourceInsufficient = "ResourceInsufficient",
    /// The resource does not exist.
    ResourceNotFound = "ResourceNotFound",
    /// The resource is unavailable.
    ResourceUnavailable = "ResourceUnavailable",
    /// The service is temporarily unavailable.
    ServiceUnavailable = "ServiceUnavailable",
    /// The operation is not authorized.
    UnauthorizedOperation = "UnauthorizedOperation",
    /// An undefined parameter was supplied.
    UnknownParameter = "UnknownParameter",
    /// The operation is not supported.
    UnsupportedOperation = "UnsupportedOperation",
    /// Only GET and POST are supported.
    UnsupportedProtocol = "UnsupportedProtocol",
    /// The region is not supported by the API.
    UnsupportedRegion = "UnsupportedRegion",

    // ---- live: FailedOperation.* (§1.4, §1.10, §1.11, §4.3) ----
    /// Failed to change the task state (e.g. deleting a running task).
    FailedOperationAlterTaskState = "FailedOperation.AlterTaskState",
    /// An internal service call failed.
    FailedOperationCallOtherSvrFailed = "FailedOperation.CallOtherSvrFailed",
    /// The mix session to cancel does not exist.
    FailedOperationCancelSessionNotExist = "FailedOperation.CancelSessionNotExist",
    /// The template is in use.
    FailedOperationConfInUsed = "FailedOperation.ConfInUsed",
    /// No stream is online.
    FailedOperationHasNotLivingStream = "FailedOperation.HasNotLivingStream",
    /// The account has the maximum number of domains.
    FailedOperationHostOutLimit = "FailedOperation.HostOutLimit",
    /// A parameter is wrong.
    FailedOperationInvalidParam = "FailedOperation.InvalidParam",
    /// The record was not found.
    FailedOperationNotFound = "FailedOperation.NotFound",
    /// The domain was already added (by another account).
    FailedOperationDomainAdded = "FailedOperation.DomainAdded",
    /// Starting the mix failed.
    FailedOperationProcessMixError = "FailedOperation.ProcessMixError",
    /// The rule already exists.
    FailedOperationRuleAlreadyExist = "FailedOperation.RuleAlreadyExist",
    /// The stream does not exist.
    FailedOperationStreamNotExist = "FailedOperation.StreamNotExist",

    // ---- live: InternalError.* (§1.2–§1.11) ----
    /// Template-name / argument mismatch.
    InternalErrorArgsNotMatch = "InternalError.ArgsNotMatch",
    /// An internal service call failed.
    InternalErrorCallOtherSvrError = "InternalError.CallOtherSvrError",
    /// The template is in use.
    InternalErrorConfInUsed = "InternalError.ConfInUsed",
    /// The template does not exist.
    InternalErrorConfNotFound = "InternalError.ConfNotFound",
    /// Too many templates.
    InternalErrorConfOutLimit = "InternalError.ConfOutLimit",
    /// The configuration does not exist.
    InternalErrorConfigNotExist = "InternalError.ConfigNotExist",
    /// Failed to get the account.
    InternalErrorGetBizidError = "InternalError.GetBizidError",
    /// Failed to get the configuration.
    InternalErrorGetConfigError = "InternalError.GetConfigError",
    /// Failed to get stream information.
    InternalErrorGetStreamInfoError = "InternalError.GetStreamInfoError",
    /// Failed to get upstream information.
    InternalErrorGetUpstreamInfoError = "InternalError.GetUpstreamInfoError",
    /// Parameter validation failed.
    InternalErrorInvalidInput = "InternalError.InvalidInput",
    /// Internal network error.
    InternalErrorNetworkError = "InternalError.NetworkError",
    /// The record does not exist.
    InternalErrorNotFound = "InternalError.NotFound",
    /// Operation not permitted (the wire spelling has Tencent's typo).
    InternalErrorNotPermmitOperat = "InternalError.NotPermmitOperat",
    /// The rule already exists.
    InternalErrorRuleAlreadyExist = "InternalError.RuleAlreadyExist",
    /// The rule is in use.
    InternalErrorRuleInUsing = "InternalError.RuleInUsing",
    /// The rule does not exist.
    InternalErrorRuleNotFound = "InternalError.RuleNotFound",
    /// Too many rules.
    InternalErrorRuleOutLimit = "InternalError.RuleOutLimit",
    /// The stream state is abnormal.
    InternalErrorStreamStatusError = "InternalError.StreamStatusError",
    /// System error.
    InternalErrorSystemError = "InternalError.SystemError",
    /// Failed to update data.
    InternalErrorUpdateDataError = "InternalError.UpdateDataError",

    // ---- live: InvalidParameter.* (§1.10, §1.11, §4.3) ----
    /// Wrong template name / arguments.
    InvalidParameterArgsNotMatch = "InvalidParameter.ArgsNotMatch",
    /// The configuration was not found.
    InvalidParameterConfNotFound = "InvalidParameter.ConfNotFound",
    /// The domain already exists (in this account).
    InvalidParameterDomainAlreadyExist = "InvalidParameter.DomainAlreadyExist",
    /// The domain name is malformed.
    InvalidParameterDomainFormatError = "InvalidParameter.DomainFormatError",
    /// The domain name is too long.
    InvalidParameterDomainTooLong = "InvalidParameter.DomainTooLong",
    /// The callback URL is malformed.
    InvalidParameterInvalidCallbackUrl = "InvalidParameter.InvalidCallbackUrl",
    /// A mix input parameter is wrong.
    InvalidParameterInvalidMixInputParam = "InvalidParameter.InvalidMixInputParam",
    /// The mix output stream ID is taken.
    InvalidParameterInvalidOutputStreamId = "InvalidParameter.InvalidOutputStreamID",
    /// The mix output type does not match the output stream.
    InvalidParameterInvalidOutputType = "InvalidParameter.InvalidOutputType",
    /// The TaskId is invalid.
    InvalidParameterInvalidTaskId = "InvalidParameter.InvalidTaskId",
    /// The task time is out of range.
    InvalidParameterInvalidTaskTime = "InvalidParameter.InvalidTaskTime",
    /// The VodFileName is invalid.
    InvalidParameterInvalidVodFileName = "InvalidParameter.InvalidVodFileName",
    /// Other mix error.
    InvalidParameterOtherError = "InvalidParameter.OtherError",
    /// The output stream of a mix session changed.
    InvalidParameterSessionOutputStreamChanged = "InvalidParameter.SessionOutputStreamChanged",
    /// The task does not exist.
    InvalidParameterTaskNotExist = "InvalidParameter.TaskNotExist",
    /// Too many tasks.
    InvalidParameterTaskNumMoreThanLimit = "InvalidParameter.TaskNumMoreThanLimit",
    /// The mix template does not match the number of inputs.
    InvalidParameterTemplateNotMatchInputNum = "InvalidParameter.TemplateNotMatchInputNum",

    // ---- live: LimitExceeded.* (§1.2, §1.5, §1.11) ----
    /// Too many concurrently running tasks.
    LimitExceededMaximumRunningTask = "LimitExceeded.MaximumRunningTask",
    /// Too many tasks created today.
    LimitExceededMaximumTask = "LimitExceeded.MaximumTask",
    /// The per-interface request rate limit is reached.
    LimitExceededRateLimitExceeded = "LimitExceeded.RateLimitExceeded",

    // ---- live: ResourceNotFound.* (§1.2–§1.11) ----
    /// The channel (stream) does not exist.
    ResourceNotFoundChannelNotExist = "ResourceNotFound.ChannelNotExist",
    /// The domain does not exist or does not match.
    ResourceNotFoundDomainNotExist = "ResourceNotFound.DomainNotExist",
    /// The account is disabled.
    ResourceNotFoundForbidService = "ResourceNotFound.ForbidService",
    /// The account is frozen.
    ResourceNotFoundFreezeService = "ResourceNotFound.FreezeService",
    /// The service is suspended for arrears.
    ResourceNotFoundStopService = "ResourceNotFound.StopService",
    /// The push domain does not exist.
    ResourceNotFoundPushDomainNoRecord = "ResourceNotFound.PushDomainNoRecord",
    /// The TaskId does not exist.
    ResourceNotFoundTaskId = "ResourceNotFound.TaskId",
    /// The task does not exist.
    ResourceNotFoundTaskNotFound = "ResourceNotFound.TaskNotFound",
    /// The user disabled the service.
    ResourceNotFoundUserDisableService = "ResourceNotFound.UserDisableService",
    /// The user is not registered for Live.
    ResourceNotFoundUserNotExist = "ResourceNotFound.UserNotExist",

    // ---- live: ResourceUnavailable.* (§1.2, §1.11) ----
    /// VOD is not activated.
    ResourceUnavailableInvalidVodStatus = "ResourceUnavailable.InvalidVodStatus",
    /// The pushed stream does not exist.
    ResourceUnavailableStreamNotExist = "ResourceUnavailable.StreamNotExist",

    // ---- live: UnsupportedOperation.* (§1.10) ----
    /// Not in "live code" (new console) mode.
    UnsupportedOperationNotLvbCodeMode = "UnsupportedOperation.NotLVBCodeMode",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not the wire spelling of any [`ErrorCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code {0:?}")]
pub struct UnknownErrorCode(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn wire_spellings_roundtrip_and_are_unique() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {}", code.as_str());
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(*code));
        }
        assert!("Nope.Nope".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn known_spellings() {
        assert_eq!(
            ErrorCode::ResourceNotFoundTaskId.as_str(),
            "ResourceNotFound.TaskId"
        );
        assert_eq!(
            ErrorCode::AuthFailureSignatureFailure.to_string(),
            "AuthFailure.SignatureFailure"
        );
        assert_eq!(
            ErrorCode::UnsupportedOperationNotLvbCodeMode.as_str(),
            "UnsupportedOperation.NotLVBCodeMode"
        );
        assert_eq!(
            ErrorCode::RequestLimitExceededIpLimitExceeded.as_str(),
            "RequestLimitExceeded.IPLimitExceeded"
        );
    }

    #[test]
    fn every_required_code_exists() {
        for wire in [
            "AuthFailure.SignatureExpire",
            "FailedOperation.AlterTaskState",
            "InternalError.GetConfigError",
            "InvalidParameter.InvalidTaskTime",
            "InvalidParameter.TaskNotExist",
            "InvalidParameter.InvalidTaskId",
            "InvalidParameter.InvalidVodFileName",
            "InvalidParameter.ConfNotFound",
            "InvalidParameter.DomainFormatError",
            "LimitExceeded.MaximumTask",
            "ResourceNotFound.TaskId",
            "ResourceNotFound.TaskNotFound",
            "ResourceNotFound.ChannelNotExist",
            "ResourceUnavailable.StreamNotExist",
            "UnsupportedOperation",
            "UnsupportedProtocol",
            "RequestSizeLimitExceeded",
            "NoSuchVersion",
            "InvalidAction",
        ] {
            assert!(wire.parse::<ErrorCode>().is_ok(), "{wire}");
        }
    }
}
