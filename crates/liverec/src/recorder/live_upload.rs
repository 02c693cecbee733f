//! The multipart upload of a single-file recording (FLV, AAC, MP3) while it
//! is written, with S3 storage. Parts are cut where a media unit ends (an
//! FLV tag, an ADTS or MP3 frame: the spool reports the file's length and
//! media time after each flush, always between units), each at least the
//! bucket's part size, so the parts sent so far always join into a file
//! that ends cleanly. Part 1 goes up like the others (its header is
//! provisional: the FLV onMetaData duration and size, the MP3 Info tag are
//! patched at close and the part sent again then). With `s3_part_seconds`
//! the growing last part is also sent every that many seconds under its
//! number (the bucket keeps the newest). Each part's number, size, ETag and
//! media end time go to the database as it completes (`store::uploads`),
//! so a peer that takes this node over after its death can complete the
//! upload from the bucket alone (`takeover`). At close the upload job sends
//! what is left (the tail, part 1, any part a patch rewrote) and completes
//! the upload (`upload`). The spool file keeps every byte until the object
//! is complete, so a failed part costs only a retry.

use std::collections::{BTreeSet, VecDeque};
use std::io::SeekFrom;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::storage::{Bucket, Multipart};
use crate::store::{Store, UploadPart};

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(15);
/// Flush marks kept while the uploader is behind (one a second); past
/// this every other one is dropped, which only makes parts larger.
const MAX_MARKS: usize = 4096;

/// A point of the spool file where a unit ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Mark {
    /// Bytes from the start of the file.
    pub(super) bytes: u64,
    /// Media time written up to there, ms.
    pub(super) media_ms: i64,
}

/// What was sent while recording.
#[derive(Default)]
pub(super) struct LiveParts {
    /// The multipart upload, once its first part went up.
    pub(super) upload: Option<Multipart>,
    /// Where each full part ends (part i covers the previous end to this).
    pub(super) cuts: Vec<Mark>,
    /// Full parts (0-based) whose bytes in the upload are still current.
    pub(super) sent: BTreeSet<usize>,
}

impl LiveParts {
    /// Byte range of part `index` of a file of `len` bytes (the tail runs
    /// to the end of the file).
    fn range(&self, index: usize, len: u64) -> Range<u64> {
        let start = if index == 0 {
            0
        } else {
            self.cuts[index - 1].bytes
        };
        let end = self.cuts.get(index).map_or(len, |m| m.bytes);
        start..end
    }

    /// Forgets parts that `patched` ranges rewrote after they were sent.
    pub(super) fn invalidate(&mut self, patched: &[Range<u64>]) {
        let mut start = 0;
        for (i, end) in self.cuts.iter().map(|m| m.bytes).enumerate() {
            if patched.iter().any(|r| r.start < end && r.end > start) {
                self.sent.remove(&i);
            }
            start = end;
        }
    }

    /// Gives up on the upload (the file will go up whole).
    pub(super) async fn abort(self) {
        if let Some(u) = self.upload {
            u.abort().await;
        }
    }
}

/// Flush marks handed from the recording to its uploader.
#[derive(Default)]
struct Marks {
    queue: Mutex<VecDeque<Mark>>,
    wake: Notify,
}

/// The part uploader of one open file.
pub(super) struct LiveUpload {
    marks: Arc<Marks>,
    last: u64,
    stop: CancellationToken,
    task: JoinHandle<LiveParts>,
}

/// Where the uploader records its parts.
pub(super) struct Ledger {
    pub(super) store: Store,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) file_id: String,
}

impl LiveUpload {
    /// Starts uploading the spool file `path` as `key`.
    pub(super) fn start(
        bucket: Bucket,
        key: String,
        path: PathBuf,
        slots: Arc<Semaphore>,
        ledger: Ledger,
    ) -> LiveUpload {
        let marks = Arc::new(Marks::default());
        let stop = CancellationToken::new();
        let uploader = Uploader {
            bucket,
            key,
            path,
            ledger,
            parts: LiveParts::default(),
            recorded: false,
        };
        let task = tokio::spawn(uploader.run(slots, marks.clone(), stop.clone()));
        LiveUpload {
            marks,
            last: 0,
            stop,
            task,
        }
    }

