//! Callback bodies, field names as Tencent's (reference §3.3 event 100,
//! §3.4 events 1 and 0; Tencent's docs 267/58590 for the recording status
//! event 332 and 267/68622 for the recording exception event 341), and the
//! signing of one attempt ([`signed_body`]). Pure: no IO, no clock.
//!
//! liverec has no Tencent APPID: `appid` is 0. Every body also carries
//! `event_id`, the outbox row's stable id (the `X-Liverec-Event-Id` header
//! repeats it), so receivers can drop a repeated delivery.

use serde_json::{Map, Value, json};

use crate::store::{FileRow, FileStatus, NewSession};
use crate::task::FileFormat;

/// Publish started (§3.4).
pub(super) const STREAM_BEGIN: i64 = 1;
/// Publish ended (§3.4).
pub(super) const STREAM_END: i64 = 0;
/// A recording file is ready (§3.3).
pub(super) const RECORD_FILE: i64 = 100;
/// Recording status (Tencent doc 267/58590).
pub(super) const RECORD_STATUS: i64 = 332;
/// Recording exception (Tencent doc 267/68622).
pub(super) const RECORD_EXCEPTION: i64 = 341;

/// How long a signature stays valid (reference §3.2: `t` = send time +
/// 10 minutes), seconds.
pub const SIGN_VALIDITY_S: i64 = 600;

/// `errcode` and `errmsg` of event 0 for a stored stop reason. 1, 3 and 4
/// carry the messages Tencent sends for the same ends; Tencent documents no
/// codes for the others, so liverec's own start at 101.
pub fn stop_code(reason: &str) -> (i64, &'static str) {
    match reason {
        "unpublish" => (1, "recv rtmp deleteStream"),
        "disconnect" => (3, "recv() return 0"),
        "error" => (4, "recv() return error"),
        "timeout" => (101, "push timeout: no data within the read timeout"),
        "dropped" => (102, "kicked: DropLiveStream"),
        "forbidden" => (103, "forbidden: ForbidLiveStream"),
        "shutdown" => (104, "server shutdown"),
        "crash" => (105, "server stopped unexpectedly; session cut off"),
        _ => (100, "ended"),
    }
}

/// The IP of an `ip:port` address.
fn ip_of(addr: &str) -> &str {
    match addr.parse::<std::net::SocketAddr>() {
        Ok(_) => addr
            .rsplit_once(':')
            .map(|(ip, _)| ip.trim_start_matches('[').trim_end_matches(']'))
            .unwrap_or(addr),
        Err(_) => addr,
    }
}

/// The fields events 1 and 0 share.
fn stream_fields(s: &NewSession, node: &str, event_type: i64, event_ms: i64) -> Map<String, Value> {
    let v = json!({
        "event_type": event_type,
        "appid": 0,
        "app": s.domain,
        "appname": s.app,
        "stream_id": s.stream,
        "channel_id": s.stream,
        "event_time": event_ms.div_euclid(1000),
        "sequence": s.id,
        "node": node,
        "user_ip": ip_of(&s.client_addr),
        "stream_param": s.stream_param,
        "set_id": 0,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Event 1. The video size is not known yet when a publish starts: 0.
pub(super) fn stream_begin(s: &NewSession, node: &str) -> Map<String, Value> {
    let mut m = stream_fields(s, node, STREAM_BEGIN, s.start_ms);
    m.insert("errcode".into(), 0.into());
    m.insert("errmsg".into(), "ok".into());
    m.insert("width".into(), 0.into());
    m.insert("height".into(), 0.into());
    m
}

/// Event 0: `push_duration` (ms, a string as Tencent's) and why it ended.
pub(super) fn stream_end(
    s: &NewSession,
    node: &str,
    end_ms: i64,
    reason: &str,
    resolution: &str,
) -> Map<String, Value> {
    let mut m = stream_fields(s, node, STREAM_END, end_ms);
    let (code, msg) = stop_code(reason);
    let (w, h) = resolution
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<i64>().ok()?, h.parse::<i64>().ok()?)))
        .unwrap_or((0, 0));
    m.insert(
        "push_duration".into(),
        (end_ms - s.start_ms).max(0).to_string().into(),
    );
    m.insert("errcode".into(), code.into());
    m.insert("errmsg".into(), msg.into());
    m.insert("stop_reason".into(), reason.into());
    m.insert("width".into(), w.into());
    m.insert("height".into(), h.into());
    m
}

/// Seconds and the microsecond part of a ms time.
fn split_ms(ms: i64) -> (i64, i64) {
    (ms.div_euclid(1000), ms.rem_euclid(1000) * 1000)
}

