//! Uploads to the bucket (S3 storage only): files closed on the local spool
//! go up in the background, so a slow or unreachable bucket never stalls a
//! recording. Jobs of one file run in order on a worker of their own (HLS:
//! each segment, then the playlist that lists it); a failed upload is
//! retried with back-off for as long as the outage lasts, while the media
//! waits on the spool (the free-space floor still applies to it). A file's
//! row becomes `finished`/`recovered`, with its callback event, only once
//! every object is in the bucket; only then is its local copy removed. A
//! process that dies first leaves the row `recording` and the local files,
//! which crash recovery finishes and uploads again.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::RecorderCtx;
use super::live_upload::{self, LiveParts};
use crate::store::{FileRow, FileStatus};

/// First retry delay; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(15);
/// Objects or parts uploaded at once (each up to one part in memory).
const CONCURRENT_UPLOADS: usize = 4;
/// Failed attempts to finish an upload begun while recording before the
/// file is sent whole instead (the server may have lost the upload).
const LIVE_ATTEMPTS: u32 = 10;

/// What a file's row becomes once its objects are all in the bucket.
pub(super) struct Done {
    pub(super) row: FileRow,
    pub(super) status: FileStatus,
    pub(super) duration_ms: i64,
    pub(super) size: u64,
}

/// Objects of one file to upload, in order.
pub(super) struct Job {
    file_id: String,
    /// Storage keys; each local copy is removed after its upload unless
    /// `done` is set (then after the row is final).
    keys: Vec<String>,
    /// Keys uploaded again by later jobs (the growing HLS playlist): their
    /// local copy stays.
    keep: Vec<String>,
    done: Option<Done>,
    /// The multipart upload of the first key, begun while recording.
    live: Option<LiveParts>,
}

impl Job {
    /// Objects of a file that is still being written; `keep` stay local.
    pub(super) fn partial(file_id: &str, keys: Vec<String>, keep: Vec<String>) -> Job {
        Job {
            file_id: file_id.to_string(),
            keys,
            keep,
            done: None,
            live: None,
        }
    }

    /// The last objects of a file, then its final row.
    pub(super) fn last(keys: Vec<String>, done: Done) -> Job {
        Job {
            file_id: done.row.id.clone(),
            keys,
            keep: Vec::new(),
            done: Some(done),
            live: None,
        }
    }

    /// Continues `live`, the upload of the first key begun while recording.
    pub(super) fn with_live(mut self, live: Option<LiveParts>) -> Job {
        self.live = live;
        self
    }
}

/// The upload queue (one per process).
#[derive(Debug)]
pub struct Uploads {
    tx: mpsc::UnboundedSender<Job>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Job>>>,
    /// Jobs submitted and not yet finished.
    pending: AtomicUsize,
    idle: Notify,
    /// Uploads at once, shared with the parts sent while recording
    /// (`live_upload`): it bounds the memory of part buffers.
    slots: Arc<Semaphore>,
}

impl Default for Uploads {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Uploads {
            tx,
            rx: Mutex::new(Some(rx)),
            pending: AtomicUsize::new(0),
            idle: Notify::new(),
            slots: Arc::new(Semaphore::new(CONCURRENT_UPLOADS)),
        }
    }
}

