//! Test-only pieces shared by the recorder's unit tests: a recorder context
//! on a fresh SQLite store and a temporary storage directory, with the clock
//! the test chooses.

use std::sync::Arc;

use super::RecorderCtx;
use crate::clock::Clock;
use crate::storage::Storage;
use crate::store::test_support::{store, two_accounts};

/// A context whose store has accounts "a" and "b"; the directory holds
/// the database and `records/`.
pub(crate) async fn ctx(clock: Arc<dyn Clock>) -> (Arc<RecorderCtx>, tempfile::TempDir) {
    let (store, dir) = store().await;
    two_accounts(&store).await;
    let ctx = RecorderCtx {
        store,
        storage: Storage::open(&dir.path().join("records")).unwrap(),
        clock,
        max_jump_ms: 10_000,
        retention_wake: tokio::sync::Notify::new(),
        hls_target_ms: 6000,
        min_free_bytes: 0,
        reconnect_window_ms: 0,
        callbacks: crate::callbacks::Callbacks::without_default(),
        uploads: Default::default(),
    };
    (Arc::new(ctx), dir)
}

/// A context built in real time (the store's pool has timeouts), then
/// tokio's time paused and a clock reading T0 that follows it.
pub(crate) async fn paused_ctx() -> (Arc<RecorderCtx>, tempfile::TempDir) {
    let (real, dir) = ctx(Arc::new(crate::clock::ManualClock::new(0))).await;
    tokio::time::pause();
    let ctx = Arc::new(RecorderCtx {
        clock: Arc::new(crate::clock::TokioClock::new(T0)),
        store: real.store.clone(),
        storage: real.storage.clone(),
        max_jump_ms: real.max_jump_ms,
        retention_wake: tokio::sync::Notify::new(),
        hls_target_ms: real.hls_target_ms,
        min_free_bytes: real.min_free_bytes,
        reconnect_window_ms: real.reconnect_window_ms,
        callbacks: real.callbacks.clone(),
        uploads: Default::default(),
    });
    (ctx, dir)
}

/// 2026-12-07 12:00:00 CST: where generated media starts on the wall clock.
pub(crate) const T0: i64 = 1_796_616_000_000;

/// H.264 + AAC configurations (the FLV muxer does not parse them).
pub(crate) fn av_tracks() -> media::Tracks {
    use media::{AudioCodec, AudioConfig, VideoCodec, VideoConfig};
    media::Tracks {
        video: Some(Arc::new(VideoConfig {
            codec: VideoCodec::H264,
            record: bytes::Bytes::from_static(&[1, 0x42, 0, 0x1e, 0xff, 0xe1, 0, 0]),
            width: 640,
            height: 360,
            nal_length_size: 4,
        })),
        audio: Some(Arc::new(AudioConfig {
            codec: AudioCodec::Aac,
            sample_rate: 44_100,
            channels: 2,
            asc: bytes::Bytes::from_static(&[0x12, 0x10]),
            flv_header: 0xaf,
        })),
    }
}

/// Media from `from_ms` to before `to_ms` (stream time = wall time - T0):
/// 25 fps video with a keyframe every `gop_ms`, AAC every 23 ms, in
/// arrival order.
pub(crate) fn av_packets(from_ms: i64, to_ms: i64, gop_ms: i64) -> Vec<crate::hub::Packet> {
    use media::{Frame, Track};
    let tracks = av_tracks();
    let packet = |track, t: i64, keyframe| crate::hub::Packet {
        frame: Frame {
            track,
            dts: t,
            cts: 0,
            keyframe,
            data: bytes::Bytes::from_static(&[0, 0, 0, 1, 0x65]),
        },
        tracks: tracks.clone(),
        wall_ms: T0 + t,
    };
    let mut out = Vec::new();
    let mut audio = from_ms.div_euclid(23) * 23;
    let mut t = from_ms;
    while t < to_ms {
        while audio <= t {
            if audio >= from_ms {
                out.push(packet(Track::Audio, audio, true));
            }
            audio += 23;
        }
        out.push(packet(Track::Video, t, t % gop_ms == 0));
        t += 40;
    }
    out
}

/// A live stream `live/s` of session "p1" started at T0, and its publisher.
pub(crate) fn live_stream(hub: &Arc<crate::hub::Hub>) -> crate::hub::Publisher {
    let info = crate::hub::SessionInfo {
        session_id: "p1".into(),
        started_ms: T0,
        client_addr: "127.0.0.1:5".into(),
        stream_param: String::new(),
        owner: "a".into(),
    };
    hub.publish(
        crate::task::StreamKey::new("push.example.com", "live", "s"),
        info,
    )
    .unwrap()
}

/// A task of account "a" for `live/s`, recording FLV cut every
/// `record_interval_s`, from T0 to `end_ms`.
pub(crate) fn flv_plan(record_interval_s: i64, end_ms: i64) -> crate::plan::Plan {
    use crate::plan::{Family, OutputPlan, Plan, PlanKey};
    Plan {
        key: PlanKey::Task(1),
        family: Family::Task,
        account_id: "a".into(),
        task_id: "t1".into(),
        domain: "push.example.com".into(),
        app: "live".into(),
        stream: "s".into(),
        start_ms: T0,
        end_ms,
        record_type: crate::task::RecordType::Video,
        outputs: vec![OutputPlan {
            format: crate::task::FileFormat::Flv,
            record_interval_s,
            storage_time_s: 0,
            file_name: None,
            continue_ms: 0,
        }],
        created_ms: T0,
    }
}

/// The finished files of account "a" as (start - T0, duration), by start.
pub(crate) async fn finished_files(ctx: &RecorderCtx) -> Vec<(i64, i64)> {
    use crate::store::{FileFilter, FileStatus};
    let all = FileFilter {
        limit: 1000,
        ..Default::default()
    };
    let (_, rows) = ctx.store.list_files("a", &all).await.unwrap();
    let mut v: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| {
            assert_eq!(r.status, FileStatus::Finished, "{r:?}");
            assert!(ctx.storage.path_of(&r.storage_key).unwrap().exists());
            (r.start_ms - T0, r.duration_ms)
        })
        .collect();
    v.sort();
    v
}
