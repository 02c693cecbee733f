//! Two nodes on one PostgreSQL database and one shared records directory
//! (the shared-volume layout), on one machine: a task created through node
//! 1 records a stream published to node 2, a stop through node 1 finalizes
//! it, node 1 lists, queries and drops node 2's publisher, a second
//! publisher on node 1 is refused; `kill -9` of the recording node → node 1
//! ends its session as crashed, recovers its open file and announces both,
//! and the task records again when the publisher comes back to node 1.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::callbacks::{Behaviour, Receiver};
use crate::harness::*;
use crate::probe::probe;

/// Lease of the test nodes: a dead node is taken over after about this.
const LEASE_S: &str = "2";

/// Node `name` on database `db`, recording into `records`.
fn node(name: &str, db: &str, records: &std::path::Path, extra: &[(&str, &str)]) -> Server {
    let storage = format!("fs://{}", records.display());
    let mut env = vec![
        ("LIVEREC_DATABASE_URL", db),
        ("LIVEREC_STORAGE", storage.as_str()),
        ("LIVEREC_NODE_ID", name),
        ("LIVEREC_NODE_LEASE_SECONDS", LEASE_S),
    ];
    env.extend_from_slice(extra);
    Server::start_with(&env)
}

fn online(s: &Server) -> Vec<String> {
    let r = s.sdk("DescribeLiveStreamOnlineList", json!({})).ok();
    r["OnlineInfo"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|o| o["StreamName"].as_str().map(str::to_string))
        .collect()
}

fn state(s: &Server, stream: &str) -> String {
    s.stream_state(stream)
}

/// The time stamp of the first log line containing `text`.
fn log_time(log: &str, text: &str) -> time::OffsetDateTime {
    let line = log
        .lines()
        .map(strip_ansi)
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no log line with {text:?}"));
    let stamp = line.split_whitespace().next().unwrap_or_default();
    time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("time of {line:?}: {e}"))
}

#[test]
fn a_task_created_on_one_node_records_a_stream_published_to_another() {
    let db = postgres_database("cluster_tasks");
    let records = tempfile::tempdir().unwrap();
    let n1 = node("n1", &db, records.path(), &[]);
    let mut n2 = node("n2", &db, records.path(), &[]);
    let mut p = n2.publish("c1", "h264_aac_10s.flv");

    // Node 1 sees node 2's stream.
    wait_for(Duration::from_secs(5), "c1 online on node 1", || {
        online(&n1).contains(&"c1".to_string()).then_some(())
    });
    assert_eq!(state(&n1, "c1"), "active");

    // A second publisher of the stream on node 1 is refused.
    let mut second = Publisher::start(&n1.rtmp_url("live", "c1"), "h264_aac_10s.flv");
    assert!(
        second.wait_exit(Duration::from_secs(10)).is_some(),
        "second publisher on node 1 still running"
    );
    let refusal = n1.wait_log("already being published (on node n2)");
    assert!(refusal.contains("c1"), "{refusal}");
    assert!(
        p.wait_exit(Duration::from_millis(10)).is_none(),
        "first publisher kept"
    );

    // Created through node 1, recorded on node 2.
    let t0 = Instant::now();
    let task = n1.create(json!({"StreamName": "c1", "Highlight": 1}));
    let started = wait_for(Duration::from_secs(5), "file recording on node 2", || {
        (!n1.files(json!({"TaskId": task.to_string()})).is_empty()).then(|| t0.elapsed())
    });
    println!("create on node 1 → file row from node 2: {started:?}");
    assert!(started < Duration::from_secs(2), "{started:?}");
    assert!(!n1.log().contains("recording file opened"));
    // From the logs: the task row committed on node 1 → the file opened
    // on node 2 (LISTEN/NOTIFY, the task read back, the recording started
    // from the pre-roll).
    let created = log_time(&n1.log(), "task created");
    let opened = log_time(&n2.log(), "recording file opened");
    let arm = opened - created;
    println!("task created on node 1 → file opened on node 2: {arm}");
    assert!(
        arm > time::Duration::ZERO && arm < time::Duration::milliseconds(200),
        "{arm}"
    );
    std::thread::sleep(Duration::from_secs(4));

    // Stopped through node 1: the reply comes once node 2 finalized it.
    let t0 = Instant::now();
    n1.sdk(
        "StopLiveRecord",
        json!({"StreamName": "c1", "TaskId": task}),
    )
    .ok();
    let stop = t0.elapsed();
    println!("StopLiveRecord through the SDK (a Python process): {stop:?}");
    assert!(stop < Duration::from_secs(5), "{stop:?}");
    // From the logs: node 1 tells node 2 → node 1 replies, which it does
    // once the file node 2 finalized is listed as finished.
    let sent = log_time(&n1.log(), "cluster message sent msg=StopTask");
    let replied = log_time(&n1.log(), "task stopped");
    let stop = replied - sent;
    println!("stop sent by node 1 → file finished on node 2 → reply: {stop}");
    assert!(
        stop >= time::Duration::ZERO && stop < time::Duration::seconds(1),
        "{stop}"
    );
    let files = n1.files(json!({"TaskId": task.to_string()}));
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0]["Status"], "finished");
    let path = n1.download_file(&files[0]);
    let d = probe(&path).duration;
    assert!((3.0..12.0).contains(&d), "duration {d}");

    // A drop through node 1 disconnects the publisher on node 2.
    n1.sdk(
        "DropLiveStream",
        json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": "c1"}),
    )
    .ok();
    assert!(
        p.wait_exit(Duration::from_secs(5)).is_some(),
        "publisher on node 2 not dropped"
    );
    wait_for(Duration::from_secs(5), "c1 offline on node 1", || {
        (state(&n1, "c1") == "inactive").then_some(())
    });
    assert!(online(&n1).is_empty());
    assert!(n2.log().contains("disconnected at a peer's request"));

    // A node that stops cleanly leaves nothing for its peers to take over.
    assert!(n2.stop().success());
    std::thread::sleep(Duration::from_millis(3500));
    assert!(!n1.log().contains("took over a dead node"), "{}", n1.log());
}

