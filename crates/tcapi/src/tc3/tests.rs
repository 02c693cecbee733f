//! Unit tests of `tc3`.

use super::*;
use crate::code::ErrorCode;
use crate::vectors::{NODE_BODY, SECRET_KEY, V1_BODY, V2_BODY, V3_QUERY, V4_BODY};

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

#[test]
fn v0_official_documentation_vector() {
    let payload = br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    assert_eq!(
        sha256_hex(payload),
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
    let canonical = canonical_request(
        "POST",
        "",
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("host", "cvm.tencentcloudapi.com"),
        ],
        "content-type;host",
        &sha256_hex(payload),
    );
    assert_eq!(
        string_to_sign("1551113065", "2019-02-25/cvm/tc3_request", &canonical),
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n\
         5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    );
    assert_eq!(
        sign_tc3(
            "Gu5t9xGARNpq86cd98joQYCN3*******",
            "POST",
            "cvm.tencentcloudapi.com",
            "",
            "application/json; charset=utf-8",
            payload,
            1_551_113_065,
            "cvm",
        ),
        "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    );
}

#[test]
fn v1_canonical_request_and_string_to_sign() {
    let canonical = canonical_request(
        "POST",
        "",
        &[("content-type", JSON), ("host", "live.tencentcloudapi.com")],
        "content-type;host",
        &sha256_hex(V1_BODY.as_bytes()),
    );
    assert_eq!(
        canonical,
        "POST\n/\n\ncontent-type:application/json\nhost:live.tencentcloudapi.com\n\n\
         content-type;host\n379220926e0094ad62322a2b870723e4941be32fad5f4fd9bb2dc50aedbf91e8"
    );
    assert_eq!(
        string_to_sign("1700000000", "2023-11-14/live/tc3_request", &canonical),
        "TC3-HMAC-SHA256\n1700000000\n2023-11-14/live/tc3_request\n\
         18e0c713445cd9b79b338a7f5099f8e74ffad484c7b90ea605e818216ff3d119"
    );
}

#[test]
fn v3_get_canonical_request() {
    let canonical = canonical_request(
        "GET",
        V3_QUERY,
        &[("content-type", FORM), ("host", "127.0.0.1:8080")],
        "content-type;host",
        &sha256_hex(b""),
    );
    assert_eq!(
        sha256_hex(canonical.as_bytes()),
        "3b790858f8b9dcb67fe45fce45c94cbb7e1c16b274dc9471b8938ca1202b8b9a"
    );
}

#[test]
fn sign_tc3_reproduces_v1_to_v4_and_node_vectors() {
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a [u8],
        i64,
        &'a str,
        &'a str,
    );
    let cases: [Case; 6] = [
        (
            "POST",
            "live.tencentcloudapi.com",
            "",
            JSON,
            V1_BODY.as_bytes(),
            1_700_000_000,
            "live",
            "e86729c7431859fa18537cc43a4817eea3c5a9e1d12ab95c77b67ab03ff827cb",
        ),
        (
            "POST",
            "127.0.0.1:8080",
            "",
            JSON,
            V2_BODY.as_bytes(),
            1_700_000_000,
            "live",
            "b646663518d81c6780d806e7ccff3f0e9a44aac1371b6c813138df6e342e38f6",
        ),
        (
            "GET",
            "127.0.0.1:8080",
            V3_QUERY,
            FORM,
            b"",
            1_700_000_000,
            "live",
            "c7ac7e8725c80e3ab47378816264a7b66366981cf4014c7ea0dee17a55dc50e7",
        ),
        (
            "POST",
            "127.0.0.1:8080",
            "",
            JSON,
            V4_BODY.as_bytes(),
            1_767_225_600,
            "live",
            "848fa4908589e2969171d559743e2d6ae424ece94cf4f6d6889549fbc8a7162e",
        ),
        // N1/N2: Node signs the hostname without the port and its own service label.
        (
            "POST",
            "127.0.0.1",
            "",
            JSON,
            NODE_BODY.as_bytes(),
            1_700_000_000,
            "127",
            "311e439481095e4598628c56f2fa07a74cd3dee076c891a911294fcb0002b8aa",
        ),
        (
            "POST",
            "localhost",
            "",
            JSON,
            NODE_BODY.as_bytes(),
            1_700_000_000,
            "localhost:18080",
            "19a7adb812d217141d0507b40fa19e0f5e3a5323bdc2b871448f70b7bada667c",
        ),
    ];
    for (method, host, query, ct, payload, ts, service, want) in cases {
        assert_eq!(
            sign_tc3(SECRET_KEY, method, host, query, ct, payload, ts, service),
            want,
            "{method} {host} {service}"
        );
    }
}

