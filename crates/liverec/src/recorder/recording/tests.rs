//! Unit tests of a recording's end: EndTime and stops cut by arrival time
//! after draining what is queued; the publisher leaving; the EndTime
//! deadline with paused time.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::clock::ManualClock;
use crate::hub::{Hub, Publisher};
use crate::recorder::test_support::{
    T0, av_packets, ctx, finished_files, flv_plan, live_stream, paused_ctx,
};

fn recording(ctx: &Arc<RecorderCtx>, plan: Plan, p: &Publisher) -> (Recording, CancellationToken) {
    let stop = CancellationToken::new();
    let rec = Recording {
        ctx: ctx.clone(),
        plan: Arc::new(plan),
        stream: p.stream().clone(),
        from_ms: T0,
        stop: stop.clone(),
        resume: Vec::new(),
    };
    (rec, stop)
}

/// A recorder context whose clock stands at `now_ms`, and a hub with a
/// 60 s pre-roll.
async fn at(now_ms: i64) -> (Arc<RecorderCtx>, tempfile::TempDir, Arc<Hub>) {
    let (ctx, dir) = ctx(Arc::new(ManualClock::new(now_ms))).await;
    (ctx, dir, Hub::new(60_000))
}

/// A publisher whose pre-roll holds 10 s of media from T0.
fn ten_seconds(hub: &Arc<Hub>) -> Publisher {
    let mut p = live_stream(hub);
    for packet in av_packets(0, 10_000, 2_000) {
        p.push(packet);
    }
    p
}

/// Runs `rec` while `media_ms` of media go out live on `p` (pushed at once,
/// once the recording has had the chance to subscribe), then ends the
/// publish; what the run returns.
async fn run_live(rec: Recording, mut p: Publisher, media_ms: i64) -> (Ended, Vec<Output>) {
    let run = tokio::spawn(rec.run());
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    for packet in av_packets(0, media_ms, 2_000) {
        p.push(packet);
    }
    drop(p);
    run.await.unwrap()
}

#[tokio::test]
async fn end_time_cuts_by_arrival_time() {
    let (ctx, _dir, hub) = at(T0).await;
    let p = ten_seconds(&hub);
    let (rec, _stop) = recording(&ctx, flv_plan(0, T0 + 4_000), &p);
    let (ended, parked) = rec.run().await;
    assert_eq!(ended, Ended::EndTime);
    assert!(parked.is_empty());
    let files = finished_files(&ctx).await;
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].0, 0);
    assert!((3_950..=4_025).contains(&files[0].1), "{files:?}");
}

#[tokio::test]
async fn a_stop_drains_what_arrived_before_it() {
    // The recorder lags: 10 s are queued when the stop comes at 6 s.
    let (ctx, _dir, hub) = at(T0 + 6_000).await;
    let p = ten_seconds(&hub);
    let (rec, stop) = recording(&ctx, flv_plan(0, T0 + 60_000), &p);
    stop.cancel();
    let (ended, _) = rec.run().await;
    assert_eq!(ended, Ended::Stopped);
    let files = finished_files(&ctx).await;
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].0, 0, "starts at the keyframe at StartTime");
    assert!((5_950..=6_025).contains(&files[0].1), "{files:?}");
}

#[tokio::test]
async fn the_publisher_leaving_ends_the_recording_with_what_it_sent() {
    let (ctx, _dir, hub) = at(T0).await;
    let p = live_stream(&hub);
    // No reconnect window (the default): every file is closed.
    let (rec, _stop) = recording(&ctx, flv_plan(2, T0 + 60_000), &p);
    let (ended, parked) = run_live(rec, p, 5_000).await;
    assert_eq!(ended, Ended::Unpublished);
    assert!(parked.is_empty());
    let starts: Vec<i64> = finished_files(&ctx).await.iter().map(|f| f.0).collect();
    assert_eq!(starts, [0, 2_000, 4_000]);
}

#[tokio::test]
async fn the_end_time_deadline_of_a_seven_day_task_fires_on_a_silent_stream() {
    let (ctx, _dir) = paused_ctx().await;
    let hub = Hub::new(60_000);
    let p = live_stream(&hub);
    let (rec, _stop) = recording(&ctx, flv_plan(0, T0 + 7 * 86_400_000), &p);
    let started = tokio::time::Instant::now();
    let run = tokio::spawn(rec.run());
    tokio::time::sleep(Duration::from_secs(7 * 86_400 - 1)).await;
    assert!(!run.is_finished(), "a 7-day task records for 7 days");
    let (ended, _) = run.await.unwrap();
    assert_eq!(ended, Ended::EndTime);
    // The timer rounds up to its 1 ms tick.
    let took = started.elapsed();
    let week = Duration::from_secs(7 * 86_400);
    assert!(
        took >= week && took <= week + Duration::from_millis(2),
        "{took:?}"
    );
    // Real time again: the store's pool has timeouts.
    tokio::time::resume();
    assert!(finished_files(&ctx).await.is_empty());
}

