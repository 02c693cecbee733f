//! Recording behaviour: highlight, scheduled windows, stop, restart, crash.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::harness::*;
use crate::probe::assert_valid;

/// Half a second after the window of `task` ends at `end_s`, its one file
/// (finished within 3 s), downloaded.
fn the_file_after(s: &Server, task: i64, end_s: i64) -> PathBuf {
    sleep_until(end_s as f64 + 0.5);
    let files = s.wait_finished(task, 1, Duration::from_secs(3));
    s.download_file(&files[0])
}

#[test]
fn highlight_records_from_the_last_keyframe_until_end_time() {
    let s = Server::start();
    let _p = s.publish("hl", "h264_aac_10s.flv");
    std::thread::sleep(Duration::from_secs(3));
    let call = now_f();
    // EndTime is a whole second: at least 8 s after the call.
    let end = call.ceil() as i64 + 8;
    let task = s.create(
        json!({"StreamName": "hl", "AppName": "live", "Highlight": 1, "EndTime": cst(end)}),
    );
    let returned = now_f();
    // While recording the file is listed as such.
    let live = s.files(json!({"TaskId": task.to_string()}));
    assert!(!live.is_empty(), "the file is listed while recording");
    assert!(live.iter().all(|f| f["Status"] == "recording"), "{live:?}");
    sleep_until(end as f64 + 2.0);
    let files = s.files(json!({"TaskId": task}));
    assert_eq!(
        files.len(),
        1,
        "one finished file within 2 s after EndTime: {files:?}"
    );
    let f = &files[0];
    assert_eq!(f["Status"], "finished");
    assert_eq!(f["FileFormat"], "flv");
    assert_eq!(f["StreamName"], "hl");
    assert_eq!(f["DomainName"], "127.0.0.1");
    let path = s.download_file(f);
    // From the keyframe at or before the server received the call (between
    // `call` and `returned`) to EndTime.
    let probe = assert_valid(
        &path,
        "flv",
        end as f64 - returned - 0.5,
        end as f64 - call + GOP + 0.5,
    );
    assert_eq!(probe.codec("video"), Some("h264"));
    assert_eq!(probe.codec("audio"), Some("aac"));
    // Listing agrees with the media and the bytes served.
    let dur = f["Duration"].as_f64().expect("Duration");
    assert!(
        (dur - probe.duration).abs() < 1.0,
        "Duration {dur} vs media {}",
        probe.duration
    );
    let span_ms = f["EndTimeMs"].as_i64().expect("EndTimeMs")
        - f["StartTimeMs"].as_i64().expect("StartTimeMs");
    assert!((span_ms as f64 / 1000.0 - probe.duration).abs() < 1.0);
    let size = std::fs::metadata(&path).expect("meta").len();
    assert_eq!(f["FileSize"].as_u64(), Some(size));
    // onMetaData was patched at close with the real duration and size.
    let (meta_duration, meta_size) = crate::probe::flv_metadata(&path);
    assert_eq!(meta_size, size as f64);
    assert!(
        (meta_duration - probe.duration).abs() < 0.1,
        "onMetaData duration {meta_duration}"
    );
    // The file starts at or before the call (pre-roll), at most one GOP,
    // and covers everything up to EndTime.
    let start = f["StartTimeMs"].as_f64().expect("ms") / 1000.0;
    assert!(
        (end as f64 - start - probe.duration).abs() < 0.5,
        "file covers [{start}, {end}] but lasts {}",
        probe.duration
    );
    assert!(
        start <= returned && start >= call - GOP - 0.5,
        "start {start} vs call {call}"
    );
}

#[test]
fn scheduled_window_on_a_live_stream() {
    let s = Server::start();
    let _p = s.publish("sch", "h264_aac_10s.flv");
    let t0 = now_s();
    let task = s.create(json!({"StreamName": "sch", "AppName": "live", "StartTime": cst(t0 + 3), "EndTime": cst(t0 + 9)}));
    let path = the_file_after(&s, task, t0 + 9);
    assert_valid(&path, "flv", 5.5, 6.0 + GOP + 0.5);
}

