//! The new task API: CreateRecordTask / StopRecordTask / DeleteRecordTask /
//! DescribeRecordTask, string TaskIds, Unix-second times, the three-task
//! overlap rule, and the separation from the legacy family.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;
use crate::probe::{assert_valid, max_dts_gap};

fn task(stream: &str, start: Option<i64>, end: i64) -> Value {
    let mut p =
        json!({"StreamName": stream, "DomainName": "127.0.0.1", "AppName": "live", "EndTime": end});
    if let Some(s) = start {
        p["StartTime"] = json!(s);
    }
    p
}

fn files_of(s: &Server, id: &str) -> Vec<Value> {
    s.files(json!({"TaskId": id}))
}

/// Waits until the task's `n` files are closed.
fn wait_files(s: &Server, id: &str, n: usize) -> Vec<Value> {
    s.wait_files(json!({"TaskId": id}), n..=n, Duration::from_secs(5))
}

/// A new publish of `stream` after the task `id` ended: after 3 s the task
/// still has its one file.
fn a_new_publish_is_not_recorded(s: &Server, stream: &str, id: &str) {
    let _p = s.publish(stream, "h264_aac_10s.flv");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(files_of(s, id).len(), 1);
}

/// The DescribeRecordTask answer for the two minutes around now.
fn tasks_around_now(s: &Server) -> Value {
    let now = now_s();
    s.sdk(
        "DescribeRecordTask",
        json!({"StartTime": now - 120, "EndTime": now + 120}),
    )
    .ok()
}

#[test]
fn a_task_without_template_records_hls_and_never_restarts_after_stop() {
    let s = Server::start_with(&[("LIVEREC_HLS_SEGMENT_SECONDS", "2")]);
    let mut p = s.publish("nt", "h264_aac_10s.flv");
    let t0 = now_f();
    let params = task("nt", None, now_s() + 60);
    let id = s.create_task(params.clone());
    let t1 = now_f();
    std::thread::sleep(Duration::from_secs(5));
    let t2 = now_f();
    s.sdk("StopRecordTask", json!({"TaskId": id})).ok();
    let t3 = now_f();
    let files = wait_files(&s, &id, 1);
    assert_eq!(files[0]["FileFormat"], "hls", "no template: HLS");
    assert_eq!(files[0]["TaskId"], id.as_str());
    let pl = s.download_file(&files[0]);
    assert_valid(&pl, "hls", t2 - t1 - 0.5, t3 - t0 + 2.5);
    // A stopped task never starts again: not for a client's retry of the
    // create call (same TaskId back), nor for a new publish.
    assert_eq!(
        s.create_task(params),
        id,
        "a retry within 60 s is the same task"
    );
    p.stop();
    a_new_publish_is_not_recorded(&s, "nt", &id);
    // DescribeRecordTask shows it with its stop time.
    let r = tasks_around_now(&s);
    let list = r["TaskList"].as_array().expect("TaskList");
    let row = list
        .iter()
        .find(|t| t["TaskId"] == id.as_str())
        .expect("listed");
    assert!(row["Stopped"].as_i64().unwrap_or(0) > 0, "{row}");
    assert_eq!(row["TemplateId"], 0);
    assert_eq!(row["StreamName"], "nt");
    assert_eq!(r["ScrollToken"], "");
}

