//! TLS: the API over HTTPS with the official SDK (verifying a test CA),
//! ffmpeg publishing over RTMPS and the recording fetched over HTTPS, the
//! certificate reloaded on SIGHUP (and kept when the new files are bad),
//! a silent TLS client dropped at the deadline, and start-up errors that
//! name the missing setting or the bad file. Certificates are made at test
//! time with the `openssl` command.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;
use crate::probe::assert_valid;

/// A test CA and server certificates it signs (also used by the HTTPS
/// callback receiver of `callbacks`).
pub(crate) struct Pki {
    dir: tempfile::TempDir,
}

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    /// A new CA (`ca.crt`, `ca.key`).
    pub(crate) fn new() -> Pki {
        let dir = tempfile::Builder::new()
            .prefix("liverec-pki-")
            .tempdir()
            .expect("tempdir");
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=liverec test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
            ],
            dir.path(),
        );
        Pki { dir }
    }

    pub(crate) fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A server certificate for IP 127.0.0.1 and DNS localhost with common
    /// name `cn`, signed by the CA: `<name>.crt`, `<name>.key`.
    pub(crate) fn server(&self, name: &str, cn: &str) -> (PathBuf, PathBuf) {
        let d = self.dir.path();
        let ext = format!("{name}.ext");
        std::fs::write(
            d.join(&ext),
            "subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n",
        )
        .expect("ext file");
        let (key, csr, crt) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
        );
        let subj = format!("/CN={cn}");
        openssl(
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                &subj,
                "-keyout",
                &key,
                "-out",
                &csr,
            ],
            d,
        );
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &ext,
                "-out",
                &crt,
            ],
            d,
        );
        (d.join(crt), d.join(key))
    }
}

/// Starts liverec with TLS on the API and an RTMPS listener, the
/// certificate at `cert`/`key`, and extra settings.
fn start_tls(pki: &Pki, cert: &Path, key: &Path, extra: &[(&str, &str)]) -> Server {
    let (cert, key) = (cert.to_str().expect("utf-8"), key.to_str().expect("utf-8"));
    let mut env = vec![
        ("LIVEREC_TLS_CERT", cert),
        ("LIVEREC_TLS_KEY", key),
        ("LIVEREC_RTMPS_LISTEN", "127.0.0.1:0"),
    ];
    env.extend_from_slice(extra);
    Server::start_https(&env, &pki.ca())
}

/// The RTMPS address the server bound (from its `listen.json`).
fn rtmps_addr(s: &Server) -> SocketAddr {
    let bound: Value = serde_json::from_slice(
        &std::fs::read(s.data_dir().join("listen.json")).expect("listen.json"),
    )
    .expect("listen.json is JSON");
    bound["rtmps"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .expect("rtmps address in listen.json")
}

/// The subject of the certificate a TLS server at `addr` presents, after
/// verifying it against `ca` (`openssl s_client`).
fn peer_subject(addr: SocketAddr, ca: &Path) -> String {
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &addr.to_string(),
            "-verify_return_error",
        ])
        .arg("-CAfile")
        .arg(ca)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl s_client");
    let out = match wait_exit(&mut child, Duration::from_secs(10)) {
        Some(_) => child.wait_with_output().expect("s_client output"),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("openssl s_client to {addr} did not finish within 10 s");
        }
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("Verify return code: 0 (ok)"),
        "{addr} presents a certificate the CA verifies: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .find(|l| l.starts_with("subject="))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no subject line: {text}"))
}