/// Event 100 of a finished or recovered file: every field of §3.3, the
/// numbers as DescribeRecordFiles reports them. `duration` is whole
/// seconds, rounded; `callback_ext` is the file's codec/resolution JSON.
pub(super) fn record_file(f: &FileRow, video_url: &str) -> Map<String, Value> {
    let (start_s, start_us) = split_ms(f.start_ms);
    let (end_s, end_us) = split_ms(f.end_ms);
    let v = json!({
        "event_type": RECORD_FILE,
        "appid": 0,
        "app": f.domain,
        "appname": f.app,
        "stream_id": f.stream,
        "channel_id": f.stream,
        "file_id": f.id,
        "record_file_id": f.id,
        "file_format": f.format.as_str(),
        "task_id": f.task_id,
        "start_time": start_s,
        "start_time_usec": start_us,
        "end_time": end_s,
        "end_time_usec": end_us,
        "duration": (f.duration_ms + 500).div_euclid(1000),
        "file_size": f.file_size,
        "stream_param": f.stream_param,
        "video_url": video_url,
        "media_start_time": 0,
        "record_bps": 0,
        "callback_ext": f.media_info,
        "session_id": f.session_id,
        "recovered": i64::from(f.status == FileStatus::Recovered),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// What a recording status or exception event is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSubject {
    /// Owning account.
    pub account_id: String,
    /// Push domain.
    pub domain: String,
    /// AppName.
    pub app: String,
    /// StreamName.
    pub stream: String,
    /// Publish session.
    pub session_id: String,
    /// TaskId ("" for rules).
    pub task_id: String,
    /// Format of the output concerned.
    pub format: FileFormat,
}

impl RecordSubject {
    /// The subject of a file row.
    pub fn of_file(f: &FileRow) -> RecordSubject {
        RecordSubject {
            account_id: f.account_id.clone(),
            domain: f.domain.clone(),
            app: f.app.clone(),
            stream: f.stream.clone(),
            session_id: f.session_id.clone(),
            task_id: f.task_id.clone(),
            format: f.format,
        }
    }
}

/// Tencent's `record_detail.file_format` numbers.
fn format_number(f: FileFormat) -> i64 {
    match f {
        FileFormat::Flv => 1,
        FileFormat::Hls => 2,
        FileFormat::Mp4 => 3,
        FileFormat::Aac => 4,
        FileFormat::Mp3 => 5,
    }
}

/// Event 332.
pub(super) fn record_status(
    s: &RecordSubject,
    record_event: &str,
    now_ms: i64,
) -> Map<String, Value> {
    // start_model: 1 = a recording template rule, 5 = an API call.
    let start_model = if s.task_id.is_empty() { 1 } else { 5 };
    let detail = json!({
        "file_format": format_number(s.format),
        "record_bps": 0,
        "start_model": start_model,
        "record_content": 1,
        "source_type": 1,
        "codec_temp_id": 0,
    });
    let v = json!({
        "event_type": RECORD_STATUS,
        "appid": 0,
        "domain": s.domain,
        "appname": s.app,
        "stream_id": s.stream,
        "event_time": now_ms.div_euclid(1000),
        "record_event": record_event,
        "record_detail": detail.to_string(),
        "seq": uuid::Uuid::now_v7().simple().to_string(),
        "session_id": s.session_id,
        "task_id": s.task_id,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A recording exception liverec reports (event 341). Tencent's types
/// (-8 … -18) are about pulled streams; these are liverec's own, below
/// -100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exception {
    /// Below the free-space floor: a recording was refused or ended.
    DiskSpace,
    /// Writing to storage failed; the file ends at its last complete unit.
    StorageWrite,
    /// A file left open by a crash was recovered at start-up.
    Recovered,
}

impl Exception {
    /// `exception_level` (RecordExceptionLevels filters on it).
    pub fn level(self) -> &'static str {
        match self {
            Exception::DiskSpace | Exception::StorageWrite => "error",
            Exception::Recovered => "warning",
        }
    }

    fn code(self) -> (i64, &'static str) {
        match self {
            Exception::DiskSpace => (-101, "storage nearly full: recording refused or ended"),
            Exception::StorageWrite => (-102, "writing to storage failed: file ended early"),
            Exception::Recovered => (-103, "file recovered after the server stopped uncleanly"),
        }
    }
}

/// Event 341.
pub(super) fn record_exception(s: &RecordSubject, e: Exception, now_ms: i64) -> Map<String, Value> {
    let (code, desc) = e.code();
    let v = json!({
        "event_type": RECORD_EXCEPTION,
        "appid": 0,
        "app": s.domain,
        "appname": s.app,
        "stream_id": s.stream,
        "session_id": s.session_id,
        "task_id": s.task_id,
        "file_format": s.format.as_str(),
        "timestamp": now_ms.div_euclid(1000),
        "exception_level": e.level(),
        "exception": {"type": code, "occurs": 1, "desc": desc},
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The body of one attempt: the stored body with `event_id`, `t` (valid
/// until `t`) and `sign = md5(key + t)` added. None when the stored body is
/// not a JSON object (it always is: this module wrote it).
pub fn signed_body(body: &str, event_id: &str, key: &str, t: i64) -> Option<Vec<u8>> {
    let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(body) else {
        return None;
    };
    m.insert("event_id".into(), event_id.into());
    m.insert("t".into(), t.into());
    m.insert("sign".into(), tcapi::callback_sign(key, t).into());
    serde_json::to_vec(&Value::Object(m)).ok()
}

#[cfg(test)]
mod tests;
