//! The e2e harness: runs the real `liverec` binary on free loopback ports in
//! a temporary data directory, publishes fixtures with ffmpeg or the
//! project's own publisher (`liverec-push`, see [`push_binary`]), calls the API
//! through the official Tencent Cloud Python SDK (and tccli), fetches files
//! over HTTP and checks them with ffprobe/ffmpeg. Every process started here
//! is stopped by its PID; every wait is bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const SECRET_ID: &str = "AKIDliverecE2eTestKey00000000000000";
pub const SECRET_KEY: &str = "liverecE2eTestSecretKey000000000";

/// One GOP of the fixtures (keyint 60 at 30 fps), seconds.
pub const GOP: f64 = 2.0;

/// The server path (`/files/...`) of a VideoUrl.
pub fn file_path(video_url: &str) -> String {
    video_url
        .split_once("/files/")
        .map(|(_, k)| format!("/files/{k}"))
        .expect("VideoUrl has /files/")
}

/// Seconds from the earliest StartTimeMs to the latest EndTimeMs of `files`.
pub fn files_span(files: &[Value]) -> f64 {
    let first = files
        .iter()
        .filter_map(|f| f["StartTimeMs"].as_i64())
        .min()
        .expect("StartTimeMs");
    let last = files
        .iter()
        .filter_map(|f| f["EndTimeMs"].as_i64())
        .max()
        .expect("EndTimeMs");
    (last - first) as f64 / 1000.0
}

/// The project's fixtures directory.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

/// The `liverec-push` binary: the sibling of the `liverec` binary under
/// test. The workspace build (`cargo test --workspace`) writes both into
/// the same target directory before any test runs, because the
/// `liverec-push` package has an integration test; a test run of this
/// package alone needs `cargo build -p liverec-push` first.
pub fn push_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_liverec"))
        .with_file_name(format!("liverec-push{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo test --workspace`, or `cargo build -p liverec-push` \
         before testing the liverec package alone",
        path.display()
    );
    path
}

