use serde_json::{Value, json};

use super::*;
use crate::callbacks::{Callbacks, DeliverySettings};
use crate::store::Route;
use crate::store::test_support::file_row;

fn object(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn sign_vector_c1() {
    // Reference §6 C1: MD5("callbackkey123" + "1545030873").
    let body = signed_body(
        r#"{"event_type":1}"#,
        "ev1",
        "callbackkey123",
        1_545_030_873,
    )
    .unwrap();
    let v = object(&body);
    assert_eq!(v["t"], json!(1_545_030_873));
    assert_eq!(v["sign"], json!("a563a8ad7820be820327f99dfb3616f8"));
    assert_eq!(v["event_id"], json!("ev1"));
    assert_eq!(v["event_type"], json!(1));
    assert!(signed_body("[1]", "e", "k", 1).is_none());
    assert!(signed_body("not json", "e", "k", 1).is_none());
}

fn session() -> NewSession {
    NewSession {
        id: "sess-1".into(),
        domain: "push.example.com".into(),
        app: "live".into(),
        stream: "cam".into(),
        client_addr: "10.1.2.3:50000".into(),
        stream_param: "a=1&b=2".into(),
        start_ms: 1_700_000_000_250,
        account_id: "acc".into(),
    }
}

#[test]
fn publish_events_carry_the_reference_fields() {
    let s = session();
    let begin = Value::Object(stream_begin(&s, "127.0.0.1"));
    for (k, v) in [
        ("event_type", json!(1)),
        ("appid", json!(0)),
        ("app", json!("push.example.com")),
        ("appname", json!("live")),
        ("stream_id", json!("cam")),
        ("channel_id", json!("cam")),
        ("event_time", json!(1_700_000_000)),
        ("sequence", json!("sess-1")),
        ("node", json!("127.0.0.1")),
        ("user_ip", json!("10.1.2.3")),
        ("stream_param", json!("a=1&b=2")),
        ("errcode", json!(0)),
        ("errmsg", json!("ok")),
        ("width", json!(0)),
        ("height", json!(0)),
    ] {
        assert_eq!(begin[k], v, "{k}");
    }
    let end = Value::Object(stream_end(
        &s,
        "n",
        1_700_000_012_750,
        "dropped",
        "1280x720",
    ));
    assert_eq!(end["event_type"], json!(0));
    assert_eq!(end["sequence"], begin["sequence"]);
    assert_eq!(end["push_duration"], json!("12500"));
    assert_eq!(end["errcode"], json!(102));
    assert_eq!(end["stop_reason"], json!("dropped"));
    assert_eq!((&end["width"], &end["height"]), (&json!(1280), &json!(720)));
    assert_eq!(end["event_time"], json!(1_700_000_012));
    let unknown = Value::Object(stream_end(&s, "n", s.start_ms, "crash", ""));
    assert_eq!(
        (&unknown["width"], &unknown["push_duration"]),
        (&json!(0), &json!("0"))
    );
}

#[test]
fn every_stop_reason_has_its_own_code() {
    let reasons = [
        "unpublish",
        "disconnect",
        "error",
        "timeout",
        "dropped",
        "forbidden",
        "shutdown",
        "crash",
    ];
    let mut codes: Vec<i64> = reasons.iter().map(|r| stop_code(r).0).collect();
    assert_eq!(stop_code("unpublish"), (1, "recv rtmp deleteStream"));
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), reasons.len());
    assert!(!codes.contains(&0), "0 means ok");
    assert_eq!(ip_of("[::1]:1935"), "::1");
    assert_eq!(ip_of("not an address"), "not an address");
}

