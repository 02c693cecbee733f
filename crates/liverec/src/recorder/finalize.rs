//! The close path of an output file: records the final row of a published
//! file ([`complete`]; with a bucket, after the upload: [`publish`]), drops one that holds no media ([`discard`]), and
//! turns an MP4 journal into the faststart file ([`finalize_mp4`]). Normal
//! closes and crash recovery both end here; cutting damaged files is
//! `recovery`'s.

use std::path::Path;

use super::RecorderCtx;
use super::live_upload::LiveParts;
use super::start::FileError;
use super::upload::{Done, Job};
use crate::store::{FileRow, FileStatus};

/// When retention removes a finished file.
fn expiry(row: &FileRow) -> Option<i64> {
    (row.storage_time_s > 0).then(|| row.end_ms + row.storage_time_s * 1000)
}

/// Records the final row of a published file, with its callback events
/// (100; for a recovered file also the exception event) in the same
/// transaction.
pub(super) async fn complete(
    ctx: &RecorderCtx,
    mut row: FileRow,
    status: FileStatus,
    duration_ms: i64,
    size: u64,
) -> Result<Option<FileRow>, FileError> {
    row.status = status;
    row.duration_ms = duration_ms;
    row.end_ms = row.start_ms + duration_ms;
    row.file_size = i64::try_from(size).unwrap_or(i64::MAX);
    row.expire_ms = expiry(&row);
    let events = ctx.callbacks.file_done(&row, ctx.clock.now_ms());
    if !ctx.store.complete_file(&row, &events).await? {
        // A peer took this node over and finished the file from the
        // bucket first: its row and event stand.
        tracing::warn!(file_id = %row.id, "file already made final by another node; left as it is");
        return Ok(None);
    }
    ctx.callbacks.wake();
    if row.expire_ms.is_some() {
        ctx.retention_wake.notify_one();
    }
    tracing::info!(
        file_id = %row.id,
        key = %row.storage_key,
        duration_ms = row.duration_ms,
        size = row.file_size,
        status = row.status.as_str(),
        "recording file closed"
    );
    Ok(Some(row))
}

/// Makes a closed file final: at once on local storage; with a bucket,
/// once its objects (`keys`, in order, already on the spool under their
/// final names) are uploaded, in the background (`upload`).
pub(super) async fn publish(
    ctx: &RecorderCtx,
    row: FileRow,
    status: FileStatus,
    duration_ms: i64,
    size: u64,
    keys: Vec<String>,
) -> Result<Option<FileRow>, FileError> {
    publish_live(ctx, row, status, duration_ms, size, keys, None).await
}

/// [`publish`], continuing the upload of the first key begun while
/// recording (`live_upload`).
pub(super) async fn publish_live(
    ctx: &RecorderCtx,
    row: FileRow,
    status: FileStatus,
    duration_ms: i64,
    size: u64,
    keys: Vec<String>,
    live: Option<LiveParts>,
) -> Result<Option<FileRow>, FileError> {
    if ctx.storage.bucket().is_none() {
        return complete(ctx, row, status, duration_ms, size).await;
    }
    tracing::info!(file_id = %row.id, key = %row.storage_key, duration_ms, size, "file closed; uploading it");
    let out = row.clone();
    let job = Job::last(
        keys,
        Done {
            row,
            status,
            duration_ms,
            size,
        },
    );
    ctx.uploads.submit(job.with_live(live));
    Ok(Some(out))
}

/// Runs blocking file work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, FileError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FileError::Io(std::io::Error::other(e)))?
        .map_err(FileError::Io)
}

/// Removes a file that holds no complete media, and its row.
pub(super) async fn discard(
    ctx: &RecorderCtx,
    row: &FileRow,
    path: &Path,
) -> Result<Option<FileRow>, FileError> {
    let _ = tokio::fs::remove_file(path).await;
    ctx.store.discard_file(&row.id).await?;
    tracing::warn!(file_id = %row.id, "file held no complete media; discarded");
    Ok(None)
}

