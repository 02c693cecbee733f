//! The multipart upload of a single-file recording (FLV, AAC, MP3) while it
//! is written, with S3 storage: part 2, 3, … (indices 1, 2, … here) go up
//! as soon as the spool file holds them, read back from the file; part 1
//! stays until the close because the muxer patches its header there
//! (FLV onMetaData duration and size, the MP3 Info tag). At close the
//! upload job sends what is left (part 1, the tail, any part a patch
//! rewrote) and completes the upload (`upload`). The spool file keeps every
//! byte until the object is complete, so a failed part costs only a retry
//! and a crash falls back to uploading the recovered file whole.

use std::collections::BTreeSet;
use std::io::SeekFrom;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::storage::{Bucket, Multipart, PART_SIZE};

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(15);

/// What was sent while recording.
#[derive(Default)]
pub(super) struct LiveParts {
    /// The multipart upload, once its first part went up.
    pub(super) upload: Option<Multipart>,
    /// Parts (0-based) already in it, each [`PART_SIZE`] bytes.
    pub(super) sent: BTreeSet<usize>,
}

impl LiveParts {
    /// Forgets parts that `patched` ranges rewrote after they were sent.
    pub(super) fn invalidate(&mut self, patched: &[Range<u64>]) {
        let part = PART_SIZE as u64;
        for r in patched.iter().filter(|r| r.end > r.start) {
            for i in r.start / part..=(r.end - 1) / part {
                self.sent.remove(&(i as usize));
            }
        }
    }

    /// Gives up on the upload (the file will go up whole).
    pub(super) async fn abort(self) {
        if let Some(u) = self.upload {
            u.abort().await;
        }
    }
}

/// The part uploader of one open file.
pub(super) struct LiveUpload {
    flushed: watch::Sender<u64>,
    /// Parts sent so far.
    #[cfg_attr(not(test), allow(dead_code))]
    sent: watch::Receiver<usize>,
    stop: CancellationToken,
    task: JoinHandle<LiveParts>,
}

impl LiveUpload {
    /// Starts uploading the spool file `path` as `key`.
    pub(super) fn start(
        bucket: Bucket,
        key: String,
        path: PathBuf,
        slots: Arc<Semaphore>,
    ) -> LiveUpload {
        let (flushed, rx) = watch::channel(0);
        let (sent_tx, sent) = watch::channel(0);
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(bucket, key, path, slots, rx, sent_tx, stop.clone()));
        LiveUpload {
            flushed,
            sent,
            stop,
            task,
        }
    }

    /// The spool file now holds `n` readable bytes.
    pub(super) fn flushed(&self, n: u64) {
        self.flushed.send_if_modified(|v| {
            let grew = n > *v;
            if grew {
                *v = n;
            }
            grew
        });
    }

    /// Stops sending (a part in flight is dropped) and returns what is up.
    pub(super) async fn stop(self) -> LiveParts {
        self.stop.cancel();
        self.task.await.unwrap_or_default()
    }
}

/// Reads part `index` (up to [`PART_SIZE`] bytes) of the file at `path`.
pub(super) async fn read_part(path: &Path, index: usize) -> std::io::Result<Vec<u8>> {
    let mut f = tokio::fs::File::open(path).await?;
    f.seek(SeekFrom::Start(index as u64 * PART_SIZE as u64))
        .await?;
    let mut buf = Vec::with_capacity(PART_SIZE);
    f.take(PART_SIZE as u64).read_to_end(&mut buf).await?;
    Ok(buf)
}

async fn send(
    bucket: &Bucket,
    key: &str,
    path: &Path,
    parts: &mut LiveParts,
    index: usize,
) -> std::io::Result<()> {
    if parts.upload.is_none() {
        parts.upload = Some(bucket.multipart(key).await?);
    }
    let data = read_part(path, index).await?;
    if data.len() < PART_SIZE {
        return Err(std::io::Error::other("part not complete on the spool"));
    }
    match parts.upload.as_mut() {
        Some(u) => u.put(index, data).await,
        None => Ok(()),
    }
}

