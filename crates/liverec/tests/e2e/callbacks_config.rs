//! Callback templates and rules (reference §3.1) through the official
//! Python SDK (JSON, form and query encodings) and tccli: every field
//! round-trips, Modify keeps what it does not name, a bound template cannot
//! be deleted, the error codes, the 50-template quota, and a second account
//! can neither see, change, delete nor bind the first account's template,
//! nor put a rule on its domain.

use serde_json::{Value, json};

use crate::harness::*;

/// Every field CreateLiveCallbackTemplate takes.
fn full_template() -> Value {
    json!({
        "TemplateName": "回调_cb-1",
        "Description": "every field",
        "StreamBeginNotifyUrl": "http://127.0.0.1:9/begin",
        "StreamEndNotifyUrl": "http://127.0.0.1:9/end",
        "RecordNotifyUrl": "https://receiver.example.com/record?x=1&y=2",
        "RecordStatusNotifyUrl": "http://127.0.0.1:9/status",
        "SnapshotNotifyUrl": "http://127.0.0.1:9/snapshot",
        "PornCensorshipNotifyUrl": "http://127.0.0.1:9/porn",
        "CallbackKey": "callbackkey123",
        "StreamMixNotifyUrl": "http://127.0.0.1:9/mix",
        "PushExceptionNotifyUrl": "http://127.0.0.1:9/push-exception",
        "AudioAuditNotifyUrl": "http://127.0.0.1:9/audio",
        "RecordExceptionNotifyUrl": "http://127.0.0.1:9/record-exception",
        "RecordExceptionLevels": ["error", "warning", "info"]
    })
}

/// DescribeLiveCallbackTemplate through CommonClient (which, unlike the
/// typed model, also shows RecordStatusNotifyUrl).
fn describe(s: &Server, o: &SdkOpts, id: i64) -> Value {
    let o = SdkOpts {
        secret_id: o.secret_id.clone(),
        secret_key: o.secret_key.clone(),
        ..SdkOpts::common()
    };
    s.sdk_with(
        &o,
        "DescribeLiveCallbackTemplate",
        json!({"TemplateId": id}),
    )
    .ok()["Template"]
        .clone()
}

fn assert_fields(t: &Value, want: &Value) {
    for (k, v) in want.as_object().expect("object") {
        assert_eq!(&t[k], v, "{k} in {t}");
    }
}

fn rules(s: &Server, o: &SdkOpts) -> Vec<Value> {
    s.sdk_with(o, "DescribeLiveCallbackRules", json!({})).ok()["Rules"]
        .as_array()
        .expect("Rules")
        .clone()
}

