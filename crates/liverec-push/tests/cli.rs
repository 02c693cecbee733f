//! The `liverec-push` binary as a process: a publish of the H.265 fixture
//! to an RTMP server on a loopback socket, and the exit status of each kind
//! of failure. Being an integration test of this package, it also makes
//! `cargo test --workspace` build the binary that liverec's end-to-end
//! tests run (see the crate's documentation).
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use liverec_push::{Source, TagKind};

#[path = "support/fake_server.rs"]
mod fake_server;
use fake_server::{FakeServer, Received};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

fn push(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_liverec-push"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An RTMP server for one connection on a loopback port: a [`FakeServer`]
/// that keeps every body, until the client closes.
fn server(accept: bool) -> (u16, JoinHandle<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        serve(sock, accept)
    });
    (port, handle)
}

/// A [`FakeServer`] on one accepted connection, until the client closes.
fn serve(mut sock: TcpStream, accept: bool) -> Received {
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut server = FakeServer::new(accept, usize::MAX);
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = match sock.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let Some(answer) = server.feed(&buf[..n]) else {
            break;
        };
        if sock.write_all(&answer).is_err() {
            break;
        }
    }
    assert!(!server.got.failed, "the client broke the protocol");
    server.got
}

/// [`server`] for `n` connections at once.
fn servers(n: usize) -> (u16, JoinHandle<Vec<Received>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let conns: Vec<JoinHandle<Received>> = (0..n)
            .map(|_| {
                let (sock, _) = listener.accept().unwrap();
                std::thread::spawn(move || serve(sock, true))
            })
            .collect();
        conns.into_iter().map(|h| h.join().unwrap()).collect()
    });
    (port, handle)
}

#[test]
fn many_streams_from_one_process_each_get_every_frame() {
    let file = fixture("h264_aac_10s.flv");
    let source = Source::from_bytes(Bytes::from(std::fs::read(&file).unwrap())).unwrap();
    let media = source.tags().len();
    let (port, srv) = servers(3);
    let url = format!("rtmp://127.0.0.1:{port}/live/load");
    let out = push(&[
        "--streams",
        "3",
        "--batch-ms",
        "40",
        "--ramp-ms",
        "100",
        file.to_str().unwrap(),
        &url,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut got = srv.join().unwrap();
    got.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = got.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["load_0", "load_1", "load_2"]);
    for g in &got {
        assert_eq!(g.media.len(), media, "{}: every tag", g.name);
        assert!(g.unpublished);
    }
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.starts_with(r#"{"streams":3,"failed":0,"video_frames":"#),
        "{report}"
    );
    for i in 0..3 {
        assert!(
            report.contains(&format!(r#""stream":"load_{i}""#)),
            "{report}"
        );
    }
}

#[test]
fn publishes_the_h265_fixture_byte_exact_and_exits_0() {
    let file = fixture("h265_aac_10s.flv");
    let source = Source::from_bytes(Bytes::from(std::fs::read(&file).unwrap())).unwrap();
    let (port, srv) = server(true);
    let tc_url = format!("rtmp://127.0.0.1:{port}/live");
    let url = format!("{tc_url}/hevc?k=v");
    let out = push(&[file.to_str().unwrap(), &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    let tags = source.tags();
    assert!(
        report.contains(&format!("liverec-push: sent {} tags", tags.len())),
        "{report}"
    );
    assert!(report.ends_with("; end of file\n"), "{report}");
    let got = srv.join().unwrap();
    assert_eq!(
        (got.app.as_str(), got.tc_url.as_deref()),
        ("live", Some(&*tc_url))
    );
    assert_eq!(got.name, "hevc?k=v");
    assert!(got.unpublished, "unpublished before closing");
    assert_eq!(got.media.len(), tags.len());
    assert_eq!(got.bodies.len(), tags.len());
    let received = got.media.iter().zip(&got.bodies);
    for (i, (tag, (&(kind, ts), body))) in tags.iter().zip(received).enumerate() {
        assert_eq!((tag.kind, tag.timestamp), (kind, ts), "message {i}");
        assert_eq!(&tag.body, body, "body of message {i}");
    }
    // Enhanced RTMP: the first video message is an `hvc1` sequence start.
    let first_video = got
        .media
        .iter()
        .position(|m| m.0 == TagKind::Video)
        .unwrap();
    let first_video = &got.bodies[first_video];
    assert_eq!(first_video[0] & 0x80, 0x80, "IsExHeader");
    assert_eq!(&first_video[1..5], b"hvc1");
}

#[test]
fn a_refused_publish_exits_4_with_the_status_code() {
    let (port, srv) = server(false);
    let file = fixture("h264_aac_10s.flv");
    let out = push(&[
        file.to_str().unwrap(),
        &format!("rtmp://127.0.0.1:{port}/live/taken"),
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("publish rejected: NetStream.Publish.BadName"),
        "{}",
        stderr(&out)
    );
    let got = srv.join().unwrap();
    assert_eq!(got.name, "taken");
    assert!(got.refused && got.media.is_empty());
}

#[test]
fn exit_status_names_the_failure() {
    let flv = fixture("h264_aac_10s.flv");
    let flv = flv.to_str().unwrap();
    // 1: bad input.
    let out = push(&[flv, "http://127.0.0.1/live/s"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad publish URL"), "{}", stderr(&out));
    let missing = fixture("no-such-file.flv");
    let out = push(&[missing.to_str().unwrap(), "rtmp://127.0.0.1/live/s"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    let readme = fixture("README.md");
    let out = push(&[readme.to_str().unwrap(), "rtmp://127.0.0.1/live/s"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a usable FLV"),
        "{}",
        stderr(&out)
    );
    // 2: usage (clap).
    let out = push(&[flv]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // 3: nothing listens on the port.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    let out = push(&[flv, &format!("rtmp://127.0.0.1:{port}/live/s")]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));
}

#[test]
fn help_lists_every_option() {
    let out = push(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--realtime",
        "--loop",
        "--seconds",
        "--stall-after-ms",
        "--garbage-after-ms",
        "--streams",
        "--batch-ms",
        "--ramp-ms",
        "<FILE>",
        "<URL>",
    ] {
        assert!(help.contains(flag), "{flag} in\n{help}");
    }
}
