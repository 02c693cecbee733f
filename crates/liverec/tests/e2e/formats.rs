//! Every output format: containers, codecs, tracks, segmenting, HLS
//! playlists, timestamp repair, pre-roll in the past, crash recovery.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;
use crate::probe::{assert_valid, max_dts_gap, mediainfo};

/// One recording to check: stream, format, RecordType, expected codecs.
struct Case {
    stream: &'static str,
    format: &'static str,
    record_type: &'static str,
    video: Option<&'static str>,
    audio: Option<&'static str>,
    task: i64,
    created: (f64, f64),
    stopped: (f64, f64),
}

/// Downloads and validates a finished file of `c` (HLS: playlist and
/// segments); returns its probe.
fn check(s: &Server, c: &Case, file: &Value) -> crate::probe::Probe {
    let path = s.download_file(file);
    // From the keyframe before creation to the stop.
    let min = c.stopped.0 - c.created.1 - 1.0;
    let max = c.stopped.1 - c.created.0 + GOP + 1.0;
    let p = assert_valid(&path, c.format, min, max);
    assert_eq!(
        p.codec("video"),
        c.video,
        "{} {} {}: video",
        c.stream,
        c.format,
        c.record_type
    );
    assert_eq!(
        p.codec("audio"),
        c.audio,
        "{} {} {}: audio",
        c.stream,
        c.format,
        c.record_type
    );
    // The server files audio formats and RecordType=audio tasks as audio,
    // everything else as video (whatever tracks the stream has).
    let expect_type = if matches!(c.format, "aac" | "mp3") || c.record_type == "audio" {
        "audio"
    } else {
        "video"
    };
    assert_eq!(
        file["RecordType"], expect_type,
        "{} {} {}: RecordType",
        c.stream, c.format, c.record_type
    );
    p
}

#[test]
fn every_format_for_av_audio_only_video_only_and_mp3_streams() {
    let s = Server::start_with(&[("LIVEREC_HLS_SEGMENT_SECONDS", "2")]);
    let streams = [
        ("av", "h264_aac_10s.flv"),
        ("ao", "aac_only_10s.flv"),
        ("vo", "h264_only_10s.flv"),
        ("m3", "h264_mp3_10s.flv"),
    ];
    let _pubs: Vec<Publisher> = streams.iter().map(|(name, f)| s.publish(name, f)).collect();
    std::thread::sleep(Duration::from_secs(2));
    let h264 = Some("h264");
    // (stream, format, RecordType, expected video codec, expected audio codec)
    type Plan = (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    );
    let plan: Vec<Plan> = vec![
        ("av", "flv", "video", h264, Some("aac")),
        ("av", "hls", "video", h264, Some("aac")),
        ("av", "mp4", "video", h264, Some("aac")),
        ("av", "aac", "video", None, Some("aac")),
        ("av", "mp3", "video", None, Some("mp3")),
        ("av", "flv", "audio", None, Some("aac")),
        ("av", "hls", "audio", None, Some("aac")),
        ("av", "mp4", "audio", None, Some("aac")),
        ("ao", "flv", "video", None, Some("aac")),
        ("ao", "hls", "video", None, Some("aac")),
        ("ao", "mp4", "video", None, Some("aac")),
        ("ao", "aac", "video", None, Some("aac")),
        ("ao", "mp3", "video", None, Some("mp3")),
        ("vo", "flv", "video", h264, None),
        ("vo", "hls", "video", h264, None),
        ("vo", "mp4", "video", h264, None),
        ("m3", "flv", "video", h264, Some("mp3")),
        ("m3", "hls", "video", h264, Some("mp3")),
        ("m3", "mp4", "video", h264, Some("mp3")),
        ("m3", "mp3", "video", None, Some("mp3")),
    ];
    // Audio formats on a live stream without audio are refused at once.
    for f in ["aac", "mp3"] {
        s.sdk(
            "CreateLiveRecord",
            json!({"StreamName": "vo", "Highlight": 1, "FileFormat": f}),
        )
        .err_naming("InvalidParameterValue", "without audio");
    }
    let mut cases: Vec<Case> = plan
        .into_iter()
        .map(|(stream, format, record_type, video, audio)| {
            let a = now_f();
            let task = s.create(json!({
                "StreamName": stream, "Highlight": 1, "FileFormat": format, "RecordType": record_type
            }));
            Case { stream, format, record_type, video, audio, task, created: (a, now_f()), stopped: (0.0, 0.0) }
        })
        .collect();
    std::thread::sleep(Duration::from_secs(4));
    // Mid-recording the HLS playlist is readable and lists segments.
    let hls = cases
        .iter()
        .find(|c| c.stream == "av" && c.format == "hls")
        .expect("case");
    let f = s.files(json!({"TaskId": hls.task}));
    assert_eq!(f[0]["Status"], "recording");
    let url = f[0]["VideoUrl"].as_str().expect("url");
    let path = file_path(url);
    let live = http_get(s.api, &path, &[]).expect("playlist");
    assert_eq!(live.status, 200);
    let text = String::from_utf8_lossy(&live.body);
    assert!(
        text.contains("#EXTINF") && text.contains("#EXT-X-PLAYLIST-TYPE:EVENT"),
        "{text}"
    );
    assert!(
        !text.contains("#EXT-X-ENDLIST"),
        "not ended while recording"
    );
    std::thread::sleep(Duration::from_secs(3));
    for c in &mut cases {
        let a = now_f();
        s.sdk(
            "StopLiveRecord",
            json!({"StreamName": c.stream, "TaskId": c.task}),
        )
        .ok();
        c.stopped = (a, now_f());
    }
    for c in &cases {
        let files = s.wait_finished(c.task, 1, Duration::from_secs(5));
        assert_eq!(files[0]["FileFormat"], c.format);
        check(&s, c, &files[0]);
    }
}

