//! Push tests: the publisher against an in-memory [`rtmp::ServerSession`]
//! on a `tokio::io::duplex` pipe; the pure pieces are tested next to them.

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::Instant;

use super::link::tag_due;
use super::*;

#[path = "../tests/support/fake_server.rs"]
mod fake_server;
use fake_server::{FakeServer, Received};

const H264_AAC: &[u8] = include_bytes!("../../../fixtures/h264_aac_10s.flv");
const URL: &str = "rtmp://test.example:1935/live/s1?k=v";
/// Bodies the fake server keeps (later messages keep only kind and time).
const KEEP_BODIES: usize = 5000;

/// The server end of a pipe: a [`FakeServer`] until the client closes,
/// breaks the protocol or is refused.
async fn fake_server(mut io: DuplexStream, accept: bool) -> Received {
    let mut server = FakeServer::new(accept, KEEP_BODIES);
    let mut buf = vec![0; 64 * 1024];
    while !server.got.refused {
        let n = match io.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let Some(answer) = server.feed(&buf[..n]) else {
            break;
        };
        if io.write_all(&answer).await.is_err() {
            break;
        }
    }
    server.got
}

fn options() -> PushOptions {
    PushOptions {
        realtime: false,
        looping: false,
        seconds: None,
        stall_after_ms: None,
        garbage_after_ms: None,
        streams: None,
        batch_ms: 0,
        ramp_ms: 0,
        file: PathBuf::new(),
        url: URL.into(),
    }
}

/// Pushes the H.264 + AAC fixture to a fake server.
async fn push(opts: PushOptions, accept: bool) -> (Result<PushReport, PushError>, Received) {
    let source = Source::from_bytes(Bytes::from_static(H264_AAC)).unwrap();
    let url = PublishUrl::parse(URL).unwrap();
    let (client, server) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(fake_server(server, accept));
    let result = link::publish(client, &url, &source, &opts, 42).await;
    (result, server.await.unwrap())
}

/// [`push`] to an accepting server with the default options changed by
/// `tweak`, for at most `seconds`.
async fn push_for(
    seconds: Duration,
    tweak: impl FnOnce(&mut PushOptions),
) -> (Result<PushReport, PushError>, Received) {
    let mut opts = PushOptions {
        seconds: Some(seconds),
        ..options()
    };
    tweak(&mut opts);
    push(opts, true).await
}

#[tokio::test]
async fn publishes_every_tag_byte_exact() {
    let (report, got) = push(options(), true).await;
    let report = report.unwrap();
    let source = Source::from_bytes(Bytes::from_static(H264_AAC)).unwrap();
    let tags = source.tags();
    assert_eq!(report.end, End::Finished);
    assert_eq!(report.tags(), tags.len() as u64);
    assert_eq!(report.data_tags, 1);
    assert_eq!(report.rounds, 1);
    assert_eq!(got.app, "live");
    assert_eq!(got.tc_url.as_deref(), Some("rtmp://test.example:1935/live"));
    assert_eq!(got.name, "s1?k=v");
    let sent: Vec<_> = tags.iter().map(|t| (t.kind, t.timestamp)).collect();
    assert_eq!(got.media, sent);
    let bodies: Vec<_> = tags.iter().map(|t| t.body.clone()).collect();
    assert_eq!(got.bodies, bodies);
    assert!(got.bodies[0].starts_with(b"\x02\x00\x0d@setDataFrame\x02\x00\x0aonMetaData"));
    assert!(got.unpublished && !got.failed);
    assert_eq!(report.media_ms, u64::from(tags[tags.len() - 1].timestamp));
}

#[tokio::test]
async fn reports_the_refusal() {
    let (result, got) = push(options(), false).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, PushError::Rejected { code, .. } if code == "NetStream.Publish.BadName"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 4);
    assert!(err.to_string().contains("NetStream.Publish.BadName"));
    assert!(got.media.is_empty());
}

#[tokio::test]
async fn loops_until_the_deadline_with_increasing_timestamps() {
    let (report, got) = push_for(Duration::from_millis(300), |o| o.looping = true).await;
    let report = report.unwrap();
    assert_eq!(report.end, End::Deadline);
    assert!(report.rounds >= 2, "{report}");
    assert_eq!(got.media.len() as u64, report.tags());
    assert_eq!(got.media.iter().filter(|m| m.0 == TagKind::Data).count(), 1);
    for kind in [TagKind::Video, TagKind::Audio] {
        let ts: Vec<u32> = got
            .media
            .iter()
            .filter(|m| m.0 == kind)
            .map(|m| m.1)
            .collect();
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{kind:?}");
        assert!(ts.last().is_some_and(|&t| t > 10_000), "{kind:?}");
    }
    assert!(got.unpublished);
}