#[test]
fn callback_templates_and_rules_round_trip() {
    let s = Server::start();
    let a = SdkOpts::default();
    let full = full_template();
    let id = s.sdk("CreateLiveCallbackTemplate", full.clone()).ok()["TemplateId"]
        .as_i64()
        .expect("integer TemplateId");
    let t = describe(&s, &a, id);
    assert_eq!(t["TemplateId"], id);
    assert_fields(&t, &full);
    // The typed SDK model reads the same template (its fields only).
    let typed = s
        .sdk("DescribeLiveCallbackTemplate", json!({"TemplateId": id}))
        .ok();
    assert_eq!(typed["Template"]["CallbackKey"], "callbackkey123");
    assert_eq!(
        typed["Template"]["RecordExceptionLevels"],
        json!(["error", "warning", "info"])
    );

    // Modify: the named fields change, "" clears a URL, the rest stays.
    let change = json!({
        "TemplateId": id,
        "TemplateName": "renamed",
        "RecordNotifyUrl": "http://127.0.0.1:10/record",
        "SnapshotNotifyUrl": "",
        "CallbackKey": "k2",
        "RecordExceptionLevels": ["error"]
    });
    s.sdk("ModifyLiveCallbackTemplate", change).ok();
    let t = describe(&s, &a, id);
    let mut want = full.clone();
    let m = want.as_object_mut().unwrap();
    m.insert("TemplateName".into(), json!("renamed"));
    m.insert(
        "RecordNotifyUrl".into(),
        json!("http://127.0.0.1:10/record"),
    );
    m.insert("SnapshotNotifyUrl".into(), json!(""));
    m.insert("CallbackKey".into(), json!("k2"));
    m.insert("RecordExceptionLevels".into(), json!(["error"]));
    assert_fields(&t, &want);
    // The list holds the same.
    let list = s.sdk("DescribeLiveCallbackTemplates", json!({})).ok();
    let list = list["Templates"].as_array().expect("Templates");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["TemplateId"], id);
    assert_eq!(list[0]["RecordNotifyUrl"], "http://127.0.0.1:10/record");

    // Rules: one per (domain, app); "" covers every app of the domain.
    let rule = json!({"DomainName": "Push.Example.COM", "AppName": "live", "TemplateId": id});
    s.sdk("CreateLiveCallbackRule", rule.clone()).ok();
    s.sdk("CreateLiveCallbackRule", rule.clone())
        .err_naming("FailedOperation.RuleAlreadyExist", "push.example.com/live");
    s.sdk(
        "CreateLiveCallbackRule",
        json!({"DomainName": "push.example.com", "AppName": "", "TemplateId": id}),
    )
    .ok();
    let r = rules(&s, &a);
    assert_eq!(r.len(), 2, "{r:?}");
    for (rule, app) in r.iter().zip(["live", ""]) {
        assert_eq!(rule["TemplateId"], id);
        assert_eq!(rule["DomainName"], "push.example.com");
        assert_eq!(rule["AppName"], app);
        assert_eq!(rule["CreateTime"].as_str().unwrap().len(), 19, "{rule}");
        assert_eq!(rule["UpdateTime"], rule["CreateTime"]);
    }
    // A bound template cannot be deleted.
    s.sdk("DeleteLiveCallbackTemplate", json!({"TemplateId": id}))
        .err_naming("FailedOperation.ConfInUsed", &id.to_string());
    s.sdk(
        "DeleteLiveCallbackRule",
        json!({"DomainName": "push.example.com", "AppName": "other"}),
    )
    .err_naming("FailedOperation.NotFound", "push.example.com/other");
    for app in ["live", ""] {
        s.sdk(
            "DeleteLiveCallbackRule",
            json!({"DomainName": "PUSH.example.com", "AppName": app}),
        )
        .ok();
    }
    assert!(rules(&s, &a).is_empty());
    s.sdk("DeleteLiveCallbackTemplate", json!({"TemplateId": id}))
        .ok();
    s.sdk("DescribeLiveCallbackTemplate", json!({"TemplateId": id}))
        .err_naming("FailedOperation.NotFound", &id.to_string());
    s.sdk("DeleteLiveCallbackTemplate", json!({"TemplateId": id}))
        .err("FailedOperation.NotFound");
    let list = s.sdk("DescribeLiveCallbackTemplates", json!({})).ok();
    assert_eq!(list["Templates"], json!([]));
}

