//! Recordings: a recording subscribes to one live stream for one task,
//! repairs timestamps, cuts segments, muxes into files and finalizes them
//! (`recording`, `file`); the scheduler arms tasks and starts or stops
//! recordings at their times and on publish events (`scheduler`); crash
//! recovery turns files left open by a dead process into valid files
//! (`recovery`); retention deletes expired files (`retention`).

mod file;
mod recording;
mod recovery;
mod retention;
mod scheduler;

use std::sync::Arc;

use crate::clock::Clock;
use crate::storage::Storage;
use crate::store::Store;

pub use recovery::recover_open_files;
pub use retention::run_retention;
pub use scheduler::{Scheduler, StillRecording};

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
}