#[test]
fn record_interval_cuts_flv_and_mp4_into_files_adding_up_to_the_span() {
    let s = Server::start_with(&[("LIVEREC_MIN_RECORD_INTERVAL", "5")]);
    let _p = s.publish("cut", "h264_aac_10s.flv");
    let t0 = now_s();
    let tasks: Vec<(&str, i64)> = ["flv", "mp4"]
        .into_iter()
        .map(|f| {
            let p = json!({"StreamName": "cut", "FileFormat": f, "StartTime": cst(t0 + 2), "EndTime": cst(t0 + 22), "StreamParam": "record_interval=5"});
            (f, s.create(p))
        })
        .collect();
    sleep_until((t0 + 22) as f64 + 0.5);
    for (format, task) in tasks {
        let files = s.wait_finished(task, 4, Duration::from_secs(5));
        let mut total = 0.0;
        for f in &files {
            let p = assert_valid(&s.download_file(f), format, 0.5, 6.5);
            total += p.duration;
        }
        let span = files_span(&files);
        assert!(
            (total - span).abs() <= 0.2,
            "{format}: files add up to {total}, span {span}"
        );
        assert!((20.0..=22.5).contains(&span), "{format}: span {span}");
    }
}

#[test]
fn timestamp_jumps_are_repaired_and_past_start_times_use_the_preroll() {
    let s = Server::start();
    // The jump fixture: 0-5 s then 35-40 s. Pushed at 8x real time (about
    // 5 s), the whole file arrives inside the window. As fast as ffmpeg
    // goes (10 ms), a loaded machine could see the stream end before the
    // scheduler started its recording.
    let t0 = now_s();
    let task =
        s.create(json!({"StreamName": "jump", "StartTime": cst(t0 + 1), "EndTime": cst(t0 + 30)}));
    sleep_until((t0 + 2) as f64);
    let mut push = Publisher::send_at_rate(&s.rtmp_url("live", "jump"), "h264_aac_ts_jump.flv", 8);
    let status = push.wait_exit(Duration::from_secs(60));
    assert!(
        status.is_some_and(|st| st.success()),
        "ffmpeg sends the fixture within 60 s: {status:?}"
    );
    let files = s.wait_finished(task, 1, Duration::from_secs(10));
    let path = s.download_file(&files[0]);
    let p = assert_valid(&path, "flv", 9.0, 11.0);
    assert!(
        max_dts_gap(&p) < 1.0,
        "the 30 s jump is gone: gap {}",
        max_dts_gap(&p)
    );

    // Highlight with a StartTime 5 s in the past starts at the keyframe at
    // or before it (pre-roll).
    let _p = s.publish("past", "h264_aac_10s.flv");
    std::thread::sleep(Duration::from_secs(8));
    let now = now_f();
    let start = now.floor() as i64 - 5;
    let end = now.ceil() as i64 + 3;
    let task = s.create(
        json!({"StreamName": "past", "Highlight": 1, "StartTime": cst(start), "EndTime": cst(end)}),
    );
    sleep_until(end as f64 + 1.0);
    let files = s.wait_finished(task, 1, Duration::from_secs(3));
    let file_start = files[0]["StartTimeMs"].as_f64().expect("ms") / 1000.0;
    assert!(
        file_start <= start as f64 + 0.1 && file_start >= start as f64 - GOP - 0.2,
        "starts at the keyframe at or before StartTime: {file_start} vs {start}"
    );
    let path = s.download_file(&files[0]);
    assert_valid(
        &path,
        "flv",
        (end - start) as f64 - 0.5,
        (end - start) as f64 + GOP + 0.5,
    );
}

