//! S3 storage against real SeaweedFS servers: every format recorded into
//! the bucket with PostgreSQL as the store and served through `/files`
//! (ranges too) or presigned URLs, deleted from the bucket (DeleteRecordFiles
//! and storage_time); FLV parts uploaded while recording; a bucket outage
//! during a recording (a second SeaweedFS, stopped by PID for 60 s); and
//! `kill -9` of liverec during an S3 recording. Skipped with a message
//! when `LIVEREC_TEST_S3_ENDPOINT` is unset (`scripts/test.sh` sets it).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::*;
use crate::probe::assert_valid;

/// The shared test S3 endpoint, or None (the test is skipped).
fn endpoint() -> Option<String> {
    match std::env::var("LIVEREC_TEST_S3_ENDPOINT") {
        Ok(e) => Some(e),
        Err(_) => {
            eprintln!("skipped: LIVEREC_TEST_S3_ENDPOINT is not set (scripts/test.sh sets it)");
            None
        }
    }
}

/// Settings for S3 storage at `endpoint` under a fresh prefix; returns
/// them and the prefix.
fn start(env: &[(String, String)], extra: &[(&str, &str)]) -> Server {
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(extra);
    Server::start_with(&all)
}

/// The `/files` path of a listed file's key (VideoUrl may be presigned).
fn key_of(file: &Value, prefix: &str) -> String {
    let url = file["VideoUrl"].as_str().expect("VideoUrl");
    match url.split_once("/files/") {
        Some((_, k)) => k.to_string(),
        None => {
            let path = url.split('?').next().expect("path");
            let marker = format!("/{BUCKET}/{prefix}/");
            path.split_once(&marker).expect("bucket path").1.to_string()
        }
    }
}

/// Address and path-with-query of a presigned URL.
fn split_url(url: &str) -> (SocketAddr, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_once('/').expect("path");
    (host.parse().expect("host:port"), format!("/{path}"))
}

/// Files (not directories) left under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            // Node markers (several nodes) and health probes are not media.
            let name = p.to_string_lossy();
            if name.contains(".liverec-nodes") || name.contains(".liverec-health") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Waits (at most 10 s) until the spool holds no media file.
fn spool_emptied(s: &Server) {
    let spool = s.data_dir().join("spool");
    let left = wait_for(Duration::from_secs(10), "an empty spool", || {
        let f = files_under(&spool);
        f.is_empty().then_some(f)
    });
    assert_eq!(left, Vec::<PathBuf>::new());
}

/// Downloads `key` through `/files` and checks a few ranges against it.
fn download_checked(s: &Server, key: &str) -> PathBuf {
    let path = format!("/files/{key}");
    let whole = http_get(s.api, &path, &[]).expect("GET");
    assert_eq!(whole.status, 200, "GET {path}");
    let len = whole.body.len();
    assert!(len > 1000, "{path}: {len} bytes");
    assert_eq!(
        whole.header("content-length"),
        Some(len.to_string().as_str())
    );
    let mid = len / 2;
    for (range, from, to) in [
        ("bytes=0-99".to_string(), 0, 100),
        (format!("bytes={mid}-{}", mid + 999), mid, mid + 1000),
        ("bytes=-500".to_string(), len - 500, len),
    ] {
        let r = http_get(s.api, &path, &[("Range", &range)]).expect("GET range");
        assert_eq!(r.status, 206, "{path} {range}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {from}-{}/{len}", to - 1).as_str())
        );
        assert!(
            r.body == whole.body[from..to],
            "{path} {range}: bytes differ"
        );
    }
    let out = s
        .dir
        .path()
        .join(format!("dl-{}", key.rsplit('/').next().expect("name")));
    std::fs::write(&out, &whole.body).expect("write");
    out
}