fn python() -> String {
    std::env::var("LIVEREC_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn tccli_bin() -> String {
    std::env::var("LIVEREC_TEST_TCCLI").unwrap_or_else(|_| "tccli".into())
}

/// Polls `f` every 100 ms until it returns Some or `limit` passes.
pub fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            t0.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends a signal to a process by PID.
pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

/// Waits for a child to exit, at most `limit`.
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Result of one SDK call.
#[derive(Debug, Clone)]
pub enum Sdk {
    Ok(Value),
    Err {
        code: String,
        message: String,
        request_id: String,
    },
}

impl Sdk {
    pub fn ok(self) -> Value {
        match self {
            Sdk::Ok(v) => v,
            Sdk::Err { code, message, .. } => panic!("expected success, got {code}: {message}"),
        }
    }

    /// Asserts an error with `code` whose message names `field` (or
    /// contains any other expected text); returns the message.
    pub fn err_naming(self, code: &str, field: &str) -> String {
        let m = self.err(code);
        assert!(
            m.contains(field),
            "{code}: message {m:?} should name {field}"
        );
        m
    }

    /// Asserts an error with `code`; returns its message.
    pub fn err(self, code: &str) -> String {
        match self {
            Sdk::Err {
                code: c,
                message,
                request_id,
            } => {
                assert_eq!(c, code, "wrong error code ({message})");
                assert!(
                    is_uuid(&request_id),
                    "RequestId {request_id:?} is not a UUID"
                );
                message
            }
            Sdk::Ok(v) => panic!("expected {code}, got success {v}"),
        }
    }
}

/// Asserts every file of a listing closed normally (not recovered).
pub fn assert_finished(files: &[Value]) {
    for f in files {
        assert_eq!(f["Status"], "finished", "{f}");
    }
}

/// Removes ANSI colour sequences (`ESC [ ... letter`) from a log line.
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a server log line (coloured or not) is the "publish started"
/// line of exactly `app`/`stream`: its field `stream=DOMAIN/APP/STREAM`.
fn is_publish_of(line: &str, app: &str, stream: &str) -> bool {
    let line = strip_ansi(line);
    let want = format!("{app}/{stream}");
    line.contains(" publish started ")
        && line.split_whitespace().any(|t| {
            t.strip_prefix("stream=")
                .and_then(|v| v.split_once('/'))
                .is_some_and(|(_, rest)| rest == want)
        })
}

pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// Options of an SDK call beyond the defaults (TC3 POST, test key).
#[derive(Debug, Clone, Default)]
pub struct SdkOpts {
    pub sign: Option<&'static str>,
    pub method: Option<&'static str>,
    pub client: Option<&'static str>,
    pub version: Option<&'static str>,
    pub skew: Option<i64>,
    pub secret_id: Option<String>,
    pub secret_key: Option<String>,
    pub endpoint: Option<String>,
}

impl SdkOpts {
    /// The SDK's CommonClient (JSON parameters sent as given, no typed
    /// model), otherwise the defaults.
    pub fn common() -> SdkOpts {
        SdkOpts::default().common_client()
    }

    /// These options with the CommonClient.
    pub fn common_client(self) -> SdkOpts {
        SdkOpts {
            client: Some("common"),
            ..self
        }
    }
}

/// A running liverec.
pub struct Server {
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    pub api: SocketAddr,
    pub rtmp: SocketAddr,
    env: Vec<(String, String)>,
    credentials: bool,
    /// The API speaks HTTPS with a certificate from this CA: SDK calls and
    /// the start-up health check use HTTPS.
    https_ca: Option<PathBuf>,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts with no configured credential (liverec generates one).
    pub fn start_without_credentials() -> Server {
        Server::start_opts(&[], false)
    }

    /// Starts with extra `LIVEREC_*` settings.
    pub fn start_with(env: &[(&str, &str)]) -> Server {
        Server::start_opts(env, true)
    }

    /// Starts with TLS settings in `env`; the API is reached over HTTPS,
    /// trusting `ca`.
    pub fn start_https(env: &[(&str, &str)], ca: &Path) -> Server {
        Server::start_full(env, true, Some(ca.to_path_buf()))
    }

    fn start_opts(env: &[(&str, &str)], credentials: bool) -> Server {
        Server::start_full(env, credentials, None)
    }

    fn start_full(env: &[(&str, &str)], credentials: bool, https_ca: Option<PathBuf>) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("liverec-e2e-")
            .disable_cleanup(std::env::var_os("LIVEREC_E2E_KEEP").is_some())
            .tempdir()
            .expect("tempdir");
        let mut s = Server {
            dir,
            child: None,
            api: "127.0.0.1:0".parse().expect("addr"),
            rtmp: "127.0.0.1:0".parse().expect("addr"),
            env: {
                let env: Vec<(String, String)> = env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                let mut all = backend_env(&env);
                all.extend(env);
                all
            },
            credentials,
            https_ca,
        };
        s.spawn();
        s
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Waits (at most 5 s) until the log contains `text`; the log so far.
    /// A connection's closing line is written just after its socket closes.
    pub fn wait_log(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.log();
            if log.contains(text) || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Resident memory of the server process now, KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        let pid = self.child.as_ref().expect("server running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS line")
    }

    fn spawn(&mut self) {
        let listen = self.dir.path().join("listen.json");
        let _ = std::fs::remove_file(&listen);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_liverec"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info,liverec=debug")
            .env("LIVEREC_DATA_DIR", self.dir.path())
            .env("LIVEREC_API_LISTEN", self.api.to_string())
            .env("LIVEREC_RTMP_LISTEN", self.rtmp.to_string())
            // Every callback receiver of the tests is on 127.0.0.1; the
            // default (refusing such tenant URLs) is tested on its own.
            .env("LIVEREC_CALLBACK_ALLOW_PRIVATE", "true")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        if self.credentials {
            cmd.env("LIVEREC_SECRET_ID", SECRET_ID)
                .env("LIVEREC_SECRET_KEY", SECRET_KEY);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        self.child = Some(cmd.spawn().expect("start liverec"));
        let bound: Value = wait_for(Duration::from_secs(30), "listen.json", || {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(st)) = c.try_wait()
            {
                panic!("liverec exited early ({st}):\n{}", self.log());
            }
            std::fs::read(&listen)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
        });
        self.api = bound["api"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("api addr");
        self.rtmp = bound["rtmp"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("rtmp addr");
        wait_for(Duration::from_secs(30), "healthz", || {
            match &self.https_ca {
                Some(ca) => https_get(ca, &format!("https://{}/healthz", self.endpoint())).ok(),
                None => http_get(self.api, "/healthz", &[])
                    .ok()
                    .filter(|r| r.status == 200)
                    .map(|r| r.body),
            }
        });
    }

    /// SIGTERM; returns the exit status (panics if it takes over 10 s).
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        signal(child.id(), "TERM");
        match wait_exit(&mut child, Duration::from_secs(10)) {
            Some(s) => s,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "liverec did not exit within 10 s of SIGTERM:\n{}",
                    self.log()
                );
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL (crash).
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        signal(child.id(), "KILL");
        let _ = child.wait();
    }

    /// Sets an environment variable for the next start.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Starts again on the same ports and data directory.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "still running");
        self.spawn();
    }

    pub fn rtmp_url(&self, app: &str, stream: &str) -> String {
        format!("rtmp://127.0.0.1:{}/{app}/{stream}", self.rtmp.port())
    }

    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.api.port())
    }

    pub fn sdk(&self, action: &str, params: Value) -> Sdk {
        self.sdk_with(&SdkOpts::default(), action, params)
    }

    pub fn sdk_with(&self, o: &SdkOpts, action: &str, params: Value) -> Sdk {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/sdk.py");
        let mut cmd = Command::new(python());
        cmd.arg(script)
            .arg("--endpoint")
            .arg(o.endpoint.clone().unwrap_or_else(|| self.endpoint()))
            .arg("--secret-id")
            .arg(o.secret_id.as_deref().unwrap_or(SECRET_ID))
            .arg("--secret-key")
            .arg(o.secret_key.as_deref().unwrap_or(SECRET_KEY))
            .arg("--sign")
            .arg(o.sign.unwrap_or("tc3"));
        if let Some(m) = o.method {
            cmd.arg("--method").arg(m);
        }
        if let Some(c) = o.client {
            cmd.arg("--client").arg(c);
        }
        if let Some(v) = o.version {
            cmd.arg("--version").arg(v);
        }
        if let Some(s) = o.skew {
            cmd.arg("--skew").arg(s.to_string());
        }
        if let Some(ca) = &self.https_ca {
            cmd.arg("--https-ca").arg(ca);
        }
        let out = cmd
            .arg(action)
            .arg(params.to_string())
            .env("NO_PROXY", "*")
            .output()
            .expect("run python SDK helper");
        assert!(
            out.status.success(),
            "SDK helper failed ({}): {}\nserver log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("SDK helper output");
        if v["ok"] == json!(true) {
            Sdk::Ok(v["response"].clone())
        } else {
            Sdk::Err {
                code: v["code"].as_str().unwrap_or_default().into(),
                message: v["message"].as_str().unwrap_or_default().into(),
                request_id: v["request_id"].as_str().unwrap_or_default().into(),
            }
        }
    }

    /// CreateLiveRecord; returns the (integer) TaskId.
    pub fn create(&self, params: Value) -> i64 {
        let r = self.sdk("CreateLiveRecord", params.clone()).ok();
        r["TaskId"]
            .as_i64()
            .unwrap_or_else(|| panic!("integer TaskId for {params}: {r}"))
    }

    /// CreateRecordTask; returns the (string, opaque) TaskId.
    pub fn create_task(&self, params: Value) -> String {
        let r = self.sdk("CreateRecordTask", params.clone()).ok();
        let id = r["TaskId"]
            .as_str()
            .unwrap_or_else(|| panic!("string TaskId for {params}: {r}"))
            .to_string();
        assert!(id.len() >= 32, "opaque TaskId {id}");
        id
    }

    /// Records `stream` (which must be live) for about `seconds` with a
    /// highlight task, stops it, and returns its finished file(s).
    pub fn record_for(&self, stream: &str, seconds: u64) -> (i64, Vec<Value>) {
        let task = self.create(json!({"StreamName": stream, "Highlight": 1}));
        std::thread::sleep(Duration::from_secs(seconds));
        self.sdk(
            "StopLiveRecord",
            json!({"StreamName": stream, "TaskId": task}),
        )
        .ok();
        (task, self.wait_finished(task, 1, Duration::from_secs(2)))
    }

    /// Runs `tccli live ACTION` against the server with the test key
    /// (tccli's `--endpoint http://…` form, which also signs that Host).
    pub fn tccli(&self, action: &str, args: &[&str]) -> std::process::Output {
        let home = self.dir.path().join("tccli-home");
        std::fs::create_dir_all(&home).expect("tccli home");
        Command::new(tccli_bin())
            .args([
                "live",
                action,
                "--secretId",
                SECRET_ID,
                "--secretKey",
                SECRET_KEY,
            ])
            .args(["--region", "ap-guangzhou", "--endpoint"])
            .arg(format!("http://{}", self.endpoint()))
            .args(args)
            .env("HOME", &home)
            .env("NO_PROXY", "*")
            .output()
            .expect("run tccli")
    }

    /// [`Server::tccli`] that must succeed; the JSON it prints.
    pub fn tccli_ok(&self, action: &str, args: &[&str]) -> Value {
        let out = self.tccli(action, args);
        assert!(
            out.status.success(),
            "tccli failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("tccli prints JSON")
    }

    /// The `liverec` command line on this server's data directory and
    /// database (`keys …`, `domains …`).
    pub fn cli(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_liverec"));
        cmd.env_clear().env("LIVEREC_DATA_DIR", self.data_dir());
        for (k, v) in &self.env {
            if k == "LIVEREC_DATABASE_URL" {
                cmd.env(k, v);
            }
        }
        cmd
    }

    /// A new account made with `liverec keys create`; SDK options that use
    /// its key.
    pub fn new_account(&self, name: &str) -> SdkOpts {
        let out = self
            .cli()
            .args(["keys", "create", "--name", name])
            .output()
            .expect("liverec keys create");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
                .expect("field printed")
        };
        SdkOpts {
            secret_id: Some(field("SecretId:")),
            secret_key: Some(field("SecretKey:")),
            ..Default::default()
        }
    }

    /// DescribeLiveStreamState of 127.0.0.1/live/`stream`.
    pub fn stream_state(&self, stream: &str) -> String {
        let r = self
            .sdk(
                "DescribeLiveStreamState",
                json!({"DomainName": "127.0.0.1", "AppName": "live", "StreamName": stream}),
            )
            .ok();
        r["StreamState"].as_str().expect("StreamState").to_string()
    }

    /// DescribeRecordFiles' FileList for `filter`.
    pub fn files(&self, filter: Value) -> Vec<Value> {
        let r = self.sdk("DescribeRecordFiles", filter).ok();
        r["FileList"].as_array().cloned().unwrap_or_default()
    }

    /// Waits at most `limit` until DescribeRecordFiles for `filter` lists a
    /// number of files within `n`, none of them still recording (finished
    /// or recovered); returns them.
    pub fn wait_files(
        &self,
        filter: Value,
        n: impl RangeBounds<usize> + std::fmt::Debug,
        limit: Duration,
    ) -> Vec<Value> {
        wait_for(limit, &format!("{n:?} closed file(s) for {filter}"), || {
            let f = self.files(filter.clone());
            (n.contains(&f.len()) && f.iter().all(|x| x["Status"] != "recording")).then_some(f)
        })
    }

    /// Waits until the files of the legacy task `task_id` are `n` and none
    /// is still recording.
    pub fn wait_finished(&self, task_id: i64, n: usize, limit: Duration) -> Vec<Value> {
        self.wait_files(json!({ "TaskId": task_id.to_string() }), n..=n, limit)
    }

    /// How many publishes of live/`stream` the server has logged. The
    /// stream name must match exactly (`fbd` does not count `fbdother`).
    pub fn publishes(&self, stream: &str) -> usize {
        self.log()
            .lines()
            .filter(|l| is_publish_of(l, "live", stream))
            .count()
    }

    /// Waits until the server has logged at least `n` publishes of
    /// live/`stream`.
    pub fn wait_publishes(&self, stream: &str, n: usize) {
        wait_for(
            Duration::from_secs(15),
            &format!("publish {n} of {stream}"),
            || (self.publishes(stream) >= n).then_some(()),
        );
    }

    /// Starts `start` (a publisher of live/`stream`) and waits until the
    /// server logs a new publish of that stream; earlier publishes in the
    /// log do not count.
    pub fn publish_with(&self, stream: &str, start: impl FnOnce() -> Publisher) -> Publisher {
        let before = self.publishes(stream);
        let p = start();
        self.wait_publishes(stream, before + 1);
        p
    }

    /// Publishes `fixture` to live/`stream` with ffmpeg (looped, real
    /// time) and waits until the server has accepted this publish.
    pub fn publish(&self, stream: &str, fixture: &str) -> Publisher {
        let url = self.rtmp_url("live", stream);
        self.publish_with(stream, || Publisher::start(&url, fixture))
    }

    /// Downloads an HLS playlist and its segments into a new directory;
    /// returns the local playlist path.
    pub fn download_hls(&self, video_url: &str) -> PathBuf {
        let path = file_path(video_url);
        let (dir_url, name) = path.rsplit_once('/').expect("dir");
        let dir = self.dir.path().join(format!("hls-{}", uuid_like()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let r = http_get(self.api, &path, &[]).expect("GET playlist");
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-type"),
            Some("application/vnd.apple.mpegurl")
        );
        let text = String::from_utf8_lossy(&r.body).into_owned();
        for seg in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let s = http_get(self.api, &format!("{dir_url}/{seg}"), &[]).expect("GET segment");
            assert_eq!(s.status, 200, "segment {seg}");
            assert_eq!(s.header("content-type"), Some("video/mp2t"));
            std::fs::write(dir.join(seg), &s.body).expect("write segment");
        }
        let out = dir.join(name);
        std::fs::write(&out, text).expect("write playlist");
        out
    }

    /// Downloads a listed file (an HLS playlist with its segments); returns
    /// the local path (of the playlist).
    pub fn download_file(&self, file: &Value) -> PathBuf {
        let url = file["VideoUrl"].as_str().expect("VideoUrl");
        if file["FileFormat"] == "hls" {
            self.download_hls(url)
        } else {
            self.download(url)
        }
    }

    /// Downloads a file's VideoUrl into the data dir; returns its path.
    pub fn download(&self, video_url: &str) -> PathBuf {
        let path = file_path(video_url);
        let r = http_get(self.api, &path, &[]).expect("GET file");
        assert_eq!(r.status, 200, "GET {path}");
        let name = path.rsplit('/').next().unwrap_or("f");
        let out = self.dir.path().join(format!("dl-{name}"));
        std::fs::write(&out, &r.body).expect("write download");
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(c.id(), "KILL");
            let _ = c.wait();
        }
        if std::thread::panicking() {
            eprintln!("---- liverec log ----\n{}", self.log());
        }
    }
}

