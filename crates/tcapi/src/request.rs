//! One API call as received and as parsed: [`RawRequest`] in, [`Request`] out, then
//! [`verify`] against the account's SecretKey.
//!
//! Owns call-style detection (TC3 `Authorization` header vs v1 `Signature` parameter), the common
//! parameters of `tencent-api.md` §2.1 and the clock-skew rule. The style-specific grammar and
//! signature checks live in `crate::tc3` and `crate::v1`. Must not look up keys, remember nonces
//! or enforce byte size limits: those are the caller's. The parser's own caps (parameters, JSON
//! elements, nesting, list indexes) live in `crate::params`.

use std::fmt;

use crate::error::ApiError;
use crate::params::Params;
use crate::{tc3, v1};

/// The largest timestamp skew accepted by [`verify`], in seconds (`tencent-api.md` §2.1).
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// The HTTP request exactly as the server received it.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    /// `"GET"` or `"POST"`; anything else is `UnsupportedProtocol`.
    pub method: &'a str,
    /// The raw query string without `?`, byte-exact as received (it is signed as sent).
    pub query: &'a str,
    /// `(name, value)` pairs; names in any case, values raw.
    pub headers: &'a [(&'a str, &'a str)],
    /// The raw body (it is hashed as received, never re-serialized).
    pub body: &'a [u8],
}

impl<'a> RawRequest<'a> {
    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// The language of error messages asked for by `X-TC-Language` / `Language`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// `en-US`; the default when the client does not say.
    #[default]
    EnUs,
    /// `zh-CN` (the Python SDK's default).
    ZhCn,
}

impl Language {
    /// The wire spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Language::EnUs => "en-US",
            Language::ZhCn => "zh-CN",
        }
    }

    /// Parses an optional `Language` value; absent or empty means [`Language::EnUs`].
    pub(crate) fn parse(value: Option<&str>) -> Result<Language, ApiError> {
        match value.map(str::trim) {
            None | Some("") => Ok(Language::EnUs),
            Some(v) if v.eq_ignore_ascii_case("en-US") => Ok(Language::EnUs),
            Some(v) if v.eq_ignore_ascii_case("zh-CN") => Ok(Language::ZhCn),
            Some(_) => Err(ApiError::invalid_value("Language must be zh-CN or en-US")),
        }
    }
}

/// The signature scheme of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignMethod {
    /// TC3-HMAC-SHA256 (`tencent-api.md` §2.3).
    Tc3,
    /// v1 `HmacSHA1` (§2.4); also what v1 means when `SignatureMethod` is absent.
    HmacSha1,
    /// v1 `HmacSHA256` (§2.4).
    HmacSha256,
}

/// The HTTP method of an API call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
}

impl Method {
    fn parse(method: &str) -> Result<Method, ApiError> {
        match method {
            "GET" => Ok(Method::Get),
            "POST" => Ok(Method::Post),
            other => Err(ApiError::unsupported_protocol(other)),
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// What [`verify`] needs besides the raw request.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    Tc3(tc3::Tc3Auth),
    V1(v1::V1Auth),
}

/// A parsed, not yet verified, API call. Its `Debug` output leaves out the STS token and the
/// signature material, so it can be logged.
#[derive(Clone)]
pub struct Request {
    /// `X-TC-Action` / `Action`, e.g. `CreateLiveRecord`.
    pub action: String,
    /// `X-TC-Version` / `Version`, e.g. `2018-08-01`; the caller answers `NoSuchVersion`.
    pub version: String,
    /// `X-TC-Region` / `Region`; `None` when absent or empty.
    pub region: Option<String>,
    /// `X-TC-Language` / `Language`.
    pub language: Language,
    /// `X-TC-Timestamp` / `Timestamp`, Unix seconds.
    pub timestamp: i64,
    /// `X-TC-Token` / `Token` (STS credentials); `None` when absent or empty.
    pub token: Option<String>,
    /// The SecretId the call claims; look its key up, then [`verify`].
    pub secret_id: String,
    /// The signature scheme used.
    pub sign_method: SignMethod,
    /// v1 only: replay protection is the caller's job, keyed by secret_id + nonce + timestamp.
    pub nonce: Option<u64>,
    /// The action's parameters only (common parameters removed).
    pub params: Params,
    pub(crate) method: Method,
    pub(crate) auth: Auth,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("action", &self.action)
            .field("version", &self.version)
            .field("region", &self.region)
            .field("language", &self.language)
            .field("timestamp", &self.timestamp)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("secret_id", &self.secret_id)
            .field("sign_method", &self.sign_method)
            .field("nonce", &self.nonce)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Parses either call style (`tencent-api.md` §2.2): TC3 (`Authorization` header and `X-TC-*`
/// headers; POST JSON body or GET query) or v1 (`Action`, `SecretId`, `Signature`, … as
/// parameters in a POST form body or GET query).
///
/// Never panics, whatever the input. Byte size limits ([`crate::MAX_POST_BODY`],
/// [`crate::MAX_GET_QUERY`]) must be enforced by the caller before; within them, what the parser
/// builds stays within a small multiple of the input: more than [`crate::MAX_PARAMS`] pairs or
/// [`crate::MAX_JSON_ELEMENTS`] JSON values is `RequestSizeLimitExceeded`, nesting deeper than
/// [`crate::MAX_PARAM_DEPTH`] / [`crate::MAX_JSON_DEPTH`] or a list index above
/// [`crate::MAX_LIST_INDEX`] is `InvalidParameter`.
pub fn parse(raw: &RawRequest) -> Result<Request, ApiError> {
    let method = Method::parse(raw.method)?;
    match raw.header("Authorization") {
        Some(authorization) => tc3::parse(raw, method, authorization),
        None => v1::parse(raw, method),
    }
}

/// Verifies `req` (parsed from `raw`) with the account's SecretKey at server time `now_unix`.
///
/// Checks the clock skew first (`AuthFailure.SignatureExpire` beyond
/// [`MAX_CLOCK_SKEW_SECS`]), then the signature (`AuthFailure.SignatureFailure`), tolerating the
/// client quirks of §2.3 (Host with or without port, Node's service label, tccli's `http://`
/// Host). Tags are compared in constant time.
pub fn verify(
    req: &Request,
    raw: &RawRequest,
    secret_key: &str,
    now_unix: i64,
) -> Result<(), ApiError> {
    if now_unix.abs_diff(req.timestamp) > MAX_CLOCK_SKEW_SECS {
        return Err(ApiError::signature_expire(req.timestamp, now_unix));
    }
    let ok = match &req.auth {
        Auth::Tc3(auth) => tc3::verify(auth, req.method, raw, secret_key),
        Auth::V1(auth) => v1::verify(auth, req.method, req.sign_method, raw, secret_key),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::signature_failure())
    }
}

/// The host without a trailing `:port`, if it has one (Node signs the hostname only).
pub(crate) fn strip_port(host: &str) -> Option<&str> {
    let (name, port) = host.rsplit_once(':')?;
    let is_port = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    (is_port && !name.is_empty() && !name.ends_with(':')).then_some(name)
}

/// Parses a decimal timestamp (digits only) or reports `InvalidParameter` for `name`.
pub(crate) fn parse_timestamp(name: &str, value: &str) -> Result<i64, ApiError> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::not_integer(name));
    }
    value.parse().map_err(|_| ApiError::not_integer(name))
}

#[cfg(test)]
mod tests;
