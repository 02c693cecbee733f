//! Hostile peers on the RTMP port (SPEC §2 "Limits before a publish is
//! accepted"): a peer that trickles its handshake, one that connects and
//! never publishes, a command bomb before connect, too many connections
//! from one address, and names that cannot be stream names; and on the API
//! port (SPEC §3): slow clients, unknown keys, parameter bombs, deep JSON
//! and over-long fields. For each the server stays up, the offender is
//! dropped or refused with a clear error and a log line, and a well-behaved
//! publisher or client is still served.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use media::amf0::Value;
use rtmp::chunk::ChunkWriter;
use rtmp::command::Command;
use rtmp::message::{Message, MessageType};
use rtmp::{ClientEvent, ClientSession};

use crate::harness::*;

/// C0+C1, then reads S0+S1+S2 and answers C2: a completed handshake.
fn handshake(sock: &mut TcpStream) {
    let mut c0c1 = vec![3u8];
    c0c1.extend_from_slice(&[0u8; 1536]);
    sock.write_all(&c0c1).expect("C0+C1");
    let mut s = vec![0u8; 1 + 2 * 1536];
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    sock.read_exact(&mut s).expect("S0+S1+S2");
    sock.write_all(&s[1..1 + 1536]).expect("C2");
}

fn command_bytes(cmd: &Command) -> BytesMut {
    let msg = Message {
        timestamp: 0,
        type_id: MessageType::COMMAND_AMF0,
        stream_id: 0,
        payload: cmd.encode(),
    };
    let mut out = BytesMut::new();
    ChunkWriter::new().write(3, &msg, &mut out).expect("chunk");
    out
}

fn connect(tc_url: &str) -> Command {
    Command::new(
        "connect",
        1.0,
        Value::Object(vec![
            ("app".into(), Value::String("live".into())),
            ("tcUrl".into(), Value::String(tc_url.into())),
        ]),
        vec![],
    )
}

/// Writes one byte every 200 ms until the server closes the connection
/// (or `limit` passes); returns when it closed.
fn trickle_until_closed(mut sock: TcpStream, limit: Duration) -> Option<Duration> {
    let t = Instant::now();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut buf = [0u8; 4096];
    while t.elapsed() < limit {
        if sock.write_all(&[3]).is_err() {
            return Some(t.elapsed());
        }
        match sock.read(&mut buf) {
            Ok(0) => return Some(t.elapsed()),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(t.elapsed());
            }
            _ => {}
        }
    }
    None
}

#[test]
fn peers_that_never_publish_are_dropped_at_the_deadlines() {
    // The read timeout (10 s) alone would keep both peers for long.
    let s = Server::start_with(&[
        ("LIVEREC_RTMP_HANDSHAKE_TIMEOUT_SECONDS", "1"),
        ("LIVEREC_RTMP_PUBLISH_TIMEOUT_SECONDS", "2"),
    ]);
    // Slowloris: a byte every 200 ms keeps the read timeout from firing,
    // but the handshake never completes.
    let sock = TcpStream::connect(s.rtmp).expect("connect");
    let took = trickle_until_closed(sock, Duration::from_secs(8)).expect("trickler dropped");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(5),
        "dropped at the handshake deadline: {took:?}"
    );
    // Handshake and connect, then nothing: dropped at the publish deadline.
    let started = Instant::now();
    let mut sock = TcpStream::connect(s.rtmp).expect("connect");
    handshake(&mut sock);
    let url = format!("rtmp://{}/live", s.rtmp);
    sock.write_all(&command_bytes(&connect(&url)))
        .expect("connect");
    closed_within(sock, Duration::from_secs(8)).expect("idle peer dropped");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1800) && took < Duration::from_secs(6),
        "dropped at the publish deadline: {took:?}"
    );
    let log = s.wait_log("no publish within 2s of connecting");
    assert!(
        log.contains("no handshake within 1s of connecting"),
        "{log}"
    );
    assert!(log.contains("no publish within 2s of connecting"), "{log}");
    let (_, files) = {
        let _p = s.publish("fine", "h264_aac_10s.flv");
        s.record_for("fine", 3)
    };
    crate::probe::assert_valid(&s.download_file(&files[0]), "flv", 1.5, 9.0);
}