/// A publisher process (ffmpeg or `liverec-push`), stopped by PID on drop.
pub struct Publisher {
    child: Option<Child>,
    /// Where `liverec-push` writes its stderr.
    stderr: Option<tempfile::NamedTempFile>,
}

impl Publisher {
    /// Publishes a fixture with ffmpeg, looped, in real time.
    pub fn start(url: &str, fixture_name: &str) -> Publisher {
        Publisher::ffmpeg(url, fixture_name, &["-re", "-stream_loop", "-1"])
    }

    /// Sends a fixture once with ffmpeg at `rate` times real time
    /// (`-readrate`): fast, but slow enough that the server sees the stream
    /// live before it ends, however loaded the machine.
    pub fn send_at_rate(url: &str, fixture_name: &str, rate: u32) -> Publisher {
        Publisher::ffmpeg(url, fixture_name, &["-readrate", &rate.to_string()])
    }

    /// `ffmpeg [input_opts] -i FIXTURE -c copy -f flv URL`.
    pub fn ffmpeg(url: &str, fixture_name: &str, input_opts: &[&str]) -> Publisher {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error"])
            .args(input_opts)
            .arg("-i")
            .arg(fixture(fixture_name))
            .args(["-c", "copy", "-f", "flv"])
            .arg(url);
        Publisher::spawn_ffmpeg(cmd)
    }

