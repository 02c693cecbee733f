//! Retention (`storage_time`): deletes files whose expiry has passed, from
//! storage and from the listing. Sleeps until the next expiry (at most a
//! minute) or until a file with an expiry is finished. "Now" comes from the
//! recorder's clock; a file expires at its expiry ms exactly.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::RecorderCtx;

const MAX_SLEEP: Duration = Duration::from_secs(60);
/// Shortest sleep between sweeps (a failing deletion does not spin).
const MIN_SLEEP: Duration = Duration::from_millis(200);
const BATCH: i64 = 100;

/// Runs until `shutdown` is cancelled.
#[tracing::instrument(name = "retention", skip_all)]
pub async fn run_retention(ctx: Arc<RecorderCtx>, shutdown: CancellationToken) {
    loop {
        if sweep(&ctx, ctx.clock.now_ms()).await >= BATCH {
            continue;
        }
        let next = ctx.store.next_expiry().await.ok().flatten();
        let wait = next_wait(next, ctx.clock.now_ms());
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ctx.retention_wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Deletes (at most a batch of) the files expired at `now`; returns how
/// many the store listed (a full batch means there may be more).
async fn sweep(ctx: &RecorderCtx, now: i64) -> i64 {
    let files = match ctx.store.expired_files(now, BATCH).await {
        Ok(files) => files,
        Err(e) => {
            tracing::error!(error = %e, "retention query failed");
            return 0;
        }
    };
    for f in &files {
        match super::delete_file_bytes(&ctx.storage, f).await {
            Ok(()) => {
                if let Err(e) = ctx.store.delete_file(&f.id, now).await {
                    tracing::error!(file_id = %f.id, error = %e, "could not mark expired file deleted");
                } else {
                    tracing::info!(file_id = %f.id, key = %f.storage_key, "expired file deleted");
                }
            }
            Err(e) => {
                tracing::error!(file_id = %f.id, error = %e, "could not delete expired file")
            }
        }
    }
    i64::try_from(files.len()).unwrap_or(i64::MAX)
}

/// How long to sleep at `now` when the next expiry is `next`: until it,
/// between [`MIN_SLEEP`] and [`MAX_SLEEP`].
fn next_wait(next: Option<i64>, now: i64) -> Duration {
    let wait = match next {
        Some(t) => Duration::from_millis(u64::try_from(t - now).unwrap_or(0)).min(MAX_SLEEP),
        None => MAX_SLEEP,
    };
    wait.max(MIN_SLEEP)
}

#[cfg(test)]
mod tests;