#[test]
fn bad_input_and_the_two_families_do_not_mix() {
    let s = Server::start();
    let now = now_s();
    let mut p = task("x", None, now + 60);
    p.as_object_mut().expect("obj").remove("DomainName");
    s.sdk("CreateRecordTask", p)
        .err_naming("MissingParameter", "DomainName");
    s.sdk("CreateRecordTask", task("x", None, now - 10))
        .err_naming("InvalidParameterValue", "EndTime");
    s.sdk("CreateRecordTask", task("x", None, now + 8 * 86_400))
        .err_naming("InvalidParameterValue", "7 days");
    s.sdk(
        "CreateRecordTask",
        task("x", Some(now + 3600), now + 26 * 3600),
    )
    .err_naming("InvalidParameterValue", "24 hours");
    s.sdk("CreateRecordTask", task("x", Some(now + 600), now + 300))
        .err_naming("InvalidParameterValue", "later than StartTime");
    let mut p = task("x", None, now + 60);
    p["StreamType"] = json!(2);
    s.sdk("CreateRecordTask", p)
        .err_naming("InvalidParameterValue", "StreamType");
    s.sdk("StopRecordTask", json!({"TaskId": "nope"}))
        .err("InvalidParameter.TaskNotExist");
    s.sdk("DeleteRecordTask", json!({"TaskId": "nope"}))
        .err("InvalidParameter.TaskNotExist");
    s.sdk("StopRecordTask", json!({})).err("MissingParameter");
    // A legacy TaskId means nothing to the new family, and the other way round.
    let legacy =
        s.create(json!({"StreamName": "x", "StartTime": cst(now + 60), "EndTime": cst(now + 120)}));
    s.sdk("StopRecordTask", json!({"TaskId": legacy.to_string()}))
        .err("InvalidParameter.TaskNotExist");
    let id = s.create_task(task("x", Some(now + 60), now + 120));
    let common = SdkOpts::common();
    s.sdk_with(
        &common,
        "StopLiveRecord",
        json!({"StreamName": "x", "TaskId": id}),
    )
    .err("InvalidParameter");
    let r = s.sdk("DescribeRecordFiles", json!({"TaskId": legacy}));
    assert_eq!(r.ok()["TotalCount"], 0);
    // DescribeRecordTask limits.
    s.sdk("DescribeRecordTask", json!({"EndTime": now}))
        .err("MissingParameter");
    s.sdk(
        "DescribeRecordTask",
        json!({"StartTime": now, "EndTime": now + 8 * 86_400}),
    )
    .err_naming("InvalidParameterValue", "one week");
    s.sdk(
        "DescribeRecordTask",
        json!({"StartTime": now, "EndTime": now + 60, "ScrollToken": "bogus"}),
    )
    .err("InvalidParameterValue");
    // The same call twice within a minute is a retry: same TaskId.
    let again = s.create_task(task("x", Some(now + 60), now + 120));
    assert_eq!(again, id);
    // tccli speaks this family too.
    let end = (now + 300).to_string();
    let v = s.tccli_ok(
        "CreateRecordTask",
        &[
            "--StreamName",
            "cli",
            "--DomainName",
            "127.0.0.1",
            "--AppName",
            "live",
            "--EndTime",
            &end,
        ],
    );
    assert!(v["TaskId"].as_str().is_some_and(|t| t.len() >= 32), "{v}");
}

#[test]
fn at_most_three_overlapping_tasks_record_a_stream() {
    let s = Server::start();
    let _p = s.publish("ov", "h264_aac_10s.flv");
    let end = now_s() + 60;
    let ids: Vec<String> = (0..4)
        .map(|i| s.create_task(task("ov", Some(now_s() - 1 + i), end)))
        .collect();
    // Each recording starts from the pre-roll's keyframe at once; the limit
    // itself is unit-tested (scheduler::tests), so two seconds will do.
    std::thread::sleep(Duration::from_secs(2));
    for id in &ids {
        s.sdk("StopRecordTask", json!({"TaskId": id})).ok();
    }
    let counts: Vec<usize> = ids
        .iter()
        .map(|id| {
            std::thread::sleep(Duration::from_millis(200));
            files_of(&s, id).len()
        })
        .collect();
    assert_eq!(counts, [1, 1, 1, 0], "the three oldest tasks record");
    assert!(
        s.log()
            .contains("3 overlapping tasks already record this stream")
    );
}

#[test]
fn delete_record_task_leaves_the_running_recording_alone() {
    let s = Server::start();
    let mut p = s.publish("dl", "h264_aac_10s.flv");
    let t0 = now_f();
    let id = s.create_task(task("dl", None, now_s() + 60));
    let t1 = now_f();
    std::thread::sleep(Duration::from_secs(2));
    s.sdk("DeleteRecordTask", json!({"TaskId": id})).ok();
    // Still recording after the delete.
    std::thread::sleep(Duration::from_secs(3));
    let live = files_of(&s, &id);
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["Status"], "recording");
    let t2 = now_f();
    p.stop();
    let files = wait_files(&s, &id, 1);
    let pl = s.download_file(&files[0]);
    assert_valid(&pl, "hls", t2 - t1 - 1.0, now_f() - t0 + 2.5);
    // A later publish is not recorded, and the task is gone.
    a_new_publish_is_not_recorded(&s, "dl", &id);
    s.sdk("StopRecordTask", json!({"TaskId": id}))
        .err("InvalidParameter.TaskNotExist");
    let r = tasks_around_now(&s);
    assert!(
        r["TaskList"]
            .as_array()
            .expect("list")
            .iter()
            .all(|t| t["TaskId"] != id.as_str())
    );
}