    /// Runs a publishing ffmpeg `cmd` with no terminal I/O.
    fn spawn_ffmpeg(mut cmd: Command) -> Publisher {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ffmpeg");
        Publisher {
            child: Some(child),
            stderr: None,
        }
    }

    /// Publishes a generated solid `colour` picture (320×180, 30 fps, H.264
    /// without B-frames) and a `freq` Hz sine tone (AAC, 44.1 kHz) with
    /// ffmpeg, in real time, until stopped.
    pub fn lavfi(url: &str, colour: &str, freq: u32) -> Publisher {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-re"])
            .args(["-f", "lavfi", "-i"])
            .arg(format!("color=c={colour}:s=320x180:r=30"))
            .args(["-f", "lavfi", "-i"])
            .arg(format!("sine=frequency={freq}:sample_rate=44100"))
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-tune",
                "zerolatency",
            ])
            .args([
                "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k",
            ])
            .args(["-f", "flv"])
            .arg(url);
        Publisher::spawn_ffmpeg(cmd)
    }

    /// Publishes a fixture with the project's own publisher (`liverec-push
    /// --realtime --loop`), which also sends what FFmpeg 5.1 cannot (H.265).
    pub fn push(url: &str, fixture_name: &str) -> Publisher {
        Publisher::push_with(url, fixture_name, &["--realtime", "--loop"])
    }

    /// `liverec-push ARGS FIXTURE URL`; its stderr is kept for `stderr()`.
    pub fn push_with(url: &str, fixture_name: &str, args: &[&str]) -> Publisher {
        let log = tempfile::NamedTempFile::new().expect("stderr file");
        let child = Command::new(push_binary())
            .args(args)
            .arg(fixture(fixture_name))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("stderr file"))
            .spawn()
            .expect("start liverec-push");
        Publisher {
            child: Some(child),
            stderr: Some(log),
        }
    }

    /// What `liverec-push` wrote to stderr so far (empty for ffmpeg).
    pub fn stderr(&self) -> String {
        self.stderr
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f.path()).ok())
            .unwrap_or_default()
    }

    /// Waits at most `limit` for the publisher to exit by itself; its exit
    /// status, or None if it is still running (it is then stopped on drop).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let status = wait_exit(self.child.as_mut()?, limit);
        if status.is_some() {
            self.child = None;
        }
        status
    }

    /// Stops the publisher (SIGTERM, then SIGKILL).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(c.id(), "TERM");
            if wait_exit(&mut c, Duration::from_secs(5)).is_none() {
                signal(c.id(), "KILL");
                let _ = c.wait();
            }
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// GETs an `https://` URL, verifying the server against the CA file `ca`
/// (Python's ssl module); the body of a 2xx answer, or the error.
pub fn https_get(ca: &Path, url: &str) -> Result<Vec<u8>, String> {
    const SCRIPT: &str = "import ssl, sys, urllib.request\n\
        ctx = ssl.create_default_context(cafile=sys.argv[1])\n\
        op = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))\n\
        sys.stdout.buffer.write(op.open(sys.argv[2], timeout=10).read())\n";
    let out = Command::new(python())
        .args(["-c", SCRIPT])
        .arg(ca)
        .arg(url)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Reads until the peer closes; returns how long that took, or None if it
/// did not close within `limit` (in all, however much the peer sends).
pub fn closed_within(mut sock: TcpStream, limit: Duration) -> Option<Duration> {
    let t = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.checked_sub(t.elapsed()).filter(|d| !d.is_zero())?;
        sock.set_read_timeout(Some(left)).expect("timeout");
        match sock.read(&mut buf) {
            Ok(0) => return Some(t.elapsed()),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(t.elapsed()),
            Err(_) => return None,
        }
    }
}