impl Uploads {
    /// Queues `job` (run once [`run_uploads`] runs).
    pub(super) fn submit(&self, job: Job) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        metrics::gauge!("liverec_uploads_pending").increment(1.0);
        if self.tx.send(job).is_err() {
            self.finished_one();
        }
    }

    fn finished_one(&self) {
        metrics::gauge!("liverec_uploads_pending").decrement(1.0);
        if self.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// The upload slots, for uploads outside the queue.
    pub(super) fn slots(&self) -> Arc<Semaphore> {
        self.slots.clone()
    }

    /// Jobs not finished yet.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Waits until every queued job is finished, at most `limit`; returns
    /// whether they all were.
    pub async fn drain(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let idle = self.idle.notified();
                if self.pending() == 0 {
                    return;
                }
                idle.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}

/// Runs the upload queue until `shutdown`; jobs left unfinished then are
/// finished by crash recovery at the next start.
#[tracing::instrument(name = "uploads", skip_all)]
pub async fn run_uploads(ctx: Arc<RecorderCtx>, shutdown: CancellationToken) {
    let Some(mut rx) = ctx.uploads.rx.lock().await.take() else {
        return;
    };
    let mut workers: HashMap<String, mpsc::UnboundedSender<Job>> = HashMap::new();
    loop {
        let job = tokio::select! {
            _ = shutdown.cancelled() => return,
            j = rx.recv() => match j {
                Some(j) => j,
                None => return,
            },
        };
        workers.retain(|_, tx| !tx.is_closed());
        let id = job.file_id.clone();
        let job = match workers.get(&id) {
            Some(tx) => match tx.send(job) {
                Ok(()) => continue,
                Err(mpsc::error::SendError(j)) => j,
            },
            None => job,
        };
        let (tx, wrx) = mpsc::unbounded_channel();
        let _ = tx.send(job);
        workers.insert(id, tx);
        tokio::spawn(worker(ctx.clone(), wrx, shutdown.clone()));
    }
}

/// Runs one file's jobs in order; ends after its last job.
async fn worker(
    ctx: Arc<RecorderCtx>,
    mut rx: mpsc::UnboundedReceiver<Job>,
    shutdown: CancellationToken,
) {
    while let Some(job) = rx.recv().await {
        let last = job.done.is_some();
        let ok = run_job(&ctx, job, &shutdown).await;
        ctx.uploads.finished_one();
        if last || !ok {
            break;
        }
    }
    // Anything still queued for this file is left to recovery.
    rx.close();
    while rx.recv().await.is_some() {
        ctx.uploads.finished_one();
    }
}

/// Sleeps `d`, false when shutdown came first.
async fn pause(d: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

/// Uploads one key until it is in the bucket; false on shutdown (or when
/// its local file is gone, which no retry can mend).
async fn upload_key(
    ctx: &RecorderCtx,
    file_id: &str,
    key: &str,
    mut live: Option<LiveParts>,
    duration_ms: i64,
    shutdown: &CancellationToken,
) -> bool {
    let ledger = live_upload::Ledger {
        store: ctx.store.clone(),
        clock: ctx.clock.clone(),
        file_id: file_id.to_string(),
    };
    let mut delay = FIRST_BACKOFF;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let started = std::time::Instant::now();
        if attempt > LIVE_ATTEMPTS
            && let Some(l) = live.take()
        {
            tracing::warn!(%file_id, %key, "giving up the upload begun while recording; sending the file whole");
            l.abort().await;
            if let Err(e) = ctx.store.forget_upload(file_id).await {
                tracing::warn!(%file_id, error = %e, "could not forget the aborted upload");
            }
        }
        let r = match ctx.uploads.slots.acquire().await {
            Ok(_slot) => match (live.as_mut(), ctx.storage.bucket()) {
                (Some(l), Some(b)) => match ctx.storage.path_of(key) {
                    Ok(path) => live_upload::finish(b, key, &path, l, &ledger, duration_ms).await,
                    Err(e) => Err(e),
                },
                _ => ctx.storage.upload(key).await,
            },
            Err(_) => return false,
        };
        match r {
            Ok(size) => {
                metrics::counter!("liverec_uploaded_bytes_total").increment(size);
                tracing::debug!(%file_id, %key, size, ms = started.elapsed().as_millis() as u64, "uploaded");
                if attempt > 1 {
                    tracing::info!(%file_id, %key, attempt, "upload succeeded after retries");
                }
                return true;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::error!(%file_id, %key, error = %e, "the local copy to upload is gone");
                return false;
            }
            Err(e) => {
                metrics::counter!("liverec_upload_failures_total").increment(1);
                tracing::warn!(%file_id, %key, attempt, retry_in_ms = delay.as_millis() as u64, error = %e, "upload failed; retrying");
            }
        }
        if !pause(delay, shutdown).await {
            return false;
        }
        delay = (delay * 2).min(MAX_BACKOFF);
    }
}

/// Uploads a job's keys, then (last job) records the final row and drops
/// the local copies. False when it stopped early.
async fn run_job(ctx: &RecorderCtx, mut job: Job, shutdown: &CancellationToken) -> bool {
    for (i, key) in job.keys.iter().enumerate() {
        let live = if i == 0 { job.live.take() } else { None };
        let duration_ms = job.done.as_ref().map_or(0, |d| d.duration_ms);
        if !upload_key(ctx, &job.file_id, key, live, duration_ms, shutdown).await {
            return false;
        }
        if job.done.is_none() && !job.keep.contains(key) {
            drop_local(ctx, key).await;
        }
    }
    let Some(done) = job.done else {
        return true;
    };
    let mut delay = FIRST_BACKOFF;
    loop {
        let r = super::finalize::complete(
            ctx,
            done.row.clone(),
            done.status,
            done.duration_ms,
            done.size,
        )
        .await;
        match r {
            Ok(_) => break,
            Err(e) => {
                tracing::error!(file_id = %job.file_id, error = %e, "recording the uploaded file failed; retrying");
                if !pause(delay, shutdown).await {
                    return false;
                }
                delay = (delay * 2).min(MAX_BACKOFF);
            }
        }
    }
    for key in &job.keys {
        drop_local(ctx, key).await;
    }
    true
}

async fn drop_local(ctx: &RecorderCtx, key: &str) {
    if let Err(e) = ctx.storage.drop_local(key).await {
        tracing::warn!(%key, error = %e, "could not remove the uploaded local copy");
    }
}