#[test]
fn describe_record_task_window_and_scroll_token_paging() {
    let s = Server::start_with(&[("LIVEREC_DESCRIBE_TASK_PAGE_SIZE", "2")]);
    let base = now_s() + 3600;
    let inside: Vec<String> = (0..5)
        .map(|i| {
            s.create_task(task(
                &format!("p{i}"),
                Some(base + i * 60),
                base + i * 60 + 30,
            ))
        })
        .collect();
    // Ends after the window: not listed.
    s.create_task(task("late", Some(base + 100), base + 7200));
    let window = json!({"StartTime": base - 10, "EndTime": base + 3600});
    let mut seen = Vec::new();
    let mut token = String::new();
    for page in 0..10 {
        let mut q = window.clone();
        if !token.is_empty() {
            q["ScrollToken"] = json!(token);
        }
        let r = s.sdk("DescribeRecordTask", q).ok();
        let list = r["TaskList"].as_array().expect("TaskList").clone();
        assert!(list.len() <= 2);
        seen.extend(
            list.iter()
                .filter_map(|t| t["TaskId"].as_str().map(str::to_string)),
        );
        if page == 0 {
            // A task created while paging shows up later, without
            // repeating or skipping earlier ones.
            let _ = s.create_task(task("p9", Some(base + 900), base + 930));
        }
        token = r["ScrollToken"].as_str().unwrap_or_default().to_string();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    for id in &inside {
        assert_eq!(
            seen.iter().filter(|x| *x == id).count(),
            1,
            "{id} listed once"
        );
    }
    // Filters.
    let mut q = window.clone();
    q["StreamName"] = json!("p3");
    let r = s.sdk("DescribeRecordTask", q).ok();
    assert_eq!(r["TaskList"].as_array().expect("list").len(), 1);
}

/// Publishes `stream` for 4 s, stops, publishes it again 2 s later and
/// lets it run 4 s; the second publisher (still publishing) and the times
/// taken around each step: before and after the first publish, after its
/// stop, before and after the second. Bounds come from these measured
/// times: under load, each publish may take seconds.
fn two_publishes(s: &Server, stream: &str) -> (Publisher, [f64; 5]) {
    let t0 = now_f();
    let mut first = s.publish(stream, "h264_aac_10s.flv");
    let t1 = now_f();
    std::thread::sleep(Duration::from_secs(4));
    first.stop();
    let t2 = now_f();
    std::thread::sleep(Duration::from_secs(2));
    let t3 = now_f();
    let second = s.publish(stream, "h264_aac_10s.flv");
    let t4 = now_f();
    assert_eq!(s.publishes(stream), 2, "second publish");
    std::thread::sleep(Duration::from_secs(4));
    (second, [t0, t1, t2, t3, t4])
}

#[test]
fn a_template_reconnect_window_continues_the_playlist() {
    let s = Server::start_with(&[("LIVEREC_HLS_SEGMENT_SECONDS", "2")]);
    let tpl = s.sdk(
        "CreateLiveRecordTemplate",
        json!({"TemplateName": "reconnect", "HlsParam": {"Enable": 1}, "HlsSpecialParam": {"FlowContinueDuration": 8}}),
    );
    let tpl = tpl.ok()["TemplateId"].as_i64().expect("TemplateId");
    let mut p = task("rc", None, now_s() + 120);
    p["TemplateId"] = json!(tpl);
    let id = s.create_task(p);
    // Two publishes 2 s apart: one playlist, with a discontinuity.
    let (mut second, [t0, t1, t2, t3, t4]) = two_publishes(&s, "rc");
    let live = files_of(&s, &id);
    assert_eq!(
        live.len(),
        1,
        "the reconnect continues the same file: {live:?}"
    );
    assert_eq!(live[0]["Status"], "recording");
    // A gap longer than the window closes it; the next publish starts a
    // new playlist.
    second.stop();
    let t5 = now_f();
    // The server says when the window is over (8 s after the stop); the
    // wait is bounded, not a guess at how long that takes.
    let closed = "parked recording closed: no publisher returned";
    wait_for(Duration::from_secs(20), "parked output closed", || {
        s.log().contains(closed).then_some(())
    });
    assert!(now_f() - t5 >= 7.5, "closed before the window ended");
    let _third = Publisher::start(&s.rtmp_url("live", "rc"), "h264_aac_10s.flv");
    std::thread::sleep(Duration::from_secs(4));
    s.sdk("StopRecordTask", json!({"TaskId": id})).ok();
    let files = wait_files(&s, &id, 2);
    let joined = files
        .iter()
        .max_by_key(|f| f["Duration"].as_f64().map(|d| (d * 1000.0) as i64))
        .expect("file");
    let pl = s.download_file(joined);
    let text = std::fs::read_to_string(&pl).expect("playlist");
    assert_eq!(text.matches("#EXT-X-DISCONTINUITY").count(), 1, "{text}");
    // Both sessions, each from its publish to its stop.
    assert_valid(
        &pl,
        "hls",
        (t2 - t1) + (t5 - t4) - 2.0,
        (t2 - t0) + (t5 - t3) + 3.0,
    );
}

#[test]
fn a_reconnect_window_continues_every_format_and_a_later_return_starts_new_files() {
    let s = Server::start_with(&[("LIVEREC_HLS_SEGMENT_SECONDS", "2")]);
    // ReconnectWindow is liverec's own field: sent through the SDK's
    // generic call, which passes fields its models do not have.
    let tpl = s.sdk_with(
        &SdkOpts::common(),
        "CreateLiveRecordTemplate",
        json!({"TemplateName": "rw", "FlvParam": {"Enable": 1}, "HlsParam": {"Enable": 1},
               "Mp4Param": {"Enable": 1}, "AacParam": {"Enable": 1}, "Mp3Param": {"Enable": 1},
               "ReconnectWindow": 6}),
    );
    let tpl = tpl.ok()["TemplateId"].as_i64().expect("TemplateId");
    let mut p = task("rw", None, now_s() + 120);
    p["TemplateId"] = json!(tpl);
    let id = s.create_task(p);
    // Two publishes 2 s apart, inside the 6 s window: one file per format.
    let (mut second, [t0, t1, t2, t3, t4]) = two_publishes(&s, "rw");
    second.stop();
    let t5 = now_f();
    let closed = "parked recording closed: no publisher returned";
    wait_for(Duration::from_secs(20), "parked outputs closed", || {
        s.log().contains(closed).then_some(())
    });
    assert!(now_f() - t5 >= 5.5, "closed before the window ended");
    let files = wait_files(&s, &id, 5);
    let mut formats: Vec<&str> = files
        .iter()
        .filter_map(|f| f["FileFormat"].as_str())
        .collect();
    formats.sort_unstable();
    assert_eq!(formats, ["aac", "flv", "hls", "mp3", "mp4"], "{files:?}");
    let interruption = t3 - t2;
    for f in &files {
        let format = f["FileFormat"].as_str().expect("format");
        let path = s.download_file(f);
        // Both sessions, each from its publish to its stop; DTS strictly
        // increasing (assert_valid), no step at the join as long as the
        // interruption: the second session is re-based onto the first.
        let probe = assert_valid(
            &path,
            format,
            (t2 - t1) + (t5 - t4) - 2.0,
            (t2 - t0) + (t5 - t3) + 3.0,
        );
        let gap = max_dts_gap(&probe);
        eprintln!("{format}: max DTS gap {gap:.3} s across a {interruption:.1} s interruption");
        assert!(
            gap < 0.5 && gap < interruption,
            "{format}: DTS gap {gap} s at the join"
        );
        if format == "hls" {
            let text = std::fs::read_to_string(&path).expect("playlist");
            assert_eq!(text.matches("#EXT-X-DISCONTINUITY").count(), 1, "{text}");
        }
    }
    // Back after the window: new files.
    let mut third = s.publish("rw", "h264_aac_10s.flv");
    std::thread::sleep(Duration::from_secs(3));
    third.stop();
    s.sdk("StopRecordTask", json!({"TaskId": id})).ok();
    let files = wait_files(&s, &id, 10);
    assert_eq!(files.len(), 10, "{files:?}");
}

#[test]
fn a_rule_and_a_task_on_one_stream_record_twice() {
    let s = Server::start();
    let tpl = s.sdk(
        "CreateLiveRecordTemplate",
        json!({"TemplateName": "both", "FlvParam": {"Enable": 1}}),
    );
    let tpl = tpl.ok()["TemplateId"].as_i64().expect("TemplateId");
    s.sdk("CreateLiveRecordRule", json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": "twice", "TemplateId": tpl}))
        .ok();
    let t0 = now_f();
    let mut p = s.publish("twice", "h264_aac_10s.flv");
    let task = s.create(json!({"StreamName": "twice", "Highlight": 1}));
    std::thread::sleep(Duration::from_secs(4));
    p.stop();
    let t1 = now_f();
    let all = s.wait_files(
        json!({"StreamName": "twice"}),
        2..=2,
        Duration::from_secs(5),
    );
    assert_finished(&all);
    let ids: Vec<&str> = all.iter().filter_map(|f| f["TaskId"].as_str()).collect();
    assert!(ids.contains(&""), "one file from the rule: {ids:?}");
    assert!(
        ids.contains(&task.to_string().as_str()),
        "one from the task: {ids:?}"
    );
    for f in &all {
        // The rule's file spans the whole publish, the task's from its
        // creation (with pre-roll) to the end.
        assert_valid(&s.download_file(f), "flv", 1.5, t1 - t0 + GOP + 0.5);
    }
}