/// A minimal HTTP/1.1 response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A v1-signed (HmacSHA256) DescribeRecordFiles form for `host` at
/// `timestamp` with `nonce`.
pub fn v1_form(host: &str, timestamp: &str, nonce: &str) -> String {
    let params = [
        ("Action", "DescribeRecordFiles"),
        ("Nonce", nonce),
        ("Region", "ap-guangzhou"),
        ("SecretId", SECRET_ID),
        ("SignatureMethod", "HmacSHA256"),
        ("Timestamp", timestamp),
        ("Version", "2018-08-01"),
    ];
    let joined: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let to_sign = format!("POST{host}/?{}", joined.join("&"));
    let signature = tcapi::sign_v1(SECRET_KEY, tcapi::SignMethod::HmacSha256, &to_sign);
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        form.append_pair(k, v);
    }
    form.append_pair("Signature", &signature);
    form.finish()
}

/// Posts a v1 `form` to `addr` with the Host it was signed for.
pub fn v1_post(addr: SocketAddr, host: &str, form: &str) -> HttpResponse {
    http_request(
        addr,
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Host", host),
        ],
        form.as_bytes(),
    )
    .expect("v1 request")
}

/// Sends one request and reads the whole response (Connection: close).
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if n == 0 || i + 2 + n > b.len() {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + n]);
        b = &b[(i + 4 + n).min(b.len())..];
    }
    out
}