#[test]
fn https_api_with_the_official_sdk_and_an_rtmps_recording() {
    let pki = Pki::new();
    let (cert, key) = pki.server("srv", "liverec-e2e");
    let s = start_tls(&pki, &cert, &key, &[]);
    let base = format!("https://{}", s.endpoint());

    // The official SDK over HTTPS, verifying the test CA: a signed call.
    let online = s.sdk("DescribeLiveStreamOnlineList", json!({})).ok();
    assert_eq!(online["TotalNum"], 0, "{online}");
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = http_get(s.api, "/healthz", &[]);
    assert!(
        plain.as_ref().map_or(true, |r| r.status != 200),
        "plain HTTP answered on the TLS port: {plain:?}"
    );
    // A client that does not trust the CA refuses the server.
    let other = Pki::new();
    assert!(https_get(&other.ca(), &format!("{base}/healthz")).is_err());

    // ffmpeg publishes over RTMPS; a highlight records it.
    let url = format!("rtmps://127.0.0.1:{}/live/tlsrec", rtmps_addr(&s).port());
    let _p = s.publish_with("tlsrec", || Publisher::start(&url, "h264_aac_10s.flv"));
    let live = s.sdk("DescribeLiveStreamOnlineList", json!({})).ok();
    assert_eq!(live["OnlineInfo"][0]["StreamName"], "tlsrec", "{live}");
    std::thread::sleep(Duration::from_secs(2));
    let (_task, files) = s.record_for("tlsrec", 4);
    let f = &files[0];
    let video_url = f["VideoUrl"].as_str().expect("VideoUrl");
    assert!(
        video_url.starts_with(&format!("{base}/files/")),
        "VideoUrl is on the HTTPS listener: {video_url}"
    );
    // The file, fetched over HTTPS with the CA, is valid media.
    let body = https_get(&pki.ca(), video_url).expect("GET the file over https");
    let local = s.data_dir().join("tls-download.flv");
    std::fs::write(&local, &body).expect("write download");
    let probe = assert_valid(&local, "flv", 2.0, 4.0 + GOP + 1.5);
    assert_eq!(probe.codec("video"), Some("h264"));
    assert_eq!(probe.codec("audio"), Some("aac"));
}

#[test]
fn sighup_reloads_the_certificate_and_a_bad_one_is_not_taken() {
    let pki = Pki::new();
    let (a_cert, a_key) = pki.server("a", "liverec-cert-a");
    let (b_cert, b_key) = pki.server("b", "liverec-cert-b");
    let (cert, key) = (pki.path("live.crt"), pki.path("live.key"));
    std::fs::copy(&a_cert, &cert).expect("copy");
    std::fs::copy(&a_key, &key).expect("copy");
    let s = start_tls(&pki, &cert, &key, &[]);
    let rtmps = rtmps_addr(&s);
    assert!(peer_subject(s.api, &pki.ca()).contains("liverec-cert-a"));
    assert!(peer_subject(rtmps, &pki.ca()).contains("liverec-cert-a"));

    // An RTMPS publisher connected with A keeps publishing across the
    // reloads; new connections get B.
    let url = format!("rtmps://127.0.0.1:{}/live/hup", rtmps.port());
    let _p = s.publish_with("hup", || Publisher::start(&url, "h264_aac_10s.flv"));
    std::fs::copy(&b_cert, &cert).expect("copy");
    std::fs::copy(&b_key, &key).expect("copy");
    signal(s.pid(), "HUP");
    let log = s.wait_log("TLS certificate reloaded");
    assert!(log.contains("TLS certificate reloaded"), "{log}");
    assert!(peer_subject(s.api, &pki.ca()).contains("liverec-cert-b"));
    assert!(peer_subject(rtmps, &pki.ca()).contains("liverec-cert-b"));

    // A broken key: the reload fails, is logged, and B stays.
    std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nbroken\n").expect("write");
    signal(s.pid(), "HUP");
    let log = s.wait_log("TLS reload failed");
    assert!(
        log.lines()
            .any(|l| l.contains("TLS reload failed") && l.contains("live.key")),
        "{log}"
    );
    assert!(peer_subject(s.api, &pki.ca()).contains("liverec-cert-b"));
    assert!(peer_subject(rtmps, &pki.ca()).contains("liverec-cert-b"));
    let online = s.sdk("DescribeLiveStreamOnlineList", json!({})).ok();
    assert_eq!(online["OnlineInfo"][0]["StreamName"], "hup", "{online}");
    assert_eq!(s.publishes("hup"), 1, "the publisher never reconnected");
}

#[test]
fn a_silent_tls_client_is_dropped_at_the_deadline() {
    let pki = Pki::new();
    let (cert, key) = pki.server("srv", "liverec-e2e");
    let s = start_tls(
        &pki,
        &cert,
        &key,
        &[
            ("LIVEREC_HTTP_HEADER_TIMEOUT_SECONDS", "1"),
            ("LIVEREC_RTMP_HANDSHAKE_TIMEOUT_SECONDS", "1"),
        ],
    );
    for (what, addr) in [("https", s.api), ("rtmps", rtmps_addr(&s))] {
        // TCP connect, then no ClientHello.
        let sock = TcpStream::connect(addr).expect("connect");
        let took = closed_within(sock, Duration::from_secs(5))
            .unwrap_or_else(|| panic!("{what}: a silent client still connected after 5 s"));
        assert!(
            took >= Duration::from_millis(800) && took < Duration::from_secs(3),
            "{what}: dropped after {took:?}, deadline 1 s"
        );
    }
    let log = s.wait_log("rtmps connection dropped");
    assert!(
        log.contains("https connection dropped: TLS handshake not completed within 1s"),
        "{log}"
    );
    assert!(
        log.contains("rtmps connection dropped") && log.contains("TLS handshake not completed"),
        "{log}"
    );
    // The server still serves.
    assert!(https_get(&pki.ca(), &format!("https://{}/healthz", s.endpoint())).is_ok());
}