#[test]
fn callback_fields_are_validated_before_any_effect() {
    let s = Server::start();
    let c = SdkOpts::common();
    let create = "CreateLiveCallbackTemplate";
    let url = "http://127.0.0.1:9/cb";
    for (p, code, field) in [
        (
            json!({"RecordNotifyUrl": url}),
            "MissingParameter",
            "TemplateName",
        ),
        (
            json!({"TemplateName": "a b", "RecordNotifyUrl": url}),
            "InvalidParameterValue",
            "TemplateName",
        ),
        (
            json!({"TemplateName": "x".repeat(256), "RecordNotifyUrl": url}),
            "InvalidParameterValue",
            "TemplateName",
        ),
        (
            json!({"TemplateName": "t"}),
            "MissingParameter",
            "notify URL",
        ),
        (
            json!({"TemplateName": "t", "RecordNotifyUrl": "ftp://h/x"}),
            "InvalidParameterValue",
            "RecordNotifyUrl",
        ),
        (
            json!({"TemplateName": "t", "StreamBeginNotifyUrl": "no-scheme.example.com/x"}),
            "InvalidParameterValue",
            "StreamBeginNotifyUrl",
        ),
        (
            json!({"TemplateName": "t", "StreamEndNotifyUrl": "http:///"}),
            "InvalidParameterValue",
            "StreamEndNotifyUrl",
        ),
        (
            json!({"TemplateName": "t", "RecordNotifyUrl": format!("http://h/{}", "a".repeat(600))}),
            "InvalidParameterValue",
            "RecordNotifyUrl",
        ),
        (
            json!({"TemplateName": "t", "RecordNotifyUrl": "http://h/\u{1}"}),
            "InvalidParameterValue",
            "RecordNotifyUrl",
        ),
        (
            json!({"TemplateName": "t", "RecordNotifyUrl": url, "CallbackKey": "k".repeat(257)}),
            "InvalidParameterValue",
            "CallbackKey",
        ),
        (
            json!({"TemplateName": "t", "RecordNotifyUrl": url, "RecordExceptionLevels": ["fatal"]}),
            "InvalidParameterValue",
            "RecordExceptionLevels",
        ),
        (
            json!({"TemplateName": "t", "RecordNotifyUrl": 5}),
            "InvalidParameter",
            "RecordNotifyUrl",
        ),
    ] {
        s.sdk_with(&c, create, p).err_naming(code, field);
    }
    let list = s.sdk("DescribeLiveCallbackTemplates", json!({})).ok();
    assert_eq!(list["Templates"], json!([]), "nothing was created");

    let id = s
        .sdk(create, json!({"TemplateName": "t", "RecordNotifyUrl": url}))
        .ok()["TemplateId"]
        .as_i64()
        .unwrap();
    // Modify cannot leave a template without any URL, nor break one.
    s.sdk(
        "ModifyLiveCallbackTemplate",
        json!({"TemplateId": id, "RecordNotifyUrl": ""}),
    )
    .err_naming("MissingParameter", "notify URL");
    s.sdk(
        "ModifyLiveCallbackTemplate",
        json!({"TemplateId": id, "StreamEndNotifyUrl": "gopher://h/"}),
    )
    .err_naming("InvalidParameterValue", "StreamEndNotifyUrl");
    s.sdk(
        "ModifyLiveCallbackTemplate",
        json!({"RecordNotifyUrl": url}),
    )
    .err_naming("MissingParameter", "TemplateId");
    s.sdk(
        "ModifyLiveCallbackTemplate",
        json!({"TemplateId": 987_654, "RecordNotifyUrl": url}),
    )
    .err("FailedOperation.NotFound");
    assert_eq!(
        describe(&s, &SdkOpts::default(), id)["RecordNotifyUrl"],
        url,
        "unchanged"
    );
    // Rule parameters.
    let rule = "CreateLiveCallbackRule";
    s.sdk(rule, json!({"AppName": "live", "TemplateId": id}))
        .err_naming("MissingParameter", "DomainName");
    s.sdk(
        rule,
        json!({"DomainName": "bad domain!", "AppName": "live", "TemplateId": id}),
    )
    .err_naming("InvalidParameter.DomainFormatError", "DomainName");
    s.sdk(
        rule,
        json!({"DomainName": "d.example.com", "AppName": "live"}),
    )
    .err_naming("MissingParameter", "TemplateId");
    s.sdk(
        rule,
        json!({"DomainName": "d.example.com", "AppName": "live", "TemplateId": 987_654}),
    )
    .err_naming("InvalidParameter.ConfNotFound", "987654");
    s.sdk(
        rule,
        json!({"DomainName": "d.example.com", "AppName": "a/b", "TemplateId": id}),
    )
    .err_naming("InvalidParameterValue", "AppName");
    assert!(rules(&s, &SdkOpts::default()).is_empty());
    // Absent AppName is `live` (Tencent's default), in both actions.
    s.sdk(
        rule,
        json!({"DomainName": "d.example.com", "TemplateId": id}),
    )
    .ok();
    assert_eq!(rules(&s, &SdkOpts::default())[0]["AppName"], "live");
    s.sdk(
        "DeleteLiveCallbackRule",
        json!({"DomainName": "d.example.com"}),
    )
    .ok();
}

