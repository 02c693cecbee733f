//! The load generator against the server, small: `liverec-push --streams`
//! publishes several streams from one process in real time, a recording
//! rule records every one, and each file holds exactly the video frames
//! the generator reports it sent (the benchmark `bench/record.sh` counts
//! lost frames the same way, at scale).

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;

/// Coded video frames in an FLV file (tags whose AVC packet type is 1).
fn flv_frames(path: &std::path::Path) -> u64 {
    let data = std::fs::read(path).expect("read recording");
    let tags = media::flv::scan(&data).tags;
    tags.iter()
        .filter(|t| t.tag_type == 9)
        .filter(|t| data.get(t.body.start + 1) == Some(&1))
        .count() as u64
}

#[test]
fn every_frame_the_load_generator_sends_is_recorded() {
    const STREAMS: usize = 4;
    let s = Server::start();
    let tpl = s.sdk(
        "CreateLiveRecordTemplate",
        json!({"TemplateName": "load", "FlvParam": {"Enable": 1}}),
    );
    let tpl = tpl.ok()["TemplateId"].as_i64().expect("TemplateId");
    s.sdk(
        "CreateLiveRecordRule",
        json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": "", "TemplateId": tpl}),
    )
    .ok();
    let out = Command::new(push_binary())
        .args(["--streams", &STREAMS.to_string(), "--realtime", "--loop"])
        .args(["--seconds", "4", "--batch-ms", "20", "--ramp-ms", "200"])
        .arg(fixture("h264_aac_10s.flv"))
        .arg(s.rtmp_url("live", "load"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run liverec-push");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["streams"], STREAMS);
    assert_eq!(report["failed"], 0, "{report}");
    let per_stream = report["per_stream"].as_array().expect("per_stream");
    let files = s.wait_files(json!({}), STREAMS..=STREAMS, Duration::from_secs(15));
    let mut total = 0;
    for sent in per_stream {
        let name = sent["stream"].as_str().expect("stream");
        let frames = sent["video_frames"].as_u64().expect("video_frames");
        assert!(frames >= 90, "{name}: 4 s at 25 fps, sent {frames}");
        let file = files
            .iter()
            .find(|f| f["StreamName"] == name)
            .unwrap_or_else(|| panic!("no file for {name}: {files:?}"));
        let recorded = flv_frames(&s.download_file(file));
        assert_eq!(recorded, frames, "{name}: frames recorded vs sent");
        total += recorded;
    }
    eprintln!("{STREAMS} streams: {total} frames sent and recorded");
}
