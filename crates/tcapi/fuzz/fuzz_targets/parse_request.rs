//! Fuzz target: `tcapi::parse` then `tcapi::verify` on arbitrary requests must never panic.
//!
//! Input layout (the seeds in `corpus/parse_request/` are generated from the unit-test vectors by
//! `TCAPI_BLESS=1 cargo test -p tcapi`): method, query and headers (`Name: value` lines) separated
//! by NUL bytes, then the raw body.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |b| *b == 0);
    let method = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let header_blob = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let body = parts.next().unwrap_or_default();
    let headers: Vec<(&str, &str)> = header_blob
        .split('\n')
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name, value.strip_prefix(' ').unwrap_or(value)))
        .collect();
    let raw = tcapi::RawRequest {
        method: &method,
        query: &query,
        headers: &headers,
        body,
    };
    if let Ok(req) = tcapi::parse(&raw) {
        // At the request's own time the signature is really checked; at 0 the skew rule fires.
        let _ = tcapi::verify(
            &req,
            &raw,
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            req.timestamp,
        );
        let _ = tcapi::verify(&req, &raw, "k", 0);
        let _ = tcapi::error_body(&tcapi::ApiError::missing("X"), "rid");
    }
});
