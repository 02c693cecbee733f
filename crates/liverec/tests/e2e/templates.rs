//! Recording templates and rules: every action through the official SDK
//! (typed LiveClient, JSON, form and query encodings) and tccli, their
//! error codes, the 50-template limit, account isolation, rules recording
//! the publishes that follow them, and templates driving CreateRecordTask.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;
use crate::probe::assert_valid;

fn create_template(s: &Server, o: &SdkOpts, p: Value) -> i64 {
    let r = s.sdk_with(o, "CreateLiveRecordTemplate", p).ok();
    r["TemplateId"].as_i64().expect("integer TemplateId")
}

fn describe_template(s: &Server, id: i64) -> Value {
    s.sdk("DescribeLiveRecordTemplate", json!({"TemplateId": id}))
        .ok()["Template"]
        .clone()
}

/// Runs tccli against the server; returns (success, stdout, stderr).
fn tccli_run(s: &Server, action: &str, args: &[&str]) -> (bool, String, String) {
    let out = s.tccli(action, args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn template_actions_answer_as_tencent_documents() {
    let s = Server::start();
    let full = json!({
        "TemplateName": "全格式_tpl-1",
        "Description": "every field",
        "FlvParam": {"Enable": 1, "RecordInterval": 3600, "StorageTime": 86400, "VodFileName": "{StreamID}_{StartYear}{StartMonth}{StartDay}"},
        "HlsParam": {"Enable": 1, "StorageTime": 0},
        "Mp4Param": {"Enable": 0, "RecordInterval": 43200, "StorageMode": "cold"},
        "AacParam": {"Enable": 1, "RecordInterval": 7200, "ClassId": 3},
        "Mp3Param": {"Enable": 1, "RecordInterval": 60, "CosBucketPath": "/rec/{StreamID}"},
        "IsDelayLive": 0,
        "HlsSpecialParam": {"FlowContinueDuration": 30},
        "CosStore": 1,
        "RemoveWatermark": true,
        "FlvSpecialParam": {"UploadInRecording": true}
    });
    let id = create_template(&s, &SdkOpts::default(), full.clone());
    let t = describe_template(&s, id);
    assert_eq!(t["TemplateId"], id);
    for k in [
        "TemplateName",
        "Description",
        "IsDelayLive",
        "HlsSpecialParam",
        "CosStore",
        "RemoveWatermark",
        "FlvSpecialParam",
    ] {
        assert_eq!(t[k], full[k], "{k}");
    }
    for (k, v) in [
        (
            "FlvParam",
            json!({"Enable": 1, "RecordInterval": 3600, "StorageTime": 86400}),
        ),
        (
            "HlsParam",
            json!({"Enable": 1, "RecordInterval": 1800, "StorageTime": 0}),
        ),
        (
            "Mp4Param",
            json!({"Enable": 0, "RecordInterval": 43200, "StorageMode": "cold"}),
        ),
        (
            "AacParam",
            json!({"Enable": 1, "RecordInterval": 7200, "ClassId": 3}),
        ),
        (
            "Mp3Param",
            json!({"Enable": 1, "RecordInterval": 60, "CosBucketPath": "/rec/{StreamID}"}),
        ),
    ] {
        for (field, want) in v.as_object().expect("object") {
            assert_eq!(&t[k][field], want, "{k}.{field}");
        }
    }
    assert_eq!(
        t["FlvParam"]["VodFileName"],
        full["FlvParam"]["VodFileName"]
    );

    // Nested parameters flattened by the SDK: v1 form POST and TC3 GET.
    for (sign, method) in [("hmacsha256", "POST"), ("tc3-get", "GET")] {
        let o = SdkOpts {
            sign: Some(sign),
            method: Some(method),
            ..Default::default()
        };
        let id2 = create_template(
            &s,
            &o,
            json!({"TemplateName": format!("flat-{sign}"), "FlvParam": {"Enable": 1, "RecordInterval": 600}, "HlsSpecialParam": {"FlowContinueDuration": 5}, "RemoveWatermark": true}),
        );
        let t2 = describe_template(&s, id2);
        assert_eq!(t2["FlvParam"]["Enable"], 1, "{sign}");
        assert_eq!(t2["FlvParam"]["RecordInterval"], 600, "{sign}");
        assert_eq!(t2["HlsSpecialParam"]["FlowContinueDuration"], 5, "{sign}");
        assert_eq!(t2["RemoveWatermark"], true, "{sign}");
        let o = SdkOpts {
            sign: Some(sign),
            method: Some(method),
            ..SdkOpts::common()
        };
        s.sdk_with(
            &o,
            "CreateLiveRecordTemplate",
            json!({"TemplateName": "x", "AacParam": {"RecordInterval": 7201}}),
        )
        .err_naming("InvalidParameterValue", "AacParam.RecordInterval");
        s.sdk_with(&o, "DeleteLiveRecordTemplate", json!({"TemplateId": id2}))
            .ok();
    }

    // Validation errors, before any effect.
    let c = SdkOpts::common();
    let create = "CreateLiveRecordTemplate";
    for (p, code, field) in [
        (json!({}), "MissingParameter", "TemplateName"),
        (
            json!({"TemplateName": ""}),
            "MissingParameter",
            "TemplateName",
        ),
        (
            json!({"TemplateName": "a b"}),
            "InvalidParameterValue",
            "TemplateName",
        ),
        (
            json!({"TemplateName": "x".repeat(31)}),
            "InvalidParameterValue",
            "TemplateName",
        ),
        (
            json!({"TemplateName": 5}),
            "InvalidParameter",
            "TemplateName",
        ),
        (
            json!({"TemplateName": "x", "FlvParam": {"RecordInterval": 59}}),
            "InvalidParameterValue",
            "FlvParam.RecordInterval",
        ),
        (
            json!({"TemplateName": "x", "Mp4Param": {"RecordInterval": 43201}}),
            "InvalidParameterValue",
            "Mp4Param.RecordInterval",
        ),
        (
            json!({"TemplateName": "x", "Mp3Param": {"StorageTime": 129_600_001}}),
            "InvalidParameterValue",
            "Mp3Param.StorageTime",
        ),
        (
            json!({"TemplateName": "x", "HlsParam": {"Enable": 2}}),
            "InvalidParameterValue",
            "HlsParam.Enable",
        ),
        (
            json!({"TemplateName": "x", "HlsParam": {"Enable": "on"}}),
            "InvalidParameter",
            "HlsParam.Enable",
        ),
        (
            json!({"TemplateName": "x", "FlvParam": "yes"}),
            "InvalidParameter",
            "FlvParam",
        ),
        (
            json!({"TemplateName": "x", "HlsSpecialParam": {"FlowContinueDuration": 1801}}),
            "InvalidParameterValue",
            "FlowContinueDuration",
        ),
        (
            json!({"TemplateName": "x", "IsDelayLive": 3}),
            "InvalidParameterValue",
            "IsDelayLive",
        ),
        (
            json!({"TemplateName": "x", "FlvParam": {"VodFileName": "{StreamID}_{Nope}"}}),
            "InvalidParameter.InvalidVodFileName",
            "{Nope}",
        ),
    ] {
        s.sdk_with(&c, create, p).err_naming(code, field);
    }
    let listed = |o: &SdkOpts, p: Value| -> Vec<i64> {
        s.sdk_with(o, "DescribeLiveRecordTemplates", p).ok()["Templates"]
            .as_array()
            .expect("Templates")
            .iter()
            .map(|t| t["TemplateId"].as_i64().expect("id"))
            .collect()
    };
    assert_eq!(
        listed(&SdkOpts::default(), json!({})),
        vec![id],
        "refused calls created nothing"
    );

    // Slow-live templates are listed apart (IsDelayLive defaults to 0).
    let slow = create_template(
        &s,
        &SdkOpts::default(),
        json!({"TemplateName": "slow", "IsDelayLive": 1, "HlsParam": {"Enable": 1}}),
    );
    assert_eq!(
        listed(&SdkOpts::default(), json!({"IsDelayLive": 0})),
        vec![id]
    );
    assert_eq!(
        listed(&SdkOpts::default(), json!({"IsDelayLive": 1})),
        vec![slow]
    );
    s.sdk_with(&c, "DescribeLiveRecordTemplates", json!({"IsDelayLive": 2}))
        .err_naming("InvalidParameterValue", "IsDelayLive");

    // Modify: absent fields keep their values.
    s.sdk(
        "ModifyLiveRecordTemplate",
        json!({"TemplateId": id, "TemplateName": "renamed", "FlvParam": {"Enable": 0}, "Mp4Param": {"Enable": 1}}),
    )
    .ok();
    let m = describe_template(&s, id);
    assert_eq!(m["TemplateName"], "renamed");
    assert_eq!(m["Description"], "every field");
    assert_eq!(m["FlvParam"]["Enable"], 0);
    assert_eq!(m["FlvParam"]["RecordInterval"], 3600);
    assert_eq!(m["Mp4Param"]["Enable"], 1);
    assert_eq!(m["HlsSpecialParam"], full["HlsSpecialParam"]);
    s.sdk_with(&c, "ModifyLiveRecordTemplate", json!({"TemplateName": "x"}))
        .err_naming("MissingParameter", "TemplateId");
    s.sdk_with(
        &c,
        "ModifyLiveRecordTemplate",
        json!({"TemplateId": id, "TemplateName": "a/b"}),
    )
    .err_naming("InvalidParameterValue", "TemplateName");
    s.sdk_with(
        &c,
        "ModifyLiveRecordTemplate",
        json!({"TemplateId": id, "FlvParam": {"RecordInterval": 1}}),
    )
    .err_naming("InvalidParameterValue", "FlvParam.RecordInterval");
    assert_eq!(
        describe_template(&s, id),
        m,
        "a refused Modify changes nothing"
    );

    // Unknown templates: each action's documented code.
    let ghost = 987_654;
    s.sdk_with(
        &c,
        "DescribeLiveRecordTemplate",
        json!({"TemplateId": ghost}),
    )
    .err_naming("FailedOperation.NotFound", "987654");
    s.sdk_with(
        &c,
        "ModifyLiveRecordTemplate",
        json!({"TemplateId": ghost, "Description": "x"}),
    )
    .err_naming("FailedOperation.NotFound", "987654");
    s.sdk_with(&c, "DeleteLiveRecordTemplate", json!({"TemplateId": ghost}))
        .err_naming("InternalError.ConfNotFound", "987654");
    s.sdk_with(&c, "DescribeLiveRecordTemplate", json!({}))
        .err_naming("MissingParameter", "TemplateId");
    s.sdk_with(
        &c,
        "DescribeLiveRecordTemplate",
        json!({"TemplateId": "abc"}),
    )
    .err_naming("InvalidParameter", "TemplateId");
}

#[test]
fn rule_actions_answer_as_tencent_documents() {
    let s = Server::start();
    let c = SdkOpts::common();
    let ghost = 987_654;
    let id = create_template(
        &s,
        &SdkOpts::default(),
        json!({"TemplateName": "r", "HlsParam": {"Enable": 1}}),
    );
    let slow = create_template(
        &s,
        &SdkOpts::default(),
        json!({"TemplateName": "slow", "IsDelayLive": 1}),
    );
    let before = cst(now_s());
    let rule = json!({"DomainName": "Push.Example.COM", "AppName": "live", "StreamName": "s1", "TemplateId": id});
    let r = s.sdk("CreateLiveRecordRule", rule.clone()).ok();
    assert!(r.get("RequestId").is_some(), "{r}");
    s.sdk("CreateLiveRecordRule", rule.clone())
        .err("FailedOperation.RuleAlreadyExist");
    s.sdk(
        "CreateLiveRecordRule",
        json!({"DomainName": "push.example.com", "TemplateId": slow}),
    )
    .ok();
    let after = cst(now_s());
    s.sdk_with(
        &c,
        "CreateLiveRecordRule",
        json!({"DomainName": "push.example.com", "StreamName": "s2", "TemplateId": ghost}),
    )
    .err_naming("InternalError.ConfNotFound", "987654");
    s.sdk_with(&c, "CreateLiveRecordRule", json!({"TemplateId": id}))
        .err_naming("MissingParameter", "DomainName");
    s.sdk_with(
        &c,
        "CreateLiveRecordRule",
        json!({"DomainName": "push.example.com"}),
    )
    .err_naming("MissingParameter", "TemplateId");
    s.sdk_with(
        &c,
        "CreateLiveRecordRule",
        json!({"DomainName": "bad domain!", "TemplateId": id}),
    )
    .err_naming("InvalidParameter.DomainFormatError", "DomainName");
    let rules = s.sdk("DescribeLiveRecordRules", json!({})).ok()["Rules"]
        .as_array()
        .cloned()
        .expect("Rules");
    assert_eq!(rules.len(), 2, "{rules:?}");
    let r0 = &rules[0];
    assert_eq!(
        (
            &r0["DomainName"],
            &r0["AppName"],
            &r0["StreamName"],
            &r0["TemplateId"]
        ),
        (
            &json!("push.example.com"),
            &json!("live"),
            &json!("s1"),
            &json!(id)
        )
    );
    // AppName defaults to live; StreamName "" = every stream.
    assert_eq!(
        (&rules[1]["AppName"], &rules[1]["StreamName"]),
        (&json!("live"), &json!(""))
    );
    for r in &rules {
        for k in ["CreateTime", "UpdateTime"] {
            let t = r[k].as_str().expect("time");
            assert!(
                t.len() == 19 && *t >= *before.as_str() && *t <= *after.as_str(),
                "{k} {t} not Beijing time in [{before}, {after}]"
            );
        }
    }
    s.sdk_with(&c, "DeleteLiveRecordTemplate", json!({"TemplateId": id}))
        .err_naming("FailedOperation.ConfInUsed", "rule");
    // Strict match on domain + app + stream.
    for p in [
        json!({"DomainName": "push.example.com", "AppName": "live", "StreamName": "s2"}),
        json!({"DomainName": "push.example.com", "AppName": "", "StreamName": "s1"}),
        json!({"DomainName": "other.example.com", "AppName": "live", "StreamName": "s1"}),
    ] {
        s.sdk_with(&c, "DeleteLiveRecordRule", p)
            .err("FailedOperation.NotFound");
    }
    s.sdk_with(&c, "DeleteLiveRecordRule", json!({"AppName": "live"}))
        .err_naming("MissingParameter", "DomainName");
    s.sdk(
        "DeleteLiveRecordRule",
        json!({"DomainName": "push.example.com", "AppName": "live", "StreamName": "s1"}),
    )
    .ok();
    s.sdk(
        "DeleteLiveRecordRule",
        json!({"DomainName": "push.example.com", "StreamName": ""}),
    )
    .ok();
    assert_eq!(
        s.sdk("DescribeLiveRecordRules", json!({})).ok()["Rules"],
        json!([])
    );
    s.sdk("DeleteLiveRecordTemplate", json!({"TemplateId": id}))
        .ok();
    s.sdk_with(&c, "DescribeLiveRecordTemplate", json!({"TemplateId": id}))
        .err_naming("FailedOperation.NotFound", "TemplateId");
}

#[test]
fn tccli_creates_and_describes_templates() {
    let s = Server::start();
    let (ok, out, err) = tccli_run(
        &s,
        "CreateLiveRecordTemplate",
        &[
            "--TemplateName",
            "cli",
            "--HlsParam",
            r#"{"Enable":1,"StorageTime":3600}"#,
            "--Mp3Param",
            r#"{"Enable":1}"#,
        ],
    );
    assert!(ok, "tccli failed: {err}");
    let v: Value = serde_json::from_str(&out).expect("tccli prints JSON");
    let cli_id = v["TemplateId"].as_i64().expect("TemplateId");
    let (ok, out, err) = tccli_run(&s, "DescribeLiveRecordTemplates", &[]);
    assert!(ok, "tccli failed: {err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let t = &v["Templates"][0];
    assert_eq!(
        (&t["TemplateId"], &t["TemplateName"]),
        (&json!(cli_id), &json!("cli"))
    );
    assert_eq!(
        (&t["HlsParam"]["Enable"], &t["HlsParam"]["StorageTime"]),
        (&json!(1), &json!(3600))
    );
    assert_eq!(t["Mp3Param"]["Enable"], 1);
    let (ok, _, err) = tccli_run(
        &s,
        "DescribeLiveRecordTemplate",
        &["--TemplateId", "987654"],
    );
    assert!(!ok);
    assert!(err.contains("FailedOperation.NotFound"), "{err}");
}

#[test]
fn fifty_templates_per_account_and_accounts_are_isolated() {
    // The bulk creation below exceeds the default 20 calls/s per action.
    let s = Server::start_with(&[("LIVEREC_RATE_OTHER", "1000")]);
    // 49 through raw signed calls (fast), the 50th and 51st through the SDK.
    for i in 1..50 {
        let body = json!({"TemplateName": format!("t{i}"), "HlsParam": {"Enable": 1}}).to_string();
        let r = signed_post(&s, "CreateLiveRecordTemplate", body.as_bytes());
        let v: Value = serde_json::from_slice(&r.body).expect("JSON");
        assert!(v["Response"]["TemplateId"].as_i64().is_some(), "{v}");
    }
    let fiftieth = create_template(&s, &SdkOpts::default(), json!({"TemplateName": "t50"}));
    s.sdk("CreateLiveRecordTemplate", json!({"TemplateName": "t51"}))
        .err_naming("InternalError.ConfOutLimit", "50");
    let all = s.sdk("DescribeLiveRecordTemplates", json!({})).ok()["Templates"]
        .as_array()
        .map(Vec::len);
    assert_eq!(all, Some(50));

    // Another account: none of A's templates or rules exist for it.
    s.sdk(
        "CreateLiveRecordRule",
        json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": "iso", "TemplateId": fiftieth}),
    )
    .ok();
    let b = s.new_account("carol");
    let bc = b.clone().common_client();
    let answers = [
        (
            "DescribeLiveRecordTemplate",
            json!({"TemplateId": fiftieth}),
            "FailedOperation.NotFound",
        ),
        (
            "ModifyLiveRecordTemplate",
            json!({"TemplateId": fiftieth, "Description": "mine"}),
            "FailedOperation.NotFound",
        ),
        (
            "DeleteLiveRecordTemplate",
            json!({"TemplateId": fiftieth}),
            "InternalError.ConfNotFound",
        ),
        (
            "CreateLiveRecordRule",
            json!({"DomainName": "127.0.0.1", "StreamName": "b", "TemplateId": fiftieth}),
            "InternalError.ConfNotFound",
        ),
        (
            "DeleteLiveRecordRule",
            json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": "iso"}),
            "FailedOperation.NotFound",
        ),
    ];
    for (action, p, code) in answers {
        s.sdk_with(&b, action, p).err(code);
    }
    assert_eq!(
        s.sdk_with(&bc, "DescribeLiveRecordTemplates", json!({}))
            .ok()["Templates"],
        json!([])
    );
    assert_eq!(
        s.sdk_with(&b, "DescribeLiveRecordRules", json!({})).ok()["Rules"],
        json!([])
    );
    // B has a quota of its own, and may bind the same app and stream on a
    // domain it owns; A's domain is not B's to bind (SPEC §2).
    let bt = create_template(&s, &b, json!({"TemplateName": "t1"}));
    s.sdk_with(
        &b,
        "CreateLiveRecordRule",
        json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": "iso", "TemplateId": bt}),
    )
    .err("ResourceNotFound.DomainNotExist");
    s.sdk_with(
        &b,
        "AddLiveDomain",
        json!({"DomainName": "carol.example.com", "DomainType": 0}),
    )
    .ok();
    s.sdk_with(
        &b,
        "CreateLiveRecordRule",
        json!({"DomainName": "carol.example.com", "AppName": "live", "StreamName": "iso", "TemplateId": bt}),
    )
    .ok();
    // A's template and rule are untouched.
    assert_eq!(describe_template(&s, fiftieth)["Description"], "");
    let rules = s.sdk("DescribeLiveRecordRules", json!({})).ok()["Rules"].clone();
    assert_eq!(rules.as_array().map(Vec::len), Some(1));
    assert_eq!(rules[0]["TemplateId"], fiftieth);
    s.sdk("DescribeLiveRecordTemplate", json!({"TemplateId": bt}))
        .err("FailedOperation.NotFound");
}

/// Starts publishing `streams` and waits until each is live; returns the
/// publishers and the time just before the first started.
fn publish(s: &Server, streams: &[&str]) -> (Vec<Publisher>, f64) {
    let t0 = now_f();
    let pubs = streams
        .iter()
        .map(|st| s.publish(st, "h264_aac_10s.flv"))
        .collect();
    (pubs, t0)
}

fn stream_files(s: &Server, stream: &str) -> Vec<Value> {
    s.files(json!({"StreamName": stream, "Limit": 100}))
}

/// Waits until `stream` has `n` files, all finished.
fn wait_stream_files(s: &Server, stream: &str, n: usize) -> Vec<Value> {
    let files = s.wait_files(
        json!({"StreamName": stream, "Limit": 100}),
        n..=n,
        Duration::from_secs(10),
    );
    assert_finished(&files);
    files
}

/// Downloads and validates a finished file; the media spans [min_s, max_s].
fn check(s: &Server, f: &Value, min_s: f64, max_s: f64) {
    let format = f["FileFormat"].as_str().expect("FileFormat");
    let path = s.download_file(f);
    let p = assert_valid(&path, format, min_s, max_s);
    match format {
        "mp3" => assert_eq!((p.codec("video"), p.codec("audio")), (None, Some("mp3"))),
        _ => assert_eq!(
            (p.codec("video"), p.codec("audio")),
            (Some("h264"), Some("aac"))
        ),
    }
}

fn formats(files: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = files
        .iter()
        .map(|f| f["FileFormat"].as_str().unwrap_or_default().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn a_rule_records_every_matching_publish_until_it_is_deleted() {
    let s = Server::start_with(&[("LIVEREC_HLS_SEGMENT_SECONDS", "2")]);
    let id = create_template(
        &s,
        &SdkOpts::default(),
        json!({"TemplateName": "auto", "HlsParam": {"Enable": 1}, "FlvParam": {"Enable": 1}, "Mp3Param": {"Enable": 1}}),
    );
    s.sdk(
        "CreateLiveRecordRule",
        json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": "r1", "TemplateId": id}),
    )
    .ok();

    // 1. The next publish of r1 is recorded in every enabled format; r2 is not.
    let (mut pubs, t0) = publish(&s, &["r1", "r2"]);
    let live = now_f();
    // Recording starts with the publish: files are listed while live.
    let during = wait_for(Duration::from_secs(5), "3 files recording r1", || {
        let f = stream_files(&s, "r1");
        (f.len() == 3).then_some(f)
    });
    assert_eq!(formats(&during), ["flv", "hls", "mp3"], "{during:?}");
    assert!(during.iter().all(|f| f["Status"] == "recording"));
    sleep_until(live + 6.0);
    assert_eq!(
        stream_files(&s, "r2"),
        Vec::<Value>::new(),
        "r2 matches no rule"
    );
    let stop0 = now_f();
    for p in &mut pubs {
        p.stop();
    }
    let stop1 = now_f();
    let files = wait_stream_files(&s, "r1", 3);
    assert_eq!(formats(&files), ["flv", "hls", "mp3"]);
    for f in &files {
        assert_eq!(f["TaskId"], "", "rule recordings have no TaskId");
        assert_eq!(
            (&f["DomainName"], &f["AppName"]),
            (&json!("127.0.0.1"), &json!("live"))
        );
        // From the first keyframe of the publish (at most one GOP before it
        // was seen live) to the publisher's stop.
        check(&s, f, stop0 - live - 1.0, stop1 - t0 + GOP + 1.0);
    }
    assert_eq!(
        stream_files(&s, "r2"),
        Vec::<Value>::new(),
        "r2 matches no rule"
    );

    // 2. A modified template applies from the next publish: FLV off.
    s.sdk(
        "ModifyLiveRecordTemplate",
        json!({"TemplateId": id, "FlvParam": {"Enable": 0}}),
    )
    .ok();
    let (mut pubs, _) = publish(&s, &["r1"]);
    std::thread::sleep(Duration::from_secs(4));
    pubs[0].stop();
    let files = wait_stream_files(&s, "r1", 5);
    let newest: Vec<Value> = files
        .iter()
        .filter(|f| f["StartTimeMs"].as_f64().unwrap_or(0.0) / 1000.0 > stop1)
        .cloned()
        .collect();
    assert_eq!(formats(&newest), ["hls", "mp3"], "{files:?}");

    // 3. After DeleteLiveRecordRule a new publish records nothing.
    s.sdk(
        "DeleteLiveRecordRule",
        json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": "r1"}),
    )
    .ok();
    let (mut pubs, _) = publish(&s, &["r1"]);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(stream_files(&s, "r1").len(), 5, "nothing new while live");
    pubs[0].stop();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        stream_files(&s, "r1").len(),
        5,
        "nothing new after the stop"
    );
}

#[test]
fn a_template_gives_create_record_task_its_formats() {
    let s = Server::start_with(&[("LIVEREC_HLS_SEGMENT_SECONDS", "2")]);
    let id = create_template(
        &s,
        &SdkOpts::default(),
        json!({"TemplateName": "task", "FlvParam": {"Enable": 1}, "HlsParam": {"Enable": 1}, "Mp3Param": {"Enable": 1}}),
    );
    let (mut pubs, _) = publish(&s, &["tt"]);
    std::thread::sleep(Duration::from_secs(2));
    let created0 = now_f();
    let task = s.create_task(
        json!({"StreamName": "tt", "DomainName": "127.0.0.1", "AppName": "live", "EndTime": now_s() + 120, "TemplateId": id}),
    );
    let created1 = now_f();
    std::thread::sleep(Duration::from_secs(5));
    let stop0 = now_f();
    s.sdk("StopRecordTask", json!({"TaskId": task})).ok();
    let stop1 = now_f();
    let files = s.wait_files(json!({"TaskId": task}), 3..=3, Duration::from_secs(10));
    assert_finished(&files);
    pubs[0].stop();
    assert_eq!(formats(&files), ["flv", "hls", "mp3"]);
    for f in &files {
        assert_eq!(f["TaskId"], task.as_str());
        check(&s, f, stop0 - created1 - 1.0, stop1 - created0 + GOP + 1.0);
    }
}
