//! The service around the API: bootstrap credential, `keys list`,
//! `/healthz`, `/metrics`, quotas and rate limits, RTMP admission.

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::*;

#[test]
fn first_start_generates_one_credential_that_works() {
    let mut s = Server::start_without_credentials();
    let path = s.data_dir().join("credentials");
    let meta = std::fs::metadata(&path).expect("credentials file");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&path).expect("read");
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(str::to_string)
            .expect("key in file")
    };
    let (id, key) = (get("LIVEREC_SECRET_ID="), get("LIVEREC_SECRET_KEY="));
    assert!(s.log().contains(&key), "printed once at first start");
    let o = SdkOpts {
        secret_id: Some(id.clone()),
        secret_key: Some(key.clone()),
        ..SdkOpts::common()
    };
    assert_eq!(
        s.sdk_with(&o, "DescribeRecordFiles", json!({})).ok()["TotalCount"],
        0
    );
    // A restart keeps the credential and does not print it again.
    assert!(s.stop().success());
    s.start_again();
    assert_eq!(s.log().matches(&key).count(), 1);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
    s.sdk_with(&o, "DescribeRecordFiles", json!({})).ok();
    // keys list shows SecretIds and accounts, never the keys.
    let out = Command::new(env!("CARGO_BIN_EXE_liverec"))
        .args(["keys", "list"])
        .env_clear()
        .env("LIVEREC_DATA_DIR", s.data_dir())
        .output()
        .expect("keys list");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(listing.contains(&id), "{listing}");
    assert!(!listing.contains(&key), "no secret in the listing");
}

#[test]
fn unknown_settings_are_named_and_the_merged_configuration_printed() {
    // A typo: the server starts, and its log names the closest setting.
    // The S3 settings are known (no warning) and unused with fs storage.
    let s = Server::start_with(&[
        ("LIVEREC_PREROLL_SECOND", "5"),
        ("LIVEREC_S3_REGION", "eu-west-1"),
    ]);
    let log = s.log();
    assert!(
        log.contains("LIVEREC_PREROLL_SECOND; did you mean LIVEREC_PREROLL_SECONDS?"),
        "{log}"
    );
    assert!(!log.contains("LIVEREC_S3_REGION"), "{log}");
    assert_eq!(
        http_get(s.api, "/healthz", &[]).expect("healthz").status,
        200
    );
    // --print-config: defaults < file < environment < flags, secrets masked.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("liverec.toml");
    std::fs::write(&file, "preroll_seconds = 7\nhls_segment_seconds = 4\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_liverec"))
        .args(["--config", file.to_str().expect("utf-8 path")])
        .args(["serve", "--print-config", "--api-listen", "127.0.0.1:9999"])
        .env_clear()
        .env("LIVEREC_HLS_SEGMENT_SECONDS", "3")
        .env("LIVEREC_SECRET_ID", "AKIDprinted")
        .env("LIVEREC_SECRET_KEY", "never-printed")
        .output()
        .expect("print-config");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("preroll_seconds = 7\n"), "{text}");
    assert!(text.contains("hls_segment_seconds = 3\n"), "{text}");
    assert!(text.contains("api_listen = \"127.0.0.1:9999\"\n"), "{text}");
    assert!(text.contains("secret_id = \"AKIDprinted\"\n"), "{text}");
    assert!(text.contains("secret_key = \"********\"\n"), "{text}");
    assert!(!text.contains("never-printed"), "{text}");
    // A typo in the file is refused, naming the closest key.
    std::fs::write(&file, "hls_segment_second = 4\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_liverec"))
        .args(["--config", file.to_str().expect("utf-8 path")])
        .args(["serve", "--print-config"])
        .env_clear()
        .output()
        .expect("print-config");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("hls_segment_second; did you mean hls_segment_seconds?"),
        "{err}"
    );
}

