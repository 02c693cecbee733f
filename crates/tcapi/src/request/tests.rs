//! Unit tests of `request`.

use super::*;
use crate::code::ErrorCode;
use crate::mac::{hmac_sha256, sha256_hex};
use crate::tc3::{canonical_request, signing_key, string_to_sign, utc_date};
use crate::vectors::{SECRET_ID, SECRET_KEY, V1_BODY, VECTORS};
use crate::{sign_tc3, sign_v1, tc3_authorization, v1_string_to_sign};
use proptest::prelude::*;
use serde_json::{Value, json};

/// An owned request, so tests can edit it before borrowing it as a [`RawRequest`].
#[derive(Debug, Clone)]
struct Owned {
    method: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Owned {
    fn from_raw(raw: &RawRequest) -> Owned {
        Owned {
            method: raw.method.to_owned(),
            query: raw.query.to_owned(),
            headers: raw
                .headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: raw.body.to_vec(),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&RawRequest) -> R) -> R {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        f(&RawRequest {
            method: &self.method,
            query: &self.query,
            headers: &headers,
            body: &self.body,
        })
    }

    fn set_header(&mut self, name: &str, value: &str) {
        self.remove_header(name);
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    fn parse(&self) -> Result<Request, ApiError> {
        self.with(parse)
    }

    fn check(&self, key: &str, now: i64) -> Result<Request, ApiError> {
        self.with(|raw| {
            let req = parse(raw)?;
            verify(&req, raw, key, now)?;
            Ok(req)
        })
    }

    /// Asserts that the request, checked with the vectors' key at `now`,
    /// fails its signature.
    fn assert_bad_signature(&self, now: i64) {
        assert_eq!(
            code_of(self.check(SECRET_KEY, now)),
            ErrorCode::AuthFailureSignatureFailure
        );
    }
}

/// A TC3 call signed the way the Python SDK signs it.
fn tc3_call(key: &str, method: &str, host: &str, query: &str, body: &[u8], ts: i64) -> Owned {
    let ct = if method == "GET" {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    let sig = sign_tc3(key, method, host, query, ct, body, ts, "live");
    Owned {
        method: method.to_owned(),
        query: query.to_owned(),
        headers: vec![
            ("Content-Type".into(), ct.into()),
            ("Host".into(), host.into()),
            ("X-TC-Action".into(), "CreateLiveRecord".into()),
            ("X-TC-Timestamp".into(), ts.to_string()),
            ("X-TC-Version".into(), "2018-08-01".into()),
            (
                "Authorization".into(),
                tc3_authorization(SECRET_ID, ts, "live", &sig),
            ),
        ],
        body: body.to_vec(),
    }
}

/// A v1 call: `action_params` plus the common parameters, signed over `host`.
fn v1_call(
    key: &str,
    method: &str,
    host: &str,
    sign_method: &str,
    action_params: &[(String, String)],
    ts: i64,
) -> Owned {
    let mut pairs = action_params.to_vec();
    for (k, v) in [
        ("Action", "CreateLiveRecord"),
        ("Nonce", "11886"),
        ("Timestamp", &ts.to_string()),
        ("Version", "2018-08-01"),
        ("SecretId", SECRET_ID),
        ("SignatureMethod", sign_method),
    ] {
        pairs.push((k.to_owned(), v.to_owned()));
    }
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let sm = if sign_method == "HmacSHA256" {
        SignMethod::HmacSha256
    } else {
        SignMethod::HmacSha1
    };
    let sig = sign_v1(key, sm, &v1_string_to_sign(method, host, &refs));
    pairs.push(("Signature".to_owned(), sig));
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    let (query, body) = if method == "GET" {
        (encoded, Vec::new())
    } else {
        (String::new(), encoded.into_bytes())
    };
    Owned {
        method: method.to_owned(),
        query,
        headers: vec![
            (
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ("Host".into(), host.into()),
        ],
        body,
    }
}

fn code_of(r: Result<Request, ApiError>) -> ErrorCode {
    match r {
        Ok(req) => panic!("accepted: {req:?}"),
        Err(e) => e.code,
    }
}

fn params_json(req: &Request) -> Value {
    Value::Object(req.params.as_map().clone())
}

#[test]
fn every_vector_parses_and_verifies_at_its_timestamp() {
    for v in VECTORS {
        let raw = v.raw();
        let req = parse(&raw).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(req.action, v.action, "{}", v.name);
        assert_eq!(req.secret_id, SECRET_ID, "{}", v.name);
        assert_eq!(req.version, "2018-08-01", "{}", v.name);
        assert_eq!(req.region.as_deref(), Some("ap-guangzhou"), "{}", v.name);
        verify(&req, &raw, SECRET_KEY, v.now).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        verify(&req, &raw, SECRET_KEY, v.now + 300).unwrap();
        verify(&req, &raw, SECRET_KEY, v.now - 300).unwrap();
        for now in [v.now + 301, v.now - 301, v.now - 600] {
            let e = verify(&req, &raw, SECRET_KEY, now).unwrap_err();
            assert_eq!(e.code, ErrorCode::AuthFailureSignatureExpire, "{}", v.name);
        }
        let e = verify(&req, &raw, "Gu5t9xGARNpq86cd98joQYCN3EXAMPLf", v.now).unwrap_err();
        assert_eq!(e.code, ErrorCode::AuthFailureSignatureFailure, "{}", v.name);
        assert_eq!(
            e.message,
            "The provided credentials could not be validated. Please check your signature is correct."
        );
    }
}

#[test]
fn tc3_vector_fields() {
    let v1 = parse(&VECTORS[0].raw()).unwrap();
    assert_eq!(v1.sign_method, SignMethod::Tc3);
    assert_eq!(v1.language, Language::ZhCn);
    assert_eq!(v1.timestamp, 1_700_000_000);
    assert_eq!((v1.nonce, v1.token.as_deref()), (None, None));
    assert_eq!(
        params_json(&v1),
        serde_json::from_str::<Value>(V1_BODY).unwrap()
    );

    let v2 = parse(&VECTORS[1].raw()).unwrap();
    assert_eq!(v2.params.u64_req("EndTime").unwrap(), 1_700_003_600);
    assert_eq!(v2.params.u64_req("TemplateId").unwrap(), 0);

    let v3 = parse(&VECTORS[2].raw()).unwrap();
    assert_eq!(
        params_json(&v3),
        json!({"StartTime": "1699913600", "EndTime": "1700000000", "StreamName": "livetest"})
    );
    assert_eq!(v3.params.u64_req("StartTime").unwrap(), 1_699_913_600);

    let v4 = parse(&VECTORS[3].raw()).unwrap();
    assert_eq!(v4.token.as_deref(), Some("tmp-session-token-example"));
    let debug = format!("{v4:?}");
    assert!(!debug.contains("tmp-session-token-example"), "{debug}");
    assert!(debug.contains("StopRecordTask"), "{debug}");
    assert_eq!(v4.language, Language::EnUs);
    assert_eq!(v4.timestamp, 1_767_225_600);

    let n1 = parse(&VECTORS[7].raw()).unwrap();
    assert_eq!(n1.language, Language::EnUs, "absent X-TC-Language");
}

#[test]
fn v1_vector_fields() {
    let v5 = parse(&VECTORS[4].raw()).unwrap();
    assert_eq!(v5.sign_method, SignMethod::HmacSha256);
    assert_eq!(v5.nonce, Some(11_886));
    assert_eq!(v5.timestamp, 1_700_000_000);
    assert_eq!(v5.language, Language::ZhCn);
    assert_eq!(
        params_json(&v5),
        json!({
            "StreamName": "livetest", "Highlight": "1", "MixStream": "0",
            "StreamParam": "record_interval=3600&storage_time=2592000"
        })
    );
    let v6 = parse(&VECTORS[5].raw()).unwrap();
    assert_eq!(v6.sign_method, SignMethod::HmacSha1);
    assert_eq!(
        params_json(&v6),
        json!({"StreamName": "livetest", "TaskId": "1234567"})
    );
    assert_eq!(v6.params.i64_req("TaskId").unwrap(), 1_234_567);
}

#[test]
fn tampered_requests_fail_the_signature() {
    let mut body = Owned::from_raw(&VECTORS[0].raw());
    body.body = V1_BODY.replace("livetest", "livetesT").into_bytes();
    body.assert_bad_signature(1_700_000_000);

    let mut query = Owned::from_raw(&VECTORS[2].raw());
    query.query = query.query.replace("livetest", "other");
    query.assert_bad_signature(1_700_000_000);

    let mut host = Owned::from_raw(&VECTORS[1].raw());
    host.set_header("Host", "127.0.0.1:9090");
    host.assert_bad_signature(1_700_000_000);

    let mut ts = Owned::from_raw(&VECTORS[0].raw());
    ts.set_header("X-TC-Timestamp", "1700000001");
    ts.assert_bad_signature(1_700_000_000);

    let mut form = Owned::from_raw(&VECTORS[4].raw());
    form.body = String::from_utf8(form.body)
        .unwrap()
        .replace("Highlight=1", "Highlight=0")
        .into_bytes();
    form.assert_bad_signature(1_700_000_000);

    let mut v1_host = Owned::from_raw(&VECTORS[5].raw());
    v1_host.set_header("Host", "evil.example.com");
    v1_host.assert_bad_signature(1_700_000_000);
}

#[test]
fn stale_timestamp_is_signature_expire_before_signature() {
    let call = tc3_call(
        SECRET_KEY,
        "POST",
        "127.0.0.1:8080",
        "",
        b"{}",
        1_700_000_000,
    );
    let e = call.check("wrong key", 1_700_000_600).unwrap_err();
    assert_eq!(e.code, ErrorCode::AuthFailureSignatureExpire);
    assert!(e.message.starts_with("Signature expired."), "{}", e.message);
    let e = call.check(SECRET_KEY, 1_699_999_000).unwrap_err();
    assert_eq!(e.code, ErrorCode::AuthFailureSignatureExpire);
    call.check(SECRET_KEY, 1_700_000_299).unwrap();
    let e = call.check(SECRET_KEY, i64::MIN).unwrap_err();
    assert_eq!(e.code, ErrorCode::AuthFailureSignatureExpire);
}

#[test]
fn tccli_literal_scheme_host_is_signed_verbatim() {
    let call = tc3_call(
        SECRET_KEY,
        "POST",
        "http://127.0.0.1:8080",
        "",
        br#"{"StreamName":"s"}"#,
        1_700_000_000,
    );
    let req = call.check(SECRET_KEY, 1_700_000_010).unwrap();
    assert_eq!(req.params.str_req("StreamName").unwrap(), "s");
}

#[test]
fn host_signed_without_port_is_accepted() {
    let mut call = tc3_call(SECRET_KEY, "POST", "127.0.0.1", "", b"{}", 1_700_000_000);
    call.set_header("Host", "127.0.0.1:18080");
    call.check(SECRET_KEY, 1_700_000_000).unwrap();
    let mut call = tc3_call(SECRET_KEY, "POST", "[::1]", "", b"{}", 1_700_000_000);
    call.set_header("Host", "[::1]:18080");
    call.check(SECRET_KEY, 1_700_000_000).unwrap();
    let mut v1 = v1_call(
        SECRET_KEY,
        "POST",
        "localhost",
        "HmacSHA1",
        &[],
        1_700_000_000,
    );
    v1.set_header("Host", "localhost:8080");
    v1.check(SECRET_KEY, 1_700_000_000).unwrap();
}

#[test]
fn lower_cased_header_values_and_extra_signed_headers_are_accepted() {
    // Newer docs sign `content-type;host;x-tc-action` with lower-cased values.
    let ts = 1_700_000_000;
    let body = b"{}";
    let names = ["content-type", "host", "x-tc-action"];
    let values = [
        "application/json",
        "live.tencentcloudapi.com",
        "createliverecord",
    ];
    let headers: Vec<(&str, &str)> = names.iter().copied().zip(values.iter().copied()).collect();
    let canonical = canonical_request("POST", "", &headers, &names.join(";"), &sha256_hex(body));
    let date = utc_date(ts);
    let to_sign = string_to_sign(
        &ts.to_string(),
        &format!("{date}/live/tc3_request"),
        &canonical,
    );
    let key = signing_key(SECRET_KEY, &date, "live").unwrap();
    let sig = hex::encode(hmac_sha256(&key, to_sign.as_bytes()).unwrap());
    let mut call = tc3_call(SECRET_KEY, "POST", "Live.TencentCloudAPI.com", "", body, ts);
    call.set_header("Content-Type", "Application/JSON");
    call.set_header(
        "Authorization",
        &format!(
            "TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/live/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature={sig}"
        ),
    );
    call.check(SECRET_KEY, ts).unwrap();
}

#[test]
fn unsigned_payload_marker_skips_the_body_hash() {
    let ts = 1_700_000_000;
    let sig = sign_tc3(
        SECRET_KEY,
        "POST",
        "h",
        "",
        "application/json",
        b"UNSIGNED-PAYLOAD",
        ts,
        "live",
    );
    let mut call = tc3_call(SECRET_KEY, "POST", "h", "", br#"{"A":"b"}"#, ts);
    call.set_header(
        "Authorization",
        &tc3_authorization(SECRET_ID, ts, "live", &sig),
    );
    call.set_header("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD");
    assert_eq!(
        call.check(SECRET_KEY, ts)
            .unwrap()
            .params
            .str_req("A")
            .unwrap(),
        "b"
    );
    call.remove_header("X-TC-Content-SHA256");
    call.assert_bad_signature(ts);
}

#[test]
fn empty_and_non_object_bodies() {
    let ts = 1_700_000_000;
    let empty = tc3_call(SECRET_KEY, "POST", "h", "", b"", ts);
    assert!(
        empty
            .check(SECRET_KEY, ts)
            .unwrap()
            .params
            .as_map()
            .is_empty()
    );
    for body in [
        &b"not json"[..],
        b"[1,2]",
        b"\"s\"",
        b"{",
        b"\xff\xfe",
        b"null",
    ] {
        let call = tc3_call(SECRET_KEY, "POST", "h", "", body, ts);
        let e = call.parse().unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameter);
        assert_eq!(e.message, "request body is not a JSON object");
    }
}

#[test]
fn missing_and_malformed_common_parameters() {
    let call = tc3_call(SECRET_KEY, "POST", "h", "", b"{}", 1_700_000_000);
    let cases: [(&str, Option<&str>, ErrorCode); 8] = [
        ("X-TC-Action", None, ErrorCode::MissingParameter),
        ("X-TC-Action", Some(" "), ErrorCode::MissingParameter),
        ("X-TC-Version", None, ErrorCode::MissingParameter),
        ("X-TC-Timestamp", None, ErrorCode::MissingParameter),
        ("X-TC-Timestamp", Some("17e8"), ErrorCode::InvalidParameter),
        (
            "X-TC-Timestamp",
            Some("99999999999999999999"),
            ErrorCode::InvalidParameter,
        ),
        (
            "X-TC-Language",
            Some("fr-FR"),
            ErrorCode::InvalidParameterValue,
        ),
        (
            "Authorization",
            Some("TC3-HMAC-SHA256 nonsense"),
            ErrorCode::AuthFailureInvalidAuthorization,
        ),
    ];
    for (name, value, want) in cases {
        let mut c = call.clone();
        match value {
            Some(v) => c.set_header(name, v),
            None => c.remove_header(name),
        }
        assert_eq!(code_of(c.parse()), want, "{name} {value:?}");
    }
    let mut c = call.clone();
    c.remove_header("X-TC-Action");
    assert_eq!(c.parse().unwrap_err().message, "X-TC-Action is required");
    // a signed header that was not sent
    let mut c = call.clone();
    c.remove_header("Content-Type");
    assert_eq!(
        code_of(c.parse()),
        ErrorCode::AuthFailureInvalidAuthorization
    );
    // X-TC-* headers without Authorization
    let mut c = call;
    c.remove_header("Authorization");
    assert_eq!(
        code_of(c.parse()),
        ErrorCode::AuthFailureInvalidAuthorization
    );
}

#[test]
fn v1_missing_and_malformed_parameters() {
    let base = v1_call(SECRET_KEY, "GET", "h", "HmacSHA256", &[], 1_700_000_000);
    for (name, want) in [
        ("Action", ErrorCode::MissingParameter),
        ("Version", ErrorCode::MissingParameter),
        ("SecretId", ErrorCode::MissingParameter),
        ("Signature", ErrorCode::MissingParameter),
        ("Timestamp", ErrorCode::MissingParameter),
        ("Nonce", ErrorCode::MissingParameter),
    ] {
        let mut c = base.clone();
        let pairs: Vec<(String, String)> = form_urlencoded::parse(c.query.as_bytes())
            .into_owned()
            .filter(|(k, _)| k != name)
            .collect();
        c.query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let e = c.parse().unwrap_err();
        assert_eq!(e.code, want, "{name}");
        assert_eq!(e.message, format!("{name} is required"));
    }
    for (from, to, want) in [
        ("Nonce=11886", "Nonce=abc", ErrorCode::InvalidParameter),
        ("Nonce=11886", "Nonce=-1", ErrorCode::InvalidParameter),
        (
            "Timestamp=1700000000",
            "Timestamp=x",
            ErrorCode::InvalidParameter,
        ),
        ("Action=", "Action=A&Action=", ErrorCode::InvalidParameter),
        (
            "Signature=",
            "Signature=%21%21%21&X=",
            ErrorCode::AuthFailureSignatureFailure,
        ),
    ] {
        let mut c = base.clone();
        assert!(c.query.contains(from), "{from}");
        c.query = c.query.replacen(from, to, 1);
        assert_eq!(code_of(c.parse()), want, "{to}");
    }
    let e = Owned {
        method: "GET".into(),
        query: String::new(),
        headers: vec![],
        body: vec![],
    }
    .parse()
    .unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (ErrorCode::MissingParameter, "Action is required")
    );
}

#[test]
fn v1_details() {
    let pairs = vec![("StreamName".to_owned(), "a b+c/é".to_owned())];
    // GET and POST, both methods; '+' left raw in a query still decodes the signature.
    for method in ["GET", "POST"] {
        for sm in ["HmacSHA1", "HmacSHA256"] {
            let call = v1_call(
                SECRET_KEY,
                method,
                "127.0.0.1:8080",
                sm,
                &pairs,
                1_700_000_000,
            );
            let req = call.check(SECRET_KEY, 1_700_000_000).unwrap();
            assert_eq!(req.params.str_req("StreamName").unwrap(), "a b+c/é");
        }
    }
    // A POST with an empty body is read from the query.
    let mut call = v1_call(SECRET_KEY, "POST", "h", "HmacSHA1", &pairs, 1_700_000_000);
    call.query = String::from_utf8(std::mem::take(&mut call.body)).unwrap();
    call.check(SECRET_KEY, 1_700_000_000).unwrap();
    call.method = "GET".into();
    call.assert_bad_signature(1_700_000_000);
    // SignatureMethod absent means HmacSHA1.
    let call = v1_call(SECRET_KEY, "GET", "h", "", &pairs, 1_700_000_000);
    assert_eq!(call.parse().unwrap().sign_method, SignMethod::HmacSha1);
    call.check(SECRET_KEY, 1_700_000_000).unwrap();
}

#[test]
fn only_get_and_post() {
    for method in ["PUT", "DELETE", "get", "", "PATCH"] {
        let mut call = tc3_call(SECRET_KEY, "POST", "h", "", b"{}", 1_700_000_000);
        call.method = method.into();
        let e = call.parse().unwrap_err();
        assert_eq!(e.code, ErrorCode::UnsupportedProtocol, "{method}");
    }
}

#[test]
fn strip_port_cases() {
    assert_eq!(strip_port("127.0.0.1:8080"), Some("127.0.0.1"));
    assert_eq!(strip_port("localhost:18080"), Some("localhost"));
    assert_eq!(strip_port("[::1]:80"), Some("[::1]"));
    assert_eq!(
        strip_port("http://127.0.0.1:8080"),
        Some("http://127.0.0.1")
    );
    assert_eq!(strip_port("live.tencentcloudapi.com"), None);
    assert_eq!(strip_port("[::1]"), None);
    assert_eq!(strip_port(":80"), None);
    assert_eq!(strip_port("h:"), None);
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn json_object() -> impl Strategy<Value = serde_json::Map<String, Value>> {
    let value = json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[A-Za-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map("[A-Za-z][A-Za-z0-9]{0,8}", value, 0..6)
        .prop_map(|m| m.into_iter().collect())
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9.-]{1,20}",
        "[a-z0-9.-]{1,20}:[0-9]{1,5}",
        "http://127\\.0\\.0\\.1:[0-9]{1,5}",
    ]
}

proptest! {
    #[test]
    fn tc3_sign_verify_roundtrip(
        obj in json_object(),
        pretty in any::<bool>(),
        get in any::<bool>(),
        host in host(),
        ts in 0_i64..4_000_000_000,
        skew in -300_i64..=300,
    ) {
        let (method, query, body) = if get {
            let pairs = crate::Params::from_map(obj.clone()).to_pairs();
            // nulls inside lists leave index gaps that unflattening rightly rejects
            prop_assume!(crate::Params::from_pairs(pairs.clone()).is_ok());
            let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
            ("GET", q, Vec::new())
        } else if pretty {
            ("POST", String::new(), serde_json::to_vec_pretty(&obj).unwrap())
        } else {
            ("POST", String::new(), serde_json::to_vec(&obj).unwrap())
        };
        let call = tc3_call(SECRET_KEY, method, &host, &query, &body, ts);
        let req = call.check(SECRET_KEY, ts + skew).unwrap();
        if !get {
            prop_assert_eq!(req.params.as_map(), &obj);
        }
        prop_assert_eq!(code_of(call.check("another key", ts)), ErrorCode::AuthFailureSignatureFailure);
    }

    #[test]
    fn v1_sign_verify_roundtrip(
        params in prop::collection::btree_map(
            "[A-Za-z][A-Za-z0-9_]{0,8}".prop_filter("common", |k| !crate::v1::is_common(k)),
            "\\PC{0,16}",
            0..8,
        ),
        get in any::<bool>(),
        sha256 in any::<bool>(),
        host in host(),
        ts in 0_i64..4_000_000_000,
    ) {
        let pairs: Vec<(String, String)> = params.into_iter().collect();
        let sm = if sha256 { "HmacSHA256" } else { "HmacSHA1" };
        let method = if get { "GET" } else { "POST" };
        let call = v1_call(SECRET_KEY, method, &host, sm, &pairs, ts);
        let req = call.check(SECRET_KEY, ts).unwrap();
        prop_assert_eq!(req.params, crate::Params::from_pairs(pairs.clone()).unwrap());
        prop_assert_eq!(req.nonce, Some(11_886));
        prop_assert_eq!(code_of(call.check("another key", ts)), ErrorCode::AuthFailureSignatureFailure);
    }

    #[test]
    fn parse_never_panics(
        method in prop_oneof![Just("GET".to_owned()), Just("POST".to_owned()), "\\PC{0,6}"],
        query in "\\PC{0,64}",
        headers in prop::collection::vec(
            (
                prop_oneof![
                    Just("Authorization".to_owned()), Just("Host".to_owned()),
                    Just("X-TC-Action".to_owned()), Just("X-TC-Timestamp".to_owned()),
                    Just("X-TC-Version".to_owned()), Just("X-TC-Language".to_owned()),
                    Just("X-TC-Content-SHA256".to_owned()), Just("Content-Type".to_owned()),
                    "\\PC{0,8}",
                ],
                prop_oneof![
                    "\\PC{0,32}",
                    "TC3-HMAC-SHA256 Credential=[A-Za-z/:0-9_-]{0,30}, SignedHeaders=[a-z;-]{0,20}, Signature=[0-9a-f]{0,64}",
                    "[0-9]{1,12}",
                ],
            ),
            0..8,
        ),
        body in prop_oneof![prop::collection::vec(any::<u8>(), 0..64), "\\PC{0,64}".prop_map(String::into_bytes)],
        now in any::<i64>(),
    ) {
        let call = Owned { method, query, headers, body };
        call.with(|raw| {
            if let Ok(req) = parse(raw) {
                let _ = verify(&req, raw, "k", now);
                let _ = verify(&req, raw, "k", req.timestamp);
            }
        });
    }
}

/// A request built to exceed one of the parser's caps by `extra`.
#[derive(Debug, Clone, Copy)]
enum Bomb {
    /// v1 form or query with too many distinct parameters.
    V1Pairs,
    /// v1 form or query with a flattened list of too many items.
    V1ListItems,
    /// v1 form or query with one huge list index.
    V1ListIndex,
    /// TC3 GET query with too many parameters.
    Tc3QueryPairs,
    /// TC3 JSON body with too many values.
    JsonElements,
    /// TC3 JSON body nested too deeply.
    JsonDepth,
}

impl Bomb {
    /// The call, and the code and constant its refusal must name.
    fn build(self, extra: usize, get: bool) -> (Owned, ErrorCode, &'static str) {
        let ts = 1_700_000_000;
        let method = if get { "GET" } else { "POST" };
        let v1 = |pairs: Vec<(String, String)>| v1_call(SECRET_KEY, method, "h", "", &pairs, ts);
        let numbered = |n: usize, key: &dyn Fn(usize) -> String| -> Vec<(String, String)> {
            (0..n).map(|i| (key(i), "1".to_owned())).collect()
        };
        let too_many = ErrorCode::RequestSizeLimitExceeded;
        let invalid = ErrorCode::InvalidParameter;
        match self {
            Bomb::V1Pairs => (
                v1(numbered(crate::MAX_PARAMS + extra, &|i| format!("P{i}"))),
                too_many,
                "MAX_PARAMS",
            ),
            Bomb::V1ListItems => (
                v1(numbered(crate::MAX_PARAMS + extra, &|i| format!("A.{i}"))),
                too_many,
                "MAX_PARAMS",
            ),
            Bomb::V1ListIndex => (
                v1(vec![(
                    format!("A.{}.B", crate::MAX_LIST_INDEX + 1 + extra * 997),
                    "x".to_owned(),
                )]),
                invalid,
                "MAX_LIST_INDEX",
            ),
            Bomb::Tc3QueryPairs => {
                let pairs = numbered(crate::MAX_PARAMS + 1 + extra, &|i| format!("P{i}"));
                let query = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&pairs)
                    .finish();
                (
                    tc3_call(SECRET_KEY, "GET", "h", &query, b"", ts),
                    too_many,
                    "MAX_PARAMS",
                )
            }
            Bomb::JsonElements => {
                let items = vec!["1"; crate::MAX_JSON_ELEMENTS + extra].join(",");
                let body = format!("{{\"L\":[{items}]}}");
                (
                    tc3_call(SECRET_KEY, "POST", "h", "", body.as_bytes(), ts),
                    too_many,
                    "MAX_JSON_ELEMENTS",
                )
            }
            Bomb::JsonDepth => {
                let n = crate::MAX_JSON_DEPTH + extra;
                let body = format!("{{\"A\":{}{}}}", "[".repeat(n), "]".repeat(n));
                (
                    tc3_call(SECRET_KEY, "POST", "h", "", body.as_bytes(), ts),
                    invalid,
                    "MAX_JSON_DEPTH",
                )
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn over_limit_requests_are_refused_naming_the_limit(
        bomb in prop_oneof![
            Just(Bomb::V1Pairs), Just(Bomb::V1ListItems), Just(Bomb::V1ListIndex),
            Just(Bomb::Tc3QueryPairs), Just(Bomb::JsonElements), Just(Bomb::JsonDepth),
        ],
        extra in prop_oneof![0_usize..4, 4_usize..2000],
        get in any::<bool>(),
    ) {
        let (call, code, constant) = bomb.build(extra, get);
        let e = call.parse().unwrap_err();
        prop_assert_eq!(e.code, code, "{:?}: {}", bomb, e.message);
        prop_assert!(e.message.contains(constant), "{:?}: {}", bomb, e.message);
        prop_assert!(e.message.len() < 300, "{:?}: {}", bomb, e.message);
    }
}