async fn run(
    bucket: Bucket,
    key: String,
    path: PathBuf,
    slots: Arc<Semaphore>,
    mut flushed: watch::Receiver<u64>,
    progress: watch::Sender<usize>,
    stop: CancellationToken,
) -> LiveParts {
    let mut parts = LiveParts::default();
    // Part 0 waits for the close (its header is patched then).
    let mut next = 1usize;
    let mut delay = FIRST_BACKOFF;
    loop {
        let have = *flushed.borrow_and_update();
        if have < (next as u64 + 1) * PART_SIZE as u64 {
            tokio::select! {
                _ = stop.cancelled() => return parts,
                r = flushed.changed() => if r.is_err() { return parts },
            }
            continue;
        }
        let r = tokio::select! {
            _ = stop.cancelled() => return parts,
            r = async {
                let _slot = slots.acquire().await.map_err(std::io::Error::other)?;
                send(&bucket, &key, &path, &mut parts, next).await
            } => r,
        };
        match r {
            Ok(()) => {
                tracing::debug!(%key, part = next + 1, "part uploaded while recording");
                metrics::counter!("liverec_uploaded_bytes_total").increment(PART_SIZE as u64);
                parts.sent.insert(next);
                progress.send_replace(parts.sent.len());
                next += 1;
                delay = FIRST_BACKOFF;
            }
            Err(e) => {
                metrics::counter!("liverec_upload_failures_total").increment(1);
                tracing::warn!(%key, part = next + 1, retry_in_ms = delay.as_millis() as u64, error = %e, "part upload failed; retrying");
                tokio::select! {
                    _ = stop.cancelled() => return parts,
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Completes a live upload of the finished spool file `path`: sends the
/// parts not yet sent (part 0, the tail, patched ones), then completes.
/// On an error the parts sent so far stay in `parts` for the next try.
pub(super) async fn finish(
    bucket: &Bucket,
    key: &str,
    path: &Path,
    parts: &mut LiveParts,
) -> std::io::Result<u64> {
    let len = tokio::fs::metadata(path).await?.len();
    let count = usize::try_from(len.div_ceil(PART_SIZE as u64).max(1)).unwrap_or(usize::MAX);
    if parts.upload.is_none() {
        parts.upload = Some(bucket.multipart(key).await?);
    }
    for index in 0..count {
        if parts.sent.contains(&index) {
            continue;
        }
        let data = read_part(path, index).await?;
        if let Some(u) = parts.upload.as_mut() {
            u.put(index, data).await?;
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
mod tests {
    use super::*;
    use crate::storage::test_bucket_settings;

    #[tokio::test]
    async fn parts_go_up_while_recording_and_part_one_last() {
        let Some(s) = test_bucket_settings(0) else {
            return;
        };
        let bucket = Bucket::open(&s).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.flv.part");
        let p = PART_SIZE;
        let mut data: Vec<u8> = (0..3 * p + 100).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data[..2 * p + 10]).unwrap();
        let slots = Arc::new(Semaphore::new(1));
        let live = LiveUpload::start(bucket.clone(), "l/live.flv".into(), path.clone(), slots);
        live.flushed(2 * p as u64 + 10);
        let mut sent = live.sent.clone();
        tokio::time::timeout(Duration::from_secs(60), sent.wait_for(|n| *n >= 1))
            .await
            .unwrap()
            .unwrap();
        // The file grows: part 2 (index 2) is complete now.
        std::fs::write(&path, &data).unwrap();
        live.flushed(data.len() as u64);
        tokio::time::timeout(Duration::from_secs(60), sent.wait_for(|n| *n >= 2))
            .await
            .unwrap()
            .unwrap();
        let mut parts = live.stop().await;
        assert_eq!(parts.sent.iter().copied().collect::<Vec<_>>(), [1, 2]);
        // At close the header (part 0) and a byte in part 1 are patched.
        data[13..21].copy_from_slice(&7.5f64.to_be_bytes());
        data[p + 5] ^= 0xff;
        std::fs::write(&path, &data).unwrap();
        parts.invalidate(&[13..21, (p as u64 + 5)..(p as u64 + 6)]);
        let len = finish(&bucket, "l/live.flv", &path, &mut parts)
            .await
            .unwrap();
        assert_eq!(len, data.len() as u64);
        let got = bucket.read_all("l/live.flv").await.unwrap().unwrap();
        assert!(got[..] == data[..], "the object is the patched file");
        bucket.delete("l/live.flv").await.unwrap();
    }

    #[test]
    fn patches_invalidate_the_parts_they_touch() {
        let p = PART_SIZE as u64;
        let mut parts = LiveParts {
            upload: None,
            sent: [1, 2, 3].into_iter().collect(),
        };
        parts.invalidate(&[13..21, (2 * p - 4)..(2 * p + 4), (3 * p)..(3 * p)]);
        assert_eq!(parts.sent.into_iter().collect::<Vec<_>>(), [3]);
    }
}