pub fn http_get(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<HttpResponse> {
    http_request(addr, "GET", path, headers, b"")
}

/// A TC3-signed POST JSON request sent without the SDK, with the test key,
/// now, for the server's own host and the `live` service.
pub fn signed_post(s: &Server, action: &str, body: &[u8]) -> HttpResponse {
    tc3_post(s, action, body, &s.endpoint(), "live", now_s())
}

/// A TC3-signed POST JSON request (what a client without the SDK sends),
/// signed for `host` and `service` at `timestamp`; sent with that Host.
pub fn tc3_post(
    s: &Server,
    action: &str,
    body: &[u8],
    host: &str,
    service: &str,
    timestamp: i64,
) -> HttpResponse {
    let ct = "application/json";
    let sig = tcapi::sign_tc3(SECRET_KEY, "POST", host, "", ct, body, timestamp, service);
    let auth = tcapi::tc3_authorization(SECRET_ID, timestamp, service, &sig);
    let ts = timestamp.to_string();
    http_request(
        s.api,
        "POST",
        "/",
        &[
            ("Content-Type", ct),
            ("Host", host),
            ("X-TC-Action", action),
            ("X-TC-Version", "2018-08-01"),
            ("X-TC-Timestamp", &ts),
            ("X-TC-Region", "ap-guangzhou"),
            ("Authorization", &auth),
        ],
        body,
    )
    .expect("signed request")
}

/// A short unique token for file names.
pub fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// China Standard Time string for Unix seconds.
pub fn cst(unix_s: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_s)
        .expect("time")
        .to_offset(time::macros::offset!(+8));
    t.format(time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second]"
    ))
    .expect("format")
}

