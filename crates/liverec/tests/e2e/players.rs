//! Browser players as judges: headless Chromium plays a recording from
//! `/files` the way a web page on another origin does — an HLS playlist
//! that a reconnect continued (with `#EXT-X-DISCONTINUITY`) through hls.js,
//! and an MP4 through a `<video crossorigin>` element (ranged requests) —
//! and reports every hls.js error and media event back to the test.
//!
//! Needs Chromium (`LIVEREC_TEST_CHROMIUM`, default `chromium`) and hls.js
//! (`LIVEREC_TEST_HLSJS`: the path of `hls.min.js`), both installed by
//! `scripts/test.sh`. Chromium only talks to 127.0.0.1: every other host
//! resolves to nothing and goes to a dead proxy.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::*;

fn chromium() -> String {
    std::env::var("LIVEREC_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

fn hls_js() -> Vec<u8> {
    let path = std::env::var("LIVEREC_TEST_HLSJS")
        .expect("LIVEREC_TEST_HLSJS: the path of hls.min.js (scripts/test.sh installs it)");
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// The page: plays both media at twice the speed, muted, and posts what
/// happened to `/result` once both ended (or after 60 s).
fn page(hls_url: &str, mp4_url: &str) -> String {
    format!(
        r#"<!doctype html><html><body>
<video id="h" muted playsinline></video>
<video id="m" muted playsinline crossorigin="anonymous"></video>
<script src="/hls.min.js"></script>
<script>
const result = {{}};
let sent = false;
function send() {{
  if (sent) return;
  sent = true;
  fetch('/result', {{method: 'POST', body: JSON.stringify(result)}});
}}
function maybeSend() {{
  if (result.hls && result.mp4 && result.hls.done && result.mp4.done) send();
}}
function watch(name, v) {{
  const r = result[name] = {{errors: [], events: [], ended: false}};
  for (const ev of ['loadedmetadata', 'playing', 'waiting', 'stalled', 'ended', 'error']) {{
    v.addEventListener(ev, () => {{
      r.events.push(ev);
      if (ev === 'error') r.errors.push('media error ' + (v.error && v.error.code));
      if (ev === 'ended' || ev === 'error') {{
        r.ended = ev === 'ended';
        r.currentTime = v.currentTime;
        r.duration = v.duration;
        r.width = v.videoWidth;
        const q = v.getVideoPlaybackQuality();
        r.frames = q.totalVideoFrames;
        r.dropped = q.droppedVideoFrames;
        r.done = true;
        maybeSend();
      }}
    }});
  }}
  v.addEventListener('loadedmetadata', () => {{ v.playbackRate = 2; v.play(); }});
  return r;
}}
const h = document.getElementById('h');
const hr = watch('hls', h);
if (!Hls.isSupported()) {{ hr.errors.push('hls.js not supported'); send(); }}
const hls = new Hls();
hls.on(Hls.Events.ERROR, (_, d) => {{
  hr.errors.push(d.type + '/' + d.details + (d.fatal ? ' (fatal)' : ''));
  (hr.reasons = hr.reasons || []).push(String(d.reason));
  if (d.fatal) {{ hr.done = true; maybeSend(); }}
}});
hls.loadSource({hls_url:?});
hls.attachMedia(h);
const m = document.getElementById('m');
watch('mp4', m);
m.src = {mp4_url:?};
setTimeout(() => {{ result.timeout = true; send(); }}, 60000);
</script></body></html>"#
    )
}

/// Serves the page and hls.js on a free loopback port until the page posts
/// its result (at most `limit`); the result.
fn serve_page(listener: TcpListener, page: String, lib: Vec<u8>, done: mpsc::Sender<Value>) {
    listener.set_nonblocking(true).expect("nonblocking");
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(120) {
        let mut sock = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(_) => return,
        };
        let _ = sock.set_nonblocking(false);
        let _ = sock.set_read_timeout(Some(Duration::from_secs(10)));
        let Some((head, body)) = read_request(&mut sock) else {
            continue;
        };
        let line = head.lines().next().unwrap_or_default().to_string();
        if line.starts_with("POST /result") {
            respond(&mut sock, "204 No Content", "text/plain", b"");
            if let Ok(v) = serde_json::from_slice(&body) {
                let _ = done.send(v);
            }
            return;
        }
        match line.split(' ').nth(1) {
            Some("/") => respond(&mut sock, "200 OK", "text/html", page.as_bytes()),
            Some("/hls.min.js") => respond(&mut sock, "200 OK", "text/javascript", &lib),
            _ => respond(&mut sock, "404 Not Found", "text/plain", b""),
        }
    }
}

/// One HTTP/1.1 request: head and body (Content-Length), at most 1 MiB.
fn read_request(sock: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).into_owned();
            let len: usize = head
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0);
            let mut body = raw[end + 4..].to_vec();
            while body.len() < len && body.len() < 1 << 20 {
                let n = sock.read(&mut buf).ok()?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&buf[..n]);
            }
            return Some((head, body));
        }
        if raw.len() > 1 << 20 {
            return None;
        }
        let n = sock.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    }
}