/// Runs `liverec keys ...` on a data directory; its stdout.
fn keys_cli(data_dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_liverec"))
        .arg("keys")
        .args(args)
        .env_clear()
        .env("LIVEREC_DATA_DIR", data_dir)
        .env("LIVEREC_KEY_ROTATION_GRACE_SECONDS", "3")
        .output()
        .expect("liverec keys");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "keys {args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn files(s: &Server, o: &SdkOpts) -> Sdk {
    s.sdk_with(o, "DescribeRecordFiles", json!({}))
}

fn credential_from(text: &str) -> SdkOpts {
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.trim().to_string())
    };
    SdkOpts {
        secret_id: field("SecretId:"),
        secret_key: field("SecretKey:"),
        ..SdkOpts::default()
    }
}

#[test]
fn keys_rotate_and_revoke_and_a_changed_configured_key_replaces_the_old() {
    let mut s = Server::start();
    let first = credential_from(&keys_cli(s.data_dir(), &["create", "--name", "ops"]));
    assert_eq!(files(&s, &first).ok()["TotalCount"], 0);
    // Rotate: the new key works at once, the old one for the grace period.
    let rotated = keys_cli(
        s.data_dir(),
        &["rotate", first.secret_id.as_deref().expect("id")],
    );
    let second = credential_from(&rotated);
    assert!(rotated.contains("stays valid until"), "{rotated}");
    assert_ne!(second.secret_id, first.secret_id);
    let rotated_at = Instant::now();
    assert_eq!(files(&s, &second).ok()["TotalCount"], 0);
    assert_eq!(files(&s, &first).ok()["TotalCount"], 0);
    let listing = keys_cli(s.data_dir(), &["list"]);
    assert!(!listing.contains(first.secret_key.as_deref().expect("key")));
    std::thread::sleep(Duration::from_secs(3).saturating_sub(rotated_at.elapsed()));
    files(&s, &first).err("AuthFailure.SecretIdNotFound");
    assert_eq!(files(&s, &second).ok()["TotalCount"], 0);
    // Revoke: gone at once.
    keys_cli(
        s.data_dir(),
        &["revoke", second.secret_id.as_deref().expect("id")],
    );
    files(&s, &second).err("AuthFailure.SecretIdNotFound");
    // A changed LIVEREC_SECRET_ID rotates the bootstrap account's key: the
    // server starts, the new key works and the old one is gone.
    assert!(s.stop().success());
    s.set_env("LIVEREC_SECRET_ID", "AKIDliverecE2eChangedKey0000000000");
    s.set_env("LIVEREC_SECRET_KEY", "liverecE2eChangedSecretKey000000");
    s.start_again();
    let changed = SdkOpts {
        secret_id: Some("AKIDliverecE2eChangedKey0000000000".into()),
        secret_key: Some("liverecE2eChangedSecretKey000000".into()),
        ..SdkOpts::default()
    };
    assert_eq!(files(&s, &changed).ok()["TotalCount"], 0);
    s.sdk("DescribeRecordFiles", json!({}))
        .err("AuthFailure.SecretIdNotFound");
}