pub fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub fn now_f() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

/// Sleeps until Unix time `t` (seconds, fractional).
pub fn sleep_until(t: f64) {
    let d = t - now_f();
    if d > 0.0 {
        std::thread::sleep(Duration::from_secs_f64(d));
    }
}

#[test]
fn publish_lines_match_the_exact_stream_coloured_or_not() {
    let plain = "2026-01-01T00:00:00Z  INFO rtmp{conn=1 peer=127.0.0.1:4}: liverec::ingest::session: publish started stream=127.0.0.1/live/fbd conn=1 session=ab";
    let coloured = "\u{1b}[2m2026-01-01T00:00:00Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m \u{1b}[2mliverec::ingest::session\u{1b}[0m\u{1b}[2m:\u{1b}[0m publish started \u{1b}[3mstream\u{1b}[0m\u{1b}[2m=\u{1b}[0m127.0.0.1/live/fbd \u{1b}[3mconn\u{1b}[0m\u{1b}[2m=\u{1b}[0m1";
    for line in [plain, coloured] {
        assert!(is_publish_of(line, "live", "fbd"), "{line}");
        assert!(!is_publish_of(line, "live", "fb"), "{line}");
        assert!(!is_publish_of(line, "live", "bd"), "{line}");
        assert!(!is_publish_of(line, "other", "fbd"), "{line}");
    }
    let longer = plain.replace("/live/fbd ", "/live/fbdother ");
    assert!(!is_publish_of(&longer, "live", "fbd"));
    assert!(is_publish_of(&longer, "live", "fbdother"));
    let other = plain.replace("publish started", "publisher unpublished");
    assert!(!is_publish_of(&other, "live", "fbd"));
}