#[test]
fn a_command_bomb_before_connect_costs_nothing() {
    let s = Server::start();
    let before = s.rss_kib();
    // Ten peers each announce a 15 MiB connect and send 1 MiB of it.
    let mut socks = Vec::new();
    for _ in 0..10 {
        let mut sock = TcpStream::connect(s.rtmp).expect("connect");
        handshake(&mut sock);
        let bomb = Command::new("connect", 1.0, Value::String("x".repeat(15 << 20)), vec![]);
        let bytes = command_bytes(&bomb);
        // The server may close while we write: that is the point.
        let _ = sock.write_all(&bytes[..1 << 20]);
        socks.push(sock);
    }
    for sock in socks {
        assert!(
            closed_within(sock, Duration::from_secs(5)).is_some(),
            "bomb: connection closed"
        );
    }
    let after = s.rss_kib();
    assert!(
        after < before + 32 * 1024,
        "memory grew from {before} KiB to {after} KiB"
    );
    let log = s.wait_log("exceeds the limit of 65536");
    assert!(log.contains("exceeds the limit of 65536"), "{log}");
    let _p = s.publish("after_bomb", "h264_aac_10s.flv");
}

#[test]
fn connections_per_address_are_capped() {
    let s = Server::start_with(&[("LIVEREC_RTMP_MAX_CONNECTIONS_PER_IP", "3")]);
    let mut held: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut sock = TcpStream::connect(s.rtmp).expect("connect");
            handshake(&mut sock);
            sock
        })
        .collect();
    let fourth = TcpStream::connect(s.rtmp).expect("connect");
    assert!(
        closed_within(fourth, Duration::from_secs(3)).is_some(),
        "the fourth from one address is refused"
    );
    let first = held.remove(0);
    let probe = first.try_clone().expect("clone");
    assert!(
        closed_within(probe, Duration::from_millis(300)).is_none(),
        "the first three stay"
    );
    drop(first);
    // Once one leaves, a new one is taken (the server notices the close
    // within its read loop).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut sock = TcpStream::connect(s.rtmp).expect("connect");
        let mut c0c1 = vec![3u8];
        c0c1.extend_from_slice(&[0u8; 1536]);
        sock.write_all(&c0c1).expect("C0+C1");
        let mut s0 = [0u8; 1];
        sock.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        if sock.read(&mut s0).is_ok_and(|n| n == 1) {
            break;
        }
        assert!(Instant::now() < deadline, "no slot came free");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        s.log()
            .contains("rtmp connection refused: too many connections from this address"),
        "{}",
        s.log()
    );
    drop(held);
}

#[test]
fn five_hundred_idle_connections_from_one_address_are_bounded() {
    let s = Server::start();
    let before = s.rss_kib();
    let socks: Vec<TcpStream> = (0..500)
        .map(|_| TcpStream::connect(s.rtmp).expect("connect"))
        .collect();
    // The default cap is 256 per address: the rest are closed at once.
    let closed = socks
        .into_iter()
        .map(|sock| closed_within(sock, Duration::from_millis(50)).is_some())
        .filter(|&c| c)
        .count();
    assert!(closed >= 244, "only {closed} of 500 refused");
    let after = s.rss_kib();
    assert!(
        after < before + 64 * 1024,
        "memory grew from {before} KiB to {after} KiB"
    );
    let _p = s.publish("after_flood", "h264_aac_10s.flv");
}

/// Publishes `name` with the project's RTMP client session; returns the
/// refusal's code, or None if the publish started.
fn publish_refusal(s: &Server, name: &str) -> Option<String> {
    let url = format!("rtmp://{}/live", s.rtmp);
    let mut client = ClientSession::new(&url, "live", name, 7);
    let mut sock = TcpStream::connect(s.rtmp).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        sock.write_all(&client.take_output()).expect("write");
        let n = sock.read(&mut buf).expect("read");
        assert!(n > 0, "closed without an answer");
        for ev in client.feed(&buf[..n]).expect("client") {
            match ev {
                ClientEvent::PublishStarted => return None,
                ClientEvent::PublishRejected { code, .. } => return Some(code),
                ClientEvent::Status { .. } => {}
            }
        }
    }
    panic!("no answer to publish {name:?}");
}

