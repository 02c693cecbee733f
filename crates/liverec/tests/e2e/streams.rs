//! Stream actions (SPEC §3.3): online list, state, drop, event list,
//! forbid/resume and push authentication, through the official Python SDK
//! and tccli, with ffmpeg and `liverec-push` publishers.

use std::process::ExitStatus;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;

/// UTC `2019-01-04T12:00:00Z` of Unix seconds.
fn utc(unix_s: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_s)
        .expect("time")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

fn is_utc(s: &str) -> bool {
    s.len() == 20
        && s.ends_with('Z')
        && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

/// `liverec-push` of the fixture for at most 2 s; its exit status (None if
/// it did not exit within 20 s) and stderr.
pub(crate) fn push_once(url: &str) -> (Option<ExitStatus>, String) {
    let mut p = Publisher::push_with(url, "h264_aac_10s.flv", &["--realtime", "--seconds", "2"]);
    let status = p.wait_exit(Duration::from_secs(20));
    (status, p.stderr())
}

/// Asserts that `liverec-push` to `url` is refused with `code`.
pub(crate) fn assert_refused(url: &str, code: &str) {
    let (status, err) = push_once(url);
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(4),
        "publish to {url} must be rejected: {err}"
    );
    assert!(err.contains(code), "{err}");
}

fn state(s: &Server, stream: &str) -> String {
    s.stream_state(stream)
}

fn ident(stream: &str) -> Value {
    json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": stream})
}

fn online(s: &Server, params: Value) -> Value {
    s.sdk("DescribeLiveStreamOnlineList", params).ok()
}