#[test]
fn kill_9_during_every_format_leaves_recovered_valid_files() {
    let mut s = Server::start_with(&[("LIVEREC_HLS_SEGMENT_SECONDS", "2")]);
    let _p = s.publish("crash", "h264_aac_10s.flv");
    let formats = ["flv", "mp4", "hls", "aac", "mp3"];
    let tasks: Vec<(&str, i64, f64)> = formats
        .iter()
        .map(|f| {
            let t = s.create(json!({"StreamName": "crash", "Highlight": 1, "FileFormat": f}));
            (*f, t, now_f())
        })
        .collect();
    std::thread::sleep(Duration::from_secs(7));
    let killed = now_f();
    s.kill();
    s.start_again();
    for (format, task, created) in tasks {
        let files = s.wait_finished(task, 1, Duration::from_secs(10));
        assert_eq!(files[0]["Status"], "recovered", "{format}");
        let path = s.download_file(&files[0]);
        // At most about the last second (plus a partial segment or
        // fragment) is lost.
        let p = assert_valid(
            &path,
            format,
            killed - created - 3.0,
            killed - created + GOP + 1.0,
        );
        let listed = files[0]["Duration"].as_f64().expect("Duration");
        let measured = if format == "aac" {
            p.packet_span()
        } else {
            p.duration
        };
        assert!(
            (listed - measured).abs() < 1.0,
            "{format}: listed {listed} vs media {measured}"
        );
    }
}

#[test]
fn an_audio_task_on_a_video_only_session_gives_no_file() {
    let s = Server::start();
    let t0 = now_s();
    let task = s.create(json!({"StreamName": "mute", "FileFormat": "aac", "StartTime": cst(t0 + 1), "EndTime": cst(t0 + 8)}));
    sleep_until((t0 + 2) as f64);
    let _p = s.publish("mute", "h264_only_10s.flv");
    sleep_until((t0 + 8) as f64 + 1.0);
    assert!(s.files(json!({"TaskId": task})).is_empty());
    assert!(
        s.log().contains("the stream has no audio"),
        "a log line says why"
    );
}

/// Reads an FLV with the project's demuxer (FFmpeg 5.1 cannot read HEVC in
/// FLV): the video codec, frame count, first frame a keyframe, DTS strictly
/// increasing per track.
fn flv_video_frames(path: &std::path::Path) -> (media::VideoCodec, usize) {
    use media::flv::{DemuxEvent, TagDemuxer, scan, tag_type};
    let data = std::fs::read(path).expect("read");
    let mut demux = TagDemuxer::new();
    let (mut codec, mut frames, mut last) = (None, Vec::new(), [i64::MIN; 2]);
    for tag in scan(&data).tags {
        let body = bytes::Bytes::copy_from_slice(&data[tag.body.clone()]);
        let ts = i64::from(tag.timestamp);
        let events = match tag.tag_type {
            tag_type::VIDEO => demux.video(ts, body).expect("video tag"),
            tag_type::AUDIO => demux.audio(ts, body).expect("audio tag"),
            _ => continue,
        };
        for ev in events {
            match ev {
                DemuxEvent::VideoConfig(c) => codec = Some(c.codec),
                DemuxEvent::Frame(f) => {
                    let i = usize::from(f.track == media::Track::Audio);
                    assert!(f.dts > last[i], "DTS strictly increasing");
                    last[i] = f.dts;
                    if f.track == media::Track::Video {
                        frames.push(f.keyframe);
                    }
                }
                _ => {}
            }
        }
    }
    assert_eq!(
        frames.first(),
        Some(&true),
        "first video frame is a keyframe"
    );
    (codec.expect("a video configuration"), frames.len())
}