#[test]
fn record_file_event_has_every_field_of_3_3() {
    let mut f = file_row("f1", "acc", "task-9", 1_700_000_000_250);
    f.duration_ms = 10_600;
    f.end_ms = f.start_ms + f.duration_ms;
    f.file_size = 123_456;
    f.stream_param = "x=1".into();
    f.media_info = r#"{"video_codec":"h264","resolution":"640x360"}"#.into();
    f.status = FileStatus::Finished;
    let v = Value::Object(record_file(&f, "http://h/files/k/f1.flv"));
    for (k, want) in [
        ("event_type", json!(100)),
        ("appid", json!(0)),
        ("app", json!("d.com")),
        ("appname", json!("live")),
        ("stream_id", json!("s")),
        ("channel_id", json!("s")),
        ("file_id", json!("f1")),
        ("record_file_id", json!("f1")),
        ("file_format", json!("flv")),
        ("task_id", json!("task-9")),
        ("start_time", json!(1_700_000_000)),
        ("start_time_usec", json!(250_000)),
        ("end_time", json!(1_700_000_010)),
        ("end_time_usec", json!(850_000)),
        ("duration", json!(11)),
        ("file_size", json!(123_456)),
        ("stream_param", json!("x=1")),
        ("video_url", json!("http://h/files/k/f1.flv")),
        ("media_start_time", json!(0)),
        ("record_bps", json!(0)),
        ("recovered", json!(0)),
    ] {
        assert_eq!(v[k], want, "{k}");
    }
    let ext: Value = serde_json::from_str(v["callback_ext"].as_str().unwrap()).unwrap();
    assert_eq!(ext["video_codec"], json!("h264"));
    assert_eq!(ext["resolution"], json!("640x360"));
}

#[test]
fn a_recovered_file_is_marked_and_raises_a_warning() {
    let cb = Callbacks::new(
        &DeliverySettings {
            default: Some(("http://127.0.0.1:9/cb".into(), "k".into())),
            retry_ms: 5000,
            ..DeliverySettings::default()
        },
        "http://files.example/",
        "node",
    );
    let mut f = file_row("f2", "acc", "", 1000);
    f.status = FileStatus::Recovered;
    let events = cb.file_done(&f, 2000);
    assert_eq!(events.len(), 2);
    let body: Value = serde_json::from_str(&events[0].body).unwrap();
    assert_eq!(body["recovered"], json!(1));
    assert_eq!(
        body["video_url"],
        json!("http://files.example/files/k/f2.flv")
    );
    assert_eq!(events[0].route, Route::Record);
    assert_eq!((events[0].created_ms, events[0].expire_ms), (2000, 7000));
    assert_eq!(events[1].event_type, 341);
    assert_eq!(events[1].route, Route::RecordException("warning"));
    let ex: Value = serde_json::from_str(&events[1].body).unwrap();
    assert_eq!(ex["exception_level"], json!("warning"));
    assert_eq!(ex["exception"]["type"], json!(-103));
    assert_ne!(events[0].event_id, events[1].event_id);
    assert_eq!(
        events[0].fallback,
        Some(("http://127.0.0.1:9/cb".into(), "k".into()))
    );
    f.status = FileStatus::Finished;
    assert_eq!(cb.file_done(&f, 2000).len(), 1);
}

#[test]
fn status_and_exception_events() {
    let mut f = file_row("f3", "acc", "", 1000);
    f.format = FileFormat::Hls;
    let s = RecordSubject::of_file(&f);
    let v = Value::Object(record_status(&s, "record_start_succeeded", 5_000));
    assert_eq!(v["event_type"], json!(332));
    assert_eq!(v["record_event"], json!("record_start_succeeded"));
    assert_eq!(v["domain"], json!("d.com"));
    let detail: Value = serde_json::from_str(v["record_detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["file_format"], json!(2));
    assert_eq!(detail["start_model"], json!(1), "a rule's recording");
    let v = Value::Object(record_exception(&s, Exception::DiskSpace, 5_000));
    assert_eq!(v["exception_level"], json!("error"));
    assert_eq!(v["file_format"], json!("hls"));
    assert_eq!(Exception::StorageWrite.level(), "error");
}