/// Turns an MP4 journal into the faststart file and publishes it.
///
/// The journal is only deleted once the MP4 is published, or when it holds
/// no complete media. When writing the MP4 fails (disk full, I/O error) the
/// journal and its `recording` row are kept, so the next start finalizes it.
pub(super) async fn finalize_mp4(
    ctx: &RecorderCtx,
    row: FileRow,
    journal: &Path,
    status: FileStatus,
) -> Result<Option<FileRow>, FileError> {
    let out = ctx.storage.spool_path(&row.storage_key)?;
    let (jpath, opath) = (journal.to_path_buf(), out.clone());
    let info = blocking(move || {
        let mut j = std::fs::File::open(&jpath)?;
        let len = j.metadata()?.len();
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&opath)?);
        let info = match media::recover::mp4_journal(&mut j, len, &mut w) {
            Ok(info) => info,
            // No complete init segment: nothing in the journal can play.
            Err(media::MuxError::Codec(e)) => return Ok(Err(e)),
            Err(media::MuxError::Io(e)) => return Err(e),
            Err(e) => return Err(std::io::Error::other(e)),
        };
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        Ok(Ok(info))
    })
    .await;
    let info = match info {
        Ok(Ok(i)) if i.video_samples + i.audio_samples > 0 => i,
        Ok(unplayable) => {
            if let Err(e) = unplayable {
                tracing::warn!(file_id = %row.id, error = %e, "MP4 journal has no usable init segment");
            }
            let _ = tokio::fs::remove_file(&out).await;
            return discard(ctx, &row, journal).await;
        }
        Err(e) => {
            tracing::error!(file_id = %row.id, error = %e,
                "MP4 journal could not be finalized; it is kept and finalized at the next start");
            let _ = tokio::fs::remove_file(&out).await;
            return Err(e);
        }
    };
    let size = ctx.storage.commit(&out, &row.storage_key).await?;
    let _ = tokio::fs::remove_file(journal).await;
    let status = if info.truncated {
        FileStatus::Recovered
    } else {
        status
    };
    let key = row.storage_key.clone();
    publish(ctx, row, status, info.duration_ms, size, vec![key]).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::SystemClock;
    use crate::storage::Storage;
    use crate::store::test_support::{file_row, store, two_accounts};
    use crate::task::FileFormat;

    #[tokio::test]
    async fn a_failed_finalize_keeps_the_journal_and_an_unplayable_one_is_discarded() {
        let (store, _db) = store().await;
        two_accounts(&store).await;
        let dir = tempfile::tempdir().unwrap();
        let ctx = RecorderCtx {
            store: store.clone(),
            storage: Storage::open(&dir.path().join("records")).unwrap(),
            clock: Arc::new(SystemClock),
            max_jump_ms: 10_000,
            retention_wake: tokio::sync::Notify::new(),
            hls_target_ms: 6000,
            min_free_bytes: 0,
            reconnect_window_ms: 0,
            callbacks: crate::callbacks::Callbacks::without_default(),
            uploads: Default::default(),
        };
        let journal = dir.path().join("f1.journal");
        std::fs::write(&journal, b"no init segment here").unwrap();
        let mut row = file_row("f1", "a", "1", 1000);
        row.format = FileFormat::Mp4;
        row.storage_key = "k/f1.mp4".into();
        row.spool_path = journal.display().to_string();
        store.insert_file(&row, 0).await.unwrap();

        // The MP4 cannot be written (its spool name is taken by a
        // directory, as a full disk would refuse it): nothing is lost.
        let out = ctx.storage.spool_path(&row.storage_key).unwrap();
        std::fs::create_dir(&out).unwrap();
        let failed = finalize_mp4(&ctx, row.clone(), &journal, FileStatus::Finished).await;
        assert!(failed.is_err(), "{failed:?}");
        assert!(journal.exists(), "the journal is kept for the next start");
        let open = store.open_files("").await.unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].status, FileStatus::Recording);

        // Once it can be written, a journal without a complete init
        // segment holds nothing playable and is discarded.
        std::fs::remove_dir(&out).unwrap();
        let done = finalize_mp4(&ctx, row, &journal, FileStatus::Finished).await;
        assert!(matches!(done, Ok(None)), "{done:?}");
        assert!(!journal.exists());
        assert!(!out.exists());
        assert!(store.open_files("").await.unwrap().is_empty());
    }
}