#[test]
fn the_data_directory_and_database_are_private() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("new").join("data");
    keys_cli(&data, &["create"]);
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("liverec.db")), 0o600);
    // A database file others could read is tightened at the next open.
    std::fs::set_permissions(
        data.join("liverec.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    keys_cli(&data, &["list"]);
    assert_eq!(mode(&data.join("liverec.db")), 0o600);
    for wal in ["liverec.db-wal", "liverec.db-shm", "liverec.db-journal"] {
        let p = data.join(wal);
        if p.exists() {
            assert_eq!(mode(&p) & 0o077, 0, "{wal}");
        }
    }
}

#[test]
fn health_and_metrics() {
    let s = Server::start();
    let h = http_get(s.api, "/healthz", &[]).expect("healthz");
    assert_eq!(
        (h.status, String::from_utf8_lossy(&h.body).trim()),
        (200, "ok")
    );
    s.sdk(
        "CreateLiveRecord",
        json!({"StreamName": "m", "StartTime": cst(now_s() + 60), "EndTime": cst(now_s() + 120)}),
    )
    .ok();
    let m = http_get(s.api, "/metrics", &[]).expect("metrics");
    assert_eq!(m.status, 200);
    let text = String::from_utf8_lossy(&m.body);
    assert!(
        text.contains("liverec_api_requests_total{action=\"CreateLiveRecord\",code=\"OK\"} 1"),
        "{text}"
    );
}

/// With at most 3 tasks a day and 2 at once, creates five tasks whose
/// windows (seconds from now) overlap so that the third passes the running
/// quota and the fifth the daily one; `body` builds each request.
fn quota_sequence(s: &Server, action: &str, body: impl Fn(&str, i64, i64) -> Value) {
    let steps = [
        ("q1", 100, 200, None),
        ("q2", 150, 250, None),
        ("q3", 180, 190, Some("LimitExceeded.MaximumRunningTask")),
        ("q4", 300, 400, None),
        ("q5", 500, 600, Some("LimitExceeded.MaximumTask")),
    ];
    for (name, from, to, refusal) in steps {
        let r = s.sdk(action, body(name, from, to));
        match refusal {
            None => {
                r.ok();
            }
            Some(code) => {
                r.err(code);
            }
        }
    }
}

#[test]
fn quotas_and_rate_limits() {
    let s = Server::start_with(&[
        ("LIVEREC_MAX_TASKS_PER_DAY", "3"),
        ("LIVEREC_MAX_RUNNING_TASKS", "2"),
        ("LIVEREC_RATE_OTHER", "2"),
    ]);
    let t = now_s();
    quota_sequence(
        &s,
        "CreateLiveRecord",
        |name, a, b| json!({"StreamName": name, "StartTime": cst(t + a), "EndTime": cst(t + b)}),
    );
    // Two per second for other actions: a burst of raw calls hits the limit.
    let codes: Vec<String> = (0..6)
        .map(|_| {
            let r = signed_post(&s, "DescribeRecordFiles", b"{}");
            let v: Value = serde_json::from_slice(&r.body).expect("json");
            v["Response"]["Error"]["Code"]
                .as_str()
                .unwrap_or("OK")
                .to_string()
        })
        .collect();
    assert!(
        codes.iter().any(|c| c == "RequestLimitExceeded"),
        "{codes:?}"
    );
    assert_eq!(codes[0], "OK");
}

#[test]
fn record_task_quotas_count_their_own_family() {
    let s = Server::start_with(&[
        ("LIVEREC_MAX_TASKS_PER_DAY", "3"),
        ("LIVEREC_MAX_RUNNING_TASKS", "2"),
    ]);
    let t = now_s();
    // Two legacy tasks over the same window use the legacy quota only.
    for name in ["l1", "l2"] {
        s.sdk(
            "CreateLiveRecord",
            json!({"StreamName": name, "StartTime": cst(t + 100), "EndTime": cst(t + 400)}),
        )
        .ok();
    }
    quota_sequence(&s, "CreateRecordTask", |name, a, b| {
        json!({"StreamName": name, "AppName": "live", "DomainName": "q.example.com",
               "StartTime": t + a, "EndTime": t + b})
    });
}

#[test]
fn quotas_of_zero_are_no_limit() {
    let s = Server::start_with(&[
        ("LIVEREC_MAX_TASKS_PER_DAY", "0"),
        ("LIVEREC_MAX_RUNNING_TASKS", "0"),
    ]);
    let t = now_s();
    // More creates over one window than any small quota would allow, in
    // both families.
    for i in 0..5 {
        s.sdk(
            "CreateLiveRecord",
            json!({"StreamName": format!("z{i}"), "StartTime": cst(t + 100), "EndTime": cst(t + 400)}),
        )
        .ok();
        s.sdk(
            "CreateRecordTask",
            json!({"StreamName": format!("z{i}"), "AppName": "live", "DomainName": "q.example.com",
                   "StartTime": t + 100, "EndTime": t + 400}),
        )
        .ok();
    }
}

#[test]
fn a_second_publisher_is_refused_and_the_first_keeps_going() {
    let s = Server::start();
    let url = s.rtmp_url("live", "solo");
    let _first = s.publish("solo", "h264_aac_10s.flv");
    let mut second = Publisher::start(&url, "h264_aac_10s.flv");
    let status = second.wait_exit(Duration::from_secs(10));
    drop(second);
    assert!(
        status.is_some_and(|st| !st.success()),
        "second publisher must fail: {status:?}"
    );
    assert!(s.log().contains("is already being published"));
    // The first publisher is unaffected: it can still be recorded.
    let (_, files) = s.record_for("solo", 3);
    crate::probe::assert_valid(&s.download_file(&files[0]), "flv", 1.5, 9.0);
}

#[test]
fn broken_and_stalled_publishers_are_disconnected() {
    let s = Server::start_with(&[("LIVEREC_RTMP_READ_TIMEOUT_SECONDS", "1")]);
    // Garbage instead of a handshake.
    let mut sock = TcpStream::connect(s.rtmp).expect("connect");
    sock.write_all(&[0x42; 3000]).expect("write");
    assert!(
        closed_within(sock, Duration::from_secs(5)).is_some(),
        "garbage: connection closed"
    );
    // A valid C0+C1, then silence.
    let mut sock = TcpStream::connect(s.rtmp).expect("connect");
    let mut c0c1 = vec![3u8];
    c0c1.extend_from_slice(&[0u8; 1536]);
    sock.write_all(&c0c1).expect("write");
    let took = closed_within(sock, Duration::from_secs(5)).expect("stalled: closed");
    assert!(
        took >= Duration::from_millis(900),
        "closed after the read timeout, not before: {took:?}"
    );
    let log = s.log();
    assert!(log.contains("rtmp publisher disconnected"), "{log}");
    // The server is fine and still takes publishers.
    assert_eq!(
        http_get(s.api, "/healthz", &[]).expect("healthz").status,
        200
    );
    let _p = s.publish("after", "h264_aac_10s.flv");
}

#[test]
fn postgres_store_records_and_survives_a_restart() {
    let db = postgres_database("service");
    let mut s = Server::start_with(&[("LIVEREC_DATABASE_URL", &db)]);
    let _p = s.publish("pg", "h264_aac_10s.flv");
    let t = now_s();
    let later =
        s.create(json!({"StreamName": "pg", "StartTime": cst(t + 16), "EndTime": cst(t + 20)}));
    let (now, _) = s.record_for("pg", 3);
    assert!(s.stop().success());
    s.start_again();
    assert!(
        now_s() < t + 15,
        "the restart must come before the scheduled window (machine too slow)"
    );
    assert_eq!(
        s.files(json!({"TaskId": now})).len(),
        1,
        "files persist in PostgreSQL"
    );
    // The publisher reconnects to the restarted server; the scheduled task
    // armed from PostgreSQL records its window.
    drop(_p);
    let _p = Publisher::start(&s.rtmp_url("live", "pg"), "h264_aac_10s.flv");
    sleep_until((t + 20) as f64 + 0.5);
    let files = s.wait_finished(later, 1, Duration::from_secs(3));
    crate::probe::assert_valid(&s.download_file(&files[0]), "flv", 2.0, 6.5);
}

#[test]
fn recordings_are_refused_when_storage_is_nearly_full() {
    // A floor no disk meets: every recording is refused, cleanly.
    let s = Server::start_with(&[("LIVEREC_MIN_FREE_BYTES", "1000000000000000000")]);
    let _p = s.publish("full", "h264_aac_10s.flv");
    let task = s.create(json!({"StreamName": "full", "Highlight": 1, "FileFormat": "hls"}));
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        s.files(json!({"TaskId": task})).is_empty(),
        "no file opened"
    );
    assert!(
        s.log().contains("storage is nearly full"),
        "the refusal is logged"
    );
    let m = http_get(s.api, "/metrics", &[]).expect("metrics");
    assert!(String::from_utf8_lossy(&m.body).contains("liverec_low_disk_refusals_total"));
}
