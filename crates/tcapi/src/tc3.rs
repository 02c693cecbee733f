//! TC3-HMAC-SHA256 (`tencent-api.md` §2.3): the `Authorization` grammar, the canonical request,
//! the key chain, client-side signing and server-side verification.
//!
//! Owns the tolerated client quirks: the date and service come from the credential scope (Node
//! signs service `127` or `localhost:18080`, vectors N1/N2), a Host signed without its port
//! (Node) or with a literal `http://` (tccli, used verbatim), and lower-cased header values (the
//! official docs). Must not re-serialize the body: the raw bytes are hashed.

use crate::error::ApiError;
use crate::mac::{hmac_sha256, sha256_hex, verify_hmac_sha256};
use crate::params::Params;
use crate::request::{Auth, Language, Method, RawRequest, Request, SignMethod};
use crate::request::{parse_timestamp, strip_port};

/// The only algorithm name TC3 knows.
const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The payload marker of `X-TC-Content-SHA256` for an unsigned body.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// More signed headers than any client sends; bounds the work per request.
const MAX_SIGNED_HEADERS: usize = 32;

/// The credential scope and signature of a TC3 call, kept for [`crate::verify`].
#[derive(Debug, Clone)]
pub(crate) struct Tc3Auth {
    date: String,
    service: String,
    /// Lower-case names, in `SignedHeaders` order.
    signed_headers: Vec<String>,
    signature: Vec<u8>,
    /// `X-TC-Timestamp` as sent: it is what the client put in the string to sign.
    timestamp_raw: String,
    unsigned_payload: bool,
}

/// Parses a TC3 call whose `Authorization` header is `authorization`.
pub(crate) fn parse(
    raw: &RawRequest,
    method: Method,
    authorization: &str,
) -> Result<Request, ApiError> {
    let Authorization {
        secret_id,
        date,
        service,
        signed_headers,
        signature,
    } = parse_authorization(authorization)?;
    if let Some(name) = signed_headers.iter().find(|n| raw.header(n).is_none()) {
        return Err(ApiError::invalid_authorization(format!(
            "signed header {name} is not in the request"
        )));
    }
    let required = |name: &str| {
        raw.header(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::missing(name))
    };
    let optional = |name: &str| {
        raw.header(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let action = required("X-TC-Action")?.to_owned();
    let version = required("X-TC-Version")?.to_owned();
    let timestamp_raw = required("X-TC-Timestamp")?;
    let timestamp = parse_timestamp("X-TC-Timestamp", timestamp_raw)?;
    let language = Language::parse(raw.header("X-TC-Language"))?;
    let unsigned_payload = raw
        .header("X-TC-Content-SHA256")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(UNSIGNED_PAYLOAD));
    let params = match method {
        Method::Post => Params::from_json(raw.body)?,
        Method::Get => Params::from_pairs(form_urlencoded::parse(raw.query.as_bytes()))?,
    };
    Ok(Request {
        action,
        version,
        region: optional("X-TC-Region"),
        language,
        timestamp,
        token: optional("X-TC-Token"),
        secret_id,
        sign_method: SignMethod::Tc3,
        nonce: None,
        params,
        method,
        auth: Auth::Tc3(Tc3Auth {
            date,
            service,
            signed_headers,
            signature,
            timestamp_raw: timestamp_raw.to_owned(),
            unsigned_payload,
        }),
    })
}

/// The parts of an `Authorization` header.
#[derive(Debug)]
struct Authorization {
    secret_id: String,
    date: String,
    service: String,
    /// Lower-case names, in the order given.
    signed_headers: Vec<String>,
    signature: Vec<u8>,
}

/// Parses `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=a;b,
/// Signature=<hex>`. The service may contain `:` (Node's `localhost:18080`).
fn parse_authorization(value: &str) -> Result<Authorization, ApiError> {
    let rest = value
        .trim()
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with([' ', '\t']))
        .ok_or_else(|| ApiError::invalid_authorization("the algorithm must be TC3-HMAC-SHA256"))?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, val) = part.split_once('=').ok_or_else(|| {
            ApiError::invalid_authorization("expected Credential=…, SignedHeaders=…, Signature=…")
        })?;
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => {
                return Err(ApiError::invalid_authorization(format!(
                    "unknown field {other:?}"
                )));
            }
        };
        if slot.replace(val.trim()).is_some() {
            return Err(ApiError::invalid_authorization(format!(
                "field {} is repeated",
                key.trim()
            )));
        }
    }
    let credential =
        credential.ok_or_else(|| ApiError::invalid_authorization("Credential is missing"))?;
    let signed_headers = signed_headers
        .ok_or_else(|| ApiError::invalid_authorization("SignedHeaders is missing"))?;
    let signature =
        signature.ok_or_else(|| ApiError::invalid_authorization("Signature is missing"))?;

    let scope_err = || {
        ApiError::invalid_authorization(
            "Credential must be <SecretId>/<date>/<service>/tc3_request",
        )
    };
    let (secret_id, scope) = credential
        .strip_suffix("/tc3_request")
        .and_then(|c| c.split_once('/'))
        .ok_or_else(scope_err)?;
    let (date, service) = scope.split_once('/').ok_or_else(scope_err)?;
    if secret_id.is_empty() || date.is_empty() || service.is_empty() {
        return Err(scope_err());
    }

    let names: Vec<String> = signed_headers
        .split(';')
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    if names.iter().any(String::is_empty) || names.len() > MAX_SIGNED_HEADERS {
        return Err(ApiError::invalid_authorization(
            "SignedHeaders must be a ;-separated list of header names",
        ));
    }
    let signature = hex::decode(signature)
        .ok()
        .filter(|s| s.len() == 32)
        .ok_or_else(|| ApiError::invalid_authorization("Signature must be 64 hex digits"))?;
    Ok(Authorization {
        secret_id: secret_id.to_owned(),
        date: date.to_owned(),
        service: service.to_owned(),
        signed_headers: names,
        signature,
    })
}

