//! The v1 signature (`HmacSHA1` / `HmacSHA256`, `tencent-api.md` §2.4): every common parameter
//! travels with the action's parameters in a POST form body or a GET query, signed as
//! `METHOD + Host + "/?" + sorted raw k=v`.
//!
//! Owns the string to sign (keys with `_` replaced by `.`, byte-order sort, raw decoded values,
//! `Signature` excluded), client-side signing and verification with the Host tolerated with or
//! without its port. Must not remember nonces: replay protection is the caller's.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::error::ApiError;
use crate::mac::{hmac_sha1, hmac_sha256, verify_hmac_sha1, verify_hmac_sha256};
use crate::params::{MAX_PARAMS, Params, too_many_params};
use crate::request::{Auth, Language, Method, RawRequest, Request, SignMethod};
use crate::request::{parse_timestamp, strip_port};

/// Parameters of §2.1 that are not the action's; removed from [`Request::params`].
const COMMON: &[&str] = &[
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Token",
    "Language",
    "RequestClient",
];

/// Whether `name` is a common parameter rather than one of the action's.
pub(crate) fn is_common(name: &str) -> bool {
    COMMON.contains(&name)
}

/// The signed parameters and signature of a v1 call, kept for [`crate::verify`].
#[derive(Debug, Clone)]
pub(crate) struct V1Auth {
    /// Every decoded parameter except `Signature`, in arrival order.
    pairs: Vec<(String, String)>,
    signature: Vec<u8>,
}

/// Parses a v1 call (no `Authorization` header).
pub(crate) fn parse(raw: &RawRequest, method: Method) -> Result<Request, ApiError> {
    // The SDK puts v1 parameters in the body for POST; a POST with an empty body and a query
    // (a hand-made curl call) is read from the query.
    let source = match method {
        Method::Post if !raw.body.is_empty() => raw.body,
        _ => raw.query.as_bytes(),
    };
    let mut seen = BTreeSet::new();
    let mut pairs = Vec::new();
    for (n, (key, value)) in form_urlencoded::parse(source).enumerate() {
        if n == MAX_PARAMS {
            return Err(too_many_params());
        }
        if !seen.insert(key.replace('_', ".")) {
            return Err(ApiError::invalid(format!(
                "parameter {key} is given more than once"
            )));
        }
        pairs.push((key.into_owned(), value.into_owned()));
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    if get("Signature").is_none()
        && get("SecretId").is_none()
        && raw.header("X-TC-Action").is_some()
    {
        return Err(ApiError::invalid_authorization(
            "the Authorization header is missing",
        ));
    }
    let required = |name: &str| get(name).ok_or_else(|| ApiError::missing(name));
    let action = required("Action")?.to_owned();
    let version = required("Version")?.to_owned();
    let secret_id = required("SecretId")?.to_owned();
    // A '+' left unencoded in a query decodes to ' '; base64 has no spaces, so undo it.
    let signature = BASE64
        .decode(required("Signature")?.replace(' ', "+"))
        .map_err(|_| ApiError::signature_failure())?;
    let timestamp = parse_timestamp("Timestamp", required("Timestamp")?)?;
    let nonce = required("Nonce")?;
    let nonce = nonce
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| nonce.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| ApiError::not_integer("Nonce"))?;
    let sign_method = match get("SignatureMethod") {
        Some("HmacSHA256") => SignMethod::HmacSha256,
        _ => SignMethod::HmacSha1,
    };
    let language = Language::parse(get("Language"))?;
    let region = get("Region").map(str::to_owned);
    let token = get("Token").map(str::to_owned);
    let params = Params::from_pairs(
        pairs
            .iter()
            .filter(|(k, _)| !is_common(k))
            .map(|(k, v)| (k.as_str(), v.clone())),
    )?;
    pairs.retain(|(k, _)| k != "Signature");
    Ok(Request {
        action,
        version,
        region,
        language,
        timestamp,
        token,
        secret_id,
        sign_method,
        nonce: Some(nonce),
        params,
        method,
        auth: Auth::V1(V1Auth { pairs, signature }),
    })
}

/// Whether the signature of a parsed v1 call is valid under `secret_key`, trying the Host header
/// as received and then without its port.
pub(crate) fn verify(
    auth: &V1Auth,
    method: Method,
    sign_method: SignMethod,
    raw: &RawRequest,
    secret_key: &str,
) -> bool {
    let host = raw.header("Host").map_or("", str::trim);
    let pairs: Vec<(&str, &str)> = auth
        .pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    std::iter::once(host).chain(strip_port(host)).any(|host| {
        let to_sign = v1_string_to_sign(method.as_str(), host, &pairs);
        let key = secret_key.as_bytes();
        match sign_method {
            SignMethod::HmacSha1 => verify_hmac_sha1(key, to_sign.as_bytes(), &auth.signature),
            SignMethod::HmacSha256 | SignMethod::Tc3 => {
                verify_hmac_sha256(key, to_sign.as_bytes(), &auth.signature)
            }
        }
    })
}

/// The v1 string to sign (§2.4): `METHOD + host + "/?" + k=v&…` with `_` replaced by `.` in
/// keys, keys sorted in byte order, raw (decoded) values, and any `Signature` pair left out.
/// `host` is the Host header as sent (with its port, if any).
pub fn v1_string_to_sign(method: &str, host: &str, params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<(String, &str)> = params
        .iter()
        .filter(|(k, _)| *k != "Signature")
        .map(|(k, v)| (k.replace('_', "."), *v))
        .collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = format!("{method}{host}/?");
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Signs a v1 string to sign (see [`v1_string_to_sign`]); returns the base64 `Signature`.
/// [`SignMethod::Tc3`] is not a v1 method and signs as `HmacSHA256`.
pub fn sign_v1(secret_key: &str, method: SignMethod, string_to_sign: &str) -> String {
    let key = secret_key.as_bytes();
    let tag = match method {
        SignMethod::HmacSha1 => hmac_sha1(key, string_to_sign.as_bytes()),
        SignMethod::HmacSha256 | SignMethod::Tc3 => hmac_sha256(key, string_to_sign.as_bytes()),
    };
    tag.map(|t| BASE64.encode(t)).unwrap_or_default()
}

#[cfg(test)]
mod tests;