/// Downloads an HLS playlist and its segments through `/files`.
fn download_hls(s: &Server, key: &str) -> (PathBuf, Vec<String>) {
    let dir = s.dir.path().join(format!("hls-{}", uuid_like()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let r = http_get(s.api, &format!("/files/{key}"), &[]).expect("GET playlist");
    assert_eq!(r.status, 200);
    let text = String::from_utf8_lossy(&r.body).into_owned();
    assert!(text.contains("#EXT-X-ENDLIST"), "{text}");
    let key_dir = key.rsplit_once('/').expect("dir").0;
    let mut segs = Vec::new();
    for seg in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let k = format!("{key_dir}/{seg}");
        let b = http_get(s.api, &format!("/files/{k}"), &[]).expect("GET segment");
        assert_eq!(b.status, 200, "segment {k}");
        std::fs::write(dir.join(seg), &b.body).expect("write");
        segs.push(k);
    }
    assert!(!segs.is_empty(), "{text}");
    let out = dir.join(key.rsplit('/').next().expect("name"));
    std::fs::write(&out, text).expect("write");
    (out, segs)
}

#[test]
fn every_format_recorded_into_the_bucket_served_listed_and_deleted() {
    let Some(ep) = endpoint() else { return };
    let (env, prefix) = s3_env(&ep);
    let db = postgres_database("s3_formats");
    let mut s = start(
        &env,
        &[
            ("LIVEREC_DATABASE_URL", &db),
            ("LIVEREC_HLS_SEGMENT_SECONDS", "2"),
        ],
    );
    let _a = s.publish("s3a", "h264_aac_10s.flv");
    let _b = s.publish("s3b", "h264_aac_10s.flv");
    // At most three tasks record one stream at once.
    let plan = [
        ("s3a", "flv"),
        ("s3a", "mp4"),
        ("s3a", "hls"),
        ("s3b", "aac"),
        ("s3b", "mp3"),
    ];
    // Each task with when its create was sent and when it had answered.
    let tasks: Vec<(&str, &str, i64, f64, f64)> = plan
        .iter()
        .map(|(st, f)| {
            let sent = now_f();
            let task = s.create(json!({"StreamName": st, "Highlight": 1, "FileFormat": f}));
            (*st, *f, task, sent, now_f())
        })
        .collect();
    // storage_time: this one expires 10 s after its end, from the bucket too.
    let expiring = s.create(json!({
        "StreamName": "s3b", "Highlight": 1, "FileFormat": "flv", "StreamParam": "storage_time=10"
    }));
    std::thread::sleep(Duration::from_secs(6));
    s.sdk(
        "StopLiveRecord",
        json!({"StreamName": "s3b", "TaskId": expiring}),
    )
    .ok();
    // When each stop was sent and when it had answered, in task order.
    let mut stops = Vec::new();
    for (st, _, task, _, _) in &tasks {
        let sent = now_f();
        s.sdk("StopLiveRecord", json!({"StreamName": st, "TaskId": task}))
            .ok();
        stops.push((sent, now_f()));
    }
    // First the file that expires (before it does): it is in the bucket.
    let exp = s.wait_finished(expiring, 1, Duration::from_secs(30));
    let exp_key = key_of(&exp[0], &prefix);
    let r = http_get(s.api, &format!("/files/{exp_key}"), &[]).expect("GET");
    assert_eq!(r.status, 200, "served until it expires");
    let mut keys = Vec::new();
    for ((_, format, task, create_sent, created), (stop_sent, stopped)) in tasks.iter().zip(&stops)
    {
        let files = s.wait_finished(*task, 1, Duration::from_secs(30));
        let f = &files[0];
        assert_eq!(f["Status"], "finished", "{format}");
        assert_eq!(f["FileFormat"], *format);
        let key = key_of(f, &prefix);
        assert!(
            f["VideoUrl"].as_str().expect("url").contains("/files/"),
            "no presign by default"
        );
        // At least from the create's answer to the stop's sending, at most
        // from the create's sending (a GOP of pre-roll before it) to the
        // stop's answer; 1.5 s either way for the cuts at keyframes and
        // the read tick.
        let min = stop_sent - created - 1.5;
        let max = stopped - create_sent + GOP + 1.5;
        if *format == "hls" {
            let (playlist, segs) = download_hls(&s, &key);
            assert_valid(&playlist, "hls", min, max);
            download_checked(&s, &segs[0]);
            keys.extend(segs);
        } else {
            assert_valid(&download_checked(&s, &key), format, min, max);
        }
        let size = f["FileSize"].as_i64().expect("FileSize");
        assert!(size > 1000, "{format}: FileSize {size}");
        keys.push(key);
    }
    // The expiring file was in the bucket and is deleted from it.
    wait_for(Duration::from_secs(30), "storage_time expiry", || {
        s.files(json!({"TaskId": expiring.to_string()}))
            .is_empty()
            .then_some(())
    });
    let gone = http_get(s.api, &format!("/files/{exp_key}"), &[]).expect("GET");
    assert_eq!(gone.status, 404, "expired object deleted");
    // Everything is in the bucket: the spool holds no file any more.
    // (Local copies go right after their row is final.)
    spool_emptied(&s);

    // VideoUrl as a presigned bucket URL (configuration), readable without
    // liverec and without credentials.
    assert!(s.stop().success());
    s.set_env("LIVEREC_S3_PRESIGN_SECONDS", "600");
    s.start_again();
    let listed = s.files(json!({"TaskId": tasks[0].2.to_string()}));
    let url = listed[0]["VideoUrl"].as_str().expect("url").to_string();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let (addr, path) = split_url(&url);
    let direct = http_get(addr, &path, &[]).expect("GET presigned");
    assert_eq!(direct.status, 200);
    assert_eq!(direct.header("content-type"), Some("video/x-flv"));
    let via = http_get(
        s.api,
        &format!("/files/{}", key_of(&listed[0], &prefix)),
        &[],
    )
    .expect("GET");
    assert!(direct.body == via.body, "the same object");

    // DeleteRecordFiles removes the objects (HLS: playlist and segments).
    for (_, _, task, _, _) in &tasks {
        let f = s.files(json!({"TaskId": task.to_string()}));
        s.sdk("DeleteRecordFiles", json!({"FileIds": [f[0]["FileId"]]}))
            .ok();
    }
    for k in &keys {
        let r = http_get(s.api, &format!("/files/{k}"), &[]).expect("GET");
        assert_eq!(r.status, 404, "{k} still served");
    }
    assert_eq!(
        http_get(addr, &path, &[]).expect("GET presigned").status,
        404
    );
}

/// A callback receiver that answers 200 and notes when each event came.
struct Sink {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<(Instant, Value)>>>,
    stop: Arc<AtomicBool>,
}

impl Sink {
    fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let sink = Sink {
            addr: listener.local_addr().expect("addr"),
            got: Arc::default(),
            stop: Arc::default(),
        };
        let (got, stop) = (sink.got.clone(), sink.stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Ok((mut sock, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let _ = sock.set_nonblocking(false);
                let _ = sock.set_read_timeout(Some(Duration::from_secs(5)));
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                let body = loop {
                    let Ok(n) = sock.read(&mut buf) else {
                        break None;
                    };
                    if n == 0 {
                        break None;
                    }
                    raw.extend_from_slice(&buf[..n]);
                    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if raw.len() >= end + 4 + len {
                        break serde_json::from_slice::<Value>(&raw[end + 4..end + 4 + len]).ok();
                    }
                };
                let _ = sock.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                if let Some(b) = body {
                    got.lock().expect("lock").push((Instant::now(), b));
                }
            }
        });
        sink
    }

    fn file_events(&self) -> Vec<(Instant, Value)> {
        self.got
            .lock()
            .expect("lock")
            .iter()
            .filter(|(_, b)| b["event_type"] == 100)
            .cloned()
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A SeaweedFS server of this test's own (`scripts/test-s3.sh`), stopped
/// by PID when dropped.
struct Weed {
    dir: tempfile::TempDir,
}

impl Weed {
    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test-s3.sh")
    }

    fn run(&self, cmd: &str) -> String {
        let out = Command::new("bash")
            .arg(Weed::script())
            .arg(cmd)
            .arg(self.dir.path().join("weed"))
            .output()
            .expect("test-s3.sh");
        assert!(
            out.status.success(),
            "test-s3.sh {cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn start() -> (Weed, String) {
        let w = Weed {
            dir: tempfile::Builder::new()
                .prefix("liverec-weed-")
                .tempdir()
                .expect("tempdir"),
        };
        let ep = w.run("start");
        (w, ep)
    }
}

impl Drop for Weed {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(Weed::script())
            .arg("stop")
            .arg(self.dir.path().join("weed"))
            .status();
    }
}

#[test]
fn a_bucket_outage_of_a_minute_loses_nothing_and_the_callback_waits_for_the_upload() {
    if endpoint().is_none() {
        return;
    }
    const OUTAGE: Duration = Duration::from_secs(60);
    let (weed, ep) = Weed::start();
    let (env, prefix) = s3_env(&ep);
    let sink = Sink::start();
    let url = format!("http://{}/cb", sink.addr);
    let s = start(
        &env,
        &[
            ("LIVEREC_HLS_SEGMENT_SECONDS", "2"),
            ("LIVEREC_CALLBACK_URL", &url),
            ("LIVEREC_CALLBACK_KEY", "k"),
        ],
    );
    let _p = s.publish("out", "h264_aac_10s.flv");
    let t0 = now_f();
    let flv = s.create(json!({"StreamName": "out", "Highlight": 1, "FileFormat": "flv"}));
    let hls = s.create(json!({"StreamName": "out", "Highlight": 1, "FileFormat": "hls"}));
    std::thread::sleep(Duration::from_secs(4));
    // The bucket goes away mid-recording (its process stopped by PID).
    let down = Instant::now();
    weed.run("pause");
    assert_eq!(
        http_get(s.api, "/healthz", &[]).expect("healthz").status,
        503,
        "health reports the bucket"
    );
    // Recording goes on into the spool, and the files are closed during
    // the outage.
    std::thread::sleep(Duration::from_secs(8));
    for t in [flv, hls] {
        s.sdk("StopLiveRecord", json!({"StreamName": "out", "TaskId": t}))
            .ok();
    }
    let t1 = now_f();
    std::thread::sleep(OUTAGE.saturating_sub(down.elapsed()));
    for t in [flv, hls] {
        let f = s.files(json!({"TaskId": t.to_string()}));
        assert_eq!(
            f[0]["Status"], "recording",
            "not finished while its bytes are not in the bucket"
        );
    }
    assert!(
        sink.file_events().is_empty(),
        "no event 100 before the upload"
    );
    assert!(
        s.log().contains("upload failed; retrying"),
        "uploads retried"
    );
    let back = Instant::now();
    assert_eq!(weed.run("start"), ep, "same endpoint after the outage");
    let outage = back.duration_since(down);
    for (t, format) in [(flv, "flv"), (hls, "hls")] {
        let f = s.wait_finished(t, 1, Duration::from_secs(60));
        assert_eq!(f[0]["Status"], "finished");
        let key = key_of(&f[0], &prefix);
        let (min, max) = (t1 - t0 - 3.0, t1 - t0 + GOP + 1.5);
        if format == "hls" {
            assert_valid(&download_hls(&s, &key).0, "hls", min, max);
        } else {
            assert_valid(&download_checked(&s, &key), "flv", min, max);
        }
    }
    let events = wait_for(Duration::from_secs(30), "two file events", || {
        let e = sink.file_events();
        (e.len() == 2).then_some(e)
    });
    for (at, body) in &events {
        assert!(
            *at > back,
            "event 100 of {} only after the bucket came back",
            body["video_url"]
        );
    }
    assert_eq!(
        http_get(s.api, "/healthz", &[]).expect("healthz").status,
        200
    );
    spool_emptied(&s);
    eprintln!(
        "bucket outage of {:.1} s: nothing lost",
        outage.as_secs_f64()
    );
}

#[test]
fn kill_9_during_an_s3_recording_recovers_the_files_into_the_bucket() {
    let Some(ep) = endpoint() else { return };
    let (env, prefix) = s3_env(&ep);
    let mut s = start(&env, &[("LIVEREC_HLS_SEGMENT_SECONDS", "2")]);
    let _p = s.publish("k9", "h264_aac_10s.flv");
    let t0 = now_f();
    let flv = s.create(json!({"StreamName": "k9", "Highlight": 1, "FileFormat": "flv"}));
    let hls = s.create(json!({"StreamName": "k9", "Highlight": 1, "FileFormat": "hls"}));
    let t1 = now_f();
    std::thread::sleep(Duration::from_secs(6));
    let t2 = now_f();
    s.kill();
    s.start_again();
    for (t, format) in [(flv, "flv"), (hls, "hls")] {
        // The tasks are still armed: the next publish session records a
        // second file; the recovered one is the first.
        let f = wait_for(Duration::from_secs(30), "recovered file", || {
            s.files(json!({"TaskId": t.to_string()}))
                .into_iter()
                .find(|f| f["Status"] == "recovered")
        });
        let key = key_of(&f, &prefix);
        // At most the last second (plus what was not yet flushed) is lost;
        // HLS loses at most the unfinished part of a segment.
        let (min, max) = (t2 - t1 - 2.5, t2 - t0 + GOP + 0.5);
        let p = if format == "hls" {
            assert_valid(&download_hls(&s, &key).0, "hls", min, max)
        } else {
            assert_valid(&download_checked(&s, &key), "flv", min, max)
        };
        eprintln!(
            "kill -9: recovered {format} holds {:.2} s; recorded for {:.2}-{:.2} s before the kill",
            p.duration,
            t2 - t1,
            t2 - t0
        );
    }
}

#[test]
fn a_long_flv_uploads_its_parts_while_recording_and_only_the_rest_at_close() {
    let Some(ep) = endpoint() else { return };
    let (env, prefix) = s3_env(&ep);
    let s = start(&env, &[]);
    // About 24 MB of media (20 loops of a 10 s fixture) sent at 20 times
    // real time: three 8 MiB parts, the first two up before the close.
    let url = s.rtmp_url("live", "long");
    let mut p = s.publish_with("long", || {
        Publisher::ffmpeg(
            &url,
            "h264_aac_10s.flv",
            &["-readrate", "20", "-stream_loop", "19"],
        )
    });
    let task = s.create(json!({"StreamName": "long", "Highlight": 1, "FileFormat": "flv"}));
    // MP4 for comparison: its file is written at close and sent whole.
    let mp4 = s.create(json!({"StreamName": "long", "Highlight": 1, "FileFormat": "mp4"}));
    assert!(
        p.wait_exit(Duration::from_secs(60)).is_some(),
        "publisher done"
    );
    let f = s.wait_finished(task, 1, Duration::from_secs(60));
    assert_eq!(f[0]["Status"], "finished");
    let size = f[0]["FileSize"].as_i64().expect("size");
    assert!(
        size > 17 * 1024 * 1024,
        "FileSize {size}: more than two parts"
    );
    let log = s.log();
    assert!(
        log.contains("part uploaded while recording"),
        "parts went up while recording"
    );
    let path = download_checked(&s, &key_of(&f[0], &prefix));
    assert_eq!(std::fs::metadata(&path).expect("size").len() as i64, size);
    let dur = f[0]["Duration"].as_f64().expect("Duration");
    assert_valid(&path, "flv", dur - 0.5, dur + 0.5);
    let m = s.wait_finished(mp4, 1, Duration::from_secs(60));
    let mpath = download_checked(&s, &key_of(&m[0], &prefix));
    let mdur = m[0]["Duration"].as_f64().expect("Duration");
    assert_valid(&mpath, "mp4", mdur - 0.5, mdur + 0.5);
    // How long each close waited for the bucket (the log's timestamps).
    let log = s.log();
    for file in [&f[0], &m[0]] {
        let id = file["FileId"].as_str().expect("FileId");
        let at = |needle: &str| {
            log.lines()
                .map(strip_ansi)
                .find(|l| l.contains(needle) && l.contains(id))
                .and_then(|l| l.split_whitespace().next().map(str::to_string))
        };
        eprintln!(
            "{} {} bytes: closed {:?}, in the bucket {:?}",
            file["FileFormat"],
            file["FileSize"],
            at("file closed; uploading it"),
            at("recording file closed")
        );
    }
}

/// Two nodes on one database and one bucket, each with its own spool: a
/// task created through node 1 records the stream published to node 2 into
/// the bucket, node 1 stops it and serves the file; after `kill -9` of
/// node 2, node 1 ends its session as crashed at once, and node 2 finishes
/// the open file into the bucket when it restarts (S3 layout of
/// docs/deployment.md).
#[test]
fn two_nodes_on_one_bucket_record_where_the_publisher_is() {
    let Some(endpoint) = endpoint() else { return };
    let (env, prefix) = s3_env(&endpoint);
    let db = postgres_database("s3_nodes");
    let node = |id: &str| {
        start(
            &env,
            &[
                ("LIVEREC_DATABASE_URL", db.as_str()),
                ("LIVEREC_NODE_ID", id),
                ("LIVEREC_NODE_LEASE_SECONDS", "2"),
            ],
        )
    };
    let n1 = node("n1");
    let mut n2 = node("n2");
    let mut p = n2.publish("s3c", "h264_aac_10s.flv");
    wait_for(Duration::from_secs(5), "s3c live on node 1", || {
        (n1.stream_state("s3c") == "active").then_some(())
    });
    let task = n1.create(json!({"StreamName": "s3c", "Highlight": 1}));
    std::thread::sleep(Duration::from_secs(4));
    n1.sdk(
        "StopLiveRecord",
        json!({"StreamName": "s3c", "TaskId": task}),
    )
    .ok();
    let files = n1.wait_finished(task, 1, Duration::from_secs(10));
    assert_eq!(files[0]["Status"], "finished");
    let path = download_checked(&n1, &key_of(&files[0], &prefix));
    assert_valid(&path, "flv", 3.0, 12.0);

    // kill -9 of the recording node: node 1 ends the session after the
    // lease; node 2's restart puts the open file into the bucket. (A
    // window task: an identical create within 60 s is a retry.)
    let now = now_s();
    let task = n1.create(json!({"StreamName": "s3c",
        "StartTime": cst(now - 5), "EndTime": cst(now + 300)}));
    wait_for(Duration::from_secs(5), "recording on node 2", || {
        (!n1.files(json!({"TaskId": task.to_string()})).is_empty()).then_some(())
    });
    std::thread::sleep(Duration::from_secs(4));
    n2.kill();
    p.stop();
    wait_for(Duration::from_secs(15), "node 1 takes over node 2", || {
        n1.log().contains("took over a dead node").then_some(())
    });
    assert_eq!(n1.stream_state("s3c"), "inactive");
    n2.start_again();
    let files = n1.wait_finished(task, 1, Duration::from_secs(20));
    assert_eq!(files[0]["Status"], "recovered");
    let path = download_checked(&n1, &key_of(&files[0], &prefix));
    assert_valid(&path, "flv", 2.0, 12.0);
}

/// A setting of this test from the environment (for the benchmark runs in
/// docs/benchmarks.md), else `default`.
fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Copies the files under `from` into `to` (same relative paths).
fn copy_tree(from: &Path, to: &Path) {
    for f in files_under(from) {
        let rel = f.strip_prefix(from).expect("under");
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&f, &dest).expect("copy");
    }
}