#[test]
fn h265_passes_through_to_flv_mp4_and_hls() {
    let s = Server::start_with(&[("LIVEREC_HLS_SEGMENT_SECONDS", "2")]);
    let url = s.rtmp_url("live", "hevc");
    let _p = s.publish_with("hevc", || Publisher::push(&url, "h265_aac_10s.flv"));
    std::thread::sleep(Duration::from_secs(2));
    let tasks: Vec<(&str, i64, f64)> = ["flv", "mp4", "hls"]
        .into_iter()
        .map(|f| {
            (
                f,
                s.create(json!({"StreamName": "hevc", "Highlight": 1, "FileFormat": f})),
                now_f(),
            )
        })
        .collect();
    std::thread::sleep(Duration::from_secs(6));
    for (format, task, created) in tasks {
        let stop = now_f();
        s.sdk(
            "StopLiveRecord",
            json!({"StreamName": "hevc", "TaskId": task}),
        )
        .ok();
        let files = s.wait_finished(task, 1, Duration::from_secs(5));
        let url = files[0]["VideoUrl"].as_str().expect("url");
        let (min, max) = (stop - created - 1.0, now_f() - created + GOP + 2.0);
        match format {
            "flv" => {
                let path = s.download(url);
                let (codec, frames) = flv_video_frames(&path);
                assert_eq!(codec, media::VideoCodec::H265);
                let secs = frames as f64 / 30.0;
                assert!(
                    secs >= min && secs <= max,
                    "{frames} frames for [{min}, {max}] s"
                );
                // Independent of the project's demuxer: mediainfo reads the
                // container, the video timestamps, the picture size and the
                // audio; 23.04 does not name the `hvc1` codec. Its frame
                // count is the video span at the constant rate it finds: one
                // frame of rounding, and 3 more when the file spans the
                // publisher's loop point (the fixture's last video frame is
                // ~85 ms before the audio ends, so the loop leaves a gap).
                let mi = mediainfo(&path);
                let raw = &mi.raw;
                assert_eq!(mi.field("General", "Format"), Some("Flash Video"), "{raw}");
                for kind in ["Video", "Audio"] {
                    let secs = mi.number(kind, "Duration").expect("duration");
                    assert!(
                        secs >= min && secs <= max,
                        "mediainfo: {kind} {secs} s not in [{min}, {max}]: {raw}"
                    );
                }
                assert_eq!(mi.field("Video", "FrameRate"), Some("30.000"), "{raw}");
                let counted = mi.number("Video", "FrameCount").expect("frame count");
                assert!(
                    (counted - frames as f64).abs() <= 4.0,
                    "mediainfo counts {counted} frames, the demuxer {frames}: {raw}"
                );
                assert_eq!(mi.field("Video", "Width"), Some("640"), "{raw}");
                assert_eq!(mi.field("Video", "Height"), Some("360"), "{raw}");
                assert_eq!(mi.field("Audio", "Format"), Some("AAC"), "{raw}");
            }
            "hls" => {
                let path = s.download_hls(url);
                let p = assert_valid(&path, "hls", min, max);
                assert_eq!(p.codec("video"), Some("hevc"));
                assert_eq!(p.codec("audio"), Some("aac"));
            }
            _ => {
                let p = assert_valid(&s.download(url), format, min, max);
                assert_eq!(p.codec("video"), Some("hevc"));
                assert_eq!(p.codec("audio"), Some("aac"));
            }
        }
    }
}

/// `preroll_storage = "disk"`: a task whose StartTime lies 10 s back records
/// from the pre-roll segment files (a keyframe at or before StartTime) in
/// every format; the segment files go once the publisher leaves.
#[test]
fn a_past_start_time_records_from_a_disk_preroll_in_every_format() {
    let s = Server::start_with(&[
        ("LIVEREC_PREROLL_STORAGE", "disk"),
        ("LIVEREC_PREROLL_SECONDS", "20"),
    ]);
    let spill = s.data_dir().join("preroll");
    let mut p = s.publish("disk", "h264_aac_10s.flv");
    std::thread::sleep(Duration::from_secs(13));
    assert!(
        std::fs::read_dir(&spill).expect("preroll dir").count() >= 5,
        "segment files on disk"
    );
    let now = now_f();
    let start = now.floor() as i64 - 10;
    // Four SDK calls on a loaded machine take seconds: EndTime must still
    // be ahead after the last.
    let end = now.ceil() as i64 + 8;
    let tasks: Vec<(&str, i64)> = ["flv", "mp4", "hls", "aac"]
        .into_iter()
        .map(|f| {
            let t = s.create(json!({"StreamName": "disk", "FileFormat": f,
                "StartTime": cst(start), "EndTime": cst(end)}));
            (f, t)
        })
        .collect();
    sleep_until(end as f64 + 1.0);
    for (format, task) in tasks {
        let files = s.wait_finished(task, 1, Duration::from_secs(5));
        let file_start = files[0]["StartTimeMs"].as_f64().expect("ms") / 1000.0;
        assert!(
            file_start <= start as f64 + 0.1 && file_start >= start as f64 - GOP - 0.2,
            "{format}: starts at the keyframe at or before StartTime: {file_start} vs {start}"
        );
        let path = if format == "hls" {
            s.download_hls(files[0]["VideoUrl"].as_str().expect("url"))
        } else {
            s.download_file(&files[0])
        };
        assert_valid(
            &path,
            format,
            (end - start) as f64 - 1.0,
            (end - start) as f64 + GOP + 1.0,
        );
    }
    p.stop();
    wait_for(Duration::from_secs(10), "pre-roll files removed", || {
        (std::fs::read_dir(&spill).expect("preroll dir").count() == 0).then_some(())
    });
}