#[test]
fn another_account_cannot_touch_callback_configuration() {
    let s = Server::start();
    let a = SdkOpts::default();
    let b = s.new_account("tenant-b");
    s.sdk_with(
        &a,
        "AddLiveDomain",
        json!({"DomainName": "a.example.com", "DomainType": 0}),
    )
    .ok();
    s.sdk_with(
        &b,
        "AddLiveDomain",
        json!({"DomainName": "b.example.com", "DomainType": 0}),
    )
    .ok();
    let ta = s
        .sdk_with(&a, "CreateLiveCallbackTemplate", full_template())
        .ok()["TemplateId"]
        .as_i64()
        .unwrap();
    s.sdk_with(
        &a,
        "CreateLiveCallbackRule",
        json!({"DomainName": "a.example.com", "AppName": "live", "TemplateId": ta}),
    )
    .ok();
    let before = describe(&s, &a, ta);

    // B sees nothing of A's.
    let list = s
        .sdk_with(&b, "DescribeLiveCallbackTemplates", json!({}))
        .ok();
    assert_eq!(list["Templates"], json!([]));
    assert!(rules(&s, &b).is_empty());
    s.sdk_with(
        &b,
        "DescribeLiveCallbackTemplate",
        json!({"TemplateId": ta}),
    )
    .err("FailedOperation.NotFound");
    // B cannot modify or delete A's template, nor A's rule.
    s.sdk_with(
        &b,
        "ModifyLiveCallbackTemplate",
        json!({"TemplateId": ta, "RecordNotifyUrl": "http://attacker.example/"}),
    )
    .err("FailedOperation.NotFound");
    s.sdk_with(&b, "DeleteLiveCallbackTemplate", json!({"TemplateId": ta}))
        .err("FailedOperation.NotFound");
    s.sdk_with(
        &b,
        "DeleteLiveCallbackRule",
        json!({"DomainName": "a.example.com", "AppName": "live"}),
    )
    .err("FailedOperation.NotFound");
    // B cannot bind A's template, on its own domain or on A's.
    for domain in ["b.example.com", "a.example.com"] {
        s.sdk_with(
            &b,
            "CreateLiveCallbackRule",
            json!({"DomainName": domain, "AppName": "live", "TemplateId": ta}),
        )
        .err("InvalidParameter.ConfNotFound");
    }
    // B's own template on A's domain: the domain is not B's.
    let tb = s
        .sdk_with(
            &b,
            "CreateLiveCallbackTemplate",
            json!({"TemplateName": "b", "RecordNotifyUrl": "http://127.0.0.1:9/b"}),
        )
        .ok()["TemplateId"]
        .as_i64()
        .unwrap();
    for app in ["live", "", "other"] {
        s.sdk_with(
            &b,
            "CreateLiveCallbackRule",
            json!({"DomainName": "a.example.com", "AppName": app, "TemplateId": tb}),
        )
        .err_naming("ResourceNotFound.DomainNotExist", "a.example.com");
    }
    // On its own domain it may.
    s.sdk_with(
        &b,
        "CreateLiveCallbackRule",
        json!({"DomainName": "b.example.com", "AppName": "live", "TemplateId": tb}),
    )
    .ok();
    // A's configuration is untouched, and A sees only its own.
    assert_eq!(describe(&s, &a, ta), before);
    let ra = rules(&s, &a);
    assert_eq!(ra.len(), 1);
    assert_eq!(
        (&ra[0]["DomainName"], &ra[0]["TemplateId"]),
        (&json!("a.example.com"), &json!(ta))
    );
    let list = s
        .sdk_with(&a, "DescribeLiveCallbackTemplates", json!({}))
        .ok();
    assert_eq!(list["Templates"].as_array().unwrap().len(), 1);
    assert_eq!(rules(&s, &b).len(), 1);
}