#[test]
fn rtmp_and_rtmps_share_the_per_ip_cap() {
    let pki = Pki::new();
    let (cert, key) = pki.server("srv", "liverec-e2e");
    let s = start_tls(
        &pki,
        &cert,
        &key,
        &[("LIVEREC_RTMP_MAX_CONNECTIONS_PER_IP", "2")],
    );
    let rtmps = rtmps_addr(&s);
    let settle = || std::thread::sleep(Duration::from_millis(300));
    let _plain = TcpStream::connect(s.rtmp).expect("connect rtmp");
    settle();
    let secure = TcpStream::connect(rtmps).expect("connect rtmps");
    settle();
    // A third from the same address, on either listener, is closed at once.
    for addr in [rtmps, s.rtmp] {
        let third = TcpStream::connect(addr).expect("connect");
        assert!(
            closed_within(third, Duration::from_secs(2)).is_some(),
            "a third connection to {addr} was kept"
        );
    }
    let log = s.wait_log("rtmps connection refused: too many connections from this address");
    assert!(
        log.contains("rtmps connection refused: too many connections from this address")
            && log.contains("rtmp connection refused: too many connections from this address"),
        "{log}"
    );
    // One closed: there is room again.
    drop(secure);
    settle();
    let again = TcpStream::connect(rtmps).expect("connect");
    assert!(
        closed_within(again, Duration::from_millis(700)).is_none(),
        "a connection under the cap was closed"
    );
}

/// `liverec serve` with `env`, expected to fail at start-up; its output.
fn failed_start(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_liverec"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIVEREC_DATA_DIR", dir.path())
        .env("LIVEREC_API_LISTEN", "127.0.0.1:0")
        .env("LIVEREC_RTMP_LISTEN", "127.0.0.1:0")
        .env("LIVEREC_SECRET_ID", SECRET_ID)
        .env("LIVEREC_SECRET_KEY", SECRET_KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start liverec");
    let status = wait_exit(&mut child, Duration::from_secs(20)).unwrap_or_else(|| {
        signal(child.id(), "KILL");
        let _ = child.wait();
        panic!("liverec with {env:?} did not exit");
    });
    let out = child.wait_with_output().expect("output");
    assert!(!status.success(), "liverec started with {env:?}");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn start_up_errors_name_the_missing_setting_or_the_bad_file() {
    let pki = Pki::new();
    let (cert, key) = pki.server("srv", "liverec-e2e");
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let out = failed_start(&[("LIVEREC_TLS_CERT", cert)]);
    assert!(out.contains("LIVEREC_TLS_KEY"), "{out}");
    let out = failed_start(&[("LIVEREC_TLS_KEY", key)]);
    assert!(out.contains("LIVEREC_TLS_CERT"), "{out}");
    let out = failed_start(&[("LIVEREC_RTMPS_LISTEN", "127.0.0.1:0")]);
    assert!(out.contains("rtmps_listen needs tls_cert"), "{out}");
    let missing = pki.path("missing.crt");
    let out = failed_start(&[
        ("LIVEREC_TLS_CERT", missing.to_str().unwrap()),
        ("LIVEREC_TLS_KEY", key),
    ]);
    assert!(
        out.contains("tls_cert") && out.contains("missing.crt"),
        "{out}"
    );
    // The CA's key does not belong to the server certificate.
    let ca_key = pki.path("ca.key");
    let out = failed_start(&[
        ("LIVEREC_TLS_CERT", cert),
        ("LIVEREC_TLS_KEY", ca_key.to_str().unwrap()),
    ]);
    assert!(
        out.contains("tls_key") && out.contains("ca.key") && out.contains("does not belong"),
        "{out}"
    );
}