#[test]
fn scheduled_window_two_publishes_two_files_and_offline_none() {
    let s = Server::start();
    let t0 = now_s();
    let task =
        s.create(json!({"StreamName": "twice", "StartTime": cst(t0 + 1), "EndTime": cst(t0 + 16)}));
    // The offline window ends well after both create calls (each starts a
    // Python interpreter, seconds on a loaded machine) and before the stop.
    let offline = s
        .create(json!({"StreamName": "nobody", "StartTime": cst(t0 + 1), "EndTime": cst(t0 + 12)}));
    sleep_until((t0 + 2) as f64);
    let mut p = s.publish("twice", "h264_aac_10s.flv");
    std::thread::sleep(Duration::from_secs(4));
    p.stop();
    std::thread::sleep(Duration::from_secs(1));
    let _p2 = Publisher::start(&s.rtmp_url("live", "twice"), "h264_aac_10s.flv");
    sleep_until((t0 + 16) as f64 + 0.5);
    let files = s.wait_finished(task, 2, Duration::from_secs(3));
    for f in &files {
        let path = s.download_file(f);
        assert_valid(&path, "flv", 2.5, 9.0);
    }
    assert!(
        s.files(json!({"TaskId": offline})).is_empty(),
        "offline stream: no file"
    );
    // The offline task simply expired: stopping it is not an error.
    s.sdk(
        "StopLiveRecord",
        json!({"StreamName": "nobody", "TaskId": offline}),
    )
    .ok();
}

#[test]
fn stop_finalizes_within_a_second_and_delete_rules() {
    let s = Server::start();
    let _p = s.publish("stp", "h264_aac_10s.flv");
    let t0 = now_f();
    let task = s.create(json!({"StreamName": "stp", "Highlight": 1}));
    let t1 = now_f();
    std::thread::sleep(Duration::from_secs(4));
    let stop = json!({"StreamName": "stp", "TaskId": task});
    s.sdk("DeleteLiveRecord", stop.clone())
        .err("FailedOperation.AlterTaskState");
    let t2 = now_f();
    s.sdk("StopLiveRecord", stop.clone()).ok();
    let t3 = now_f();
    // Finalized and listed within 1 s of the reply.
    let files = s.wait_finished(task, 1, Duration::from_secs(1));
    let path = s.download_file(&files[0]);
    // It covers the task from (a keyframe before) creation to the stop.
    assert_valid(&path, "flv", t2 - t1 - 0.5, t3 - t0 + GOP + 0.5);
    // Stopped: the task never records again, and can now be deleted.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(s.files(json!({"TaskId": task})).len(), 1);
    s.sdk("DeleteLiveRecord", stop.clone()).ok();
    s.sdk("StopLiveRecord", stop.clone())
        .err("ResourceNotFound.TaskId");
    s.sdk("DeleteLiveRecord", stop)
        .err("ResourceNotFound.TaskId");
    // The files of a deleted task stay.
    assert_eq!(s.files(json!({"TaskId": task})).len(), 1);
}

#[test]
fn scheduled_task_survives_a_restart() {
    let mut s = Server::start();
    let t0 = now_s();
    let task =
        s.create(json!({"StreamName": "rs", "StartTime": cst(t0 + 6), "EndTime": cst(t0 + 13)}));
    let status = s.stop();
    assert!(status.success(), "graceful stop exits 0: {status}");
    s.start_again();
    let _p = Publisher::start(&s.rtmp_url("live", "rs"), "h264_aac_10s.flv");
    let path = the_file_after(&s, task, t0 + 13);
    assert_valid(&path, "flv", 5.5, 7.0 + GOP + 0.5);
}

