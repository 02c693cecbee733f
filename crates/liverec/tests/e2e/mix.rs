//! A+B=C mixing end to end: two ffmpeg publishers (solid red + 440 Hz,
//! solid blue + 880 Hz), CreateCommonMixStream through the official SDK,
//! the output C recorded with CreateLiveRecord MixStream=1 and
//! CreateRecordTask StreamType=1, checked by decoding it with ffmpeg:
//! resolution and frame rate, colours at each input's position before and
//! after a live layout update and while the background input is away and
//! back, both tones in the audio. Also the error
//! codes of the mixing actions. A+B=A (`OutputStreamType` 0): a recording
//! of A (FLV, MP4, HLS) holds A's own picture, then the mix, then A's
//! picture again, each in a file of its own.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Publisher, Server, now_s, wait_for};
use crate::probe::assert_valid;

const W: usize = 640;
const H: usize = 360;

fn layout(inputs: &[(&str, u32, Value)]) -> Value {
    inputs
        .iter()
        .map(|(name, layer, extra)| {
            let mut l = json!({"ImageLayer": layer});
            if let (Some(l), Some(e)) = (l.as_object_mut(), extra.as_object()) {
                l.extend(e.clone());
            }
            json!({"InputStreamName": name, "LayoutParams": l})
        })
        .collect()
}

fn mix_request(session: &str, inputs: Value) -> Value {
    json!({
        "MixStreamSessionId": session,
        "InputStreamList": inputs,
        "OutputParams": {
            "OutputStreamName": "mixc",
            "OutputStreamType": 1,
            "OutputStreamFrameRate": 30,
            "OutputStreamBitRate": 800,
            "OutputStreamGop": 1,
            "OutputAudioSampleRate": 44100,
            "OutputAudioChannels": 1
        }
    })
}

/// Red input a as the background (the canvas), blue input b on the right
/// half, in pixels.
fn red_left_blue_right() -> Value {
    layout(&[
        ("mixa", 1, json!({"ImageWidth": W, "ImageHeight": H})),
        (
            "mixb",
            2,
            json!({"ImageWidth": W / 2, "ImageHeight": H, "LocationX": W / 2, "LocationY": 0}),
        ),
    ])
}

/// Swapped, in fractions of the canvas: blue is the background, red on
/// the right half.
fn blue_left_red_right() -> Value {
    layout(&[
        (
            "mixb",
            1,
            json!({"ImageWidth": W, "ImageHeight": H, "Color": "0x000000"}),
        ),
        (
            "mixa",
            2,
            json!({"ImageWidth": 0.5, "ImageHeight": 0.99, "LocationX": 0.5, "LocationY": 0.01}),
        ),
    ])
}

/// One decoded RGB frame at `at_s` seconds of `file`.
fn frame_at(file: &Path, at_s: f64) -> Vec<u8> {
    sized_frame_at(file, at_s, W, H)
}

/// One decoded RGB frame of `w`×`h` at `at_s` seconds of `file`.
fn sized_frame_at(file: &Path, at_s: f64, w: usize, h: usize) -> Vec<u8> {
    let frame = ffmpeg_stdout(|c| {
        c.args(["-ss", &format!("{at_s:.2}"), "-i"])
            .arg(file)
            .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);
    });
    assert_eq!(frame.len(), w * h * 3, "one {w}x{h} frame");
    frame
}

/// The standard output of a quiet ffmpeg run with the arguments `args`
/// adds; the test fails when ffmpeg does.
fn ffmpeg_stdout(args: impl FnOnce(&mut Command)) -> Vec<u8> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error"]);
    args(&mut cmd);
    let out = cmd.output().expect("run ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn rgb(frame: &[u8], x: usize, y: usize) -> (u8, u8, u8) {
    let i = (y * W + x) * 3;
    (frame[i], frame[i + 1], frame[i + 2])
}

fn is_red((r, g, b): (u8, u8, u8)) -> bool {
    r > 180 && g < 70 && b < 70
}

fn is_blue((r, g, b): (u8, u8, u8)) -> bool {
    b > 180 && r < 70 && g < 70
}