/// Whether the signature of a parsed TC3 call is valid under `secret_key`.
pub(crate) fn verify(auth: &Tc3Auth, method: Method, raw: &RawRequest, secret_key: &str) -> bool {
    let Some(key) = signing_key(secret_key, &auth.date, &auth.service) else {
        return false;
    };
    let payload_hash = if auth.unsigned_payload {
        sha256_hex(UNSIGNED_PAYLOAD.as_bytes())
    } else {
        match method {
            Method::Post => sha256_hex(raw.body),
            Method::Get => sha256_hex(b""),
        }
    };
    let query = match method {
        Method::Post => "",
        Method::Get => raw.query,
    };
    let scope = format!("{}/{}/tc3_request", auth.date, auth.service);
    let signed_names = auth.signed_headers.join(";");
    let sent: Vec<&str> = auth
        .signed_headers
        .iter()
        .map(|n| raw.header(n).map_or("", str::trim))
        .collect();

    let matches = |values: &[String]| {
        let headers: Vec<(&str, &str)> = auth
            .signed_headers
            .iter()
            .map(String::as_str)
            .zip(values.iter().map(String::as_str))
            .collect();
        let canonical = canonical_request(
            method.as_str(),
            query,
            &headers,
            &signed_names,
            &payload_hash,
        );
        let to_sign = string_to_sign(&auth.timestamp_raw, &scope, &canonical);
        verify_hmac_sha256(&key, to_sign.as_bytes(), &auth.signature)
    };

    // The quirks of §2.3, in order: values as sent, then the host without its port (Node); then
    // both again with lower-cased values (the official docs lower-case them).
    let host_index = auth.signed_headers.iter().position(|n| n == "host");
    let portless = host_index
        .and_then(|i| sent.get(i))
        .and_then(|h| strip_port(h));
    let mut tried: Vec<Vec<String>> = Vec::with_capacity(4);
    for lower in [false, true] {
        for host in std::iter::once(None).chain(portless.map(Some)) {
            let values: Vec<String> = sent
                .iter()
                .enumerate()
                .map(|(i, value)| {
                    let value = match host {
                        Some(h) if Some(i) == host_index => h,
                        _ => value,
                    };
                    if lower {
                        value.to_ascii_lowercase()
                    } else {
                        value.to_owned()
                    }
                })
                .collect();
            if tried.contains(&values) {
                continue;
            }
            if matches(&values) {
                return true;
            }
            tried.push(values);
        }
    }
    false
}

/// The TC3 canonical request (§2.3 step 4); `headers` are (lower-case name, trimmed value).
pub(crate) fn canonical_request(
    method: &str,
    query: &str,
    headers: &[(&str, &str)],
    signed_names: &str,
    payload_hash: &str,
) -> String {
    let mut out = format!("{method}\n/\n{query}\n");
    for (name, value) in headers {
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(signed_names);
    out.push('\n');
    out.push_str(payload_hash);
    out
}

pub(crate) fn string_to_sign(timestamp: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// kSigning = HMAC(HMAC(HMAC("TC3" + key, date), service), "tc3_request") (§2.3 step 6).
pub(crate) fn signing_key(secret_key: &str, date: &str, service: &str) -> Option<Vec<u8>> {
    let k_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes())?;
    let k_service = hmac_sha256(&k_date, service.as_bytes())?;
    hmac_sha256(&k_service, b"tc3_request")
}

/// Signs a TC3 call as the Python SDK does (§2.3): signed headers `content-type;host`, date =
/// UTC date of `timestamp`, `query` = the raw query (GET) or `""` (POST), `payload` = the body
/// (POST) or `b""` (GET). Returns the lower-case hex signature.
#[allow(clippy::too_many_arguments)] // mirrors the SDK's inputs one to one
pub fn sign_tc3(
    secret_key: &str,
    method: &str,
    host: &str,
    query: &str,
    content_type: &str,
    payload: &[u8],
    timestamp: i64,
    service: &str,
) -> String {
    let date = utc_date(timestamp);
    let canonical = canonical_request(
        method,
        query,
        &[("content-type", content_type), ("host", host)],
        "content-type;host",
        &sha256_hex(payload),
    );
    let to_sign = string_to_sign(
        &timestamp.to_string(),
        &format!("{date}/{service}/tc3_request"),
        &canonical,
    );
    signing_key(secret_key, &date, service)
        .and_then(|key| hmac_sha256(&key, to_sign.as_bytes()))
        .map(hex::encode)
        .unwrap_or_default()
}

/// The `Authorization` header value for a signature made by [`sign_tc3`].
pub fn tc3_authorization(
    secret_id: &str,
    timestamp: i64,
    service: &str,
    signature: &str,
) -> String {
    format!(
        "{ALGORITHM} Credential={secret_id}/{}/{service}/tc3_request, SignedHeaders=content-type;host, Signature={signature}",
        utc_date(timestamp)
    )
}

/// `YYYY-MM-DD`, the UTC date of a Unix timestamp (proleptic Gregorian, H. Hinnant's
/// days-to-civil), without a clock or a date crate.
pub(crate) fn utc_date(timestamp: i64) -> String {
    let z = timestamp.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests;
