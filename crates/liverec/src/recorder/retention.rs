//! Retention (`storage_time`): deletes files whose expiry has passed, from
//! storage and from the listing. Sleeps until the next expiry (at most a
//! minute) or until a file with an expiry is finished.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::RecorderCtx;

const MAX_SLEEP: Duration = Duration::from_secs(60);
const BATCH: i64 = 100;

/// Runs until `shutdown` is cancelled.
pub async fn run_retention(ctx: Arc<RecorderCtx>, shutdown: CancellationToken) {
    loop {
        let now = ctx.clock.now_ms();
        match ctx.store.expired_files(now, BATCH).await {
            Ok(files) => {
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
                if files.len() as i64 == BATCH {
                    continue;
                }
            }
            Err(e) => tracing::error!(error = %e, "retention query failed"),
        }
        let wait = match ctx.store.next_expiry().await {
            Ok(Some(t)) => {
                Duration::from_millis(u64::try_from(t - ctx.clock.now_ms()).unwrap_or(0))
                    .min(MAX_SLEEP)
            }
            _ => MAX_SLEEP,
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ctx.retention_wake.notified() => {}
            _ = tokio::time::sleep(wait.max(Duration::from_millis(200))) => {}
        }
    }
}
