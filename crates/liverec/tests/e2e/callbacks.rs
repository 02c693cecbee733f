//! Callback delivery (SPEC §5, reference §3): a receiver on 127.0.0.1 in
//! the test records every request (headers and JSON body) and can answer
//! 500 to the first N file events, or hang. Checked: events 1, 100 and 0
//! arrive signed (`sign = md5(key + t)`, `t` ≈ now + 600) with the event id
//! in the body and the header; event 100's numbers agree with the served
//! file and ffprobe; a failing receiver gets the file event after retries,
//! in order with the stream's later events; a hanging receiver does not
//! delay another recording; the status event 332 announces a recording's
//! start, and 332 + 341 one refused for disk space; after kill -9 the recovered file's event 100
//! and the cut-off session's event 0 arrive; DescribeCallbackDeliveries
//! (through the SDK's CommonClient) shows the attempts; /metrics counts; a
//! callback rule's template (its URLs, its key) wins over the default; an
//! HTTPS receiver is reached when its CA is trusted (`callback_ca_file`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::*;
use crate::probe::probe;

const KEY: &str = "callbackkey123";

/// One request the receiver got.
#[derive(Clone, Debug)]
pub(crate) struct Got {
    headers: Vec<(String, String)>,
    pub(crate) body: Value,
    at: Instant,
    /// What the receiver answered (0 = nothing: it hung).
    pub(crate) answered: u16,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
pub(crate) struct Behaviour {
    /// File events (100) still to be answered with 500.
    fail_file_events: usize,
    /// Answer nothing until stopped.
    hang: bool,
    /// Answer 500 to everything until then (a receiver that is down).
    down_until: Option<Instant>,
}

/// A callback receiver on a free loopback port; stops on drop.
pub(crate) struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Got>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    stop: Arc<AtomicBool>,
    tls: bool,
}

impl Receiver {
    pub(crate) fn start(behaviour: Behaviour) -> Receiver {
        Receiver::start_with(behaviour, None)
    }