    /// The spool file now holds `m.bytes` readable bytes, ending a unit.
    pub(super) fn flushed(&mut self, m: Mark) {
        if m.bytes <= self.last {
            return;
        }
        self.last = m.bytes;
        if let Ok(mut q) = self.marks.queue.lock() {
            push_mark(&mut q, m);
        }
        self.marks.wake.notify_one();
    }

    /// Stops sending (a part in flight is dropped) and returns what is up.
    pub(super) async fn stop(self) -> LiveParts {
        self.stop.cancel();
        self.task.await.unwrap_or_default()
    }
}

/// Queues `m`; when the queue is full, every other mark goes first, so
/// parts end up at most twice further apart than marks, never one part
/// for the whole backlog.
fn push_mark(q: &mut VecDeque<Mark>, m: Mark) {
    if q.len() >= MAX_MARKS {
        let kept: VecDeque<Mark> = q.iter().copied().skip(1).step_by(2).collect();
        *q = kept;
    }
    q.push_back(m);
}

/// Reads `range` of the file at `path`.
async fn read_range(path: &Path, range: Range<u64>) -> std::io::Result<Vec<u8>> {
    let mut f = tokio::fs::File::open(path).await?;
    f.seek(SeekFrom::Start(range.start)).await?;
    let want = range.end.saturating_sub(range.start);
    let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
    f.take(want).read_to_end(&mut buf).await?;
    if (buf.len() as u64) < want {
        return Err(std::io::Error::other("part not complete on the spool"));
    }
    Ok(buf)
}

struct Uploader {
    bucket: Bucket,
    key: String,
    path: PathBuf,
    ledger: Ledger,
    parts: LiveParts,
    /// The upload id is in the database.
    recorded: bool,
}

impl Uploader {
    /// Sends `range` as part `index` and records it.
    async fn send(
        &mut self,
        index: usize,
        range: Range<u64>,
        mark: Mark,
        sealed: bool,
    ) -> std::io::Result<()> {
        if self.parts.upload.is_none() {
            self.parts.upload = Some(self.bucket.multipart(&self.key).await?);
        }
        let Some(upload) = self.parts.upload.as_mut() else {
            return Ok(());
        };
        let l = &self.ledger;
        if !self.recorded {
            l.store
                .record_upload(&l.file_id, &self.key, upload.id(), l.clock.now_ms())
                .await
                .map_err(std::io::Error::other)?;
            self.recorded = true;
        }
        let size = range.end - range.start;
        let data = read_range(&self.path, range).await?;
        let etag = upload.put(index, data).await?;
        let part = UploadPart {
            index: index as i64,
            size: size as i64,
            etag,
            media_ms: mark.media_ms,
            sealed,
        };
        l.store
            .record_part(&l.file_id, &part)
            .await
            .map_err(std::io::Error::other)?;
        metrics::counter!("liverec_uploaded_bytes_total").increment(size);
        Ok(())
    }