#[test]
fn shutdown_and_crash_leave_playable_files() {
    let mut s = Server::start();
    let mut p = s.publish("down", "h264_aac_10s.flv");
    let t0 = now_f();
    let task = s.create(json!({"StreamName": "down", "Highlight": 1}));
    let t1 = now_f();
    std::thread::sleep(Duration::from_secs(4));
    // SIGTERM: the open file is finalized before exit.
    let t2 = now_f();
    assert!(s.stop().success());
    p.stop();
    s.start_again();
    let files = s.wait_finished(task, 1, Duration::from_secs(5));
    assert_eq!(files[0]["Status"], "finished");
    let path = s.download_file(&files[0]);
    assert_valid(&path, "flv", t2 - t1 - 0.5, t2 - t0 + GOP + 0.5);

    // kill -9 mid-recording: the next start recovers the file.
    let t3 = now_f();
    let _p = s.publish("down", "h264_aac_10s.flv");
    let t4 = now_f();
    // The highlight task is still armed (its window runs 30 min): the new
    // publish session is recorded too.
    std::thread::sleep(Duration::from_secs(5));
    let t5 = now_f();
    s.kill();
    s.start_again();
    let files = s.wait_finished(task, 2, Duration::from_secs(10));
    let rec = files
        .iter()
        .find(|f| f["Status"] == "recovered")
        .expect("a recovered file");
    let path = s.download_file(rec);
    // At most the last second (plus what was not yet flushed) is lost.
    assert_valid(&path, "flv", t5 - t4 - 1.5, t5 - t3 + 0.5);
}

#[test]
fn record_interval_cuts_files_at_keyframes_and_storage_time_expires_them() {
    let s = Server::start_with(&[("LIVEREC_MIN_RECORD_INTERVAL", "2")]);
    let _p = s.publish("seg", "h264_aac_10s.flv");
    let t0 = now_f();
    let task = s
        .create(json!({"StreamName": "seg", "Highlight": 1, "StreamParam": "record_interval%3D4"}));
    std::thread::sleep(Duration::from_secs(11));
    s.sdk(
        "StopLiveRecord",
        json!({"StreamName": "seg", "TaskId": task}),
    )
    .ok();
    let t1 = now_f();
    let files = s.wait_files(json!({"TaskId": task}), 2.., Duration::from_secs(2));
    assert_finished(&files);
    // Pieces of 4 to 4 s + a GOP over at least 11 s; at most the measured
    // span plus a GOP of pre-roll, in 4 s pieces.
    let most = (((t1 - t0 + GOP) / 4.0).ceil() as usize).max(4);
    assert!(
        (2..=most).contains(&files.len()),
        "{} files, expected 2 to {most}",
        files.len()
    );
    let mut total = 0.0;
    let last_start = files.iter().filter_map(|f| f["StartTimeMs"].as_i64()).max();
    for f in &files {
        let path = s.download_file(f);
        // The file the stop ends may be any length: the stop can land just
        // after a cut (17 ms seen on a loaded machine); the others are whole.
        let least = if f["StartTimeMs"].as_i64() == last_start {
            0.001
        } else {
            0.03
        };
        let p = assert_valid(&path, "flv", least, 4.0 + GOP + 0.2);
        total += p.duration;
    }
    let span = files_span(&files);
    assert!(
        (total - span).abs() < 0.3,
        "segments add up: {total} vs {span}"
    );

    let t2 =
        s.create(json!({"StreamName": "seg", "Highlight": 1, "StreamParam": "storage_time=6"}));
    std::thread::sleep(Duration::from_secs(2));
    s.sdk("StopLiveRecord", json!({"StreamName": "seg", "TaskId": t2}))
        .ok();
    let f = s.wait_finished(t2, 1, Duration::from_secs(2));
    let url = f[0]["VideoUrl"].as_str().expect("url").to_string();
    let path = file_path(&url);
    assert_eq!(http_get(s.api, &path, &[]).expect("get").status, 200);
    wait_for(Duration::from_secs(12), "expiry", || {
        s.files(json!({"TaskId": t2})).is_empty().then_some(())
    });
    assert_eq!(http_get(s.api, &path, &[]).expect("get").status, 404);
}
