//! Unit tests of retention: expiry at the boundary, batches, the sleep
//! between sweeps, and the loop woken by a finished file.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::*;
use crate::clock::ManualClock;
use crate::recorder::test_support::ctx;
use crate::store::FileStatus;
use crate::store::test_support::file_row;

const T0: i64 = 1_796_616_000_000;

/// A finished file of account "a" expiring at `expire_ms`, with bytes.
async fn finished_file(ctx: &RecorderCtx, id: &str, expire_ms: i64) {
    let mut f = file_row(id, "a", "1", T0 - 10_000);
    f.status = FileStatus::Finished;
    f.storage_time_s = 10;
    f.expire_ms = Some(expire_ms);
    let path = ctx.storage.path_of(&f.storage_key).unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"flv").unwrap();
    ctx.store.insert_file(&f, T0 - 10_000).await.unwrap();
    ctx.store.complete_file(&f, &[]).await.unwrap();
}

async fn listed(ctx: &RecorderCtx, id: &str) -> bool {
    ctx.store.file("a", id).await.unwrap().is_some()
}

fn on_disk(ctx: &RecorderCtx, id: &str) -> bool {
    ctx.storage
        .path_of(&format!("k/{id}.flv"))
        .unwrap()
        .exists()
}

#[tokio::test]
async fn a_file_expires_exactly_at_its_expiry() {
    let (ctx, _dir) = ctx(Arc::new(ManualClock::new(T0))).await;
    finished_file(&ctx, "f1", T0 + 1_000).await;
    finished_file(&ctx, "f2", T0 + 1_001).await;
    assert_eq!(sweep(&ctx, T0 + 999).await, 0);
    assert!(listed(&ctx, "f1").await && on_disk(&ctx, "f1"));
    assert_eq!(sweep(&ctx, T0 + 1_000).await, 1);
    assert!(!listed(&ctx, "f1").await && !on_disk(&ctx, "f1"));
    assert!(
        listed(&ctx, "f2").await && on_disk(&ctx, "f2"),
        "1 ms later"
    );
    assert_eq!(ctx.store.next_expiry().await.unwrap(), Some(T0 + 1_001));
    assert_eq!(sweep(&ctx, T0 + 1_001).await, 1);
    assert!(!listed(&ctx, "f2").await);
    assert_eq!(ctx.store.next_expiry().await.unwrap(), None);
}

#[tokio::test]
async fn a_file_still_recording_or_kept_forever_is_not_deleted() {
    let (ctx, _dir) = ctx(Arc::new(ManualClock::new(T0))).await;
    let mut open = file_row("open", "a", "1", T0);
    open.expire_ms = Some(T0);
    ctx.store.insert_file(&open, T0).await.unwrap();
    let mut forever = file_row("forever", "a", "1", T0);
    forever.status = FileStatus::Finished;
    ctx.store.insert_file(&forever, T0).await.unwrap();
    ctx.store.complete_file(&forever, &[]).await.unwrap();
    assert_eq!(sweep(&ctx, i64::MAX).await, 0);
    assert!(listed(&ctx, "open").await && listed(&ctx, "forever").await);
}

#[tokio::test]
async fn sweeps_delete_in_batches() {
    let (ctx, _dir) = ctx(Arc::new(ManualClock::new(T0))).await;
    for i in 0..=BATCH {
        finished_file(&ctx, &format!("f{i}"), T0 + i).await;
    }
    assert_eq!(
        sweep(&ctx, T0 + BATCH).await,
        BATCH,
        "a full batch: sweep again"
    );
    assert_eq!(sweep(&ctx, T0 + BATCH).await, 1);
    assert_eq!(sweep(&ctx, T0 + BATCH).await, 0);
}

#[test]
fn the_sleep_reaches_the_next_expiry_within_bounds() {
    assert_eq!(next_wait(None, T0), MAX_SLEEP);
    assert_eq!(next_wait(Some(T0 + 5_000), T0), Duration::from_secs(5));
    assert_eq!(next_wait(Some(T0 + 3_600_000), T0), MAX_SLEEP);
    assert_eq!(next_wait(Some(T0 + 60_000), T0), MAX_SLEEP);
    assert_eq!(
        next_wait(Some(T0 + 59_999), T0),
        Duration::from_millis(59_999)
    );
    assert_eq!(next_wait(Some(T0 + 100), T0), MIN_SLEEP);
    assert_eq!(next_wait(Some(T0), T0), MIN_SLEEP);
    assert_eq!(next_wait(Some(T0 - 5_000), T0), MIN_SLEEP, "overdue");
}

#[tokio::test]
async fn the_loop_deletes_what_expires_when_woken() {
    let clock = Arc::new(ManualClock::new(T0));
    let (ctx, _dir) = ctx(clock.clone()).await;
    finished_file(&ctx, "old", T0 - 1).await;
    finished_file(&ctx, "new", T0 + 3_600_000).await;
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(run_retention(ctx.clone(), shutdown.clone()));
    // The first sweep deletes what already expired.
    for _ in 0..500 {
        if !listed(&ctx, "old").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!listed(&ctx, "old").await && !on_disk(&ctx, "old"));
    // An hour later on the wall clock; the loop sleeps up to a minute of
    // real time, so a finished file's notification wakes it.
    clock.advance(3_600_000);
    for _ in 0..500 {
        ctx.retention_wake.notify_one();
        if !listed(&ctx, "new").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!listed(&ctx, "new").await && !on_disk(&ctx, "new"));
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}
