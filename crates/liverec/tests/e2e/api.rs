//! The API surface: every call style of the official clients, the error
//! codes of bad input, the envelope, retry de-duplication, account
//! isolation.

use serde_json::{Value, json};

use crate::harness::*;

fn future_window() -> (String, String) {
    let t = now_s();
    (cst(t + 3600), cst(t + 7200))
}

fn create_params(stream: &str) -> Value {
    let (a, b) = future_window();
    json!({"StreamName": stream, "AppName": "live", "DomainName": "push.example.com", "StartTime": a, "EndTime": b})
}

#[test]
fn every_signature_style_of_the_sdk_is_accepted() {
    let s = Server::start();
    for (i, (sign, method)) in [
        ("tc3", "POST"),
        ("tc3-get", "GET"),
        ("hmacsha1", "GET"),
        ("hmacsha1", "POST"),
        ("hmacsha256", "POST"),
        ("hmacsha256", "GET"),
    ]
    .into_iter()
    .enumerate()
    {
        let o = SdkOpts {
            sign: Some(sign),
            method: Some(method),
            ..Default::default()
        };
        let mut p = create_params(&format!("sig{i}"));
        p["StreamParam"] = json!("record_interval=3600&storage_time=86400");
        let r = s.sdk_with(&o, "CreateLiveRecord", p).ok();
        assert!(r["TaskId"].as_i64().is_some(), "{sign} {method}: {r}");
        assert!(is_uuid(r["RequestId"].as_str().unwrap_or_default()));
        // CommonClient with the same style, for a liverec action.
        let o = o.common_client();
        let r = s
            .sdk_with(&o, "DescribeRecordFiles", json!({"Limit": 5}))
            .ok();
        assert_eq!(r["TotalCount"], 0, "{sign} {method}");
    }
}