#[test]
fn names_that_cannot_be_stream_names_are_refused() {
    let s = Server::start();
    let long = "s".repeat(300);
    for (name, why) in [
        ("a..b", "contains .."),
        ("a/b", "contains / or \\"),
        ("a\\b", "contains / or \\"),
        ("a\u{0}b", "contains a control character"),
        (long.as_str(), "is longer than 256 bytes"),
    ] {
        assert_eq!(
            publish_refusal(&s, name).as_deref(),
            Some("NetStream.Publish.BadName"),
            "{name:?}"
        );
        let log = s.wait_log(why);
        assert!(log.contains(why), "{name:?}: {log}");
    }
    // ffmpeg sees the refusal too.
    let mut p = Publisher::start(&s.rtmp_url("live", "x..y"), "h264_aac_10s.flv");
    let status = p.wait_exit(Duration::from_secs(10));
    assert!(status.is_some_and(|st| !st.success()), "{status:?}");
    assert_eq!(publish_refusal(&s, "fine_name"), None);
}

/// Sends `head` and then one byte of `drip` every 200 ms until the server
/// closes (or 8 s pass); returns when it closed and what it answered.
fn http_trickle(s: &Server, head: &[u8], drip: u8) -> (Option<Duration>, String) {
    let mut sock = TcpStream::connect(s.api).expect("connect");
    let t = Instant::now();
    sock.write_all(head).expect("head");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while t.elapsed() < Duration::from_secs(8) {
        if sock.write_all(&[drip]).is_err() {
            return (Some(t.elapsed()), String::from_utf8_lossy(&answer).into());
        }
        match sock.read(&mut buf) {
            Ok(0) => return (Some(t.elapsed()), String::from_utf8_lossy(&answer).into()),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (Some(t.elapsed()), String::from_utf8_lossy(&answer).into());
            }
            Err(_) => {}
        }
    }
    (None, String::from_utf8_lossy(&answer).into())
}

#[test]
fn slow_http_clients_are_dropped_and_connections_capped() {
    let s = Server::start_with(&[
        ("LIVEREC_HTTP_HEADER_TIMEOUT_SECONDS", "1"),
        ("LIVEREC_HTTP_BODY_TIMEOUT_SECONDS", "1"),
        ("LIVEREC_HTTP_MAX_CONNECTIONS", "4"),
    ]);
    // Connects and says nothing.
    let idle = TcpStream::connect(s.api).expect("connect");
    let took = closed_within(idle, Duration::from_secs(6)).expect("silent client dropped");
    assert!(took < Duration::from_secs(4), "{took:?}");
    // Headers a byte at a time, never finished.
    let (took, _) = http_trickle(&s, b"POST / HTTP/1.1\r\nX-Slow: ", b'a');
    let took = took.expect("header trickler dropped");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // Complete headers, then the body a byte at a time.
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
        s.api
    );
    let (took, answer) = http_trickle(&s, head.as_bytes(), b' ');
    let took = took.expect("body trickler dropped");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(5),
        "{took:?} {answer}"
    );
    assert!(
        answer.contains("request body not received within 1s"),
        "a clear error, not a size error: {answer}"
    );
    // Four connections are taken; a fifth is closed at once.
    let held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(s.api).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let fifth = TcpStream::connect(s.api).expect("connect");
    assert!(
        closed_within(fifth, Duration::from_millis(500)).is_some(),
        "the fifth is refused"
    );
    drop(held);
    let log = s.wait_log("http connection refused: too many connections");
    assert!(
        log.contains("http connection refused: too many connections"),
        "{log}"
    );
    // The API still answers the official SDK.
    assert_eq!(
        s.sdk("DescribeRecordFiles", serde_json::json!({})).ok()["TotalCount"],
        0
    );
}