#[test]
fn tccli_creates_and_lists_callback_templates() {
    let s = Server::start();
    let v = s.tccli_ok(
        "CreateLiveCallbackTemplate",
        &[
            "--TemplateName",
            "cli",
            "--RecordNotifyUrl",
            "http://127.0.0.1:9/record",
            "--CallbackKey",
            "clikey",
            "--RecordExceptionLevels",
            r#"["error"]"#,
        ],
    );
    let id = v["TemplateId"].as_i64().expect("TemplateId");
    let v = s.tccli_ok("DescribeLiveCallbackTemplates", &[]);
    let t = &v["Templates"][0];
    assert_eq!(
        (&t["TemplateId"], &t["TemplateName"], &t["CallbackKey"]),
        (&json!(id), &json!("cli"), &json!("clikey"))
    );
    assert_eq!(t["RecordNotifyUrl"], "http://127.0.0.1:9/record");
    assert_eq!(t["RecordExceptionLevels"], json!(["error"]));
}

#[test]
fn fifty_callback_templates_per_account() {
    // The bulk creation below exceeds the default 20 calls/s per action.
    let s = Server::start_with(&[("LIVEREC_RATE_OTHER", "1000")]);
    // 49 through raw signed calls (fast), the 50th and 51st through the SDK.
    for i in 1..50 {
        let body =
            json!({"TemplateName": format!("t{i}"), "RecordNotifyUrl": "http://127.0.0.1:9/r"})
                .to_string();
        let r = signed_post(&s, "CreateLiveCallbackTemplate", body.as_bytes());
        let v: Value = serde_json::from_slice(&r.body).expect("JSON");
        assert!(v["Response"]["TemplateId"].as_i64().is_some(), "{v}");
    }
    let p =
        |name: &str| json!({"TemplateName": name, "StreamEndNotifyUrl": "http://127.0.0.1:9/e"});
    let fiftieth = s.sdk("CreateLiveCallbackTemplate", p("t50")).ok()["TemplateId"]
        .as_i64()
        .expect("TemplateId");
    s.sdk("CreateLiveCallbackTemplate", p("t51"))
        .err_naming("InternalError.ConfOutLimit", "50");
    let all = s.sdk("DescribeLiveCallbackTemplates", json!({})).ok()["Templates"]
        .as_array()
        .map(Vec::len);
    assert_eq!(all, Some(50));
    // The recording templates have their own quota; another account its own.
    s.sdk(
        "CreateLiveRecordTemplate",
        json!({"TemplateName": "rec", "HlsParam": {"Enable": 1}}),
    )
    .ok();
    let b = s.new_account("tenant-b");
    s.sdk_with(&b, "CreateLiveCallbackTemplate", p("b1")).ok();
    // A freed slot can be used again.
    s.sdk(
        "DeleteLiveCallbackTemplate",
        json!({"TemplateId": fiftieth}),
    )
    .ok();
    s.sdk("CreateLiveCallbackTemplate", p("t51")).ok();
}

#[test]
fn flattened_encodings_carry_the_level_list_and_urls() {
    let s = Server::start();
    for (sign, method) in [
        ("hmacsha256", "POST"),
        ("tc3-get", "GET"),
        ("hmacsha1", "GET"),
    ] {
        let o = SdkOpts {
            sign: Some(sign),
            method: Some(method),
            ..Default::default()
        };
        let p = json!({
            "TemplateName": format!("flat-{sign}"),
            "RecordNotifyUrl": "http://127.0.0.1:9/r?a=1&b=%20",
            "CallbackKey": "k+/=&",
            "RecordExceptionLevels": ["warning", "error"]
        });
        let id = s.sdk_with(&o, "CreateLiveCallbackTemplate", p.clone()).ok()["TemplateId"]
            .as_i64()
            .expect("TemplateId");
        let t = describe(&s, &SdkOpts::default(), id);
        assert_fields(&t, &p);
        s.sdk_with(
            &o,
            "CreateLiveCallbackRule",
            json!({"DomainName": "127.0.0.1", "AppName": sign, "TemplateId": id}),
        )
        .ok();
    }
    let r = rules(&s, &SdkOpts::default());
    assert_eq!(r.len(), 3, "{r:?}");
}