#[test]
fn tccli_works_against_liverec() {
    let s = Server::start();
    let (a, b) = future_window();
    let v = s.tccli_ok(
        "CreateLiveRecord",
        &[
            "--StreamName",
            "cli",
            "--AppName",
            "live",
            "--StartTime",
            &a,
            "--EndTime",
            &b,
        ],
    );
    assert!(v["TaskId"].as_i64().is_some(), "{v}");
    // And an error through tccli: exit 255 with the code.
    let out = s.tccli(
        "StopLiveRecord",
        &["--StreamName", "cli", "--TaskId", "999999"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ResourceNotFound.TaskId"));
}

#[test]
fn bad_credentials_and_bad_input_get_the_right_codes() {
    let s = Server::start();
    let wrong_key = SdkOpts {
        secret_key: Some("not-the-key".into()),
        ..Default::default()
    };
    s.sdk_with(&wrong_key, "CreateLiveRecord", create_params("x"))
        .err("AuthFailure.SignatureFailure");
    let old = SdkOpts {
        skew: Some(-600),
        ..Default::default()
    };
    s.sdk_with(&old, "CreateLiveRecord", create_params("x"))
        .err("AuthFailure.SignatureExpire");
    let unknown = SdkOpts {
        secret_id: Some("AKIDnobody".into()),
        ..Default::default()
    };
    s.sdk_with(&unknown, "CreateLiveRecord", create_params("x"))
        .err("AuthFailure.SecretIdNotFound");

    // CreateLiveRecord with one parameter changed is refused as
    // InvalidParameterValue, the message naming `what`.
    let invalid = |key: &str, value: Value, what: &str| {
        let mut p = create_params("x");
        p[key] = value;
        s.sdk("CreateLiveRecord", p)
            .err_naming("InvalidParameterValue", what);
    };
    let mut p = create_params("x");
    p.as_object_mut().expect("obj").remove("StreamName");
    s.sdk("CreateLiveRecord", p)
        .err_naming("MissingParameter", "StreamName");
    invalid("FileFormat", json!("avi"), "FileFormat");
    invalid("StartTime", json!("2026-02-30 25:61:00"), "StartTime");
    let t = now_s();
    let p = json!({"StreamName": "x", "StartTime": cst(t + 7200), "EndTime": cst(t + 3600)});
    s.sdk("CreateLiveRecord", p).err_naming(
        "InvalidParameterValue",
        "EndTime must be later than StartTime",
    );
    let p = json!({"StreamName": "x", "StartTime": cst(t - 7200), "EndTime": cst(t - 3600)});
    s.sdk("CreateLiveRecord", p).err("InvalidParameterValue");
    let p = json!({"StreamName": "x", "EndTime": cst(t + 60)});
    s.sdk("CreateLiveRecord", p)
        .err_naming("MissingParameter", "StartTime");
    invalid("MixStream", json!(2), "MixStream");
    invalid("RecordType", json!("both"), "RecordType");
    // Every format and record type of Tencent is accepted, case-insensitively.
    for (k, v) in [
        ("FileFormat", "HLS"),
        ("FileFormat", "mp4"),
        ("FileFormat", "Aac"),
        ("FileFormat", "MP3"),
        ("RecordType", "AUDIO"),
    ] {
        let mut p = create_params(&format!("fmt-{k}-{v}"));
        p[k] = json!(v);
        s.create(p);
    }
    invalid("Highlight", json!(2), "Highlight");
    invalid(
        "StreamParam",
        json!("record_interval=60"),
        "record_interval",
    );
    // Highlight needs a live stream.
    s.sdk(
        "CreateLiveRecord",
        json!({"StreamName": "offline", "Highlight": 1}),
    )
    .err("ResourceUnavailable.StreamNotExist");
    s.sdk(
        "StopLiveRecord",
        json!({"StreamName": "x", "TaskId": 424242}),
    )
    .err("ResourceNotFound.TaskId");
    s.sdk("StopLiveRecord", json!({"StreamName": "x"}))
        .err("MissingParameter");

    let common = SdkOpts::common();
    s.sdk_with(&common, "NoSuchAction", json!({}))
        .err("InvalidAction");
    s.sdk_with(&common, "CreateCommonMixStream", json!({}))
        .err_naming("MissingParameter", "MixStreamSessionId");
    let v2017 = SdkOpts {
        version: Some("2017-01-01"),
        ..SdkOpts::common()
    };
    s.sdk_with(&v2017, "CreateLiveRecord", create_params("x"))
        .err("NoSuchVersion");
    s.sdk_with(&common, "DescribeRecordFiles", json!({"Limit": 500}))
        .err("InvalidParameterValue");
    s.sdk_with(&common, "DescribeRecordFiles", json!({"Limit": "many"}))
        .err("InvalidParameter");
}

fn envelope(r: &HttpResponse) -> Value {
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "exact content type"
    );
    let v: Value = serde_json::from_slice(&r.body).expect("JSON body");
    assert!(
        is_uuid(v["Response"]["RequestId"].as_str().unwrap_or_default()),
        "{v}"
    );
    v["Response"].clone()
}

#[test]
fn raw_requests_client_quirks_and_envelope() {
    let s = Server::start();
    let now = now_s();
    let body = br#"{"Limit":1}"#;
    let ep = s.endpoint();
    // Host with port (Python/Go), without port (Node signs the hostname),
    // a literal http:// Host (tccli), Node's service label.
    for (host_sent, host_signed, service) in [
        (ep.clone(), ep.clone(), "live"),
        (format!("http://{ep}"), format!("http://{ep}"), "live"),
    ] {
        let r = tc3_post(&s, "DescribeRecordFiles", body, &host_signed, service, now);
        assert_eq!(host_sent, host_signed);
        let v = envelope(&r);
        assert!(v.get("Error").is_none(), "{host_signed}: {v}");
    }
    // Node: sends Host with port but signs it without, service "127".
    let ct = "application/json";
    let sig = tcapi::sign_tc3(SECRET_KEY, "POST", "127.0.0.1", "", ct, body, now, "127");
    let auth = tcapi::tc3_authorization(SECRET_ID, now, "127", &sig);
    let ts = now.to_string();
    let r = http_request(
        s.api,
        "POST",
        "/",
        &[
            ("Content-Type", ct),
            ("Host", &ep),
            ("X-TC-Action", "DescribeRecordFiles"),
            ("X-TC-Version", "2018-08-01"),
            ("X-TC-Timestamp", &ts),
            ("Authorization", &auth),
        ],
        body,
    )
    .expect("node-style");
    assert!(envelope(&r).get("Error").is_none());

    // Non-JSON body (correctly signed) -> InvalidParameter.
    let r = tc3_post(&s, "CreateLiveRecord", b"StreamName=x", &ep, "live", now);
    assert_eq!(envelope(&r)["Error"]["Code"], "InvalidParameter");
    // Errors keep the envelope: unknown SecretId, no auth at all.
    let r = http_request(
        s.api,
        "POST",
        "/",
        &[
            ("Content-Type", "application/json"),
            ("X-TC-Action", "CreateLiveRecord"),
        ],
        b"{}",
    )
    .expect("req");
    let e = envelope(&r);
    assert!(
        e["Error"]["Code"]
            .as_str()
            .unwrap_or_default()
            .starts_with("AuthFailure")
            || e["Error"]["Code"] == "MissingParameter",
        "{e}"
    );
    // A body over 10 MiB.
    let big = vec![b' '; 10 * 1024 * 1024 + 10];
    let r = tc3_post(&s, "DescribeRecordFiles", &big, &ep, "live", now);
    assert_eq!(envelope(&r)["Error"]["Code"], "RequestSizeLimitExceeded");
    // A v1 request replayed verbatim is refused the second time.
    let form = v1_form(&ep, &ts, "4242");
    assert!(envelope(&v1_post(s.api, &ep, &form)).get("Error").is_none());
    assert_eq!(
        envelope(&v1_post(s.api, &ep, &form))["Error"]["Code"],
        "AuthFailure.InvalidAuthorization"
    );
}

#[test]
fn identical_create_within_a_minute_returns_the_same_task() {
    let s = Server::start();
    let p = create_params("dup");
    let a = s.create(p.clone());
    let b = s.create(p.clone());
    assert_eq!(a, b);
    // The same effective parameters spelled differently are the same call.
    let mut same = p.clone();
    same["FileFormat"] = json!("FLV");
    assert_eq!(s.create(same), a);
    let mut other = p;
    other["StreamParam"] = json!("storage_time=600");
    let c = s.create(other);
    assert_ne!(a, c, "different parameters make a new task");
}