#[test]
fn an_unknown_tc3_key_is_refused_before_the_body_is_read() {
    let s = Server::start();
    let mut sock = TcpStream::connect(s.api).expect("connect");
    // Announces 9 MiB and sends none of it: the answer comes at once.
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nX-TC-Action: DescribeRecordFiles\r\n\
         Authorization: TC3-HMAC-SHA256 Credential=AKIDnobody/2026-12-07/live/tc3_request, SignedHeaders=content-type;host, Signature=00\r\n\
         Content-Length: 9437184\r\n\r\n",
        s.api
    );
    sock.write_all(head.as_bytes()).expect("head");
    sock.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let mut buf = vec![0u8; 4096];
    let n = sock.read(&mut buf).expect("an answer before the body");
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("AuthFailure.SecretIdNotFound"), "{answer}");
}

/// The `Response` object of an API answer.
fn api_response(r: &HttpResponse) -> serde_json::Value {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON envelope");
    v["Response"].clone()
}

/// Asserts an API error `code` whose message names `what`.
fn assert_refused(r: &HttpResponse, code: &str, what: &str, case: &str) {
    let resp = api_response(r);
    assert_eq!(resp["Error"]["Code"], code, "{case}: {resp}");
    let message = resp["Error"]["Message"].as_str().unwrap_or_default();
    assert!(message.contains(what), "{case}: {message}");
    assert!(
        message.len() < 300,
        "{case}: the message is short: {message}"
    );
}

/// `A.0=1&A.1=1&…` (or `a=1&a=1&…`), as close to 10 MiB as the pairs allow.
fn form_bomb(distinct: bool) -> Vec<u8> {
    let limit = tcapi::MAX_POST_BODY - 32;
    let mut body = Vec::with_capacity(limit);
    for i in 0.. {
        let pair = if distinct {
            format!("A.{i}=1&")
        } else {
            "a=1&".to_owned()
        };
        if body.len() + pair.len() > limit {
            break;
        }
        body.extend_from_slice(pair.as_bytes());
    }
    body
}

/// 10 MiB bodies built to make a parser allocate (a parameter bomb as a
/// form and as JSON, and JSON nested far deeper than any model) cost the
/// server little: before the parser's caps one such form body cost ~400 MB.
/// Measured with the caps (three runs, 12 bodies each): RSS grows by
/// 37-39 MiB at most, from ~17 MiB to ~55 MiB (the 10 MiB body buffers,
/// which the allocator keeps), so the bound is 64 MiB. Each is refused
/// with the code and the limit's name.
#[test]
fn parameter_bombs_and_deep_json_are_refused_in_bounded_memory() {
    let s = Server::start();
    // Warm up the API path, so the first-call allocations are not counted.
    assert_eq!(
        s.sdk("DescribeRecordFiles", serde_json::json!({})).ok()["TotalCount"],
        0
    );
    let before = s.rss_kib();
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let mut peak = before;
    for round in 0..3 {
        // Unsigned v1 form bombs: refused while parsing, before any key.
        let r = http_request(s.api, "POST", "/", &form, &form_bomb(true)).expect("form bomb");
        assert_refused(&r, "RequestSizeLimitExceeded", "MAX_PARAMS", "A.i form");
        let r = http_request(s.api, "POST", "/", &form, &form_bomb(false)).expect("dup bomb");
        assert_refused(&r, "InvalidParameter", "more than once", "a=1 form");
        // Signed TC3 JSON: ten million values, and ten million `[`.
        let mut list = b"{\"L\":[".to_vec();
        while list.len() < tcapi::MAX_POST_BODY - 8 {
            list.extend_from_slice(b"1,");
        }
        list.extend_from_slice(b"1]}");
        let r = signed_post(&s, "DescribeRecordFiles", &list);
        assert_refused(
            &r,
            "RequestSizeLimitExceeded",
            "MAX_JSON_ELEMENTS",
            "JSON list",
        );
        let mut deep = b"{\"A\":".to_vec();
        deep.resize(tcapi::MAX_POST_BODY - 8, b'[');
        let r = signed_post(&s, "DescribeRecordFiles", &deep);
        assert_refused(&r, "InvalidParameter", "MAX_JSON_DEPTH", "deep JSON");
        let now = s.rss_kib();
        eprintln!("round {round}: RSS {before} KiB -> {now} KiB");
        peak = peak.max(now);
    }
    assert!(
        peak < before + 64 * 1024,
        "memory grew from {before} KiB to {peak} KiB"
    );
    // The server is up and still answers the official SDK.
    assert_eq!(
        s.sdk("DescribeRecordFiles", serde_json::json!({})).ok()["TotalCount"],
        0
    );
    let log = s.wait_log("MAX_JSON_DEPTH");
    assert!(log.contains("request refused"), "a log line per refusal");
}