fn names(list: &Value, field: &str) -> Vec<String> {
    list[field]
        .as_array()
        .expect("list")
        .iter()
        .map(|i| i["StreamName"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// DescribeLiveStreamEventList over the last 10 minutes with `extra`.
fn events(s: &Server, extra: Value) -> Value {
    let t = now_s();
    let mut p = json!({"StartTime": utc(t - 600), "EndTime": utc(t + 60)});
    for (k, v) in extra.as_object().expect("object") {
        p[k] = v.clone();
    }
    s.sdk("DescribeLiveStreamEventList", p).ok()
}

#[test]
fn online_list_state_and_drop_ending_a_highlight_recording() {
    let s = Server::start();
    let p1 = s.publish("on1", "h264_aac_10s.flv");
    let _p2 = s.publish("on2", "h264_aac_10s.flv");

    let all = online(&s, json!({}));
    assert_eq!(
        (
            &all["TotalNum"],
            &all["TotalPage"],
            &all["PageNum"],
            &all["PageSize"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(10))
    );
    assert_eq!(names(&all, "OnlineInfo"), ["on1", "on2"]);
    let info = &all["OnlineInfo"][0];
    assert_eq!(info["DomainName"], "127.0.0.1");
    assert_eq!(info["AppName"], "live");
    assert_eq!(info["PushToDelay"], 0);
    let published = info["PublishTimeList"][0]["PublishTime"]
        .as_str()
        .expect("PublishTime");
    assert!(is_utc(published), "{published}");
    // Paging: one per page, stable order.
    let p1of2 = online(&s, json!({"PageSize": 1}));
    assert_eq!(
        (&p1of2["TotalNum"], &p1of2["TotalPage"]),
        (&json!(2), &json!(2))
    );
    assert_eq!(names(&p1of2, "OnlineInfo"), ["on1"]);
    let p2of2 = online(&s, json!({"PageSize": 1, "PageNum": 2}));
    assert_eq!(names(&p2of2, "OnlineInfo"), ["on2"]);
    assert!(
        names(
            &online(&s, json!({"PageSize": 1, "PageNum": 3})),
            "OnlineInfo"
        )
        .is_empty()
    );
    // Filters.
    assert_eq!(
        names(&online(&s, json!({"StreamName": "on2"})), "OnlineInfo"),
        ["on2"]
    );
    assert_eq!(
        online(&s, json!({"DomainName": "127.0.0.1", "AppName": "live"}))["TotalNum"],
        2
    );
    assert_eq!(
        online(&s, json!({"DomainName": "other.example.com"}))["TotalNum"],
        0
    );
    assert_eq!(online(&s, json!({"AppName": "other"}))["TotalNum"], 0);
    // Errors.
    s.sdk("DescribeLiveStreamOnlineList", json!({"PageSize": 0}))
        .err_naming("InvalidParameterValue", "PageSize");
    s.sdk("DescribeLiveStreamOnlineList", json!({"PageSize": 300_001}))
        .err_naming("InvalidParameterValue", "PageSize");
    s.sdk_with(
        &SdkOpts::common(),
        "DescribeLiveStreamOnlineList",
        json!({"PageNum": "first"}),
    )
    .err_naming("InvalidParameter", "PageNum");

    // State.
    assert_eq!(state(&s, "on1"), "active");
    assert_eq!(state(&s, "nobody"), "inactive");
    s.sdk(
        "DescribeLiveStreamState",
        json!({"DomainName": "127.0.0.1", "AppName": "live"}),
    )
    .err_naming("MissingParameter", "StreamName");
    s.sdk_with(
        &SdkOpts::common(),
        "DescribeLiveStreamState",
        json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": 5}),
    )
    .err_naming("InvalidParameter", "StreamName");

    // DropLiveStream ends a highlight recording with a valid file and
    // disconnects ffmpeg.
    let task = s.create(json!({"StreamName": "on1", "Highlight": 1}));
    std::thread::sleep(Duration::from_secs(3));
    let mut p1 = p1;
    s.sdk("DropLiveStream", ident("on1")).ok();
    let exit = p1.wait_exit(Duration::from_secs(10));
    assert!(
        exit.is_some_and(|st| !st.success()),
        "ffmpeg must fail when dropped: {exit:?}"
    );
    let files = s.wait_finished(task, 1, Duration::from_secs(5));
    let path = s.download_file(&files[0]);
    crate::probe::assert_valid(&path, "flv", 2.0, 8.0);
    assert!(s.log().contains("stream dropped"));
    assert_eq!(state(&s, "on1"), "inactive");
    assert_eq!(names(&online(&s, json!({})), "OnlineInfo"), ["on2"]);
    // Dropping a stream that is not live succeeds; missing fields do not.
    s.sdk("DropLiveStream", ident("nobody")).ok();
    s.sdk(
        "DropLiveStream",
        json!({"AppName": "live", "StreamName": "on1"}),
    )
    .err_naming("MissingParameter", "DomainName");

    // The event list shows both sessions: on1 dropped, on2 still live.
    let ev = events(&s, json!({}));
    assert_eq!(ev["TotalNum"], 2, "{ev}");
    let list = ev["EventList"].as_array().expect("EventList");
    assert_eq!(names(&ev, "EventList"), ["on2", "on1"], "live first: {ev}");
    let on1 = &list[1];
    assert_eq!(on1["StopReason"], "dropped");
    assert_eq!(on1["ClientIp"], "127.0.0.1");
    assert_eq!(on1["Resolution"], "640x360");
    assert_eq!(on1["DomainName"], "127.0.0.1");
    assert_eq!(on1["AppName"], "live");
    assert!(is_utc(on1["StreamStartTime"].as_str().unwrap_or_default()));
    assert!(is_utc(on1["StreamEndTime"].as_str().unwrap_or_default()));
    assert!(on1["Duration"].as_i64().expect("Duration") >= 3, "{on1}");
    let on2 = &list[0];
    assert_eq!(
        (&on2["StreamEndTime"], &on2["StopReason"]),
        (&json!(""), &json!(""))
    );
    // IsFilter=1: only ended sessions.
    assert_eq!(
        names(&events(&s, json!({"IsFilter": 1})), "EventList"),
        ["on1"]
    );
}

/// The StopReason of the only session of live/`stream`.
fn stop_reason(s: &Server, stream: &str) -> String {
    let ev = events(s, json!({"StreamName": stream, "IsStrict": 1}));
    assert_eq!(ev["TotalNum"], 1, "{ev}");
    ev["EventList"][0]["StopReason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn event_list_filters_paging_errors_and_tccli() {
    let mut s = Server::start_with(&[("LIVEREC_RTMP_READ_TIMEOUT_SECONDS", "3")]);
    for name in ["evA", "evB"] {
        let (status, err) = push_once(&s.rtmp_url("live", name));
        assert!(status.is_some_and(|st| st.success()), "{err}");
    }
    let ev = events(&s, json!({}));
    assert_eq!(
        names(&ev, "EventList"),
        ["evB", "evA"],
        "newest first: {ev}"
    );
    for e in ev["EventList"].as_array().expect("list") {
        assert_eq!(e["StopReason"], "unpublish", "{e}");
        let d = e["Duration"].as_i64().expect("Duration");
        assert!((1..=4).contains(&d), "{e}");
        assert_eq!(e["Resolution"], "640x360");
    }
    assert_eq!(
        names(&events(&s, json!({"IsAsc": 1})), "EventList"),
        ["evA", "evB"]
    );
    let page = events(&s, json!({"PageSize": 1, "PageNum": 2}));
    assert_eq!(
        (
            &page["TotalNum"],
            &page["TotalPage"],
            &page["PageNum"],
            &page["PageSize"]
        ),
        (&json!(2), &json!(2), &json!(2), &json!(1))
    );
    assert_eq!(names(&page, "EventList"), ["evA"]);
    // StreamName: substring by default, exact with IsStrict.
    assert_eq!(events(&s, json!({"StreamName": "ev"}))["TotalNum"], 2);
    assert_eq!(
        events(&s, json!({"StreamName": "ev", "IsStrict": 1}))["TotalNum"],
        0
    );
    assert_eq!(
        names(
            &events(&s, json!({"StreamName": "evA", "IsStrict": 1})),
            "EventList"
        ),
        ["evA"]
    );
    assert_eq!(
        events(&s, json!({"DomainName": "127.0.0.1", "AppName": "live"}))["TotalNum"],
        2
    );
    assert_eq!(events(&s, json!({"AppName": "other"}))["TotalNum"], 0);
    // A window before the sessions is empty.
    let t = now_s();
    let old = s
        .sdk(
            "DescribeLiveStreamEventList",
            json!({"StartTime": utc(t - 7200), "EndTime": utc(t - 3600)}),
        )
        .ok();
    assert_eq!(
        (&old["TotalNum"], &old["TotalPage"]),
        (&json!(0), &json!(0))
    );

    // Errors, each naming its field.
    let call = |p: Value| s.sdk("DescribeLiveStreamEventList", p);
    call(json!({"EndTime": utc(t)})).err_naming("MissingParameter", "StartTime");
    call(json!({"StartTime": utc(t - 60)})).err_naming("MissingParameter", "EndTime");
    call(json!({"StartTime": "2019-01-04 12:00:00", "EndTime": utc(t)}))
        .err_naming("InvalidParameterValue", "StartTime");
    call(json!({"StartTime": utc(t), "EndTime": utc(t - 60)})).err_naming(
        "InvalidParameterValue",
        "EndTime must be later than StartTime",
    );
    call(json!({"StartTime": utc(t - 40 * 86_400), "EndTime": utc(t)}))
        .err_naming("InvalidParameterValue", "31 days");
    call(json!({"StartTime": utc(t - 90 * 86_400), "EndTime": utc(t - 80 * 86_400)}))
        .err_naming("InvalidParameterValue", "StartTime");
    let window = json!({"StartTime": utc(t - 60), "EndTime": utc(t)});
    let with = |k: &str, v: Value| {
        let mut p = window.clone();
        p[k] = v;
        p
    };
    call(with("PageSize", json!(101))).err_naming("InvalidParameterValue", "PageSize");
    call(with("IsAsc", json!(2))).err_naming("InvalidParameterValue", "IsAsc");
    s.sdk_with(
        &SdkOpts::common(),
        "DescribeLiveStreamEventList",
        with("PageNum", json!("x")),
    )
    .err_naming("InvalidParameter", "PageNum");

    // tccli, success and error.
    let tccli_call = |action: &str, args: &[&str]| s.tccli(action, args);
    let out = tccli_call(
        "DescribeLiveStreamEventList",
        &[
            "--StartTime",
            &utc(t - 600),
            "--EndTime",
            &utc(t + 60),
            "--IsAsc",
            "1",
        ],
    );
    assert!(
        out.status.success(),
        "tccli failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("tccli prints JSON");
    assert_eq!(names(&v, "EventList"), ["evA", "evB"], "{v}");
    let out = tccli_call(
        "DescribeLiveStreamState",
        &[
            "--DomainName",
            "127.0.0.1",
            "--AppName",
            "live",
            "--StreamName",
            "evA",
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("tccli prints JSON");
    assert_eq!(v["StreamState"], "inactive");
    let out = tccli_call(
        "DescribeLiveStreamEventList",
        &["--StartTime", &utc(t), "--EndTime", &utc(t - 60)],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("InvalidParameterValue"));

    // Abnormal ends: a stalled publisher times out; a shutdown ends the
    // sessions it cuts, and the record of that survives the restart.
    let mut stall = Publisher::push_with(
        &s.rtmp_url("live", "evStall"),
        "h264_aac_10s.flv",
        &["--realtime", "--stall-after-ms", "1000", "--seconds", "15"],
    );
    let exit = stall.wait_exit(Duration::from_secs(12));
    drop(stall);
    assert_eq!(
        exit.and_then(|st| st.code()),
        Some(5),
        "closed by the server"
    );
    assert_eq!(stop_reason(&s, "evStall"), "timeout");
    let url = s.rtmp_url("live", "evDown");
    let p = s.publish_with("evDown", || Publisher::push(&url, "h264_aac_10s.flv"));
    assert!(s.stop().success());
    drop(p);
    s.start_again();
    assert_eq!(stop_reason(&s, "evDown"), "shutdown");
    assert_eq!(events(&s, json!({}))["TotalNum"], 4);
}

#[test]
fn forbid_refuses_publishes_until_resumed_or_resume_time() {
    let s = Server::start();
    let mut live = s.publish("fbd", "h264_aac_10s.flv");
    // Errors first: nothing is forbidden by them.
    let t = now_s();
    let with = |k: &str, v: &str| {
        let mut p = ident("fbd");
        p[k] = json!(v);
        p
    };
    s.sdk("ForbidLiveStream", with("ResumeTime", &utc(t - 60)))
        .err_naming("InvalidParameterValue", "ResumeTime");
    s.sdk("ForbidLiveStream", with("ResumeTime", "tomorrow"))
        .err_naming("InvalidParameterValue", "ResumeTime");
    s.sdk(
        "ForbidLiveStream",
        with("ResumeTime", &utc(t + 91 * 86_400)),
    )
    .err_naming("InvalidParameterValue", "ResumeTime");
    s.sdk("ForbidLiveStream", with("Reason", &"x".repeat(2049)))
        .err_naming("InvalidParameterValue", "Reason");
    s.sdk(
        "ForbidLiveStream",
        json!({"DomainName": "127.0.0.1", "StreamName": "fbd"}),
    )
    .err_naming("MissingParameter", "AppName");
    s.sdk(
        "ResumeLiveStream",
        json!({"DomainName": "127.0.0.1", "AppName": "live"}),
    )
    .err_naming("MissingParameter", "StreamName");
    assert_eq!(state(&s, "fbd"), "active");

    // Forbid: the publisher is dropped, new publishes are refused.
    s.sdk("ForbidLiveStream", with("Reason", "e2e")).ok();
    let exit = live.wait_exit(Duration::from_secs(10));
    assert!(exit.is_some_and(|st| !st.success()), "{exit:?}");
    assert_eq!(state(&s, "fbd"), "forbid");
    assert_refused(&s.rtmp_url("live", "fbd"), "NetStream.Publish.Rejected");
    let mut again = Publisher::start(&s.rtmp_url("live", "fbd"), "h264_aac_10s.flv");
    let exit = again.wait_exit(Duration::from_secs(10));
    drop(again);
    assert!(
        exit.is_some_and(|st| !st.success()),
        "ffmpeg refused: {exit:?}"
    );
    assert_eq!(s.publishes("fbd"), 1, "nothing accepted while forbidden");
    assert!(s.log().contains("is forbidden until ResumeLiveStream"));
    // Other streams are unaffected.
    let (st, err) = push_once(&s.rtmp_url("live", "fbdother"));
    assert!(st.is_some_and(|st| st.success()), "{err}");

    // Resume: accepted again.
    s.sdk("ResumeLiveStream", ident("fbd")).ok();
    assert_eq!(state(&s, "fbd"), "inactive");
    let url = s.rtmp_url("live", "fbd");
    let _p = s.publish_with("fbd", || Publisher::push(&url, "h264_aac_10s.flv"));
    assert_eq!(s.publishes("fbd"), 2);
    assert_eq!(state(&s, "fbd"), "active");
    drop(_p);

    // A forbid with a ResumeTime lifts by itself; resuming twice is fine.
    wait_for(Duration::from_secs(10), "publisher gone", || {
        (state(&s, "fbd") == "inactive").then_some(())
    });
    // ResumeTime leaves room for three SDK calls and a push on a loaded
    // machine (each call starts a Python interpreter).
    let until = now_s() + 12;
    s.sdk("ForbidLiveStream", with("ResumeTime", &utc(until)))
        .ok();
    assert_eq!(state(&s, "fbd"), "forbid");
    assert_refused(&s.rtmp_url("live", "fbd"), "NetStream.Publish.Rejected");
    assert!(
        now_s() < until,
        "the forbidden checks ran past ResumeTime (machine too slow)"
    );
    sleep_until(until as f64 + 0.5);
    assert_eq!(state(&s, "fbd"), "inactive");
    let _p = s.publish_with("fbd", || Publisher::push(&url, "h264_aac_10s.flv"));
    assert_eq!(s.publishes("fbd"), 3);
    s.sdk("ResumeLiveStream", ident("fbd")).ok();

    // The first session ended as forbidden.
    let ev = events(&s, json!({"StreamName": "fbd", "IsStrict": 1, "IsAsc": 1}));
    assert_eq!(ev["EventList"][0]["StopReason"], "forbidden", "{ev}");
}

#[test]
fn push_auth_keys_and_publish_authentication() {
    let s = Server::start();
    let domain = json!({"DomainName": "127.0.0.1"});
    let info = |o: &SdkOpts| {
        s.sdk_with(o, "DescribeLivePushAuthKey", domain.clone())
            .ok()["PushAuthKeyInfo"]
            .clone()
    };
    let me = SdkOpts::default();
    assert_eq!(
        info(&me),
        json!({"DomainName": "127.0.0.1", "Enable": 0, "MasterAuthKey": "", "BackupAuthKey": "", "AuthDelta": 0})
    );
    s.sdk("DescribeLivePushAuthKey", json!({}))
        .err_naming("MissingParameter", "DomainName");
    // Invalid changes.
    let modify = |p: Value| s.sdk("ModifyLivePushAuthKey", p);
    modify(json!({})).err_naming("MissingParameter", "DomainName");
    modify(json!({"DomainName": "127.0.0.1", "Enable": 1}))
        .err_naming("InvalidParameterValue", "MasterAuthKey");
    modify(json!({"DomainName": "127.0.0.1", "Enable": 2, "MasterAuthKey": "k"}))
        .err_naming("InvalidParameterValue", "Enable");
    modify(json!({"DomainName": "127.0.0.1", "MasterAuthKey": "bad key!"}))
        .err_naming("InvalidParameterValue", "MasterAuthKey");
    modify(json!({"DomainName": "127.0.0.1", "BackupAuthKey": "k".repeat(65)}))
        .err_naming("InvalidParameterValue", "BackupAuthKey");
    modify(json!({"DomainName": "127.0.0.1", "AuthDelta": 100_000_000}))
        .err_naming("InvalidParameterValue", "AuthDelta");
    s.sdk_with(
        &SdkOpts::common(),
        "ModifyLivePushAuthKey",
        json!({"DomainName": "127.0.0.1", "AuthDelta": "soon"}),
    )
    .err_naming("InvalidParameter", "AuthDelta");
    assert_eq!(info(&me)["Enable"], 0, "refused changes change nothing");

    let master = "e2eMasterKey0123456789abcdefABCDE";
    let backup = "e2eBackupKey9876543210";
    modify(
        json!({"DomainName": "127.0.0.1", "Enable": 1, "MasterAuthKey": master,
                  "BackupAuthKey": backup, "AuthDelta": 60}),
    )
    .ok();
    // Only AuthDelta changes; the keys stay.
    modify(json!({"DomainName": "127.0.0.1", "AuthDelta": 120})).ok();
    assert_eq!(
        info(&me),
        json!({"DomainName": "127.0.0.1", "Enable": 1, "MasterAuthKey": master, "BackupAuthKey": backup, "AuthDelta": 120})
    );
    // Another account has no settings for a domain it does not own (SPEC
    // §2): it can neither read nor change the owner's keys.
    let other = s.new_account("other");
    let theirs = s.sdk_with(&other, "DescribeLivePushAuthKey", domain.clone());
    let m = theirs.err("ResourceNotFound.PushDomainNoRecord");
    assert!(!m.contains(master), "{m}");
    s.sdk_with(
        &other,
        "ModifyLivePushAuthKey",
        json!({"DomainName": "127.0.0.1", "Enable": 0}),
    )
    .err("ResourceNotFound.PushDomainNoRecord");

    let url = |stream: &str, query: &str| format!("{}?{query}", s.rtmp_url("live", stream));
    let signed = |key: &str, stream: &str, tx_time: &str| {
        format!(
            "txSecret={}&txTime={tx_time}",
            tcapi::push_tx_secret(key, stream, tx_time)
        )
    };
    let hex = |t: i64| format!("{t:X}");
    let now = now_s();
    // Refused: missing, wrong secret, expired (beyond txTime + AuthDelta).
    assert_refused(&s.rtmp_url("live", "pa"), "NetStream.Publish.Unauthorized");
    assert_refused(
        &url("pa", &format!("txTime={}", hex(now + 300))),
        "NetStream.Publish.Unauthorized",
    );
    assert_refused(
        &url("pa", &signed("not-the-key", "pa", &hex(now + 300))),
        "NetStream.Publish.Unauthorized",
    );
    assert_refused(
        &url("pa", &signed(master, "other-stream", &hex(now + 300))),
        "NetStream.Publish.Unauthorized",
    );
    assert_refused(
        &url("pa", &signed(master, "pa", &hex(now - 600))),
        "NetStream.Publish.Unauthorized",
    );
    let log = s.log();
    for reason in ["txSecret or txTime is missing", "wrong txSecret", "expired"] {
        assert!(
            log.contains(&format!(
                "push authentication failed for 127.0.0.1/live/pa: {reason}"
            )),
            "log gives the reason {reason:?}:\n{log}"
        );
    }
    assert_eq!(s.publishes("pa"), 0);
    // Accepted: master key, backup key, within AuthDelta, decimal txTime.
    let _a = s.publish_with("pa", || {
        Publisher::push(
            &url("pa", &signed(master, "pa", &hex(now + 300))),
            "h264_aac_10s.flv",
        )
    });
    let _b = s.publish_with("pb", || {
        Publisher::push(
            &url("pb", &signed(backup, "pb", &hex(now + 300))),
            "h264_aac_10s.flv",
        )
    });
    let (st, err) = push_once(&url("pc", &signed(master, "pc", &hex(now - 60))));
    assert!(st.is_some_and(|st| st.success()), "within AuthDelta: {err}");
    let dec = (now + 300).to_string();
    let (st, err) = push_once(&url("pd", &format!("a=1&{}", signed(backup, "pd", &dec))));
    assert!(st.is_some_and(|st| st.success()), "decimal txTime: {err}");
    // Another domain is not affected.
    let (st, err) = push_once(&format!("rtmp://localhost:{}/live/pe", s.rtmp.port()));
    assert!(st.is_some_and(|st| st.success()), "other domain: {err}");
    // No key or secret in the log.
    let log = s.log();
    assert!(!log.contains(master) && !log.contains(backup));
    assert!(!log.contains(&tcapi::push_tx_secret(master, "pa", &hex(now + 300))));
    // Disabled again: no authentication needed.
    modify(json!({"DomainName": "127.0.0.1", "Enable": 0})).ok();
    let (st, err) = push_once(&s.rtmp_url("live", "pf"));
    assert!(st.is_some_and(|st| st.success()), "disabled: {err}");
}
