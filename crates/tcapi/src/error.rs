//! The error every fallible function of this crate returns: an [`ErrorCode`] plus the English
//! message that goes into `Response.Error.Message` (`tencent-api.md` §2.5).
//!
//! Owns the message wording of the generic cases (missing, malformed, signature). Must not know
//! about HTTP status codes: every API error travels with HTTP 200.

use crate::code::ErrorCode;

/// An API-level error, rendered by [`crate::error_body`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The wire code.
    pub code: ErrorCode,
    /// A specific, English message.
    pub message: String,
}

impl ApiError {
    /// An error with any code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// `MissingParameter`: "`<name>` is required".
    pub fn missing(name: &str) -> ApiError {
        ApiError::new(ErrorCode::MissingParameter, format!("{name} is required"))
    }

    /// `InvalidParameter` (wrong format or type) with a message.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidParameter, message)
    }

    /// `InvalidParameterValue` (well-formed but not allowed) with a message.
    pub fn invalid_value(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidParameterValue, message)
    }

    /// `InternalError` with a message (keep causes out of it; log them instead).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InternalError, message)
    }

    /// `UnsupportedProtocol` for an HTTP method other than GET and POST.
    pub fn unsupported_protocol(method: &str) -> ApiError {
        ApiError::new(
            ErrorCode::UnsupportedProtocol,
            format!("HTTP method {method:?} is not supported; only GET and POST are supported"),
        )
    }

    /// `AuthFailure.InvalidAuthorization` with the reason the header was rejected.
    pub fn invalid_authorization(reason: impl Into<String>) -> ApiError {
        ApiError::new(
            ErrorCode::AuthFailureInvalidAuthorization,
            format!("Authorization is malformed: {}", reason.into()),
        )
    }

    /// `AuthFailure.SignatureFailure` with Tencent's own message.
    pub fn signature_failure() -> ApiError {
        ApiError::new(
            ErrorCode::AuthFailureSignatureFailure,
            "The provided credentials could not be validated. Please check your signature is correct.",
        )
    }

    /// `AuthFailure.SignatureExpire` for a request timestamp too far from server time.
    pub fn signature_expire(timestamp: i64, now_unix: i64) -> ApiError {
        ApiError::new(
            ErrorCode::AuthFailureSignatureExpire,
            format!(
                "Signature expired. Timestamp {timestamp} is more than 5 minutes away from server time {now_unix}."
            ),
        )
    }

    /// `RequestSizeLimitExceeded` for a request with more than `limit` of `what` (parameters,
    /// JSON elements), naming the limit's constant so operators can find it.
    pub fn too_many(what: &str, limit: usize, constant: &str) -> ApiError {
        ApiError::new(
            ErrorCode::RequestSizeLimitExceeded,
            format!("The request has more than {limit} {what} (limit {constant})."),
        )
    }

    /// `InvalidParameter`: "`<name>` must be an integer".
    pub fn not_integer(name: &str) -> ApiError {
        ApiError::invalid(format!("{name} must be an integer"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_pick_codes_and_messages() {
        let e = ApiError::missing("StreamName");
        assert_eq!(e.code, ErrorCode::MissingParameter);
        assert_eq!(e.message, "StreamName is required");
        assert_eq!(e.to_string(), "MissingParameter: StreamName is required");
        assert_eq!(
            ApiError::signature_failure().message,
            "The provided credentials could not be validated. Please check your signature is correct."
        );
        assert_eq!(
            ApiError::signature_expire(1, 601).code,
            ErrorCode::AuthFailureSignatureExpire
        );
        assert_eq!(
            ApiError::unsupported_protocol("PUT").code,
            ErrorCode::UnsupportedProtocol
        );
        assert_eq!(
            ApiError::invalid_value("x").code,
            ErrorCode::InvalidParameterValue
        );
        assert_eq!(
            ApiError::not_integer("TaskId").message,
            "TaskId must be an integer"
        );
        let e = ApiError::too_many("parameters", 7, "MAX_PARAMS");
        assert_eq!(e.code, ErrorCode::RequestSizeLimitExceeded);
        assert_eq!(
            e.message,
            "The request has more than 7 parameters (limit MAX_PARAMS)."
        );
    }
}