#[tokio::test]
async fn stall_keeps_the_connection_and_sends_nothing() {
    let (report, got) = push_for(Duration::from_millis(200), |o| {
        o.stall_after_ms = Some(Duration::ZERO);
    })
    .await;
    let report = report.unwrap();
    assert_eq!((report.end, report.tags()), (End::Deadline, 0));
    assert!(report.wall >= Duration::from_millis(200));
    assert!(got.media.is_empty() && got.unpublished);
}

#[tokio::test]
async fn garbage_breaks_the_session() {
    let (result, got) = push_for(Duration::from_secs(5), |o| {
        o.garbage_after_ms = Some(Duration::ZERO);
    })
    .await;
    let err = result.unwrap_err();
    assert!(matches!(err, PushError::Closed(_)), "{err}");
    assert_eq!(err.exit_code(), 5);
    assert!(got.failed && got.media.is_empty());
}

#[tokio::test]
async fn server_closing_early_is_an_error() {
    let source = Source::from_bytes(Bytes::from_static(H264_AAC)).unwrap();
    let url = PublishUrl::parse(URL).unwrap();
    let (client, server) = tokio::io::duplex(1024);
    drop(server);
    let err = link::publish(client, &url, &source, &options(), 1)
        .await
        .unwrap_err();
    assert!(matches!(err, PushError::Closed(_)), "{err}");
    assert_eq!(err.exit_code(), 5);
}

#[test]
fn realtime_paces_by_media_time() {
    let start = Instant::now();
    let now = start + Duration::from_millis(500);
    assert_eq!(
        tag_due(true, start, now, 1500),
        start + Duration::from_millis(1500)
    );
    // A late tag is due in the past: it goes at once.
    assert!(tag_due(true, start, now, 100) < now);
    assert_eq!(tag_due(false, start, now, 1500), now);
}

#[test]
fn parses_option_values() {
    assert_eq!(parse_seconds("2.5"), Ok(Duration::from_millis(2500)));
    assert!(parse_seconds("-1").is_err() && parse_seconds("x").is_err());
    assert_eq!(parse_ms("250"), Ok(Duration::from_millis(250)));
    assert!(parse_ms("-5").is_err());
}

#[test]
fn exit_codes_and_report() {
    assert_eq!(PushError::Url("x".into()).exit_code(), 1);
    assert_eq!(PushError::Flv("x".into()).exit_code(), 1);
    assert_eq!(PushError::Timeout("connect").exit_code(), 3);
    assert_eq!(PushError::Closed("while publishing").exit_code(), 5);
    let report = PushReport {
        video_tags: 2,
        video_frames: 1,
        audio_tags: 3,
        data_tags: 1,
        body_bytes: 100,
        rounds: 1,
        media_ms: 1500,
        wall: Duration::from_millis(1600),
        garbage_sent: false,
        end: End::Finished,
    };
    assert_eq!(
        report.to_string(),
        "sent 6 tags (2 video, 3 audio, 1 data; 100 bytes) in 1 round(s), \
         1.500 s of media in 1.600 s; end of file"
    );
}

#[tokio::test]
async fn counts_coded_frames_and_batches_without_losing_a_tag() {
    let source = Source::from_bytes(Bytes::from_static(H264_AAC)).unwrap();
    let frames = source
        .tags()
        .iter()
        .filter(|t| t.kind == TagKind::Video && link::is_coded_frame(&t.body))
        .count() as u64;
    let headers = source
        .tags()
        .iter()
        .filter(|t| t.kind == TagKind::Video)
        .count() as u64
        - frames;
    assert!(
        frames > 100 && headers >= 1,
        "{frames} frames, {headers} headers"
    );
    let (plain, got_plain) = push(options(), true).await;
    let (batched, got_batched) = push(
        PushOptions {
            batch_ms: 40,
            ..options()
        },
        true,
    )
    .await;
    let (plain, batched) = (plain.unwrap(), batched.unwrap());
    assert_eq!(plain.video_frames, frames);
    assert_eq!(batched.video_frames, frames);
    assert_eq!(batched.tags(), plain.tags());
    assert_eq!(
        got_batched.media.len(),
        got_plain.media.len(),
        "every tag arrives"
    );
}

#[test]
fn coded_frames_are_told_from_headers() {
    assert!(link::is_coded_frame(&[0x17, 1, 0, 0, 0]));
    assert!(link::is_coded_frame(&[0x27, 1]));
    assert!(
        !link::is_coded_frame(&[0x17, 0, 0, 0, 0]),
        "AVC sequence header"
    );
    assert!(!link::is_coded_frame(&[0x17, 2]), "end of sequence");
    assert!(
        link::is_coded_frame(&[0x91, b'h', b'v', b'c', b'1']),
        "enhanced CodedFrames"
    );
    assert!(link::is_coded_frame(&[0x93]), "enhanced CodedFramesX");
    assert!(
        !link::is_coded_frame(&[0x90, b'h', b'v', b'c', b'1']),
        "enhanced sequence start"
    );
    assert!(!link::is_coded_frame(&[]));
}