fn respond(sock: &mut TcpStream, status: &str, ctype: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = sock.write_all(head.as_bytes());
    let _ = sock.write_all(body);
}

/// Opens `url` in headless Chromium (its own process group, stopped by
/// PID when the result is in) and waits for the page's result.
fn play_in_chromium(url: &str, dir: &std::path::Path, result: &mpsc::Receiver<Value>) -> Value {
    let profile = dir.join("chromium-profile");
    let mut child = Command::new(chromium())
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--mute-audio",
            "--autoplay-policy=no-user-gesture-required",
            // Nothing leaves 127.0.0.1.
            "--proxy-server=http://127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start chromium (scripts/test.sh installs it)");
    let got = result.recv_timeout(Duration::from_secs(90));
    // The whole group: the browser and its renderer, GPU and utility processes.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = wait_exit(&mut child, Duration::from_secs(10));
    got.expect("the page posted no result within 90 s")
}

/// The video of the segments either side of a playlist's discontinuity:
/// its frame interval (the median DTS step before the join), the DTS step at
/// the join, and the presentation step from the highest PTS before the join
/// to the new session's keyframe; seconds. With B-frames the DTS step can
/// be a few frames (the keyframe must present after the last picture, which
/// may have been a P-frame presented well after its DTS); the presentation
/// step is the one a viewer sees.
fn video_join(playlist: &std::path::Path, text: &str) -> (f64, f64, f64) {
    let mut segments = Vec::new();
    let mut join = None;
    for line in text.lines() {
        if line == "#EXT-X-DISCONTINUITY" {
            join = Some(segments.len());
        } else if !line.starts_with('#') && !line.is_empty() {
            segments.push(line);
        }
    }
    let join = join
        .filter(|&j| j > 0)
        .expect("a discontinuity after a segment");
    let dir = playlist.parent().expect("dir");
    let video = |name: &str| -> Vec<(f64, f64)> {
        let p = crate::probe::probe(&dir.join(name));
        let idx = p
            .streams
            .iter()
            .find(|st| st.1 == "video")
            .map(|st| st.0)
            .expect("a video stream");
        p.packets_of(idx)
            .filter_map(|x| Some((x.dts_time?, x.pts_time?)))
            .collect()
    };
    let before = video(segments[join - 1]);
    let after = video(segments[join]);
    let mut steps: Vec<f64> = before.windows(2).map(|w| w[1].0 - w[0].0).collect();
    steps.sort_by(f64::total_cmp);
    let interval = steps[steps.len() / 2];
    let (last_dts, _) = *before.last().expect("video before the join");
    let max_pts = before.iter().map(|f| f.1).fold(f64::MIN, f64::max);
    let (dts, pts) = *after.first().expect("video after the join");
    (interval, dts - last_dts, pts - max_pts)
}