/// Free-text fields are bounded: an over-long StreamParam and an
/// over-long string anywhere are refused naming the field, through the
/// official SDK.
#[test]
fn over_long_free_text_fields_are_refused_naming_the_field() {
    let s = Server::start();
    let long_param = format!("record_interval=3600&x={}", "a".repeat(2000));
    let m = s
        .sdk(
            "CreateLiveRecord",
            serde_json::json!({"StreamName": "s", "Highlight": 1, "StreamParam": long_param}),
        )
        .err_naming("InvalidParameterValue", "StreamParam");
    assert!(m.contains("at most 1024 bytes"), "{m}");
    let m = s
        .sdk(
            "DescribeLiveStreamState",
            serde_json::json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": "x".repeat(5000)}),
        )
        .err_naming("InvalidParameterValue", "StreamName");
    assert!(m.len() < 300, "the message does not quote the value: {m}");
}

#[test]
fn a_peer_that_stops_reading_is_dropped_at_the_write_timeout() {
    let s = Server::start_with(&[("LIVEREC_RTMP_WRITE_TIMEOUT_SECONDS", "1")]);
    let mut sock = TcpStream::connect(s.rtmp).expect("connect");
    handshake(&mut sock);
    let url = format!("rtmp://{}/live", s.rtmp);
    sock.write_all(&command_bytes(&connect(&url)))
        .expect("connect");
    // Commands that each get a `_result`, sent without ever reading the
    // answers: once the socket buffers are full the server's writes stall.
    let mut burst = BytesMut::new();
    for txn in 2..2_002 {
        let cmd = Command::new("_checkbw", f64::from(txn), Value::Null, vec![]);
        burst.extend_from_slice(&command_bytes(&cmd));
    }
    sock.set_write_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let t = Instant::now();
    let mut sent = 0usize;
    while t.elapsed() < Duration::from_secs(20) {
        match sock.write_all(&burst) {
            Ok(()) => sent += burst.len(),
            // Our own buffers are full too (the server stopped reading
            // while its write stalls), or it closed: stop sending.
            Err(_) => break,
        }
    }
    let log = s.wait_log("(not reading)");
    assert!(
        log.contains("the peer took no data for 1s (not reading)"),
        "after {sent} bytes sent: {log}"
    );
    assert!(
        closed_within(sock, Duration::from_secs(10)).is_some(),
        "the stalled peer is disconnected"
    );
    let _p = s.publish("after_stall", "h264_aac_10s.flv");
}

