//! The request vectors of `tencent-api.md` §6, byte-exact, as one table shared by the unit
//! tests of `request`, `tc3` and `v1` and by the fuzz seed corpus (test-only module).

use crate::RawRequest;

/// SecretId of V1–V7, N1, N2.
pub(crate) const SECRET_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
/// SecretKey of V1–V7, N1, N2.
pub(crate) const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

/// One captured request.
pub(crate) struct Vector {
    pub(crate) name: &'static str,
    pub(crate) method: &'static str,
    pub(crate) query: &'static str,
    pub(crate) headers: &'static [(&'static str, &'static str)],
    pub(crate) body: &'static str,
    /// The request's own timestamp: verification runs at this server time.
    pub(crate) now: i64,
    pub(crate) action: &'static str,
}

impl Vector {
    pub(crate) fn raw(&self) -> RawRequest<'static> {
        RawRequest {
            method: self.method,
            query: self.query,
            headers: self.headers,
            body: self.body.as_bytes(),
        }
    }
}

pub(crate) const V1_BODY: &str = r#"{"StreamName": "livetest", "AppName": "live", "DomainName": "5000.live.push.com", "StartTime": "2018-09-11 12:04:01", "EndTime": "2018-09-11 12:08:01"}"#;
pub(crate) const V2_BODY: &str = r#"{"StreamName": "livetest", "DomainName": "5000.live.push.com", "AppName": "live", "EndTime": 1700003600, "StartTime": 1700000060, "TemplateId": 0}"#;
pub(crate) const V3_QUERY: &str = "StartTime=1699913600&EndTime=1700000000&StreamName=livetest";
pub(crate) const V4_BODY: &str =
    r#"{"TaskId": "UpTbk5RSVhRQFkAAfHwQCCjcRD0lRFcZ0xTSlNTQltlRVRLU1JAWW9EUb"}"#;
pub(crate) const V5_BODY: &str = "StreamName=livetest&Highlight=1&MixStream=0&StreamParam=record_interval%3D3600%26storage_time%3D2592000&Action=CreateLiveRecord&RequestClient=SDK_PYTHON_3.1.195&Nonce=11886&Timestamp=1700000000&Version=2018-08-01&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA256&Language=zh-CN&Signature=dLhDo32r%2FRjN5nE4YjqglUg5RnVDlGx9TYa7QowPWog%3D";
pub(crate) const V6_QUERY: &str = "StreamName=livetest&TaskId=1234567&Action=DeleteLiveRecord&RequestClient=SDK_PYTHON_3.1.195&Nonce=11886&Timestamp=1700000000&Version=2018-08-01&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA1&Language=zh-CN&Signature=RdklxPfcObf9W0jLy%2BAbYvgYFtI%3D";
pub(crate) const V7_BODY: &str = "TemplateName=tpl&FlvParam.RecordInterval=1800&FlvParam.StorageTime=0&FlvParam.Enable=1&Action=CreateLiveRecordTemplate&RequestClient=SDK_PYTHON_3.1.195&Nonce=42&Timestamp=1700000000&Version=2018-08-01&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA256&Language=zh-CN&Signature=09GbMyDhKNA9gGNa6jIA7c0KYBwt0rHblxNWCIbqqTs%3D";
pub(crate) const NODE_BODY: &str = r#"{"StreamName":"livetest","DomainName":"5000.live.push.com","AppName":"live","EndTime":1700003600,"StartTime":1700000060,"TemplateId":0}"#;

const FORM: &str = "application/x-www-form-urlencoded";

