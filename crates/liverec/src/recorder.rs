//! Recordings: a recording subscribes to one live stream for one task and
//! feeds every output format (`recording`, `output`); single files repair
//! timestamps, mux and cut at `record_interval` (`file`, `spool`), HLS
//! writes segments and a growing playlist (`hls`); both open files with a
//! key and a row (`naming`, `start`) and close them through `finalize`; the
//! scheduler arms tasks and starts or stops recordings at their times and on
//! publish events (`scheduler`); crash recovery turns files left open by a
//! dead process into valid files with the recoverers of `media::recover`
//! (`recovery`); retention deletes expired files (`retention`); with S3
//! storage, closed files go up to the bucket in the background and are
//! final only once there (`upload`); single files start their multipart
//! upload while recording (`live_upload`).

mod file;
mod finalize;
mod hls;
mod live_upload;
mod naming;
mod output;
mod plans;
mod recording;
mod recovery;
mod retention;
mod scheduler;
mod silence;
mod spool;
mod start;
mod takeover;
#[cfg(test)]
mod test_support;
mod upload;

use std::sync::Arc;

use crate::clock::Clock;
use crate::storage::Storage;
use crate::store::{FileRow, Store};
use crate::task::FileFormat;

pub use plans::{armed_plans, task_plan};
pub use recovery::recover_open_files;
pub use retention::run_retention;
pub use scheduler::{Scheduler, StillRecording};
pub use takeover::{drop_finished_spool, recover_from_bucket};
pub use upload::{Uploads, run_uploads};

/// What recordings need from the rest of the service.
#[derive(Debug)]
pub struct RecorderCtx {
    /// Database.
    pub store: Store,
    /// Where files go.
    pub storage: Storage,
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// Forward timestamp jumps larger than this are repaired, ms.
    pub max_jump_ms: i64,
    /// Woken when a file with a retention deadline is finished.
    pub retention_wake: tokio::sync::Notify,
    /// HLS segment target duration, ms.
    pub hls_target_ms: i64,
    /// Free-space floor, bytes (0 = none): below it no file is opened and
    /// open files are finalized.
    pub min_free_bytes: u64,
    /// Reconnect window of outputs whose plan sets none, ms (0 = each
    /// publish session gets its own files).
    pub reconnect_window_ms: i64,
    /// Events of files and recordings (100, 332, 341).
    pub callbacks: crate::callbacks::Callbacks,
    /// Uploads to the bucket (S3 storage); see [`run_uploads`].
    pub uploads: Uploads,
}

impl RecorderCtx {
    /// Err(free bytes) when the storage filesystem is below the floor. A
    /// filesystem that cannot be asked counts as having room (the write
    /// itself will fail, and a failed write ends the file cleanly).
    pub(crate) fn check_free_space(&self) -> Result<(), u64> {
        if self.min_free_bytes == 0 {
            return Ok(());
        }
        match self.storage.free_bytes() {
            Ok(free) if free < self.min_free_bytes => {
                metrics::counter!("liverec_low_disk_refusals_total").increment(1);
                Err(free)
            }
            _ => Ok(()),
        }
    }
}

impl RecorderCtx {
    /// Writes recording status/exception events off the recording's path
    /// (they announce no stored change, so they need no transaction of
    /// their own with one); a failure is logged.
    pub(crate) fn announce(&self, events: Vec<crate::store::NewEvent>) {
        let (store, callbacks) = (self.store.clone(), self.callbacks.clone());
        tokio::spawn(async move {
            match store.enqueue_events(&events).await {
                Ok(n) if n > 0 => callbacks.wake(),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "writing recording events failed"),
            }
        });
    }
}

/// Deletes the bytes of a recorded file (an HLS playlist with its segments).
pub async fn delete_file_bytes(storage: &Storage, row: &FileRow) -> std::io::Result<()> {
    match row.format {
        FileFormat::Hls => hls::delete(storage, &row.storage_key).await,
        _ => storage.delete(&row.storage_key).await,
    }
}
