//! DescribeRecordFiles, DeleteRecordFiles, `/files` with Range, and account
//! isolation of tasks and files.

use serde_json::json;

use crate::harness::*;

#[test]
fn files_are_served_with_ranges_and_accounts_are_isolated() {
    let s = Server::start();
    let _p = s.publish("iso", "h264_aac_10s.flv");
    let (task, files) = s.record_for("iso", 3);
    let f = &files[0];
    let url = f["VideoUrl"].as_str().expect("url");
    let path = file_path(url);
    let full = http_get(s.api, &path, &[]).expect("GET");
    assert_eq!(full.status, 200);
    assert_eq!(full.header("content-type"), Some("video/x-flv"));
    assert_eq!(
        full.body.len() as u64,
        f["FileSize"].as_u64().expect("size")
    );
    let part = http_get(s.api, &path, &[("Range", "bytes=100-199")]).expect("range");
    assert_eq!(part.status, 206);
    assert_eq!(part.body, full.body[100..200]);
    let len = full.body.len();
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-199/{len}").as_str())
    );
    let tail = http_get(s.api, &path, &[("Range", "bytes=-10")]).expect("suffix");
    assert_eq!(tail.body, full.body[len - 10..]);
    let bad = http_get(s.api, &path, &[("Range", &format!("bytes={len}-"))]).expect("416");
    assert_eq!(bad.status, 416);
    assert_eq!(
        http_get(s.api, "/files/nope/x.flv", &[])
            .expect("404")
            .status,
        404
    );
    assert_eq!(
        http_get(s.api, "/files/../../etc/passwd", &[])
            .expect("404")
            .status,
        404
    );

    // Browser players on another origin: the CORS preflight of a ranged
    // GET, and CORS headers on every answer, errors included.
    let origin = ("Origin", "http://player.example");
    let pre = http_request(
        s.api,
        "OPTIONS",
        &path,
        &[
            origin,
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "range"),
        ],
        b"",
    )
    .expect("OPTIONS");
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    let allowed = pre
        .header("access-control-allow-headers")
        .unwrap_or_default();
    assert!(allowed.contains("Range"), "{allowed}");
    assert!(
        pre.header("access-control-allow-methods")
            .is_some_and(|m| m.contains("GET")),
        "{:?}",
        pre.headers
    );
    let ranged = http_get(s.api, &path, &[origin, ("Range", "bytes=0-9")]).expect("GET");
    assert_eq!(ranged.status, 206);
    let exposed = ranged
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_string();
    for h in ["Content-Range", "Content-Length", "Accept-Ranges"] {
        assert!(exposed.contains(h), "{h} not exposed: {exposed}");
    }
    for (what, r) in [
        ("200", http_get(s.api, &path, &[origin])),
        ("404", http_get(s.api, "/files/nope/x.flv", &[origin])),
        (
            "416",
            http_get(s.api, &path, &[origin, ("Range", &format!("bytes={len}-"))]),
        ),
    ] {
        let r = r.expect("GET");
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{what}");
    }

    // Filters.
    assert_eq!(s.files(json!({"StreamName": "iso"})).len(), 1);
    assert_eq!(s.files(json!({"StreamName": "other"})).len(), 0);
    assert_eq!(s.files(json!({"TaskId": task})).len(), 1, "numeric TaskId");
    let start = f["StartTime"].as_i64().expect("start");
    assert_eq!(
        s.files(json!({"StartTime": start - 10, "EndTime": start + 1}))
            .len(),
        1
    );
    assert_eq!(
        s.files(json!({"StartTime": start + 3600, "EndTime": start + 7200}))
            .len(),
        0
    );

    // Account B sees nothing of A and cannot touch it.
    let b = s.new_account("bob");
    let bc = b.clone().common_client();
    let r = s.sdk_with(&bc, "DescribeRecordFiles", json!({})).ok();
    assert_eq!(r["TotalCount"], 0);
    s.sdk_with(
        &b,
        "StopLiveRecord",
        json!({"StreamName": "iso", "TaskId": task}),
    )
    .err("ResourceNotFound.TaskId");
    s.sdk_with(
        &b,
        "DeleteLiveRecord",
        json!({"StreamName": "iso", "TaskId": task}),
    )
    .err("ResourceNotFound.TaskId");
    let fid = f["FileId"].as_str().expect("FileId").to_string();
    s.sdk_with(&bc, "DeleteRecordFiles", json!({"FileIds": [fid.clone()]}))
        .err("ResourceNotFound");
    assert_eq!(s.files(json!({})).len(), 1, "A's file is still there");

    // A deletes its file: gone from the listing and from storage.
    let ac = SdkOpts::common();
    s.sdk_with(&ac, "DeleteRecordFiles", json!({"FileIds": [fid]}))
        .ok();
    assert_eq!(s.files(json!({})).len(), 0);
    assert_eq!(http_get(s.api, &path, &[]).expect("GET").status, 404);
}