fn is_black((r, g, b): (u8, u8, u8)) -> bool {
    r < 40 && g < 40 && b < 40
}

/// Mono 44.1 kHz PCM of `file`'s audio.
fn pcm(file: &Path) -> Vec<f64> {
    ffmpeg_stdout(|c| {
        c.arg("-i")
            .arg(file)
            .args(["-vn", "-ac", "1", "-ar", "44100", "-f", "s16le", "-"]);
    })
    .chunks_exact(2)
    .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])))
    .collect()
}

/// Energy of `freq` Hz in `x` (Goertzel), normalised by length.
fn goertzel(x: &[f64], rate: f64, freq: f64) -> f64 {
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * freq / rate).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in x {
        let s = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (x.len() as f64).powi(2)
}

fn online(s: &Server) -> Vec<String> {
    let r = s.sdk("DescribeLiveStreamOnlineList", json!({})).ok();
    r["OnlineInfo"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["StreamName"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn mix_two_publishers_into_a_recorded_stream() {
    let s = Server::start();
    let mut a = s.publish_with("mixa", || {
        Publisher::lavfi(&s.rtmp_url("live", "mixa"), "red", 440)
    });
    let mut b = s.publish_with("mixb", || {
        Publisher::lavfi(&s.rtmp_url("live", "mixb"), "blue", 880)
    });

    // Error codes, before anything runs.
    let mut offline = red_left_blue_right();
    offline[1]["InputStreamName"] = json!("nosuch");
    s.sdk("CreateCommonMixStream", mix_request("room1", offline))
        .err_naming("FailedOperation.StreamNotExist", "nosuch");
    let mut bad = red_left_blue_right();
    bad[1]["LayoutParams"]["ImageLayer"] = json!(0);
    s.sdk("CreateCommonMixStream", mix_request("room1", bad))
        .err_naming("InvalidParameter.InvalidMixInputParam", "ImageLayer");
    let mut same = mix_request("room1", red_left_blue_right());
    same["OutputParams"]["OutputStreamName"] = json!("mixa");
    s.sdk("CreateCommonMixStream", same)
        .err("InvalidParameter.InvalidOutputStreamID");
    let mut tpl = mix_request("room1", red_left_blue_right());
    tpl["MixStreamTemplateId"] = json!(40);
    s.sdk("CreateCommonMixStream", tpl)
        .err("InvalidParameter.TemplateNotMatchInputNum");
    s.sdk(
        "CancelCommonMixStream",
        json!({"MixStreamSessionId": "nope"}),
    )
    .err("FailedOperation.CancelSessionNotExist");
    // Another account sees neither the inputs nor the session.
    let other = s.new_account("mix-other");
    s.sdk_with(
        &other,
        "CreateCommonMixStream",
        mix_request("room1", red_left_blue_right()),
    )
    .err("FailedOperation.StreamNotExist");

    // Red left, blue right; C is live like any stream, and recorded.
    s.sdk(
        "CreateCommonMixStream",
        mix_request("room1", red_left_blue_right()),
    )
    .ok();
    wait_for(Duration::from_secs(10), "mixc online", || {
        online(&s).contains(&"mixc".to_string()).then_some(())
    });
    s.sdk(
        "CancelCommonMixStream",
        json!({"MixStreamSessionId": "room1"}),
    )
    .ok();
    wait_for(Duration::from_secs(10), "mixc offline", || {
        (!online(&s).contains(&"mixc".to_string())).then_some(())
    });
    // The same session id starts again, this time recorded from the start.
    s.sdk(
        "CreateCommonMixStream",
        mix_request("room1", red_left_blue_right()),
    )
    .ok();
    s.sdk_with(
        &other,
        "CancelCommonMixStream",
        json!({"MixStreamSessionId": "room1"}),
    )
    .err("FailedOperation.CancelSessionNotExist");
    // Phase boundaries on the wall clock from just before the recording
    // starts; the file starts at the keyframe before the call, up to one
    // GOP (1 s) earlier, so a phase's middle is sampled 0.5 s later.
    let t0 = Instant::now();
    let flv = s.create(json!({"StreamName": "mixc", "MixStream": 1, "Highlight": 1}));
    let others: Vec<(&str, i64)> = ["mp4", "aac", "mp3"]
        .into_iter()
        .map(|f| {
            let id = s.create(json!({
                "StreamName": "mixc", "MixStream": 1, "Highlight": 1, "FileFormat": f
            }));
            (f, id)
        })
        .collect();
    let hls = s.create_task(json!({
        "StreamName": "mixc", "DomainName": "127.0.0.1", "AppName": "live",
        "EndTime": now_s() + 600, "StreamType": 1
    }));
    // Wall-clock phases from here (file time runs up to one GOP, 1 s,
    // ahead: the highlight file starts at the keyframe before the call).
    std::thread::sleep(Duration::from_secs(4));
    let first = t0.elapsed().as_secs_f64();
    // Update in place: same session id, positions swapped.
    s.sdk(
        "CreateCommonMixStream",
        mix_request("room1", blue_left_red_right()),
    )
    .ok();
    let swapped = t0.elapsed().as_secs_f64();
    let mut changed = mix_request("room1", blue_left_red_right());
    changed["OutputParams"]["OutputStreamName"] = json!("other");
    s.sdk("CreateCommonMixStream", changed)
        .err("InvalidParameter.SessionOutputStreamChanged");
    std::thread::sleep(Duration::from_secs(4));
    // The background input leaves: the canvas colour shows where it was,
    // the rest goes on; it comes back when it publishes again.
    let leaving = t0.elapsed().as_secs_f64();
    b.stop();
    let gone = t0.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(4));
    let back = t0.elapsed().as_secs_f64();
    let mut b = s.publish_with("mixb", || {
        Publisher::lavfi(&s.rtmp_url("live", "mixb"), "blue", 880)
    });
    std::thread::sleep(Duration::from_millis(4500));
    // Cancel ends C, which finalizes both recordings.
    s.sdk(
        "CancelCommonMixStream",
        json!({"MixStreamSessionId": "room1"}),
    )
    .ok();
    let files = s.wait_finished(flv, 1, Duration::from_secs(15));
    for (format, id) in &others {
        let f = s.wait_finished(*id, 1, Duration::from_secs(15));
        let path = s.download_file(&f[0]);
        assert_valid(&path, format, 12.0, 24.0);
    }
    let hls_files = s.wait_files(json!({"TaskId": hls}), 1..=1, Duration::from_secs(15));
    assert_eq!(hls_files[0]["FileFormat"], "hls");
    a.stop();
    b.stop();

    let path = s.download_file(&files[0]);
    let p = assert_valid(&path, "flv", 14.0, 24.0);
    let info = probe_stream(&path);
    assert_eq!((info.0, info.1), (W as u64, H as u64), "output size");
    assert_eq!(info.2, "30/1", "output frame rate");
    assert_eq!(p.codec("audio"), Some("aac"));
    assert_eq!(p.codec("video"), Some("h264"));
    let span = p.packet_span();
    let sides = |at: f64| {
        let f = frame_at(&path, at);
        (rgb(&f, W / 4, H / 2), rgb(&f, 3 * W / 4, H / 2))
    };
    let mid = |from: f64, to: f64| (from + to) / 2.0 + 0.5;
    let (l, r) = sides(mid(0.0, first));
    assert!(
        is_red(l) && is_blue(r),
        "before the update: left {l:?} right {r:?}"
    );
    let (l, r) = sides(mid(swapped, leaving));
    assert!(
        is_blue(l) && is_red(r),
        "after the update: left {l:?} right {r:?}"
    );
    let (l, r) = sides(mid(gone, back));
    assert!(
        is_black(l) && is_red(r),
        "background gone: left {l:?} right {r:?}"
    );
    let (l, r) = sides(span - 1.0);
    assert!(
        is_blue(l) && is_red(r),
        "background back: left {l:?} right {r:?}"
    );

    let audio = pcm(&path);
    assert!(audio.len() > 44_100 * 5, "{} samples", audio.len());
    let tail = &audio[audio.len() - 44_100 * 2..];
    let (e440, e880) = (
        goertzel(tail, 44_100.0, 440.0),
        goertzel(tail, 44_100.0, 880.0),
    );
    let off = goertzel(tail, 44_100.0, 660.0).max(1e-9);
    assert!(
        e440 > 100.0 * off && e880 > 100.0 * off,
        "both tones: 440 Hz {e440:.1}, 880 Hz {e880:.1}, 660 Hz {off:.3}"
    );

    // The StreamType=1 task recorded C as HLS.
    let playlist = s.download_hls(hls_files[0]["VideoUrl"].as_str().expect("url"));
    assert_valid(&playlist, "hls", 12.0, 24.0);
}

/// (width, height, r_frame_rate) of the video stream.
fn probe_stream(path: &Path) -> (u64, u64, String) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=width,height,r_frame_rate", "-of", "json"])
        .arg(path)
        .output()
        .expect("ffprobe");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let st = &v["streams"][0];
    (
        st["width"].as_u64().unwrap_or(0),
        st["height"].as_u64().unwrap_or(0),
        st["r_frame_rate"].as_str().unwrap_or_default().to_string(),
    )
}

/// The RGB colour at fractions (`fx`, `fy`) of the picture of the frame
/// at `at_s` seconds of `file`, whatever its size; and that size.
fn colour_at(file: &Path, at_s: f64, fx: f64, fy: f64) -> ((u8, u8, u8), (u64, u64)) {
    let (w, h, _) = probe_stream(file);
    let (wu, hu) = (w as usize, h as usize);
    let frame = sized_frame_at(file, at_s, wu, hu);
    let (x, y) = ((fx * w as f64) as usize, (fy * h as f64) as usize);
    let i = (y * wu + x) * 3;
    ((frame[i], frame[i + 1], frame[i + 2]), (w, h))
}

/// Whether the audio of `file` (mono 44.1 kHz) holds 440 Hz and 880 Hz.
fn tones(file: &Path) -> (bool, bool) {
    let audio = pcm(file);
    assert!(audio.len() > 44_100, "{} samples", audio.len());
    // The middle second, away from the joins.
    let mid = audio.len() / 2;
    let x = &audio[mid - 22_050..mid + 22_050];
    let off = goertzel(x, 44_100.0, 660.0).max(1e-9);
    (
        goertzel(x, 44_100.0, 440.0) > 100.0 * off,
        goertzel(x, 44_100.0, 880.0) > 100.0 * off,
    )
}

fn replace_request(session: &str, output: &str) -> Value {
    let mut r = mix_request(
        session,
        layout(&[
            ("mixra", 1, json!({"ImageWidth": W, "ImageHeight": H})),
            (
                "mixrb",
                2,
                json!({"ImageWidth": 0.5, "ImageHeight": H, "LocationX": 0.5, "LocationY": 0}),
            ),
        ]),
    );
    r["OutputParams"]["OutputStreamName"] = json!(output);
    r["OutputParams"]["OutputStreamType"] = json!(0);
    r
}

#[test]
fn mix_replacing_an_input_is_recorded_under_its_name() {
    let s = Server::start();
    let mut a = s.publish_with("mixra", || {
        Publisher::lavfi(&s.rtmp_url("live", "mixra"), "red", 440)
    });
    let _b = s.publish_with("mixrb", || {
        Publisher::lavfi(&s.rtmp_url("live", "mixrb"), "blue", 880)
    });
    // The output of A+B=A must be one of the inputs; another account
    // sees neither input.
    s.sdk("CreateCommonMixStream", replace_request("rooma", "mixc"))
        .err("InvalidParameter.InvalidOutputType");
    let other = s.new_account("mixr-other");
    s.sdk_with(
        &other,
        "CreateCommonMixStream",
        replace_request("rooma", "mixra"),
    )
    .err("FailedOperation.StreamNotExist");

    // A is recorded before, during and after the mix.
    let flv = s.create(json!({"StreamName": "mixra", "Highlight": 1}));
    let mp4 = s.create(json!({"StreamName": "mixra", "Highlight": 1, "FileFormat": "mp4"}));
    let hls = s.create_task(json!({
        "StreamName": "mixra", "DomainName": "127.0.0.1", "AppName": "live",
        "EndTime": now_s() + 600
    }));
    std::thread::sleep(Duration::from_secs(4));
    s.sdk("CreateCommonMixStream", replace_request("rooma", "mixra"))
        .ok();
    // A stays one live stream under its name; nothing new appears.
    let mut names = online(&s);
    names.sort();
    assert_eq!(names, ["mixra", "mixrb"]);
    assert_eq!(s.stream_state("mixra"), "active");
    // A second mix cannot replace A at the same time.
    s.sdk("CreateCommonMixStream", replace_request("roomb", "mixra"))
        .err("InvalidParameter.InvalidOutputStreamID");
    std::thread::sleep(Duration::from_secs(6));
    s.sdk(
        "CancelCommonMixStream",
        json!({"MixStreamSessionId": "rooma"}),
    )
    .ok();
    std::thread::sleep(Duration::from_secs(4));
    for id in [flv, mp4] {
        s.sdk(
            "StopLiveRecord",
            json!({"StreamName": "mixra", "TaskId": id}),
        )
        .ok();
    }
    s.sdk("StopRecordTask", json!({"TaskId": hls})).ok();
    let mut files = s.wait_finished(flv, 3, Duration::from_secs(15));
    files.sort_by_key(|f| f["StartTimeMs"].as_i64());
    let mut mp4s = s.wait_finished(mp4, 3, Duration::from_secs(15));
    mp4s.sort_by_key(|f| f["StartTimeMs"].as_i64());
    for (i, f) in mp4s.iter().enumerate() {
        let path = s.download_file(f);
        assert_valid(&path, "mp4", 1.0, 12.0);
        let (c, _) = colour_at(&path, 0.5, 0.25, 0.5);
        assert!(is_red(c), "mp4 {i}: left {c:?}");
    }
    // HLS: a playlist per source too, each playable.
    let mut playlists = s.wait_files(json!({"TaskId": hls}), 3..=3, Duration::from_secs(15));
    playlists.sort_by_key(|f| f["StartTimeMs"].as_i64());
    for (i, f) in playlists.iter().enumerate() {
        let path = s.download_hls(f["VideoUrl"].as_str().expect("url"));
        assert_valid(&path, "hls", 1.0, 12.0);
        let (c, _) = colour_at(&path, 0.5, 0.25, 0.5);
        assert!(is_red(c), "hls {i}: left {c:?}");
    }
    let paths: Vec<_> = files.iter().map(|f| s.download_file(f)).collect();
    for p in &paths {
        assert_valid(p, "flv", 1.0, 12.0);
    }
    // Before: A's own 320x180 red picture and 440 Hz only.
    let (c, size) = colour_at(&paths[0], 1.0, 0.75, 0.5);
    assert!(is_red(c) && size == (320, 180), "before: {c:?} {size:?}");
    assert_eq!(tones(&paths[0]), (true, false), "before: A's tone only");
    // During: the mix, red left and blue right, both tones.
    let (l, size) = colour_at(&paths[1], 1.0, 0.25, 0.5);
    let (r, _) = colour_at(&paths[1], 1.0, 0.75, 0.5);
    assert!(
        is_red(l) && is_blue(r) && size == (W as u64, H as u64),
        "during: left {l:?} right {r:?} {size:?}"
    );
    assert_eq!(tones(&paths[1]), (true, true), "during: both tones");
    // After: A's own picture again.
    let (c, size) = colour_at(&paths[2], 1.0, 0.75, 0.5);
    assert!(is_red(c) && size == (320, 180), "after: {c:?} {size:?}");
    assert_eq!(tones(&paths[2]), (true, false), "after: A's tone only");

    // A's publisher leaving ends the mix that replaces it.
    s.sdk("CreateCommonMixStream", replace_request("rooma", "mixra"))
        .ok();
    std::thread::sleep(Duration::from_secs(2));
    a.stop();
    wait_for(Duration::from_secs(10), "mixra offline", || {
        (!online(&s).contains(&"mixra".to_string())).then_some(())
    });
    s.sdk("CreateCommonMixStream", replace_request("rooma", "mixra"))
        .err("FailedOperation.StreamNotExist");
}