pub(crate) const VECTORS: &[Vector] = &[
    Vector {
        name: "v1",
        method: "POST",
        query: "",
        headers: &[
            ("Content-Type", "application/json"),
            ("Host", "live.tencentcloudapi.com"),
            ("X-TC-Action", "CreateLiveRecord"),
            ("X-TC-RequestClient", "SDK_PYTHON_3.1.195"),
            ("X-TC-Timestamp", "1700000000"),
            ("X-TC-Version", "2018-08-01"),
            ("X-TC-Region", "ap-guangzhou"),
            ("X-TC-Language", "zh-CN"),
            (
                "Authorization",
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/live/tc3_request, SignedHeaders=content-type;host, Signature=e86729c7431859fa18537cc43a4817eea3c5a9e1d12ab95c77b67ab03ff827cb",
            ),
        ],
        body: V1_BODY,
        now: 1_700_000_000,
        action: "CreateLiveRecord",
    },
    Vector {
        name: "v2",
        method: "POST",
        query: "",
        headers: &[
            ("Content-Type", "application/json"),
            ("Host", "127.0.0.1:8080"),
            ("X-TC-Action", "CreateRecordTask"),
            ("X-TC-RequestClient", "SDK_PYTHON_3.1.195"),
            ("X-TC-Timestamp", "1700000000"),
            ("X-TC-Version", "2018-08-01"),
            ("X-TC-Region", "ap-guangzhou"),
            ("X-TC-Language", "zh-CN"),
            (
                "Authorization",
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/live/tc3_request, SignedHeaders=content-type;host, Signature=b646663518d81c6780d806e7ccff3f0e9a44aac1371b6c813138df6e342e38f6",
            ),
        ],
        body: V2_BODY,
        now: 1_700_000_000,
        action: "CreateRecordTask",
    },
    Vector {
        name: "v3",
        method: "GET",
        query: V3_QUERY,
        headers: &[
            ("Content-Type", FORM),
            ("Host", "127.0.0.1:8080"),
            ("X-TC-Action", "DescribeRecordTask"),
            ("X-TC-RequestClient", "SDK_PYTHON_3.1.195"),
            ("X-TC-Timestamp", "1700000000"),
            ("X-TC-Version", "2018-08-01"),
            ("X-TC-Region", "ap-guangzhou"),
            ("X-TC-Language", "zh-CN"),
            (
                "Authorization",
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/live/tc3_request, SignedHeaders=content-type;host, Signature=c7ac7e8725c80e3ab47378816264a7b66366981cf4014c7ea0dee17a55dc50e7",
            ),
        ],
        body: "",
        now: 1_700_000_000,
        action: "DescribeRecordTask",
    },
    Vector {
        name: "v4",
        method: "POST",
        query: "",
        headers: &[
            ("Content-Type", "application/json"),
            ("Host", "127.0.0.1:8080"),
            ("X-TC-Action", "StopRecordTask"),
            ("X-TC-RequestClient", "SDK_PYTHON_3.1.195"),
            ("X-TC-Timestamp", "1767225600"),
            ("X-TC-Version", "2018-08-01"),
            ("X-TC-Region", "ap-guangzhou"),
            ("X-TC-Token", "tmp-session-token-example"),
            ("X-TC-Language", "en-US"),
            (
                "Authorization",
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2026-01-01/live/tc3_request, SignedHeaders=content-type;host, Signature=848fa4908589e2969171d559743e2d6ae424ece94cf4f6d6889549fbc8a7162e",
            ),
        ],
        body: V4_BODY,
        now: 1_767_225_600,
        action: "StopRecordTask",
    },
    Vector {
        name: "v5",
        method: "POST",
        query: "",
        headers: &[("Content-Type", FORM), ("Host", "127.0.0.1:8080")],
        body: V5_BODY,
        now: 1_700_000_000,
        action: "CreateLiveRecord",
    },
    Vector {
        name: "v6",
        method: "GET",
        query: V6_QUERY,
        headers: &[("Content-Type", FORM), ("Host", "live.tencentcloudapi.com")],
        body: "",
        now: 1_700_000_000,
        action: "DeleteLiveRecord",
    },
    Vector {
        name: "v7",
        method: "POST",
        query: "",
        headers: &[("Content-Type", FORM), ("Host", "127.0.0.1:8080")],
        body: V7_BODY,
        now: 1_700_000_000,
        action: "CreateLiveRecordTemplate",
    },
    Vector {
        name: "n1",
        method: "POST",
        query: "",
        headers: &[
            ("content-type", "application/json"),
            ("host", "127.0.0.1:18080"),
            ("x-tc-action", "CreateRecordTask"),
            ("x-tc-timestamp", "1700000000"),
            ("x-tc-version", "2018-08-01"),
            ("x-tc-region", "ap-guangzhou"),
            ("x-tc-requestclient", "SDK_NODEJS_4.1.220"),
            (
                "authorization",
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/127/tc3_request, SignedHeaders=content-type;host, Signature=311e439481095e4598628c56f2fa07a74cd3dee076c891a911294fcb0002b8aa",
            ),
        ],
        body: NODE_BODY,
        now: 1_700_000_000,
        action: "CreateRecordTask",
    },
    Vector {
        name: "n2",
        method: "POST",
        query: "",
        headers: &[
            ("content-type", "application/json"),
            ("host", "localhost:18080"),
            ("x-tc-action", "CreateRecordTask"),
            ("x-tc-timestamp", "1700000000"),
            ("x-tc-version", "2018-08-01"),
            ("x-tc-region", "ap-guangzhou"),
            ("x-tc-requestclient", "SDK_NODEJS_4.1.220"),
            (
                "authorization",
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/localhost:18080/tc3_request, SignedHeaders=content-type;host, Signature=19a7adb812d217141d0507b40fa19e0f5e3a5323bdc2b871448f70b7bada667c",
            ),
        ],
        body: NODE_BODY,
        now: 1_700_000_000,
        action: "CreateRecordTask",
    },
];

/// The fuzz input layout of `fuzz/fuzz_targets/parse_request.rs`: method, query and headers
/// (`Name: value` lines) separated by NUL bytes, then the body.
pub(crate) fn fuzz_input(raw: &RawRequest) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(raw.method.as_bytes());
    out.push(0);
    out.extend_from_slice(raw.query.as_bytes());
    out.push(0);
    let headers: Vec<String> = raw
        .headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect();
    out.extend_from_slice(headers.join("\n").as_bytes());
    out.push(0);
    out.extend_from_slice(raw.body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The seed corpus is generated from the table; `TCAPI_BLESS=1 cargo test` rewrites it.
    #[test]
    fn fuzz_seed_corpus_is_current() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse_request");
        let bless = std::env::var_os("TCAPI_BLESS").is_some();
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
        }
        for v in VECTORS {
            let path = dir.join(v.name);
            let want = fuzz_input(&v.raw());
            if bless {
                std::fs::write(&path, &want).unwrap();
            } else {
                let have = std::fs::read(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}; run with TCAPI_BLESS=1", path.display()));
                assert_eq!(
                    have,
                    want,
                    "{} is stale; run with TCAPI_BLESS=1",
                    path.display()
                );
            }
        }
    }
}