    /// With `tls`, the receiver speaks HTTPS with that certificate.
    fn start_with(behaviour: Behaviour, tls: Option<Arc<rustls::ServerConfig>>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        listener.set_nonblocking(true).expect("nonblocking");
        let r = Receiver {
            addr: listener.local_addr().expect("addr"),
            got: Arc::default(),
            behaviour: Arc::new(Mutex::new(behaviour)),
            stop: Arc::default(),
            tls: tls.is_some(),
        };
        let (got, behaviour, stop) = (r.got.clone(), r.behaviour.clone(), r.stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((sock, _)) => {
                        let (got, behaviour, stop) = (got.clone(), behaviour.clone(), stop.clone());
                        let tls = tls.clone();
                        std::thread::spawn(move || {
                            let _ = sock.set_nonblocking(false);
                            let _ = sock.set_read_timeout(Some(Duration::from_secs(10)));
                            match tls {
                                None => serve(sock, &got, &behaviour, &stop),
                                Some(cfg) => {
                                    let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                                        return;
                                    };
                                    let stream = rustls::StreamOwned::new(conn, sock);
                                    serve(stream, &got, &behaviour, &stop);
                                }
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        r
    }

    pub(crate) fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}/cb", self.addr)
    }

    pub(crate) fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// Requests about `stream` with `event_type`.
    pub(crate) fn events(&self, stream: &str, event_type: i64) -> Vec<Got> {
        self.got()
            .into_iter()
            .filter(|g| g.body["stream_id"] == stream && g.body["event_type"] == event_type)
            .collect()
    }

    /// Waits (bounded) for an answered request about `stream` with
    /// `event_type` matching `pred`; the first one.
    pub(crate) fn wait_event(
        &self,
        stream: &str,
        event_type: i64,
        limit: Duration,
        pred: impl Fn(&Got) -> bool,
    ) -> Got {
        wait_for(limit, &format!("event {event_type} of {stream}"), || {
            self.events(stream, event_type)
                .into_iter()
                .find(|g| g.answered == 200 && pred(g))
        })
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Reads one request (headers, Content-Length body) and answers it as the
/// behaviour says; every read is bounded by a timeout.
fn serve(
    mut sock: impl Read + Write,
    got: &Mutex<Vec<Got>>,
    behaviour: &Mutex<Behaviour>,
    stop: &AtomicBool,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 1 << 20 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body: Value = serde_json::from_slice(&buf[head_end..head_end + len]).unwrap_or(Value::Null);
    let (hang, fail) = {
        let mut b = behaviour.lock().unwrap();
        let down = b.down_until.is_some_and(|t| Instant::now() < t);
        let fail_file = body["event_type"] == 100 && b.fail_file_events > 0;
        if fail_file {
            b.fail_file_events -= 1;
        }
        let fail = down || fail_file;
        (b.hang, fail)
    };
    let answered = if hang {
        0
    } else if fail {
        500
    } else {
        200
    };
    got.lock().unwrap().push(Got {
        headers,
        body,
        at: Instant::now(),
        answered,
    });
    if hang {
        let t0 = Instant::now();
        while !stop.load(Ordering::SeqCst) && t0.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(50));
        }
        return;
    }
    let text = if fail { "fail" } else { r#"{"code":0}"# };
    let _ = write!(
        sock,
        "HTTP/1.1 {answered} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = sock.flush();
}

/// A server whose default callback receiver is `r`.
fn server_for(r: &Receiver, extra: &[(&str, &str)]) -> Server {
    let url = r.url();
    let mut env = vec![
        ("LIVEREC_CALLBACK_URL", url.as_str()),
        ("LIVEREC_CALLBACK_KEY", KEY),
    ];
    env.extend_from_slice(extra);
    Server::start_with(&env)
}

/// Signature (default key), expiry, event id and content type of a
/// delivered request.
fn assert_signed(g: &Got) {
    assert_signed_with(g, KEY);
}

/// [`assert_signed`] with the callback key `key`.
fn assert_signed_with(g: &Got, key: &str) {
    let t = g.body["t"].as_i64().expect("t");
    let now = now_s();
    assert!(
        (now + 600 - 30..=now + 600 + 2).contains(&t),
        "t {t} is not send time + 600 (now {now})"
    );
    assert_eq!(
        g.body["sign"].as_str(),
        Some(tcapi::callback_sign(key, t).as_str()),
        "sign = md5(key + t)"
    );
    let id = g.body["event_id"].as_str().expect("event_id");
    assert!(id.len() >= 16, "{id}");
    assert_eq!(g.header("x-liverec-event-id"), Some(id));
    assert_eq!(g.header("content-type"), Some("application/json"));
}

/// DescribeCallbackDeliveries through CommonClient.call_json.
fn deliveries(s: &Server, filter: Value) -> Value {
    s.sdk_with(&SdkOpts::common(), "DescribeCallbackDeliveries", filter)
        .ok()
}

#[test]
fn publish_record_and_end_arrive_signed_with_the_file_facts() {
    let r = Receiver::start(Behaviour::default());
    let s = server_for(&r, &[]);
    let mut p = s.publish("cbfacts", "h264_aac_10s.flv");
    let begin = r.wait_event("cbfacts", 1, Duration::from_secs(10), |_| true);
    assert_signed(&begin);
    assert_eq!(begin.body["app"], "127.0.0.1");
    assert_eq!(begin.body["appname"], "live");
    assert_eq!(begin.body["channel_id"], "cbfacts");
    assert_eq!(begin.body["errcode"], 0);
    assert_eq!(begin.body["user_ip"], "127.0.0.1");

    let (task, files) = s.record_for("cbfacts", 4);
    let file = &files[0];
    let rec = r.wait_event("cbfacts", 100, Duration::from_secs(10), |_| true);
    assert_signed(&rec);
    let b = &rec.body;
    assert_eq!(b["record_file_id"], file["FileId"]);
    assert_eq!(b["file_id"], file["FileId"]);
    assert_eq!(
        b["task_id"],
        json!(task.to_string()),
        "a string for legacy tasks too"
    );
    assert_eq!(b["video_url"], file["VideoUrl"]);
    assert_eq!(b["file_format"], "flv");
    assert_eq!(b["recovered"], 0);
    assert_eq!(b["stream_param"], "");
    for k in [
        "start_time_usec",
        "end_time_usec",
        "media_start_time",
        "record_bps",
    ] {
        assert!(b[k].is_i64(), "{k} in {b}");
    }
    assert_eq!(
        b["start_time"],
        json!(file["StartTimeMs"].as_i64().unwrap() / 1000)
    );
    assert_eq!(
        b["end_time"],
        json!(file["EndTimeMs"].as_i64().unwrap() / 1000)
    );
    assert_eq!(
        b["start_time_usec"],
        json!(file["StartTimeMs"].as_i64().unwrap() % 1000 * 1000)
    );
    // Size: exactly the bytes served; duration: within 1 s of ffprobe's.
    let path = s.download_file(file);
    let served = std::fs::metadata(&path).unwrap().len();
    assert_eq!(b["file_size"].as_u64(), Some(served));
    assert_eq!(b["file_size"], file["FileSize"]);
    let probed = probe(&path).duration;
    let duration = b["duration"].as_f64().expect("duration");
    assert!(
        (duration - probed).abs() <= 1.0,
        "duration {duration} vs ffprobe {probed}"
    );
    let ext: Value =
        serde_json::from_str(b["callback_ext"].as_str().expect("callback_ext")).unwrap();
    assert_eq!(ext["video_codec"], "h264");
    assert!(
        ext["resolution"].as_str().is_some_and(|r| r.contains('x')),
        "{ext}"
    );

    p.stop();
    let end = r.wait_event("cbfacts", 0, Duration::from_secs(10), |_| true);
    assert_signed(&end);
    assert_eq!(end.body["sequence"], begin.body["sequence"], "one publish");
    let pushed: i64 = end.body["push_duration"].as_str().unwrap().parse().unwrap();
    assert!(pushed >= 4000, "push_duration {pushed}");
    assert!(end.body["errcode"].as_i64().unwrap() > 0, "{}", end.body);
    assert!(end.body["errmsg"].as_str().is_some_and(|m| !m.is_empty()));
    // One stream's events arrive in order, each once (receiver answered 200).
    assert!(begin.at <= rec.at && rec.at <= end.at);
    for t in [1, 100, 0] {
        assert_eq!(r.events("cbfacts", t).len(), 1, "event {t} once");
    }

    // The recording's start is announced too (Tencent's status event 332).
    let status = r.wait_event("cbfacts", 332, Duration::from_secs(5), |_| true);
    assert_eq!(status.body["record_event"], "record_start_succeeded");
    assert_signed(&status);

    let d = deliveries(&s, json!({"StreamName": "cbfacts", "Status": "delivered"}));
    assert_eq!(d["TotalNum"], 4, "{d}");
    let types: Vec<i64> = d["DeliveryList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["EventType"].as_i64().unwrap())
        .collect();
    assert_eq!(types, [0, 100, 332, 1], "newest first");
    for e in d["DeliveryList"].as_array().unwrap() {
        assert_eq!(e["Attempts"], 1, "{e}");
        assert_eq!(e["LastHttpStatus"], 200);
        assert_eq!(e["Url"], json!(r.url()));
    }
    let metrics = http_get(s.api, "/metrics", &[]).expect("GET /metrics");
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains("liverec_callback_deliveries_total{outcome=\"delivered\"}"),
        "{text}"
    );
    assert!(text.contains("liverec_callback_outbox_depth"), "{text}");
    assert!(
        text.contains("liverec_callback_oldest_pending_age_seconds"),
        "{text}"
    );
}

#[test]
fn a_failing_receiver_gets_the_file_event_after_retries_in_stream_order() {
    let r = Receiver::start(Behaviour {
        fail_file_events: 3,
        ..Behaviour::default()
    });
    let s = server_for(&r, &[("LIVEREC_CALLBACK_RETRY_FIRST_MS", "300")]);
    let mut p = s.publish("cbretry", "h264_aac_10s.flv");
    let (_, files) = s.record_for("cbretry", 3);
    // The publish ends while the file event is still failing: its event 0
    // waits behind it.
    p.stop();
    let ok = r.wait_event("cbretry", 100, Duration::from_secs(20), |_| true);
    assert_signed(&ok);
    assert_eq!(ok.body["record_file_id"], files[0]["FileId"]);
    let tries = r.events("cbretry", 100);
    assert_eq!(tries.len(), 4, "3 failures, then 200");
    let id = &tries[0].body["event_id"];
    assert!(
        tries.iter().all(|g| &g.body["event_id"] == id),
        "one stable event id"
    );
    assert_eq!(tries.iter().filter(|g| g.answered == 500).count(), 3);
    // Back-off: each pause longer than the one before (jitter keeps each
    // within [d/2, d] of 300, 600, 1200 ms).
    let gaps: Vec<Duration> = tries.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[0] >= Duration::from_millis(140), "{gaps:?}");
    assert!(gaps[2] >= Duration::from_millis(550), "{gaps:?}");
    let end = r.wait_event("cbretry", 0, Duration::from_secs(10), |_| true);
    assert!(
        end.at >= ok.at,
        "event 0 was sent before the earlier event 100"
    );

    let d = deliveries(&s, json!({"StreamName": "cbretry", "EventType": 100}));
    assert_eq!(d["TotalNum"], 1, "{d}");
    let e = &d["DeliveryList"][0];
    assert_eq!(e["Attempts"], 4, "{e}");
    assert_eq!(e["Status"], "delivered");
    assert_eq!(e["EventId"], *id);
    assert_eq!(e["LastHttpStatus"], 200);
    let none = deliveries(&s, json!({"StreamName": "cbretry", "Status": "failed"}));
    assert_eq!(none["TotalNum"], 0);
    // Another account sees none of them.
    let o = s.new_account("cb-other").common_client();
    let theirs = s.sdk_with(&o, "DescribeCallbackDeliveries", json!({})).ok();
    assert_eq!(theirs["TotalNum"], 0, "{theirs}");
}

#[test]
fn a_hanging_receiver_delays_neither_recording_nor_the_api() {
    let r = Receiver::start(Behaviour {
        hang: true,
        ..Behaviour::default()
    });
    let mut s = server_for(&r, &[("LIVEREC_CALLBACK_TIMEOUT_SECONDS", "3")]);
    let _a = s.publish("cbhang1", "h264_aac_10s.flv");
    let (_, first) = s.record_for("cbhang1", 2);
    assert_eq!(first.len(), 1);
    wait_for(Duration::from_secs(10), "a hanging request", || {
        (!r.got().is_empty()).then_some(())
    });
    // A second recording while deliveries hang: it starts, records and is
    // finished on time (record_for waits at most 2 s for the file).
    let _b = s.publish("cbhang2", "h264_aac_10s.flv");
    let t0 = Instant::now();
    let (_, second) = s.record_for("cbhang2", 3);
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert_eq!(second[0]["Status"], "finished");
    let path = s.download_file(&second[0]);
    assert!(probe(&path).duration >= 2.0);
    // The attempts time out after 3 s and are retried, visibly.
    let d = wait_for(Duration::from_secs(15), "a timed-out attempt", || {
        let d = deliveries(&s, json!({"StreamName": "cbhang1", "EventType": 1}));
        (d["DeliveryList"][0]["Attempts"].as_i64().unwrap_or(0) >= 1).then_some(d)
    });
    let e = &d["DeliveryList"][0];
    assert_eq!(e["Status"], "pending", "{e}");
    assert_eq!(e["LastHttpStatus"], 0);
    assert!(
        e["LastError"]
            .as_str()
            .unwrap()
            .contains("no answer within 3 s"),
        "{e}"
    );
    assert!(e["NextAttemptTimeMs"].as_i64().unwrap() > 0);
    // Nothing was answered; the second stream's events queue too.
    assert!(r.got().iter().all(|g| g.answered == 0));
    assert!(
        s.stop().success(),
        "stops within 10 s with deliveries hanging"
    );
}

#[test]
fn after_kill_9_the_recovered_file_and_the_cut_off_session_are_announced() {
    let r = Receiver::start(Behaviour::default());
    let mut s = server_for(&r, &[]);
    let mut p = s.publish("cbcrash", "h264_aac_10s.flv");
    let begin = r.wait_event("cbcrash", 1, Duration::from_secs(10), |_| true);
    let task = s.create(json!({"StreamName": "cbcrash", "Highlight": 1}));
    std::thread::sleep(Duration::from_secs(5));
    s.kill();
    p.stop();
    assert!(r.events("cbcrash", 100).is_empty());
    s.start_again();
    let files = s.wait_finished(task, 1, Duration::from_secs(10));
    assert_eq!(files[0]["Status"], "recovered");
    let rec = r.wait_event("cbcrash", 100, Duration::from_secs(15), |_| true);
    assert_signed(&rec);
    assert_eq!(rec.body["recovered"], 1);
    assert_eq!(rec.body["record_file_id"], files[0]["FileId"]);
    let path = s.download_file(&files[0]);
    assert_eq!(
        rec.body["file_size"].as_u64(),
        Some(std::fs::metadata(&path).unwrap().len())
    );
    let probed = probe(&path).duration;
    let duration = rec.body["duration"].as_f64().unwrap();
    assert!((duration - probed).abs() <= 1.0, "{duration} vs {probed}");
    let end = r.wait_event("cbcrash", 0, Duration::from_secs(15), |_| true);
    assert_eq!(end.body["sequence"], begin.body["sequence"]);
    assert_eq!(end.body["stop_reason"], "crash");
    assert_eq!(end.body["errcode"], 105);
    // The recovery also raises a warning exception event (341).
    let warn = wait_for(Duration::from_secs(10), "exception event", || {
        r.got()
            .into_iter()
            .find(|g| g.body["event_type"] == 341 && g.body["stream_id"] == "cbcrash")
    });
    assert_eq!(warn.body["exception_level"], "warning");
    for t in [1, 100, 0] {
        assert_eq!(r.events("cbcrash", t).len(), 1, "event {t} once");
    }
}

#[test]
fn a_callback_rule_sends_its_templates_events_with_its_key() {
    let default = Receiver::start(Behaviour::default());
    let templ = Receiver::start(Behaviour::default());
    let s = server_for(&default, &[]);
    let base = format!("http://{}", templ.addr);
    let id = s
        .sdk(
            "CreateLiveCallbackTemplate",
            json!({
                "TemplateName": "cb-rule",
                "StreamBeginNotifyUrl": format!("{base}/begin"),
                "RecordNotifyUrl": format!("{base}/record"),
                "RecordExceptionNotifyUrl": format!("{base}/exception"),
                "RecordExceptionLevels": ["error"],
                "CallbackKey": "template-key",
            }),
        )
        .ok()["TemplateId"]
        .as_i64()
        .expect("TemplateId");
    s.sdk(
        "CreateLiveCallbackRule",
        json!({"DomainName": "127.0.0.1", "AppName": "live", "TemplateId": id}),
    )
    .ok();
    let mut p = s.publish("cbrule", "h264_aac_10s.flv");
    let begin = templ.wait_event("cbrule", 1, Duration::from_secs(10), |_| true);
    assert_signed_with(&begin, "template-key");
    let (_, files) = s.record_for("cbrule", 2);
    let rec = templ.wait_event("cbrule", 100, Duration::from_secs(10), |_| true);
    assert_signed_with(&rec, "template-key");
    assert_eq!(rec.body["record_file_id"], files[0]["FileId"]);
    p.stop();
    // The template has no StreamEndNotifyUrl: event 0 is not wanted, and
    // nothing of this stream goes to the default receiver.
    wait_for(Duration::from_secs(10), "publish end", || {
        s.log().contains("publish ended").then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(templ.events("cbrule", 0).is_empty());
    assert!(
        default
            .got()
            .iter()
            .all(|g| g.body["stream_id"] != "cbrule"),
        "the rule wins over the default"
    );
    let d = deliveries(&s, json!({"StreamName": "cbrule"}));
    assert_eq!(d["TotalNum"], 2, "{d}");
}

#[test]
fn https_receivers_are_verified_against_the_configured_ca() {
    use rustls_pki_types::pem::PemObject;
    let pki = crate::tls::Pki::new();
    let (cert, key) = pki.server("receiver", "receiver");
    let chain: Vec<_> = rustls_pki_types::CertificateDer::pem_file_iter(&cert)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_file(&key).unwrap();
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let r = Receiver::start_with(Behaviour::default(), Some(Arc::new(cfg)));
    let ca = pki.ca();
    let s = server_for(&r, &[("LIVEREC_CALLBACK_CA_FILE", ca.to_str().unwrap())]);
    let mut p = s.publish("cbtls", "h264_aac_10s.flv");
    let begin = r.wait_event("cbtls", 1, Duration::from_secs(10), |_| true);
    assert_signed(&begin);
    p.stop();
    r.wait_event("cbtls", 0, Duration::from_secs(10), |_| true);
    // Not trusted without the test CA (the system bundle does not have it):
    // a failed attempt naming the certificate, retried.
    let untrusting = server_for(&r, &[]);
    let _q = untrusting.publish("cbtls2", "h264_aac_10s.flv");
    let d = wait_for(Duration::from_secs(10), "a refused TLS attempt", || {
        let d = deliveries(&untrusting, json!({"StreamName": "cbtls2", "EventType": 1}));
        (d["DeliveryList"][0]["Attempts"].as_i64().unwrap_or(0) >= 1).then_some(d)
    });
    let e = &d["DeliveryList"][0];
    assert_eq!(e["Status"], "pending", "{e}");
    assert!(e["LastError"].as_str().unwrap().contains("TLS"), "{e}");
    assert!(r.events("cbtls2", 1).is_empty());
}

#[test]
fn a_refused_recording_is_announced_by_status_and_exception_events() {
    let r = Receiver::start(Behaviour::default());
    // A free-space floor no disk meets: the recording cannot start.
    let s = server_for(&r, &[("LIVEREC_MIN_FREE_BYTES", "1000000000000000000")]);
    let _p = s.publish("cbfull", "h264_aac_10s.flv");
    let task = s.create(json!({"StreamName": "cbfull", "Highlight": 1}));
    let status = r.wait_event("cbfull", 332, Duration::from_secs(10), |_| true);
    assert_signed(&status);
    assert_eq!(status.body["record_event"], "record_start_failed");
    assert_eq!(status.body["task_id"], json!(task.to_string()));
    let detail: Value = serde_json::from_str(
        status.body["record_detail"]
            .as_str()
            .expect("record_detail"),
    )
    .unwrap();
    assert_eq!(detail["file_format"], 1, "flv");
    assert_eq!(detail["start_model"], 5, "an API task");
    let exc = r.wait_event("cbfull", 341, Duration::from_secs(10), |_| true);
    assert_eq!(exc.body["exception_level"], "error");
    assert_eq!(exc.body["exception"]["type"], -101);
    assert!(r.events("cbfull", 100).is_empty(), "no file, no file event");
}

/// A record event (100) is signed and agrees with its file as served:
/// format, size (exactly the bytes served; HLS: what DescribeRecordFiles
/// says, the segments included) and duration (within 1 s of ffprobe's).
/// Returns the event's duration.
fn assert_file_event(s: &Server, e: &Got, files: &[Value]) -> f64 {
    assert_signed(e);
    let b = &e.body;
    let file = files
        .iter()
        .find(|f| f["FileId"] == b["record_file_id"])
        .unwrap_or_else(|| panic!("no file for {b}"));
    let format = b["file_format"].as_str().expect("file_format");
    assert_eq!(file["FileFormat"], format);
    assert_eq!(b["file_size"], file["FileSize"], "{format}");
    assert_eq!(b["video_url"], file["VideoUrl"], "{format}");
    let path = s.download_file(file);
    if format != "hls" {
        let served = std::fs::metadata(&path).unwrap().len();
        assert_eq!(b["file_size"].as_u64(), Some(served), "{format}");
    }
    let probed = probe(&path);
    let media = if format == "aac" {
        probed.packet_span()
    } else {
        probed.duration
    };
    let duration = b["duration"].as_f64().expect("duration");
    assert!(
        (duration - media).abs() <= 1.0,
        "{format}: duration {duration} vs ffprobe {media}"
    );
    duration
}

#[test]
fn a_highlight_in_every_format_announces_each_file() {
    let r = Receiver::start(Behaviour::default());
    let s = server_for(&r, &[("LIVEREC_HLS_SEGMENT_SECONDS", "2")]);
    let mut p = s.publish("cbhl", "h264_aac_10s.flv");
    let formats = ["flv", "hls", "mp4", "aac", "mp3"];
    let tasks: Vec<i64> = formats
        .iter()
        .map(|f| s.create(json!({"StreamName": "cbhl", "Highlight": 1, "FileFormat": f})))
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    for t in &tasks {
        s.sdk("StopLiveRecord", json!({"StreamName": "cbhl", "TaskId": t}))
            .ok();
    }
    p.stop();
    let files = s.wait_files(
        json!({"StreamName": "cbhl"}),
        5..=5,
        Duration::from_secs(10),
    );
    wait_for(Duration::from_secs(10), "five record events", || {
        (r.events("cbhl", 100).len() >= 5).then_some(())
    });
    let events = r.events("cbhl", 100);
    assert_eq!(events.len(), 5, "{events:?}");
    let mut got: Vec<&str> = events
        .iter()
        .map(|e| e.body["file_format"].as_str().expect("file_format"))
        .collect();
    got.sort_unstable();
    assert_eq!(got, ["aac", "flv", "hls", "mp3", "mp4"]);
    for e in &events {
        let task = e.body["task_id"].as_str().expect("task_id").to_string();
        assert!(tasks.iter().any(|t| t.to_string() == task), "{task}");
        assert!(assert_file_event(&s, e, &files) >= 2.0);
    }
    let end = r.wait_event("cbhl", 0, Duration::from_secs(10), |_| true);
    assert_signed(&end);
    assert_eq!(r.events("cbhl", 1).len(), 1);
}

#[test]
fn a_reconnect_within_the_window_gives_one_file_and_one_event_per_format() {
    let r = Receiver::start(Behaviour::default());
    // The server's reconnect window (the template sets none of its own).
    let s = server_for(
        &r,
        &[
            ("LIVEREC_RECONNECT_WINDOW_SECONDS", "5"),
            ("LIVEREC_HLS_SEGMENT_SECONDS", "2"),
        ],
    );
    let tpl = s.sdk(
        "CreateLiveRecordTemplate",
        json!({"TemplateName": "every", "FlvParam": {"Enable": 1}, "HlsParam": {"Enable": 1},
               "Mp4Param": {"Enable": 1}, "AacParam": {"Enable": 1}, "Mp3Param": {"Enable": 1}}),
    );
    let tpl = tpl.ok()["TemplateId"].as_i64().expect("TemplateId");
    let id = s.create_task(json!({"StreamName": "cbrc", "DomainName": "127.0.0.1",
        "AppName": "live", "EndTime": now_s() + 120, "TemplateId": tpl}));
    let mut p = s.publish("cbrc", "h264_aac_10s.flv");
    std::thread::sleep(Duration::from_secs(3));
    p.stop();
    std::thread::sleep(Duration::from_secs(2));
    let mut p = s.publish("cbrc", "h264_aac_10s.flv");
    std::thread::sleep(Duration::from_secs(3));
    p.stop();
    // The window closes 5 s after the stop: then each format's one file
    // is announced once.
    let files = s.wait_files(json!({"TaskId": id}), 5..=5, Duration::from_secs(20));
    wait_for(Duration::from_secs(10), "five record events", || {
        (r.events("cbrc", 100).len() >= 5).then_some(())
    });
    std::thread::sleep(Duration::from_millis(500));
    let events = r.events("cbrc", 100);
    assert_eq!(events.len(), 5, "one event per merged file: {events:?}");
    for e in &events {
        assert_eq!(e.body["task_id"], json!(id));
        let duration = assert_file_event(&s, e, &files);
        assert!(duration >= 5.0, "both sessions: {duration}");
    }
    assert_eq!(r.events("cbrc", 1).len(), 2, "two publishes");
    assert_eq!(r.events("cbrc", 0).len(), 2, "two publish ends");
    // Back after the window: new files, new events.
    let mut p = s.publish("cbrc", "h264_aac_10s.flv");
    std::thread::sleep(Duration::from_secs(3));
    p.stop();
    s.sdk("StopRecordTask", json!({"TaskId": id})).ok();
    s.wait_files(json!({"TaskId": id}), 10..=10, Duration::from_secs(10));
    wait_for(Duration::from_secs(10), "ten record events", || {
        (r.events("cbrc", 100).len() >= 10).then_some(())
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(r.events("cbrc", 100).len(), 10);
}

#[test]
fn a_receiver_down_across_a_kill_9_gets_every_event_exactly_once_afterwards() {
    // Down (500 to everything) for the first 12 s, during which liverec
    // records, is killed with -9 mid-recording and starts again.
    let r = Receiver::start(Behaviour {
        down_until: Some(Instant::now() + Duration::from_secs(12)),
        ..Behaviour::default()
    });
    let mut s = server_for(&r, &[("LIVEREC_CALLBACK_RETRY_FIRST_MS", "500")]);
    let mut p = s.publish("cbdown", "h264_aac_10s.flv");
    // A finished file before the crash, and one recording through it.
    let (_, done) = s.record_for("cbdown", 2);
    let task = s.create_task(json!({"StreamName": "cbdown", "DomainName": "127.0.0.1",
        "AppName": "live", "EndTime": now_s() + 60}));
    std::thread::sleep(Duration::from_secs(3));
    s.kill();
    p.stop();
    assert!(
        r.got().iter().all(|g| g.answered == 500),
        "nothing delivered while the receiver is down"
    );
    s.start_again();
    let recovered = s.wait_files(json!({"TaskId": task}), 1..=1, Duration::from_secs(10));
    assert_eq!(recovered[0]["Status"], "recovered");
    // Once the receiver is back: the publish start and end, both files'
    // events, each delivered (200) exactly once by event id.
    let file_ids = [done[0]["FileId"].clone(), recovered[0]["FileId"].clone()];
    wait_for(Duration::from_secs(40), "every event delivered", || {
        let ok = |t: i64| {
            r.events("cbdown", t)
                .iter()
                .filter(|g| g.answered == 200)
                .count()
        };
        (ok(1) >= 1 && ok(0) >= 1 && ok(100) >= 2).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let mut delivered: std::collections::HashMap<String, usize> = Default::default();
    for g in r.got().iter().filter(|g| g.answered == 200) {
        assert_signed(g);
        let id = g.body["event_id"].as_str().expect("event_id").to_string();
        *delivered.entry(id).or_default() += 1;
    }
    assert!(
        delivered.values().all(|&n| n == 1),
        "an event delivered twice: {delivered:?}"
    );
    let failed_first = r.got().iter().filter(|g| g.answered == 500).count();
    assert!(failed_first >= 3, "attempts while down: {failed_first}");
    let ok = |t: i64| -> Vec<Got> {
        r.events("cbdown", t)
            .into_iter()
            .filter(|g| g.answered == 200)
            .collect()
    };
    assert_eq!(ok(1).len(), 1, "event 1 once");
    assert_eq!(ok(0).len(), 1, "event 0 once");
    let files: Vec<Value> = ok(100)
        .iter()
        .map(|g| g.body["record_file_id"].clone())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &file_ids {
        assert!(files.contains(f), "no event for {f}: {files:?}");
    }
    // Every attempt of one event carried its one id, before and after the crash.
    let d = deliveries(&s, json!({"StreamName": "cbdown", "Status": "delivered"}));
    assert!(d["TotalNum"].as_i64().unwrap_or(0) >= 4, "{d}");
    eprintln!(
        "receiver down 12 s across kill -9: {failed_first} failed attempts, {} events delivered once each",
        delivered.len()
    );
}

#[test]
fn tenant_receivers_inside_the_operators_network_are_refused_by_default() {
    let default = Receiver::start(Behaviour::default());
    let templ = Receiver::start(Behaviour::default());
    // Allowed while the template is made (as an older configuration would
    // have stored it), then the server runs with the default: refused.
    let mut s = server_for(&default, &[]);
    let id = s
        .sdk(
            "CreateLiveCallbackTemplate",
            json!({"TemplateName": "inside", "StreamBeginNotifyUrl": format!("{}/begin", templ.url())}),
        )
        .ok()["TemplateId"]
        .as_i64()
        .expect("TemplateId");
    s.sdk(
        "CreateLiveCallbackRule",
        json!({"DomainName": "127.0.0.1", "AppName": "inside", "TemplateId": id}),
    )
    .ok();
    s.stop();
    s.set_env("LIVEREC_CALLBACK_ALLOW_PRIVATE", "false");
    s.start_again();
    // Saving such a URL is refused, naming the field and the setting.
    for url in [
        "http://127.0.0.1:9/cb",
        "http://localhost:8080/cb",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/cb",
        "http://192.168.1.10/cb",
    ] {
        let m = s
            .sdk(
                "CreateLiveCallbackTemplate",
                json!({"TemplateName": "x", "RecordNotifyUrl": url}),
            )
            .err_naming("InvalidParameterValue", "RecordNotifyUrl");
        assert!(m.contains("callback_allow_private"), "{url}: {m}");
    }
    // A stored one is not delivered to: each attempt fails before
    // connecting, visibly; the operator's default receiver still gets the
    // events of streams without a rule.
    let _inside = Publisher::start(&s.rtmp_url("inside", "probe"), "h264_aac_10s.flv");
    let _other = s.publish("outside", "h264_aac_10s.flv");
    default.wait_event("outside", 1, Duration::from_secs(10), |_| true);
    let d = wait_for(Duration::from_secs(15), "a refused attempt", || {
        let d = deliveries(&s, json!({"StreamName": "probe"}));
        (d["DeliveryList"][0]["Attempts"].as_i64().unwrap_or(0) >= 1).then_some(d)
    });
    let e = &d["DeliveryList"][0];
    assert_eq!(e["LastHttpStatus"], 0, "{e}");
    assert!(
        e["LastError"]
            .as_str()
            .is_some_and(|m| m.contains("callback_allow_private")),
        "{e}"
    );
    assert!(
        templ.got().is_empty(),
        "nothing reached the tenant's receiver"
    );
}

#[test]
fn a_mix_output_is_announced_like_a_publish() {
    let r = Receiver::start(Behaviour::default());
    let s = server_for(&r, &[]);
    let _a = s.publish_with("cbmixa", || {
        Publisher::lavfi(&s.rtmp_url("live", "cbmixa"), "red", 440)
    });
    let _b = s.publish_with("cbmixb", || {
        Publisher::lavfi(&s.rtmp_url("live", "cbmixb"), "blue", 880)
    });
    let input = |name: &str, layer: u32| json!({"InputStreamName": name, "LayoutParams": {"ImageLayer": layer}});
    s.sdk(
        "CreateCommonMixStream",
        json!({
            "MixStreamSessionId": "cbmix",
            "InputStreamList": [input("cbmixa", 1), input("cbmixb", 2)],
            "OutputParams": {"OutputStreamName": "cbmixc", "OutputStreamType": 1},
            "MixStreamTemplateId": 20
        }),
    )
    .ok();
    let begin = r.wait_event("cbmixc", 1, Duration::from_secs(10), |_| true);
    assert_eq!(begin.body["appname"], "live");
    let (_, files) = s.record_for("cbmixc", 3);
    let rec = r.wait_event("cbmixc", 100, Duration::from_secs(10), |_| true);
    assert_eq!(rec.body["file_id"], files[0]["FileId"]);
    s.sdk(
        "CancelCommonMixStream",
        json!({"MixStreamSessionId": "cbmix"}),
    )
    .ok();
    let end = r.wait_event("cbmixc", 0, Duration::from_secs(10), |_| true);
    assert_eq!(end.body["channel_id"], "cbmixc");
}