    async fn run(
        mut self,
        slots: Arc<Semaphore>,
        marks: Arc<Marks>,
        stop: CancellationToken,
    ) -> LiveParts {
        let every = Duration::from_secs(self.bucket.part_seconds());
        let mut pending: VecDeque<Mark> = VecDeque::new();
        // The end of the growing last part as last sent.
        let mut tail_sent = 0u64;
        let mut tail_due = tokio::time::Instant::now() + every;
        let mut delay = FIRST_BACKOFF;
        loop {
            if let Ok(mut q) = marks.queue.lock() {
                pending.extend(q.drain(..));
            }
            let index = self.parts.cuts.len();
            let start = self.parts.cuts.last().map_or(0, |m| m.bytes);
            let full = pending
                .iter()
                .copied()
                .find(|m| m.bytes >= start + self.bucket.part_size_at(index) as u64);
            let latest = pending.back().copied();
            let job = match (full, latest) {
                (Some(m), _) => Some((m, true)),
                (None, Some(m))
                    if !every.is_zero()
                        && m.bytes > tail_sent.max(start)
                        && tokio::time::Instant::now() >= tail_due =>
                {
                    Some((m, false))
                }
                _ => None,
            };
            let Some((mark, sealed)) = job else {
                let wait_tail =
                    !every.is_zero() && latest.is_some_and(|m| m.bytes > tail_sent.max(start));
                tokio::select! {
                    _ = stop.cancelled() => return self.parts,
                    () = marks.wake.notified() => {}
                    () = tokio::time::sleep_until(tail_due), if wait_tail => {}
                }
                continue;
            };
            let r = tokio::select! {
                _ = stop.cancelled() => return self.parts,
                r = async {
                    let _slot = slots.acquire().await.map_err(std::io::Error::other)?;
                    self.send(index, start..mark.bytes, mark, sealed).await
                } => r,
            };
            match r {
                Ok(()) => {
                    tracing::debug!(key = %self.key, part = index + 1, bytes = mark.bytes - start, sealed, "part uploaded while recording");
                    if sealed {
                        self.parts.cuts.push(mark);
                        self.parts.sent.insert(index);
                        while pending.front().is_some_and(|m| m.bytes <= mark.bytes) {
                            pending.pop_front();
                        }
                    } else {
                        tail_sent = mark.bytes;
                    }
                    tail_due = tokio::time::Instant::now() + every;
                    delay = FIRST_BACKOFF;
                }
                Err(e) => {
                    metrics::counter!("liverec_upload_failures_total").increment(1);
                    tracing::warn!(key = %self.key, part = index + 1, retry_in_ms = delay.as_millis() as u64, error = %e, "part upload failed; retrying");
                    tokio::select! {
                        _ = stop.cancelled() => return self.parts,
                        _ = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

/// Completes a live upload of the finished spool file `path` (holding
/// `duration_ms` of media): sends the parts not yet sent (the tail,
/// patched ones), recording each, then completes. On an error the parts
/// sent so far stay in `parts` for the next try.
pub(super) async fn finish(
    bucket: &Bucket,
    key: &str,
    path: &Path,
    parts: &mut LiveParts,
    ledger: &Ledger,
    duration_ms: i64,
) -> std::io::Result<u64> {
    let len = tokio::fs::metadata(path).await?.len();
    let full = parts.cuts.iter().take_while(|c| c.bytes <= len).count();
    parts.cuts.truncate(full);
    let last = parts.cuts.last().map_or(0, |m| m.bytes);
    let count = full + usize::from(len > last || full == 0);
    if parts.upload.is_none() {
        let u = bucket.multipart(key).await?;
        // A new upload (the first one failed to complete): peers must
        // complete this one.
        let l = ledger;
        if let Err(e) = l
            .store
            .record_upload(&l.file_id, key, u.id(), l.clock.now_ms())
            .await
        {
            tracing::warn!(%key, error = %e, "could not record the upload");
        }
        parts.upload = Some(u);
    }
    for index in 0..count {
        if parts.sent.contains(&index) {
            continue;
        }
        let range = parts.range(index, len);
        let size = range.end - range.start;
        let data = read_range(path, range).await?;
        let Some(u) = parts.upload.as_mut() else {
            return Err(std::io::Error::other("no upload"));
        };
        let etag = u.put(index, data).await?;
        let part = UploadPart {
            index: index as i64,
            size: size as i64,
            etag,
            media_ms: parts.cuts.get(index).map_or(duration_ms, |m| m.media_ms),
            sealed: true,
        };
        // Best effort: the file is complete on this node's spool.
        if let Err(e) = ledger.store.record_part(&ledger.file_id, &part).await {
            tracing::warn!(%key, error = %e, "could not record an uploaded part");
        }
        parts.sent.insert(index);
    }
    let Some(u) = parts.upload.take() else {
        return Err(std::io::Error::other("no upload"));
    };
    if let Err(e) = u.complete().await {
        // The server dropped the parts (complete aborts): start over.
        parts.sent.clear();
        return Err(e);
    }
    Ok(len)
}

#[cfg(test)]
mod tests;