/// Two nodes on one database and one bucket, each with its own spool (no
/// shared volume): node 2 records FLV, MP4, AAC and HLS, the FLV, the AAC
/// and the MP4's journal going to the bucket in parts as they fill (5 MiB parts, the
/// growing last one every 2 s); it is killed with -9 and its spool deleted;
/// node 1 takes it over and finishes the four files from the bucket alone
/// (`recovered`, one event 100 each, they decode, the MP4 is faststart and
/// its journal object gone), and the task records again on node 1. Then node 2's spool
/// comes back and node 2 restarts: it finishes nothing twice and drops its
/// spool copies. Prints the media lost (node 2's spool at the kill against
/// the recovered file). `LIVEREC_TEST_TAKEOVER_READRATE` (default 4, times
/// real time), `_SECONDS` (default 40) and `LIVEREC_TEST_S3_PART_SECONDS`
/// (default 2) change the run for docs/benchmarks.md.
#[test]
fn a_dead_nodes_open_files_are_finished_from_the_bucket_without_its_spool() {
    let Some(endpoint) = endpoint() else { return };
    let (env, prefix) = s3_env(&endpoint);
    let db = postgres_database("s3_takeover");
    let r = crate::callbacks::Receiver::start(Default::default());
    let cb = r.url();
    let rate = knob("LIVEREC_TEST_TAKEOVER_READRATE", 4);
    let seconds = knob("LIVEREC_TEST_TAKEOVER_SECONDS", 40);
    let part_seconds = knob("LIVEREC_TEST_S3_PART_SECONDS", 2).to_string();
    let node = |id: &str| {
        start(
            &env,
            &[
                ("LIVEREC_DATABASE_URL", db.as_str()),
                ("LIVEREC_NODE_ID", id),
                ("LIVEREC_NODE_LEASE_SECONDS", "2"),
                ("LIVEREC_S3_PART_MIB", "5"),
                ("LIVEREC_S3_PART_SECONDS", part_seconds.as_str()),
                ("LIVEREC_HLS_SEGMENT_SECONDS", "2"),
                ("LIVEREC_CALLBACK_URL", cb.as_str()),
                ("LIVEREC_CALLBACK_KEY", "k"),
            ],
        )
    };
    let n1 = node("t1");
    let mut n2 = node("t2");
    let url = n2.rtmp_url("live", "tk");
    let readrate = rate.to_string();
    let published = Instant::now();
    let mut p = n2.publish_with("tk", || {
        Publisher::ffmpeg(
            &url,
            "h264_aac_10s.flv",
            &["-readrate", readrate.as_str(), "-stream_loop", "-1"],
        )
    });
    let now = now_s();
    let window = |format: &str| {
        json!({"StreamName": "tk", "FileFormat": format,
            "StartTime": cst(now - 5), "EndTime": cst(now + 600)})
    };
    let flv = n1.create(window("flv"));
    let hls = n1.create(window("hls"));
    let mp4 = n1.create(window("mp4"));
    let aac = n1.create(window("aac"));
    wait_for(Duration::from_secs(10), "recording on node 2", || {
        (!n1.files(json!({"TaskId": flv.to_string()})).is_empty()).then_some(())
    });
    std::thread::sleep(Duration::from_secs(seconds));

    // kill -9, then node 2's disk is gone (a copy is kept to measure what
    // it held, and for its restart below).
    n2.kill();
    let sent_s = published.elapsed().as_secs_f64() * rate as f64;
    let killed = Instant::now();
    p.stop();
    let spool = n2.data_dir().join("spool");
    let kept = n2.data_dir().join("spool-at-kill");
    copy_tree(&spool, &kept);
    std::fs::remove_dir_all(&spool).expect("delete node 2's spool");

    let f = n1.wait_finished(flv, 1, Duration::from_secs(30));
    let took = killed.elapsed();
    assert_eq!(f[0]["Status"], "recovered", "{f:?}");
    let h = n1.wait_finished(hls, 1, Duration::from_secs(30));
    assert_eq!(h[0]["Status"], "recovered", "{h:?}");
    let m = n1.wait_finished(mp4, 1, Duration::from_secs(60));
    assert_eq!(m[0]["Status"], "recovered", "{m:?}");
    // AAC (about 1 MB here: its first part, sent every 2 s while it grows).
    let a = n1.wait_finished(aac, 1, Duration::from_secs(30));
    assert_eq!(a[0]["Status"], "recovered", "{a:?}");
    let apath = download_checked(&n1, &key_of(&a[0], &prefix));
    let errors = crate::probe::decode_errors(&apath);
    assert!(errors.is_empty(), "AAC decode errors: {errors}");
    let aspan = crate::probe::probe(&apath).packet_span();
    assert!(aspan > 10.0, "AAC holds {aspan} s");
    assert!(n1.log().contains("completed from its parts in the bucket"));

    // The FLV in the bucket decodes and ends with a whole tag.
    let path = download_checked(&n1, &key_of(&f[0], &prefix));
    let got = crate::probe::probe(&path);
    let errors = crate::probe::decode_errors(&path);
    assert!(errors.is_empty(), "decode errors: {errors}");
    let size = std::fs::metadata(&path).expect("size").len();
    assert_eq!(f[0]["FileSize"].as_u64(), Some(size));
    assert!(size > 10 << 20, "several parts: {size} bytes");
    // Its onMetaData duration is the provisional 0: ffprobe then takes the
    // last tag's timestamp (it reads the final PreviousTagSize).
    assert!(
        (got.duration - got.packet_span()).abs() < 1.0,
        "container duration {} against packets {}",
        got.duration,
        got.packet_span()
    );
    let listed = f[0]["Duration"].as_f64().expect("Duration");
    assert!(
        (listed - got.packet_span()).abs() < 1.5,
        "listed {listed} s, in the file {} s",
        got.packet_span()
    );
    // What node 2 had written at the kill against what was recovered.
    let part = files_under(&kept)
        .into_iter()
        .find(|f| f.to_string_lossy().ends_with(".flv.part"))
        .expect("node 2's FLV spool file");
    let had = crate::probe::probe(&part).packet_span();
    let had_bytes = std::fs::metadata(&part).expect("size").len();
    let lost = had - got.packet_span();
    eprintln!(
        "takeover from the bucket: recovered {:.2} s / {size} B of {had:.2} s / {had_bytes} B on node 2's spool \
         (publisher sent about {sent_s:.0} s of media at {rate}x): lost {lost:.2} s of media ({:.2} s of wall time), \
         {} B; file recovered {:.1} s after the kill",
        got.packet_span(),
        lost / rate as f64,
        had_bytes.saturating_sub(size),
        took.as_secs_f64()
    );
    let every: f64 = part_seconds.parse().expect("seconds");
    if every > 0.0 {
        // The tail goes up every `every` s; a second more may be unflushed.
        let bound = every + 2.0;
        assert!(
            lost / rate as f64 <= bound,
            "lost {lost:.2} s of media at {rate}x: more than {bound} s of wall time"
        );
    } else {
        // At most the part being filled (under 5 MiB plus one flush).
        let lost_bytes = had_bytes.saturating_sub(size);
        assert!(
            lost_bytes <= (5 << 20) + rate * (256 << 10),
            "lost {lost_bytes} B: more than a part"
        );
    }
    // The MP4 was rebuilt from its journal in the bucket.
    let mkey = key_of(&m[0], &prefix);
    let mpath = download_checked(&n1, &mkey);
    crate::probe::assert_faststart(&mpath);
    let errors = crate::probe::decode_errors(&mpath);
    assert!(errors.is_empty(), "MP4 decode errors: {errors}");
    let mgot = crate::probe::probe(&mpath).packet_span();
    let journal = files_under(&kept)
        .into_iter()
        .find(|f| f.to_string_lossy().ends_with(".journal.part"))
        .expect("node 2's MP4 journal");
    let mhad = crate::probe::probe(&journal).packet_span();
    eprintln!(
        "takeover from the bucket: MP4 recovered {mgot:.2} s of {mhad:.2} s in node 2's journal: lost {:.2} s of media",
        mhad - mgot
    );
    assert!(mgot > 10.0, "MP4 holds {mgot} s");
    let gone = http_get(n1.api, &format!("/files/{mkey}.journal"), &[]).expect("GET");
    assert_ne!(gone.status, 200, "the journal object is deleted");
    // The HLS playlist in the bucket was ended by node 1.
    let (playlist, _) = download_hls(&n1, &key_of(&h[0], &prefix));
    let hp = crate::probe::probe(&playlist);
    assert!(hp.packet_span() > 1.0, "HLS holds {} s", hp.packet_span());
    for task in [&f[0], &h[0], &m[0], &a[0]] {
        let format = task["FileFormat"].as_str().expect("format").to_string();
        let id = task["FileId"].as_str().expect("FileId").to_string();
        let ev = r.wait_event("tk", 100, Duration::from_secs(15), |g| {
            g.body["file_id"] == id.as_str()
        });
        assert_eq!(ev.body["recovered"], 1, "{format}");
    }

    // The publisher comes back to node 1: the task records again there.
    let _p = n1.publish("tk", "h264_aac_10s.flv");
    wait_for(Duration::from_secs(15), "a second FLV on node 1", || {
        (n1.files(json!({"TaskId": flv.to_string()})).len() == 2).then_some(())
    });

    // Node 2 restarts with its spool back: nothing is finished twice, and
    // its copies of the files node 1 finished are dropped.
    copy_tree(&kept, &spool);
    n2.start_again();
    assert!(
        n2.wait_log("dropped the spool copy of a file finished elsewhere")
            .contains("dropped the spool copy"),
        "node 2 drops its spool copies at its restart"
    );
    std::thread::sleep(Duration::from_secs(3));
    let again = n1.files(json!({"TaskId": flv.to_string()}));
    let first = again
        .iter()
        .find(|x| x["FileId"] == f[0]["FileId"])
        .expect("the recovered file");
    assert_eq!(first["Status"], "recovered");
    assert_eq!(first["FileSize"], f[0]["FileSize"]);
    for task in [&f[0], &h[0], &m[0], &a[0]] {
        let id = task["FileId"].as_str().expect("FileId");
        let n = r
            .events("tk", 100)
            .iter()
            .filter(|g| g.body["file_id"] == id)
            .count();
        assert_eq!(n, 1, "event 100 of {id} once");
    }
    assert!(
        files_under(&spool)
            .iter()
            .all(|f| !f.to_string_lossy().contains("tk_")),
        "node 2's spool copies are gone: {:?}",
        files_under(&spool)
    );
}
