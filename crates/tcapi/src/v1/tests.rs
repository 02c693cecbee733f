//! Unit tests of `v1`.

use super::*;
use crate::vectors::{SECRET_KEY, V5_BODY, V6_QUERY, V7_BODY};
use crate::{parse, verify};
use serde_json::json;

fn decoded(encoded: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect()
}

fn string_to_sign_of(method: &str, host: &str, encoded: &str) -> (String, String) {
    let pairs = decoded(encoded);
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let sig = pairs
        .iter()
        .find(|(k, _)| k == "Signature")
        .map(|(_, v)| v.clone())
        .unwrap();
    (v1_string_to_sign(method, host, &refs), sig)
}

/// V5, V6 and V7: method, host, the signed parameters, the signature
/// method, the string to sign and the Signature.
const V1_VECTORS: [(&str, &str, &str, SignMethod, &str, &str); 3] = [
    (
        "POST",
        "127.0.0.1:8080",
        V5_BODY,
        SignMethod::HmacSha256,
        "POST127.0.0.1:8080/?Action=CreateLiveRecord&Highlight=1&Language=zh-CN&MixStream=0&Nonce=11886&Region=ap-guangzhou&RequestClient=SDK_PYTHON_3.1.195&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA256&StreamName=livetest&StreamParam=record_interval=3600&storage_time=2592000&Timestamp=1700000000&Version=2018-08-01",
        "dLhDo32r/RjN5nE4YjqglUg5RnVDlGx9TYa7QowPWog=",
    ),
    (
        "GET",
        "live.tencentcloudapi.com",
        V6_QUERY,
        SignMethod::HmacSha1,
        "GETlive.tencentcloudapi.com/?Action=DeleteLiveRecord&Language=zh-CN&Nonce=11886&Region=ap-guangzhou&RequestClient=SDK_PYTHON_3.1.195&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA1&StreamName=livetest&TaskId=1234567&Timestamp=1700000000&Version=2018-08-01",
        "RdklxPfcObf9W0jLy+AbYvgYFtI=",
    ),
    (
        "POST",
        "127.0.0.1:8080",
        V7_BODY,
        SignMethod::HmacSha256,
        "POST127.0.0.1:8080/?Action=CreateLiveRecordTemplate&FlvParam.Enable=1&FlvParam.RecordInterval=1800&FlvParam.StorageTime=0&Language=zh-CN&Nonce=42&Region=ap-guangzhou&RequestClient=SDK_PYTHON_3.1.195&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA256&TemplateName=tpl&Timestamp=1700000000&Version=2018-08-01",
        "09GbMyDhKNA9gGNa6jIA7c0KYBwt0rHblxNWCIbqqTs=",
    ),
];

#[test]
fn v5_v6_v7_string_to_sign_and_signature() {
    for (method, host, params, sign, want_sts, want_sig) in V1_VECTORS {
        let (sts, sig) = string_to_sign_of(method, host, params);
        assert_eq!(sts, want_sts);
        assert_eq!(sign_v1(SECRET_KEY, sign, &sts), sig);
        assert_eq!(sig, want_sig);
    }
}

#[test]
fn v7_nested_params() {
    let headers = [("Host", "127.0.0.1:8080")];
    let raw = RawRequest {
        method: "POST",
        query: "",
        headers: &headers,
        body: V7_BODY.as_bytes(),
    };
    let req = parse(&raw).unwrap();
    assert_eq!(
        serde_json::Value::Object(req.params.as_map().clone()),
        json!({
            "TemplateName": "tpl",
            "FlvParam": {"Enable": "1", "RecordInterval": "1800", "StorageTime": "0"}
        })
    );
    verify(&req, &raw, SECRET_KEY, 1_700_000_000).unwrap();
}

#[test]
fn underscores_become_dots_before_sorting() {
    // `A_B` signs as `A.B`, which sorts after `A-` and before `AB` in byte order.
    let sts = v1_string_to_sign(
        "GET",
        "h",
        &[("AB", "3"), ("A_B", "2"), ("A-", "1"), ("Signature", "x")],
    );
    assert_eq!(sts, "GETh/?A-=1&A.B=2&AB=3");
    assert_eq!(v1_string_to_sign("POST", "h:1", &[]), "POSTh:1/?");
}

#[test]
fn tc3_is_not_a_v1_method_and_signs_as_sha256() {
    assert_eq!(
        sign_v1("k", SignMethod::Tc3, "x"),
        sign_v1("k", SignMethod::HmacSha256, "x")
    );
    assert_ne!(
        sign_v1("k", SignMethod::HmacSha1, "x"),
        sign_v1("k", SignMethod::HmacSha256, "x")
    );
}
