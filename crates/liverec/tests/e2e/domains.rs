//! Push domains and ownership (SPEC §2): AddLiveDomain / DescribeLiveDomains
//! / DescribeLiveDomain / DeleteLiveDomain through the official Python SDK,
//! `liverec domains add|list|remove`, and the stream, push-authentication
//! and recording actions scoped to the owner of a stream's domain.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;

/// Runs `liverec domains ...` on the server's data directory; (success,
/// stdout + stderr).
fn domains_cli(s: &Server, args: &[&str]) -> (bool, String) {
    let out = s
        .cli()
        .arg("domains")
        .args(args)
        .output()
        .expect("liverec domains");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The account id `liverec keys list` shows for `secret_id`.
fn account_of(s: &Server, secret_id: &str) -> String {
    let out = s
        .cli()
        .args(["keys", "list"])
        .output()
        .expect("liverec keys list");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines()
        .find_map(|l| {
            let mut cols = l.split_whitespace();
            (cols.next() == Some(secret_id)).then(|| cols.next().unwrap_or_default().to_string())
        })
        .unwrap_or_else(|| panic!("{secret_id} in {text}"))
}

fn domain_names(list: &Value) -> Vec<String> {
    list["DomainList"]
        .as_array()
        .expect("DomainList")
        .iter()
        .map(|d| d["Name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn domains_are_claimed_once_listed_and_released() {
    let s = Server::start();
    let b = s.new_account("tenant-b");
    let add = |o: &SdkOpts, name: &str| {
        s.sdk_with(
            o,
            "AddLiveDomain",
            json!({"DomainName": name, "DomainType": 0}),
        )
    };
    let a = SdkOpts::default();
    add(&a, "Push.Example.COM.").ok();
    add(&a, "second.example.com").ok();
    // The same name in another spelling is the same domain.
    add(&a, "push.example.com:1935").err("InvalidParameter.DomainAlreadyExist");
    add(&b, "PUSH.example.com").err_naming("FailedOperation.DomainAdded", "push.example.com");
    add(&b, "b.example.com").ok();
    s.sdk_with(
        &b,
        "AddLiveDomain",
        json!({"DomainName": "play.example.com", "DomainType": 1}),
    )
    .err_naming("InvalidParameter", "DomainType");
    s.sdk_with(&b, "AddLiveDomain", json!({"DomainName": "x.example.com"}))
        .err_naming("MissingParameter", "DomainType");
    add(&b, "bad name.com").err("InvalidParameter.DomainFormatError");
    add(&b, &format!("{}.com", "a".repeat(260))).err("InvalidParameter.DomainTooLong");

    let list = s.sdk("DescribeLiveDomains", json!({})).ok();
    assert_eq!(
        domain_names(&list),
        ["push.example.com", "second.example.com"]
    );
    assert_eq!(list["AllCount"], 2);
    assert_eq!(list["PlayTypeCount"], json!([0, 0, 0]));
    assert!(list["CreateLimitCount"].as_i64().unwrap() > 0);
    let d = &list["DomainList"][0];
    assert_eq!(
        (d["Type"].as_i64(), d["Status"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(d["CreateTime"].as_str().unwrap().len(), 19, "{d}");
    let prefixed = s
        .sdk("DescribeLiveDomains", json!({"DomainPrefix": "SEC"}))
        .ok();
    assert_eq!(domain_names(&prefixed), ["second.example.com"]);
    let play = s.sdk("DescribeLiveDomains", json!({"DomainType": 1})).ok();
    assert_eq!(
        (play["AllCount"].as_i64(), domain_names(&play).len()),
        (Some(0), 0)
    );
    s.sdk("DescribeLiveDomains", json!({"PageSize": 5}))
        .err_naming("InvalidParameterValue", "PageSize");
    let theirs = s.sdk_with(&b, "DescribeLiveDomains", json!({})).ok();
    assert_eq!(domain_names(&theirs), ["b.example.com"]);

    let one = s
        .sdk(
            "DescribeLiveDomain",
            json!({"DomainName": "push.example.com"}),
        )
        .ok();
    assert_eq!(one["DomainInfo"]["Name"], "push.example.com");
    // Another account's domain does not exist for B (nor does an unclaimed one).
    s.sdk_with(
        &b,
        "DescribeLiveDomain",
        json!({"DomainName": "push.example.com"}),
    )
    .err("ResourceNotFound.DomainNotExist");
    s.sdk(
        "DescribeLiveDomain",
        json!({"DomainName": "nobody.example.com"}),
    )
    .err("ResourceNotFound.DomainNotExist");
    s.sdk_with(
        &b,
        "DeleteLiveDomain",
        json!({"DomainName": "push.example.com", "DomainType": 0}),
    )
    .err("ResourceNotFound.DomainNotExist");
    s.sdk(
        "DeleteLiveDomain",
        json!({"DomainName": "push.example.com", "DomainType": 1}),
    )
    .err("ResourceNotFound.DomainNotExist");
    s.sdk(
        "DeleteLiveDomain",
        json!({"DomainName": "Push.Example.com", "DomainType": 0}),
    )
    .ok();
    s.sdk(
        "DeleteLiveDomain",
        json!({"DomainName": "push.example.com", "DomainType": 0}),
    )
    .err("ResourceNotFound.DomainNotExist");
    // Released, it can be claimed by B.
    add(&b, "push.example.com").ok();

    // The operator's view and commands.
    let b_account = account_of(&s, b.secret_id.as_deref().unwrap());
    let (ok, text) = domains_cli(&s, &["list"]);
    assert!(ok, "{text}");
    for (name, owner) in [
        ("push.example.com", b_account.as_str()),
        ("second.example.com", "default"),
        ("b.example.com", b_account.as_str()),
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(name) && l.contains(owner)),
            "{name} of {owner} in {text}"
        );
    }
    let (ok, text) = domains_cli(&s, &["add", "Cli.Example.com"]);
    assert!(ok && text.contains("cli.example.com"), "{text}");
    let (ok, text) = domains_cli(&s, &["add", "push.example.com"]);
    assert!(!ok && text.contains(&b_account), "{text}");
    let (ok, text) = domains_cli(&s, &["add", "bad name"]);
    assert!(!ok && text.contains("not a valid domain name"), "{text}");
    let (ok, text) = domains_cli(&s, &["add", "z.example.com", "--account", "nope"]);
    assert!(!ok && text.contains("no account nope"), "{text}");
    let (ok, text) = domains_cli(&s, &["add", "z.example.com", "--account", &b_account]);
    assert!(ok, "{text}");
    let theirs = s.sdk_with(&b, "DescribeLiveDomains", json!({})).ok();
    assert_eq!(
        domain_names(&theirs),
        ["b.example.com", "push.example.com", "z.example.com"]
    );
    let (ok, text) = domains_cli(&s, &["remove", "push.example.com"]);
    assert!(ok, "{text}");
    let (ok, text) = domains_cli(&s, &["remove", "push.example.com"]);
    assert!(!ok && text.contains("no claimed domain"), "{text}");
    let mine = s.sdk("DescribeLiveDomains", json!({})).ok();
    assert_eq!(
        domain_names(&mine),
        ["cli.example.com", "second.example.com"]
    );
}

/// The StreamNames of an online list.
fn online_names(s: &Server, o: &SdkOpts) -> Vec<String> {
    let r = s
        .sdk_with(o, "DescribeLiveStreamOnlineList", json!({}))
        .ok();
    let mut v: Vec<String> = r["OnlineInfo"]
        .as_array()
        .expect("OnlineInfo")
        .iter()
        .map(|i| i["StreamName"].as_str().unwrap_or_default().to_string())
        .collect();
    v.sort();
    v
}

/// UTC `2019-01-04T12:00:00Z` of Unix seconds.
fn time_utc(unix_s: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_s)
        .expect("time")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

fn stream(domain: &str, name: &str) -> Value {
    json!({"DomainName": domain, "AppName": "live", "StreamName": name})
}

fn state(s: &Server, o: &SdkOpts, domain: &str, name: &str) -> String {
    s.sdk_with(o, "DescribeLiveStreamState", stream(domain, name))
        .ok()["StreamState"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `o` claims `domain` as a push domain (it must succeed).
fn claim(s: &Server, o: &SdkOpts, domain: &str) {
    s.sdk_with(
        o,
        "AddLiveDomain",
        json!({"DomainName": domain, "DomainType": 0}),
    )
    .ok();
}

/// A server on which a second account, B, claimed `domain`.
fn server_with_b_owning(domain: &str) -> (Server, SdkOpts) {
    let s = Server::start();
    let b = s.new_account("tenant-b");
    claim(&s, &b, domain);
    (s, b)
}

/// Publishes live/`on_a` to 127.0.0.1 (nobody's domain: the bootstrap
/// account's) and live/`on_b` to localhost (B's).
fn publish_on_both(s: &Server, on_a: &str, on_b: &str) -> (Publisher, Publisher) {
    let a = s.publish(on_a, "h264_aac_10s.flv");
    let b = s.publish_with(on_b, || {
        Publisher::push(&url_on(s, "localhost", on_b), "h264_aac_10s.flv")
    });
    (a, b)
}

/// A `liverec-push` URL of live/`name` on the server's RTMP port, with the
/// host `host` (its tcUrl domain).
fn url_on(s: &Server, host: &str, name: &str) -> String {
    format!("rtmp://{host}:{}/live/{name}", s.rtmp.port())
}

#[test]
fn every_stream_action_is_the_domain_owners() {
    // B owns "localhost"; 127.0.0.1, claimed by nobody, is the bootstrap
    // account's (A's).
    let (s, b) = server_with_b_owning("localhost");
    let a = SdkOpts::default();
    let _live = publish_on_both(&s, "own-a", "own-b");
    assert_eq!(online_names(&s, &a), ["own-a"]);
    assert_eq!(online_names(&s, &b), ["own-b"]);
    assert_eq!(state(&s, &a, "127.0.0.1", "own-a"), "active");
    assert_eq!(state(&s, &b, "localhost", "own-b"), "active");

    // Each account, on the other's stream: the not-found code, never a
    // result, and nothing changes.
    let now = now_s();
    let window = |extra: Value| {
        let mut p = json!({
            "StartTime": time_utc(now - 600),
            "EndTime": time_utc(now + 60),
        });
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        p
    };
    for (who, other_domain, other_stream) in
        [(&b, "127.0.0.1", "own-a"), (&a, "localhost", "own-b")]
    {
        let target = stream(other_domain, other_stream);
        for action in [
            "DescribeLiveStreamState",
            "DropLiveStream",
            "ForbidLiveStream",
            "ResumeLiveStream",
        ] {
            let m = s
                .sdk_with(who, action, target.clone())
                .err("InternalError.ConfigNotExist");
            assert!(m.contains(other_domain), "{action}: {m}");
        }
        s.sdk_with(
            who,
            "DescribeLiveStreamOnlineList",
            json!({"DomainName": other_domain}),
        )
        .err("InternalError.ConfigNotExist");
        s.sdk_with(
            who,
            "DescribeLiveStreamEventList",
            window(json!({"DomainName": other_domain})),
        )
        .err("InternalError.ConfigNotExist");
        s.sdk_with(
            who,
            "DescribeLivePushAuthKey",
            json!({"DomainName": other_domain}),
        )
        .err("ResourceNotFound.PushDomainNoRecord");
        s.sdk_with(
            who,
            "ModifyLivePushAuthKey",
            json!({"DomainName": other_domain, "Enable": 1, "MasterAuthKey": "stolen"}),
        )
        .err("ResourceNotFound.PushDomainNoRecord");
    }
    // Both streams are still live, neither forbidden nor dropped.
    assert_eq!(state(&s, &a, "127.0.0.1", "own-a"), "active");
    assert_eq!(state(&s, &b, "localhost", "own-b"), "active");
    assert_eq!((s.publishes("own-a"), s.publishes("own-b")), (1, 1));
    // The publish history is each account's own.
    let events = |o: &SdkOpts| {
        let r = s
            .sdk_with(o, "DescribeLiveStreamEventList", window(json!({})))
            .ok();
        r["EventList"]
            .as_array()
            .expect("EventList")
            .iter()
            .map(|e| e["StreamName"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(events(&a), ["own-a"]);
    assert_eq!(events(&b), ["own-b"]);
    // The owner may act: B drops its own stream.
    s.sdk_with(&b, "DropLiveStream", stream("localhost", "own-b"))
        .ok();
    wait_for(Duration::from_secs(10), "own-b dropped", || {
        (state(&s, &b, "localhost", "own-b") == "inactive").then_some(())
    });
    assert_eq!(state(&s, &a, "127.0.0.1", "own-a"), "active");
}

#[test]
fn push_authentication_uses_the_owners_keys_only() {
    let (s, b) = server_with_b_owning("LOCALHOST.");
    let a = SdkOpts::default();
    let (key_a, key_b) = ("keyOfAccountA", "keyOfAccountB");
    s.sdk_with(
        &a,
        "ModifyLivePushAuthKey",
        json!({"DomainName": "127.0.0.1", "Enable": 1, "MasterAuthKey": key_a}),
    )
    .ok();
    s.sdk_with(
        &b,
        "ModifyLivePushAuthKey",
        json!({"DomainName": "localhost", "Enable": 1, "MasterAuthKey": key_b}),
    )
    .ok();
    let tx_time = format!("{:X}", now_s() + 300);
    let signed = |host: &str, name: &str, key: &str| {
        format!(
            "{}?txSecret={}&txTime={tx_time}",
            url_on(&s, host, name),
            tcapi::push_tx_secret(key, name, &tx_time)
        )
    };
    // The other account's key does not open a domain.
    crate::streams::assert_refused(
        &signed("localhost", "pa-x", key_a),
        "NetStream.Publish.Unauthorized",
    );
    crate::streams::assert_refused(
        &signed("127.0.0.1", "pa-y", key_b),
        "NetStream.Publish.Unauthorized",
    );
    assert_eq!((s.publishes("pa-x"), s.publishes("pa-y")), (0, 0));
    // The owner's key does.
    let (st, err) = crate::streams::push_once(&signed("localhost", "pa-b", key_b));
    assert!(
        st.is_some_and(|st| st.success()),
        "B's key on B's domain: {err}"
    );
    let (st, err) = crate::streams::push_once(&signed("127.0.0.1", "pa-a", key_a));
    assert!(
        st.is_some_and(|st| st.success()),
        "A's key on A's domain: {err}"
    );
    let log = s.log();
    assert!(
        log.contains("push authentication failed for localhost/live/pa-x: wrong txSecret"),
        "{log}"
    );
    assert!(!log.contains(key_a) && !log.contains(key_b));
}

/// ffmpeg publishing `fixture` (looped, real time) to live/`name` on the
/// server's RTMP port with the tcUrl `tc_url`, which may name any host.
struct TcUrlPublisher(std::process::Child);

impl TcUrlPublisher {
    fn start(s: &Server, name: &str, tc_url: &str) -> TcUrlPublisher {
        let child = Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-loglevel", "error"])
            .args(["-re", "-stream_loop", "-1", "-i"])
            .arg(fixture("h264_aac_10s.flv"))
            .args(["-c", "copy", "-f", "flv", "-rtmp_tcurl", tc_url])
            .arg(s.rtmp_url("live", name))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start ffmpeg");
        TcUrlPublisher(child)
    }
}

impl Drop for TcUrlPublisher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn strict_domains_and_a_trailing_dot_tc_url() {
    let mut s = Server::start_with(&[("LIVEREC_STRICT_DOMAINS", "true")]);
    let b = s.new_account("tenant-b");
    // Nobody claimed 127.0.0.1: refused, with the reason logged.
    crate::streams::assert_refused(&s.rtmp_url("live", "st-1"), "NetStream.Publish.Rejected");
    let log = s.wait_log("is not a push domain of any account");
    assert!(log.contains("127.0.0.1/live/st-1"), "{log}");
    assert_eq!(s.publishes("st-1"), 0);
    // Claimed (by the operator for the bootstrap account), it is accepted.
    let (ok, text) = domains_cli(&s, &["add", "127.0.0.1"]);
    assert!(ok, "{text}");
    let (st, err) = crate::streams::push_once(&s.rtmp_url("live", "st-2"));
    assert!(st.is_some_and(|st| st.success()), "claimed: {err}");

    // `Example.COM.:1935` is example.com: B's once B claims it.
    let tc = "rtmp://Example.COM.:1935/live";
    {
        let _p = TcUrlPublisher::start(&s, "st-dot", tc);
        let log = s.wait_log("example.com/live/st-dot");
        assert!(
            log.contains(
                "domain example.com of stream example.com/live/st-dot is not a push domain"
            ),
            "{log}"
        );
    }
    claim(&s, &b, "example.com");
    let _p = TcUrlPublisher::start(&s, "st-dot", tc);
    s.wait_publishes("st-dot", 1);
    let r = s
        .sdk_with(&b, "DescribeLiveStreamOnlineList", json!({}))
        .ok();
    assert_eq!(r["OnlineInfo"][0]["StreamName"], "st-dot", "{r}");
    assert_eq!(r["OnlineInfo"][0]["DomainName"], "example.com", "{r}");
    assert_eq!(online_names(&s, &SdkOpts::default()), Vec::<String>::new());
    assert_eq!(state(&s, &b, "EXAMPLE.com.", "st-dot"), "active");
    s.stop();
}

#[test]
fn recording_another_accounts_stream_is_refused_or_records_nothing() {
    let (s, b) = server_with_b_owning("localhost");
    let _live = publish_on_both(&s, "rec-a", "rec-b");
    let now = now_s();
    // Highlights of A's stream, named by domain or not: not live for B.
    for p in [
        json!({"StreamName": "rec-a", "DomainName": "127.0.0.1", "Highlight": 1}),
        json!({"StreamName": "rec-a", "Highlight": 1}),
    ] {
        s.sdk_with(&b, "CreateLiveRecord", p)
            .err("ResourceUnavailable.StreamNotExist");
    }
    // Scheduled tasks and rules naming A's domain do not exist for B.
    s.sdk_with(
        &b,
        "CreateLiveRecord",
        json!({"StreamName": "rec-a", "DomainName": "127.0.0.1",
               "StartTime": cst(now - 10), "EndTime": cst(now + 120)}),
    )
    .err_naming("ResourceNotFound.DomainNotExist", "127.0.0.1");
    s.sdk_with(
        &b,
        "CreateRecordTask",
        json!({"StreamName": "rec-a", "DomainName": "127.0.0.1", "AppName": "live",
               "EndTime": now + 120}),
    )
    .err_naming("ResourceNotFound.DomainNotExist", "127.0.0.1");
    let template = s
        .sdk_with(
            &b,
            "CreateLiveRecordTemplate",
            json!({"TemplateName": "b", "FlvParam": {"Enable": 1}}),
        )
        .ok()["TemplateId"]
        .clone();
    s.sdk_with(
        &b,
        "CreateLiveRecordRule",
        json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": "rec-a",
               "TemplateId": template}),
    )
    .err("ResourceNotFound.DomainNotExist");
    // A task without a DomainName is accepted but matches only B's streams:
    // it would record a rec-a on B's domains, never A's rec-a.
    let b_task = s
        .sdk_with(
            &b,
            "CreateLiveRecord",
            json!({"StreamName": "rec-a", "StartTime": cst(now - 10), "EndTime": cst(now + 120)}),
        )
        .ok()["TaskId"]
        .as_i64()
        .expect("TaskId");
    // A records its own stream meanwhile.
    let (_, a_files) = s.record_for("rec-a", 2);
    assert_eq!(a_files.len(), 1);
    assert_eq!(a_files[0]["DomainName"], "127.0.0.1", "{}", a_files[0]);
    let b_files = s.sdk_with(&b, "DescribeRecordFiles", json!({})).ok();
    assert_eq!(b_files["TotalCount"], 0, "B recorded A's stream: {b_files}");
    s.sdk_with(
        &b,
        "StopLiveRecord",
        json!({"StreamName": "rec-a", "TaskId": b_task}),
    )
    .ok();
    // B records its own stream.
    let b_high = s
        .sdk_with(
            &b,
            "CreateLiveRecord",
            json!({"StreamName": "rec-b", "Highlight": 1}),
        )
        .ok()["TaskId"]
        .as_i64()
        .expect("TaskId");
    std::thread::sleep(Duration::from_secs(2));
    s.sdk_with(
        &b,
        "StopLiveRecord",
        json!({"StreamName": "rec-b", "TaskId": b_high}),
    )
    .ok();
    let files = wait_for(Duration::from_secs(10), "B's file", || {
        let r = s.sdk_with(&b, "DescribeRecordFiles", json!({})).ok();
        let list = r["FileList"].as_array().cloned().unwrap_or_default();
        (list.len() == 1 && list[0]["Status"] != "recording").then_some(list)
    });
    assert_eq!(files[0]["StreamName"], "rec-b");
    assert_eq!(files[0]["DomainName"], "localhost");
    // A's listing has only A's file.
    let mine = s.files(json!({}));
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["StreamName"], "rec-a");
}