/// A new, empty database on the test PostgreSQL server (`tag` tells the
/// databases of one test run apart).
/// The test bucket (SeaweedFS, started by `scripts/test.sh`).
pub const BUCKET: &str = "liverec-test";

/// The settings of S3 storage at `endpoint` under a fresh prefix; and the
/// prefix.
pub fn s3_env(endpoint: &str) -> (Vec<(String, String)>, String) {
    let prefix = format!("e2e/{}", uuid_like());
    let env = vec![
        ("LIVEREC_STORAGE".into(), format!("s3://{BUCKET}/{prefix}")),
        ("LIVEREC_S3_ENDPOINT".into(), endpoint.to_string()),
        ("LIVEREC_S3_PATH_STYLE".into(), "true".into()),
        ("AWS_ACCESS_KEY_ID".into(), "liverec-test".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "liverec-test-secret".into()),
    ];
    (env, prefix)
}

/// `LIVEREC_TEST_BACKEND=postgres+s3`: every server a test starts without
/// its own database or storage settings gets a fresh PostgreSQL database
/// (`LIVEREC_TEST_POSTGRES_URL`) and S3 storage (`LIVEREC_TEST_S3_ENDPOINT`)
/// instead of the embedded SQLite and local files: `scripts/test.sh` runs
/// a part of the suite a second time so.
fn backend_env(env: &[(String, String)]) -> Vec<(String, String)> {
    let Ok(backend) = std::env::var("LIVEREC_TEST_BACKEND") else {
        return Vec::new();
    };
    let has = |k: &str| env.iter().any(|(name, _)| name == k);
    let mut extra = Vec::new();
    if backend.split('+').any(|b| b == "postgres") && !has("LIVEREC_DATABASE_URL") {
        extra.push(("LIVEREC_DATABASE_URL".into(), postgres_database("backend")));
    }
    if backend.split('+').any(|b| b == "s3") && !has("LIVEREC_STORAGE") {
        let endpoint = std::env::var("LIVEREC_TEST_S3_ENDPOINT")
            .expect("LIVEREC_TEST_BACKEND=…s3 needs LIVEREC_TEST_S3_ENDPOINT");
        extra.extend(s3_env(&endpoint).0);
    }
    extra
}

pub fn postgres_database(tag: &str) -> String {
    let admin = std::env::var("LIVEREC_TEST_POSTGRES_URL").expect(
        "LIVEREC_TEST_POSTGRES_URL must name a PostgreSQL server (scripts/test.sh starts one)",
    );
    let name = format!("liverec_e2e_{}_{tag}", uuid_like().replace('-', "_"));
    let out = Command::new("psql")
        .arg(&admin)
        .args([
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            &format!("CREATE DATABASE {name}"),
        ])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .expect("url");
    format!("{base}/{name}")
}
