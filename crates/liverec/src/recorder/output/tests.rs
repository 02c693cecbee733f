//! Unit tests of `record_interval` cutting: media time decides, cuts fall
//! on the first keyframe at or after the interval.

use std::sync::Arc;

use super::*;
use crate::clock::ManualClock;
use crate::hub::Hub;
use crate::recorder::test_support::{T0, av_packets, ctx, finished_files, flv_plan, live_stream};

#[test]
fn a_cut_is_due_at_a_keyframe_once_the_interval_is_reached() {
    assert!(!cut_due(2_999, 3, true));
    assert!(cut_due(3_000, 3, true), "exactly at the interval");
    assert!(cut_due(3_001, 3, true));
    assert!(!cut_due(5_000, 3, false), "waits for a keyframe");
    assert!(!cut_due(i64::MAX, 0, true), "0 = one file per session");
    assert!(!cut_due(i64::MAX - 1, i64::MAX, true), "no overflow");
}

/// Records `av_packets(0, total_ms, gop_ms)` cut every `interval_s`; returns
/// the files as (start, duration) ms.
async fn record(interval_s: i64, gop_ms: i64, total_ms: i64) -> Vec<(i64, i64)> {
    let (ctx, _dir) = ctx(Arc::new(ManualClock::new(T0))).await;
    let hub = Hub::new(0);
    let publisher = live_stream(&hub);
    let stream = publisher.stream().clone();
    let plan = flv_plan(interval_s, T0 + total_ms);
    let mut out = Output::new(&plan.outputs[0], &plan, true, true).unwrap();
    assert!(
        out.carries_video() && !out.park(&ctx, T0),
        "nothing open to keep"
    );
    for p in av_packets(0, total_ms, gop_ms) {
        out.write(&ctx, &plan, &stream, &p).await;
    }
    out.close(&ctx).await;
    finished_files(&ctx).await
}

#[tokio::test]
async fn files_are_cut_at_the_first_keyframe_after_the_interval() {
    // Keyframes every 2 s, interval 3 s: the 2 s keyframe is too early,
    // the 4 s one cuts.
    let files = record(3, 2_000, 10_000).await;
    let starts: Vec<i64> = files.iter().map(|f| f.0).collect();
    assert_eq!(starts, [0, 4_000, 8_000]);
    for (i, &(start, duration)) in files.iter().enumerate() {
        let end = files.get(i + 1).map_or(10_000, |f| f.0);
        assert!(
            (end - start - 50..=end - start + 25).contains(&duration),
            "file {i}: {duration} ms of {start}..{end}"
        );
    }
}

#[tokio::test]
async fn an_interval_on_a_keyframe_cuts_there() {
    let files = record(2, 2_000, 7_000).await;
    let starts: Vec<i64> = files.iter().map(|f| f.0).collect();
    assert_eq!(starts, [0, 2_000, 4_000, 6_000]);
}

#[tokio::test]
async fn no_interval_is_one_file() {
    let files = record(0, 2_000, 10_000).await;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, 0);
    assert!(files[0].1 >= 9_900, "{files:?}");
}

#[tokio::test]
async fn a_long_gop_delays_the_cut() {
    // Keyframes every 5 s, interval 1 s.
    let files = record(1, 5_000, 12_000).await;
    let starts: Vec<i64> = files.iter().map(|f| f.0).collect();
    assert_eq!(starts, [0, 5_000, 10_000]);
}