#[tokio::test]
async fn a_stop_ends_a_silent_recording_at_once() {
    let (ctx, _dir) = paused_ctx().await;
    let hub = Hub::new(60_000);
    let p = live_stream(&hub);
    let (rec, stop) = recording(&ctx, flv_plan(0, T0 + 60_000), &p);
    let started = tokio::time::Instant::now();
    let run = tokio::spawn(rec.run());
    tokio::time::sleep(Duration::from_secs(10)).await;
    stop.cancel();
    let (ended, parked) = run.await.unwrap();
    assert_eq!(ended, Ended::Stopped);
    assert!(parked.is_empty());
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(10) && took <= Duration::from_millis(10_002),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_recorder_that_falls_behind_resumes_at_a_keyframe() {
    let (ctx, _dir, hub) = at(T0).await;
    let p = live_stream(&hub);
    let (rec, _stop) = recording(&ctx, flv_plan(0, T0 + 600_000), &p);
    // 100 s of media (about 6850 packets) while the recording cannot run:
    // more than its queue holds, so the oldest are lost.
    let (ended, _) = run_live(rec, p, 100_000).await;
    assert_eq!(ended, Ended::Unpublished);
    let files = finished_files(&ctx).await;
    assert_eq!(files.len(), 1, "{files:?}");
    let (start, duration) = files[0];
    assert!(start > 0, "the lost start is not recorded: {files:?}");
    assert_eq!(start % 2_000, 0, "it resumes at a keyframe: {files:?}");
    assert!(
        (100_000 - start - 50..=100_000 - start + 25).contains(&duration),
        "{files:?}"
    );
}

/// An FLV plan with a reconnect window; two publish sessions of 5 s each,
/// the second starting its timestamps at 0 again (as ffmpeg does), back
/// `gap_ms` after the first left. Returns the finished files' video tag
/// timestamps, one list per file.
async fn reconnect(window_ms: i64, gap_ms: i64) -> Vec<Vec<u32>> {
    let clock = Arc::new(ManualClock::new(T0));
    let (ctx, _dir) = ctx(clock.clone()).await;
    let hub = Hub::new(60_000);
    let mut plan = flv_plan(0, T0 + 600_000);
    plan.outputs[0].continue_ms = window_ms;
    let p = live_stream(&hub);
    let (rec, _stop) = recording(&ctx, plan.clone(), &p);
    let (ended, parked) = run_live(rec, p, 5_000).await;
    assert_eq!(ended, Ended::Unpublished);
    assert_eq!(
        parked.len(),
        usize::from(window_ms > 0),
        "kept open for the publisher"
    );
    clock.advance(gap_ms);
    let p = live_stream(&hub);
    let (mut rec, _stop) = recording(&ctx, plan, &p);
    rec.resume = parked;
    let (ended, parked) = run_live(rec, p, 5_000).await;
    assert_eq!(ended, Ended::Unpublished);
    for mut o in parked {
        o.close(&ctx).await;
    }
    let all = crate::store::FileFilter {
        limit: 100,
        ..Default::default()
    };
    let (_, mut rows) = ctx.store.list_files("a", &all).await.unwrap();
    rows.sort_by_key(|r| r.start_ms);
    rows.iter()
        .map(|r| {
            assert_eq!(r.status, crate::store::FileStatus::Finished);
            let data = std::fs::read(ctx.storage.path_of(&r.storage_key).unwrap()).unwrap();
            let tags = media::flv::scan(&data).tags;
            tags.iter()
                .filter(|t| t.tag_type == 9)
                .map(|t| t.timestamp)
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn a_publisher_back_within_the_window_continues_the_same_file() {
    let files = reconnect(10_000, 5_000).await;
    assert_eq!(files.len(), 1, "one merged file");
    let v = &files[0];
    // The sequence header and 2 × 125 frames of 40 ms.
    assert_eq!(v.len(), 1 + 250, "no frame lost or repeated");
    let frames = &v[1..];
    assert!(
        frames.windows(2).all(|w| w[1] > w[0]),
        "DTS strictly increasing: {frames:?}"
    );
    // At the join, video continues one frame interval after the last
    // frame of either track (audio may end up to 23 ms after video).
    let gap = frames.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    assert!(gap <= 40 + 23, "the join leaves no gap: {gap} ms");
    assert!(
        (9_900..=10_030).contains(frames.last().unwrap()),
        "{:?}",
        frames.last()
    );
}

#[tokio::test]
async fn a_publisher_back_after_the_window_gets_a_new_file() {
    let files = reconnect(10_000, 15_000).await;
    assert_eq!(files.len(), 2, "two files");
    for v in &files {
        assert_eq!(v.len(), 1 + 125);
    }
    // Without a window at all, too.
    assert_eq!(reconnect(0, 1_000).await.len(), 2);
}
