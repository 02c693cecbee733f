//! Tencent Cloud API 3.0 for liverec, sans-IO: turn the bytes of an HTTP request into a verified
//! API call, and an outcome into the response envelope. Wire-compatible with service `live`,
//! version `2018-08-01`, so the official SDKs and `tccli` work unchanged.
//!
//! No sockets, no runtime, no clock: the caller passes the raw request and the server time.
//!
//! ```
//! use tcapi::{RawRequest, parse, verify, sign_tc3, tc3_authorization};
//!
//! let body = br#"{"StreamName": "livetest"}"#;
//! let sig = sign_tc3("key", "POST", "127.0.0.1:8080", "", "application/json", body, 1700000000, "live");
//! let auth = tc3_authorization("AKIDexample", 1700000000, "live", &sig);
//! let headers = [
//!     ("Content-Type", "application/json"), ("Host", "127.0.0.1:8080"),
//!     ("X-TC-Action", "StopLiveRecord"), ("X-TC-Version", "2018-08-01"),
//!     ("X-TC-Timestamp", "1700000000"), ("Authorization", auth.as_str()),
//! ];
//! let raw = RawRequest { method: "POST", query: "", headers: &headers, body };
//! let req = parse(&raw).unwrap();
//! assert_eq!(req.secret_id, "AKIDexample");
//! verify(&req, &raw, "key", 1700000100).unwrap();
//! assert_eq!(req.params.str_req("StreamName").unwrap(), "livetest");
//! ```
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | `request` | [`RawRequest`], [`Request`], call-style detection, common parameters, [`parse`], [`verify`] and the clock-skew rule |
//! | `tc3` | TC3-HMAC-SHA256: `Authorization` grammar, canonical request, [`sign_tc3`], verification with the client quirks |
//! | `v1` | v1 `HmacSHA1`/`HmacSHA256`: [`v1_string_to_sign`], [`sign_v1`], verification |
//! | `params` | [`Params`] and its typed accessors; `params/flat.rs` is the flattened-key codec, `params/json.rs` the bounded JSON body codec; the parser caps ([`MAX_PARAMS`], [`MAX_LIST_INDEX`], [`MAX_PARAM_DEPTH`], [`MAX_JSON_ELEMENTS`], [`MAX_JSON_DEPTH`]) |
//! | `code` | [`ErrorCode`], the wire error codes |
//! | `error` | [`ApiError`] and the wording of generic messages |
//! | `envelope` | [`CONTENT_TYPE`], [`success_body`], [`success_body_json`], [`error_body`] |
//! | `shared_key` | MD5 keys outside API 3.0: [`push_tx_secret`], [`callback_sign`] |
//! | `mac` | HMAC / SHA-256 / MD5 primitives and constant-time comparison (private) |
//!
//! # Specification
//!
//! | topic | `shared/reference/tencent-api.md` |
//! |---|---|
//! | common parameters, size limits | §2.1 |
//! | call styles | §2.2 |
//! | TC3 signature and client quirks | §2.3 |
//! | v1 signature | §2.4 |
//! | envelope | §2.5 |
//! | error codes | §1.11, §2.6 |
//! | callback sign, push txSecret | §3.2, §4.2 |
//! | test vectors | §6 |

#![deny(missing_docs)]

mod code;
mod envelope;
mod error;
mod mac;
mod params;
mod request;
mod shared_key;
mod tc3;
mod v1;

#[cfg(test)]
mod vectors;

pub use code::{ErrorCode, UnknownErrorCode};
pub use envelope::{CONTENT_TYPE, error_body, success_body, success_body_json};
pub use error::ApiError;
pub use params::{
    MAX_JSON_DEPTH, MAX_JSON_ELEMENTS, MAX_LIST_INDEX, MAX_PARAM_DEPTH, MAX_PARAMS, Params,
};
pub use request::{Language, MAX_CLOCK_SKEW_SECS, RawRequest, Request, SignMethod, parse, verify};
pub use shared_key::{callback_sign, push_tx_secret};
pub use tc3::{sign_tc3, tc3_authorization};
pub use v1::{sign_v1, v1_string_to_sign};

/// The largest POST body the caller should accept, in bytes (TC3 POST ≤ 10 MB, §2.1); larger →
/// `RequestSizeLimitExceeded`.
pub const MAX_POST_BODY: usize = 10 * 1024 * 1024;

/// The largest GET query string the caller should accept, in bytes (§2.1); larger →
/// `RequestSizeLimitExceeded`.
pub const MAX_GET_QUERY: usize = 32 * 1024;