/// While every attack of this file runs at once on both ports for about
/// 10 s (command bombs before connect, 200 idle RTMP connections, handshake
/// and HTTP header slowloris, 10 MiB parameter bombs), another tenant's
/// recording goes on: its file validates, spans the wall-clock time
/// recorded and has no DTS gap beyond a normal frame interval, and the
/// server's memory stays bounded.
#[test]
fn a_tenant_records_without_a_gap_while_both_ports_are_attacked() {
    let s = Server::start_with(&[
        ("LIVEREC_RTMP_HANDSHAKE_TIMEOUT_SECONDS", "2"),
        ("LIVEREC_HTTP_HEADER_TIMEOUT_SECONDS", "2"),
    ]);
    let b = s.new_account("tenant-b");
    s.sdk_with(
        &b,
        "AddLiveDomain",
        serde_json::json!({"DomainName": "localhost", "DomainType": 0}),
    )
    .ok();
    let url = format!("rtmp://localhost:{}/live/calm", s.rtmp.port());
    let _publisher = s.publish_with("calm", || Publisher::push(&url, "h264_aac_10s.flv"));
    let task = s
        .sdk_with(
            &b,
            "CreateLiveRecord",
            serde_json::json!({"DomainName": "localhost", "StreamName": "calm", "Highlight": 1}),
        )
        .ok()["TaskId"]
        .as_i64()
        .expect("TaskId");
    let before = s.rss_kib();
    let recorded = Instant::now();
    let attack = Duration::from_secs(10);
    let peak = std::thread::scope(|scope| {
        // Command bombs: ten peers at a time announce 15 MiB and send 1 MiB.
        scope.spawn(|| {
            while recorded.elapsed() < attack {
                let socks: Vec<TcpStream> = (0..10)
                    .map(|_| {
                        let mut sock = TcpStream::connect(s.rtmp).expect("connect");
                        handshake(&mut sock);
                        let bomb = Command::new(
                            "connect",
                            1.0,
                            Value::String("x".repeat(15 << 20)),
                            vec![],
                        );
                        let _ = sock.write_all(&command_bytes(&bomb)[..1 << 20]);
                        sock
                    })
                    .collect();
                for sock in socks {
                    assert!(
                        closed_within(sock, Duration::from_secs(5)).is_some(),
                        "bomb closed"
                    );
                }
            }
        });
        // 200 idle RTMP connections, held through the attack.
        scope.spawn(|| {
            let idle: Vec<TcpStream> = (0..200)
                .filter_map(|_| TcpStream::connect(s.rtmp).ok())
                .collect();
            std::thread::sleep(attack.saturating_sub(recorded.elapsed()));
            drop(idle);
        });
        // Slowloris on both ports, four of each at a time.
        for _ in 0..4 {
            scope.spawn(|| {
                while recorded.elapsed() < attack {
                    let sock = TcpStream::connect(s.rtmp).expect("connect");
                    assert!(
                        trickle_until_closed(sock, Duration::from_secs(6)).is_some(),
                        "RTMP trickler dropped"
                    );
                }
            });
            scope.spawn(|| {
                while recorded.elapsed() < attack {
                    let (took, _) = http_trickle(&s, b"POST / HTTP/1.1\r\nX-Slow: ", b'a');
                    assert!(took.is_some(), "HTTP trickler dropped");
                }
            });
        }
        // Parameter bombs, one after the other; memory sampled in between.
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        let bomb = form_bomb(true);
        let mut peak = before;
        while recorded.elapsed() < attack {
            let r = http_request(s.api, "POST", "/", &form, &bomb).expect("form bomb");
            assert_refused(&r, "RequestSizeLimitExceeded", "MAX_PARAMS", "A.i form");
            peak = peak.max(s.rss_kib());
        }
        peak
    });
    s.sdk_with(
        &b,
        "StopLiveRecord",
        serde_json::json!({"DomainName": "localhost", "StreamName": "calm", "TaskId": task}),
    )
    .ok();
    let span = recorded.elapsed().as_secs_f64();
    let files = wait_for(Duration::from_secs(10), "the tenant's file", || {
        let r = s
            .sdk_with(
                &b,
                "DescribeRecordFiles",
                serde_json::json!({"TaskId": task.to_string()}),
            )
            .ok();
        let f = r["FileList"].as_array().cloned().unwrap_or_default();
        (f.len() == 1 && f[0]["Status"] == "finished").then_some(f)
    });
    let probe =
        crate::probe::assert_valid(&s.download_file(&files[0]), "flv", span - 3.0, span + 3.0);
    let gap = crate::probe::max_dts_gap(&probe);
    eprintln!(
        "recorded {span:.1} s under attack; max DTS gap {gap:.3} s; RSS {before} -> {peak} KiB"
    );
    // The publisher's loop join alone gives 0.118 s (measured with no attack).
    assert!(gap < 0.2, "the recording has a {gap:.3} s DTS gap");
    assert!(
        peak < before + 128 * 1024,
        "memory grew from {before} KiB to {peak} KiB under attack"
    );
    let log = s.log();
    for line in [
        "exceeds the limit of 65536",
        "no handshake within 2s of connecting",
        "request refused",
    ] {
        assert!(log.contains(line), "{line}: {log}");
    }
    eprintln!(
        "recorded {span:.1} s under attack; max DTS gap {gap:.3} s; RSS {before} -> {peak} KiB"
    );
}