#[test]
fn hls_js_and_a_cross_origin_video_element_play_a_reconnected_recording() {
    let s = Server::start_with(&[("LIVEREC_HLS_SEGMENT_SECONDS", "2")]);
    // One reconnect window for both formats (ReconnectWindow is liverec's
    // own field: the SDK's generic call passes it).
    let tpl = s.sdk_with(
        &SdkOpts::common(),
        "CreateLiveRecordTemplate",
        json!({"TemplateName": "play", "HlsParam": {"Enable": 1}, "Mp4Param": {"Enable": 1},
               "ReconnectWindow": 30}),
    );
    let tpl = tpl.ok()["TemplateId"].as_i64().expect("TemplateId");
    let mut first = s.publish("play", "h264_aac_10s.flv");
    let id = s.create_task(json!({"StreamName": "play", "DomainName": "127.0.0.1",
        "AppName": "live", "EndTime": now_s() + 120, "TemplateId": tpl}));
    std::thread::sleep(Duration::from_secs(4));
    first.stop();
    std::thread::sleep(Duration::from_secs(1));
    let mut second = s.publish("play", "h264_aac_10s.flv");
    std::thread::sleep(Duration::from_secs(4));
    second.stop();
    s.sdk("StopRecordTask", json!({"TaskId": id})).ok();
    let files = s.wait_files(json!({"TaskId": id}), 2..=2, Duration::from_secs(10));
    let url_of = |format: &str| {
        let f = files
            .iter()
            .find(|f| f["FileFormat"] == format)
            .unwrap_or_else(|| panic!("no {format} file: {files:?}"));
        (
            f["VideoUrl"].as_str().expect("VideoUrl").to_string(),
            f["Duration"].as_f64().expect("Duration"),
        )
    };
    let (hls_url, hls_duration) = url_of("hls");
    let (mp4_url, mp4_duration) = url_of("mp4");
    let playlist = http_get(s.api, &file_path(&hls_url), &[]).expect("playlist");
    let text = String::from_utf8_lossy(&playlist.body).into_owned();
    assert_eq!(text.matches("#EXT-X-DISCONTINUITY").count(), 1, "{text}");
    // The audio runs on across the join: the hole before the new session's
    // first audio frame is filled with silence to the nearest frame (one AAC
    // frame is 23.2 ms: no step reaches 1.6 frames).
    let local = s.download_hls(&hls_url);
    let joined = crate::probe::probe(&local);
    let audio = joined
        .streams
        .iter()
        .find(|st| st.1 == "audio")
        .map(|st| st.0)
        .expect("an audio stream");
    let t: Vec<f64> = joined
        .packets_of(audio)
        .filter_map(|p| p.dts_time)
        .collect();
    let gap = t.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(
        gap < 0.037,
        "largest audio DTS step of the playlist {gap} s"
    );
    // The picture starts the recording: MSE players start the timeline at
    // the lowest DTS, so a keyframe presented later (B-frames) or audio
    // before it is a hole at the start, which hls.js reports.
    let video = joined
        .streams
        .iter()
        .find(|st| st.1 == "video")
        .map(|st| st.0)
        .expect("a video stream");
    let key = joined.packets_of(video).next().expect("a video packet");
    let first_audio = joined
        .packets_of(audio)
        .find_map(|p| p.pts_time)
        .expect("an audio packet");
    let start = key.pts_time.expect("keyframe PTS");
    assert_eq!(
        key.dts_time, key.pts_time,
        "the keyframe presents as it decodes"
    );
    assert!(
        (0.0..0.024).contains(&(first_audio - start)),
        "the audio starts at {first_audio} s, the picture at {start} s"
    );
    // The video runs on across the join: the new session's keyframe
    // presents one frame after the last picture before it.
    let (interval, dts_step, pts_step) = video_join(&local, &text);
    eprintln!(
        "video at the join: interval {interval:.4} s, DTS step {dts_step:.4} s, PTS step {pts_step:.4} s"
    );
    assert!(dts_step > 0.0, "DTS step {dts_step} s at the join");
    assert!(
        pts_step > 0.0 && pts_step <= 1.5 * interval,
        "the video's presentation jumps {pts_step} s at the join (interval {interval} s)"
    );

    // The page comes from another origin (another port): every fetch of
    // the media is cross-origin.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let page_url = format!("http://{}/", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    let html = page(&hls_url, &mp4_url);
    let lib = hls_js();
    let server = std::thread::spawn(move || serve_page(listener, html, lib, tx));
    let r = play_in_chromium(&page_url, s.data_dir(), &rx);
    let _ = server.join();
    eprintln!("players: {r}");
    assert!(
        r.get("timeout").is_none(),
        "the players did not end within 60 s: {r}"
    );
    for (name, expected) in [("hls", hls_duration), ("mp4", mp4_duration)] {
        let p = &r[name];
        assert_eq!(p["errors"], json!([]), "{name}: {r}");
        assert_eq!(p["ended"], true, "{name} did not play to the end: {r}");
        let duration = p["duration"].as_f64().expect("duration");
        assert!(
            (duration - expected).abs() <= 1.0,
            "{name}: the player's duration {duration} s, the file's {expected} s"
        );
        assert!(
            p["width"].as_u64().unwrap_or(0) > 0,
            "{name}: no video: {r}"
        );
        assert!(
            p["frames"].as_u64().unwrap_or(0) > 0,
            "{name}: no frame shown: {r}"
        );
    }
}