#[test]
fn a_dead_nodes_session_and_open_file_are_taken_over() {
    let r = Receiver::start(Behaviour::default());
    let url = r.url();
    let cb = [
        ("LIVEREC_CALLBACK_URL", url.as_str()),
        ("LIVEREC_CALLBACK_KEY", "k"),
    ];
    let db = postgres_database("cluster_dead");
    let records = tempfile::tempdir().unwrap();
    let n1 = node("n1", &db, records.path(), &cb);
    let mut n2 = node("n2", &db, records.path(), &cb);
    let mut p = n2.publish("c2", "h264_aac_10s.flv");
    r.wait_event("c2", 1, Duration::from_secs(10), |_| true);
    // A window task: it records again after the takeover.
    let now = now_s();
    let task = n1.create(json!({
        "StreamName": "c2",
        "StartTime": cst(now - 5),
        "EndTime": cst(now + 300),
    }));
    wait_for(Duration::from_secs(5), "recording on node 2", || {
        (!n1.files(json!({"TaskId": task.to_string()})).is_empty()).then_some(())
    });
    std::thread::sleep(Duration::from_secs(4));
    let killed = Instant::now();
    n2.kill();
    p.stop();

    // Node 1 takes over after the lease: the session ends as crashed and
    // the open file is recovered from the shared directory.
    let files = n1.wait_finished(task, 1, Duration::from_secs(15));
    println!(
        "kill -9 of node 2 → file recovered by node 1: {:?}",
        killed.elapsed()
    );
    assert_eq!(files[0]["Status"], "recovered");
    let path = n1.download_file(&files[0]);
    let d = probe(&path).duration;
    assert!(d >= 2.0, "recovered duration {d}");
    let end = r.wait_event("c2", 0, Duration::from_secs(10), |_| true);
    assert_eq!(end.body["stop_reason"], "crash");
    let rec = r.wait_event("c2", 100, Duration::from_secs(10), |_| true);
    assert_eq!(rec.body["recovered"], 1);
    assert!(n1.log().contains("took over a dead node"));

    // The publisher comes back to node 1: the task records again there.
    let _p = n1.publish("c2", "h264_aac_10s.flv");
    wait_for(Duration::from_secs(10), "second file on node 1", || {
        (n1.files(json!({"TaskId": task.to_string()})).len() == 2).then_some(())
    });
    for t in [0, 100] {
        assert_eq!(r.events("c2", t).len(), 1, "event {t} once");
    }
}

#[test]
fn rules_and_forbids_set_on_one_node_act_on_another() {
    let db = postgres_database("cluster_rules");
    let records = tempfile::tempdir().unwrap();
    let n1 = node("n1", &db, records.path(), &[]);
    let n2 = node("n2", &db, records.path(), &[]);
    // A rule made through node 1 records what is published to node 2.
    let tpl = n1
        .sdk(
            "CreateLiveRecordTemplate",
            json!({"TemplateName": "c", "FlvParam": {"Enable": 1}}),
        )
        .ok()["TemplateId"]
        .as_i64()
        .expect("TemplateId");
    n1.sdk(
        "CreateLiveRecordRule",
        json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": "c3", "TemplateId": tpl}),
    )
    .ok();
    // A v1 request (its nonce) seen by node 1 is a replay on node 2 too.
    let host = n1.endpoint();
    let form = v1_form(&host, &now_s().to_string(), "777");
    let code = |r: &HttpResponse| -> Value {
        let v: Value = serde_json::from_slice(&r.body).expect("json");
        v["Response"]["Error"]["Code"].clone()
    };
    assert_eq!(code(&v1_post(n1.api, &host, &form)), Value::Null);
    assert_eq!(
        code(&v1_post(n2.api, &host, &form)),
        "AuthFailure.InvalidAuthorization"
    );
    let mut p = n2.publish("c3", "h264_aac_10s.flv");
    let files = wait_for(Duration::from_secs(10), "rule recording on node 2", || {
        let f = n1.files(json!({"StreamName": "c3"}));
        (!f.is_empty()).then_some(f)
    });
    assert_eq!(files[0]["Status"], "recording");
    assert!(n2.log().contains("recording file opened"));
    std::thread::sleep(Duration::from_secs(3));

    // A forbid through node 1 drops the publisher on node 2 (its file is
    // finalized) and node 2 refuses it from then on.
    n1.sdk(
        "ForbidLiveStream",
        json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": "c3"}),
    )
    .ok();
    assert!(
        p.wait_exit(Duration::from_secs(5)).is_some(),
        "publisher on node 2 not dropped"
    );
    assert_eq!(state(&n1, "c3"), "forbid");
    let files = n1.wait_files(json!({"StreamName": "c3"}), 1..=1, Duration::from_secs(10));
    assert_eq!(files[0]["Status"], "finished");
    let mut again = Publisher::start(&n2.rtmp_url("live", "c3"), "h264_aac_10s.flv");
    assert!(
        again.wait_exit(Duration::from_secs(10)).is_some(),
        "forbidden stream accepted by node 2"
    );
    assert!(n2.log().contains("is forbidden until ResumeLiveStream"));
}