#[test]
fn authorization_header_roundtrips() {
    let header = tc3_authorization(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        1_700_000_000,
        "live",
        "e86729c7431859fa18537cc43a4817eea3c5a9e1d12ab95c77b67ab03ff827cb",
    );
    assert_eq!(
        header,
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/live/tc3_request, SignedHeaders=content-type;host, Signature=e86729c7431859fa18537cc43a4817eea3c5a9e1d12ab95c77b67ab03ff827cb"
    );
    let auth = parse_authorization(&header).unwrap();
    assert_eq!(auth.secret_id, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE");
    assert_eq!(auth.date, "2023-11-14");
    assert_eq!(auth.service, "live");
    assert_eq!(auth.signed_headers, ["content-type", "host"]);
    assert_eq!(auth.signature.len(), 32);
    // Node's service label keeps its colon; upper-case header names are lower-cased.
    let auth = parse_authorization(
        "TC3-HMAC-SHA256 Credential=A/2023-11-14/localhost:18080/tc3_request,SignedHeaders=Content-Type;Host;X-TC-Action,Signature=19a7adb812d217141d0507b40fa19e0f5e3a5323bdc2b871448f70b7bada667c",
    )
    .unwrap();
    assert_eq!(auth.service, "localhost:18080");
    assert_eq!(auth.signed_headers, ["content-type", "host", "x-tc-action"]);
}

#[test]
fn malformed_authorization_is_invalid_authorization() {
    let sig = "e86729c7431859fa18537cc43a4817eea3c5a9e1d12ab95c77b67ab03ff827cb";
    for bad in [
        String::new(),
        "Basic dXNlcjpwYXNz".to_owned(),
        "TC3-HMAC-SHA256".to_owned(),
        "TC3-HMAC-SHA256Credential=a/b/c/tc3_request".to_owned(),
        "TC3-HMAC-SHA256 Credential=A/2023-11-14/live/tc3_request, SignedHeaders=content-type;host"
            .to_owned(),
        format!(
            "TC3-HMAC-SHA256 Credential=A/2023-11-14/live, SignedHeaders=host, Signature={sig}"
        ),
        format!(
            "TC3-HMAC-SHA256 Credential=/2023-11-14/live/tc3_request, SignedHeaders=host, Signature={sig}"
        ),
        format!(
            "TC3-HMAC-SHA256 Credential=A/2023-11-14/tc3_request, SignedHeaders=host, Signature={sig}"
        ),
        format!(
            "TC3-HMAC-SHA256 Credential=A//live/tc3_request, SignedHeaders=host, Signature={sig}"
        ),
        format!("TC3-HMAC-SHA256 Credential=A/d/live/tc3_request, SignedHeaders=, Signature={sig}"),
        format!(
            "TC3-HMAC-SHA256 Credential=A/d/live/tc3_request, SignedHeaders=host;;x, Signature={sig}"
        ),
        "TC3-HMAC-SHA256 Credential=A/d/live/tc3_request, SignedHeaders=host, Signature=zz"
            .to_owned(),
        "TC3-HMAC-SHA256 Credential=A/d/live/tc3_request, SignedHeaders=host, Signature=abcd"
            .to_owned(),
        format!(
            "TC3-HMAC-SHA256 Credential=A/d/live/tc3_request, SignedHeaders=host, Signature={sig}, Foo=1"
        ),
        format!(
            "TC3-HMAC-SHA256 Credential=A/d/live/tc3_request, Credential=A/d/live/tc3_request, SignedHeaders=host, Signature={sig}"
        ),
        format!(
            "TC3-HMAC-SHA256 Credential=A/d/live/tc3_request, SignedHeaders=host, Signature={sig}, junk"
        ),
        format!(
            "TC3-HMAC-SHA256 Credential=A/d/live/tc3_request, SignedHeaders={}, Signature={sig}",
            vec!["h"; 33].join(";")
        ),
    ] {
        let err = parse_authorization(&bad).unwrap_err();
        assert_eq!(
            err.code,
            ErrorCode::AuthFailureInvalidAuthorization,
            "{bad}"
        );
        assert!(
            err.message.starts_with("Authorization is malformed: "),
            "{}",
            err.message
        );
    }
}

#[test]
fn utc_dates() {
    for (ts, want) in [
        (0, "1970-01-01"),
        (86_399, "1970-01-01"),
        (86_400, "1970-01-02"),
        (-1, "1969-12-31"),
        (951_782_400, "2000-02-29"),
        (1_551_113_065, "2019-02-25"),
        (1_700_000_000, "2023-11-14"),
        (1_767_225_600, "2026-01-01"),
        (1_767_225_599, "2025-12-31"),
        (4_107_542_400, "2100-03-01"),
        (253_402_300_799, "9999-12-31"),
    ] {
        assert_eq!(utc_date(ts), want, "{ts}");
    }
    // extremes do not overflow
    let _ = utc_date(i64::MAX);
    let _ = utc_date(i64::MIN);
}
