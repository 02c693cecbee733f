//! A dead peer's open files finished from the bucket alone (S3 storage,
//! each node its own spool, the dead node's disk possibly gone): an FLV,
//! AAC or MP3 file is the multipart upload its node recorded in the
//! database (`store::uploads`), completed with the parts listed there,
//! which end between two media units (`live_upload`); an MP4 is its
//! fragmented journal, uploaded the same way as an object of its own,
//! completed, read back into this node's spool and finalized into the
//! faststart file like any journal, then deleted from the bucket; an HLS
//! recording is its playlist in the bucket, ended. Each file is first
//! claimed for this node (so the dead node, restarting, does not finish it
//! too), then made `recovered` with its event 100. Files with nothing in
//! the bucket yet (younger than their first part, without
//! `s3_part_seconds`) are left to the dead node's restart. Also the other
//! side:
//! a restarted node drops the spool copies of files a peer finished.
//! Local directories and shared volumes are `recovery`'s.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::RecorderCtx;
use super::finalize::{complete, finalize_mp4};
use super::start::FileError;
use crate::store::{FileRow, FileStatus, FileUpload, StoreError};
use crate::task::FileFormat;

/// Suffix of the object an MP4 recording's journal is uploaded to while
/// recording (completed only by a peer's takeover, then deleted).
pub(super) const JOURNAL_OBJECT: &str = ".journal";

/// Whether the bucket holds enough of `row` to finish it without the spool.
pub(super) async fn in_bucket(ctx: &RecorderCtx, row: &FileRow) -> Result<bool, StoreError> {
    Ok(match row.format {
        FileFormat::Hls => matches!(ctx.storage.stored_size(&row.storage_key).await, Ok(Some(_))),
        _ => ctx
            .store
            .file_upload(&row.id)
            .await?
            .is_some_and(|u| !u.contiguous().is_empty()),
    })
}

/// Finishes the open files of the dead node `node` that the bucket holds;
/// returns how many became playable files.
#[tracing::instrument(name = "takeover", skip_all, fields(node))]
pub async fn recover_from_bucket(ctx: &RecorderCtx, node: &str) -> Result<usize, StoreError> {
    let mut recovered = 0;
    for row in ctx.store.open_files(node).await? {
        let id = row.id.clone();
        if !in_bucket(ctx, &row).await? {
            tracing::warn!(file_id = %id, format = %row.format,
                "nothing of this open file is in the bucket; left for the dead node's restart");
            continue;
        }
        if !ctx.store.claim_file(&id, node).await? {
            continue;
        }
        match finish(ctx, row).await {
            Ok(Some(_)) => recovered += 1,
            Ok(None) => {}
            Err(e) => {
                tracing::error!(file_id = %id, error = %e, "could not recover the dead node's file from the bucket; handing it back");
                ctx.store.release_file(&id, node).await?;
            }
        }
    }
    Ok(recovered)
}

/// Finishes the open file `row` from the bucket (see [`in_bucket`]).
pub(super) async fn finish(ctx: &RecorderCtx, row: FileRow) -> Result<Option<FileRow>, FileError> {
    match row.format {
        FileFormat::Hls => super::hls::recover(ctx, row).await,
        _ => complete_upload(ctx, row).await,
    }
}

/// Completes the recorded multipart upload of `row` and records it.
async fn complete_upload(ctx: &RecorderCtx, row: FileRow) -> Result<Option<FileRow>, FileError> {
    let Some(bucket) = ctx.storage.bucket() else {
        return Ok(None);
    };
    let Some(up) = ctx.store.file_upload(&row.id).await? else {
        return Ok(None);
    };
    let mut parts = up.contiguous();
    // The last part may have been sent again after its row was written
    // (kill -9 in between): the bucket then refuses its recorded ETag, and
    // the parts before it are still whole.
    let mut tries = 0;
    loop {
        let etags = parts.iter().map(|p| p.etag.clone()).collect();
        match bucket
            .complete_parts(&up.storage_key, &up.upload_id, etags)
            .await
        {
            Ok(()) => break,
            Err(e) if tries == 0 && parts.len() > 1 => {
                tracing::warn!(file_id = %row.id, error = %e, "completing with every recorded part failed; trying without the last");
                parts.pop();
                tries += 1;
            }
            Err(e) => match bucket.size(&up.storage_key).await {
                // The dead node completed it itself before its row was final.
                Ok(Some(_)) => break,
                _ => return Err(FileError::Io(e)),
            },
        }
    }
    let sum: u64 = parts
        .iter()
        .map(|p| u64::try_from(p.size).unwrap_or(0))
        .sum();
    let size = match bucket.size(&up.storage_key).await {
        Ok(Some(n)) => n,
        _ => sum,
    };
    if row.format == FileFormat::Mp4 {
        return finalize_journal(ctx, row, &up.storage_key).await;
    }
    let duration_ms = parts.iter().map(|p| p.media_ms).max().unwrap_or(0);
    if row.format == FileFormat::Flv {
        check_flv_end(ctx, &up, size).await;
    }
    tracing::info!(file_id = %row.id, key = %up.storage_key, parts = parts.len(), size, duration_ms,
        "a dead node's file completed from its parts in the bucket");
    complete(ctx, row, FileStatus::Recovered, duration_ms, size).await
}

/// Reads the completed journal object `object` of an MP4 recording back
/// into this node's spool (streaming), finalizes it into the faststart MP4
/// (which goes up like any closed file), and deletes the object.
async fn finalize_journal(
    ctx: &RecorderCtx,
    row: FileRow,
    object: &str,
) -> Result<Option<FileRow>, FileError> {
    tracing::info!(file_id = %row.id, %object,
        "a dead node's MP4 journal completed from its parts in the bucket; finalizing it");
    let journal = ctx.storage.journal_path(&row.storage_key)?;
    download(ctx, object, &journal).await?;
    let done = finalize_mp4(ctx, row, &journal, FileStatus::Recovered).await?;
    if let Some(b) = ctx.storage.bucket()
        && let Err(e) = b.delete(object).await
    {
        tracing::warn!(%object, error = %e, "could not delete the journal object");
    }
    Ok(done)
}

/// Streams the object `key` into the local file `path`.
async fn download(ctx: &RecorderCtx, key: &str, path: &Path) -> std::io::Result<()> {
    let Some(b) = ctx.storage.bucket() else {
        return Err(std::io::Error::other("no bucket"));
    };
    let mut body = b.read(key, None).await?;
    let mut out = tokio::fs::File::create(path).await?;
    while let Some(chunk) = body.next().await {
        out.write_all(&chunk.map_err(std::io::Error::other)?)
            .await?;
    }
    out.sync_all().await
}

/// Checks that the completed FLV object ends with a whole tag: its last
/// PreviousTagSize names a tag header that agrees. Logged, not repaired:
/// the parts end where the spool was flushed, always after a whole tag.
async fn check_flv_end(ctx: &RecorderCtx, up: &FileUpload, size: u64) {
    let Some(bucket) = ctx.storage.bucket() else {
        return;
    };
    let ok = async {
        let last = bucket
            .read_all_range(&up.storage_key, size.checked_sub(4)?..size)
            .await
            .ok()?;
        let prev = u64::from(u32::from_be_bytes(last.get(..4)?.try_into().ok()?));
        let at = size.checked_sub(4 + prev)?;
        let head = bucket
            .read_all_range(&up.storage_key, at..at + 11)
            .await
            .ok()?;
        let data = u64::from(head.get(1)?.to_owned()) << 16
            | u64::from(*head.get(2)?) << 8
            | u64::from(*head.get(3)?);
        Some(matches!(head.first()? & 0x1f, 8 | 9 | 18) && data + 11 == prev)
    }
    .await;
    if ok != Some(true) {
        tracing::warn!(key = %up.storage_key, size, "the completed FLV does not end with a whole tag");
    }
}

/// The file row a spool file belongs to: itself, or for an HLS segment
/// (`<base>_<n>.ts`) its playlist.
fn owner_key(key: &str) -> String {
    if let Some(base) = key.strip_suffix(".ts")
        && let Some((stem, n)) = base.rsplit_once('_')
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
    {
        return format!("{stem}.m3u8");
    }
    key.to_string()
}

/// Removes the spool copies of files that are final already or belong to
/// another node (a peer finished them from the bucket while this node was
/// dead); returns how many. Run at start, after this node's own recovery
/// and before recording starts. Spool files without a row are left.
pub async fn drop_finished_spool(ctx: &RecorderCtx) -> Result<usize, StoreError> {
    if ctx.storage.bucket().is_none() {
        return Ok(0);
    }
    let files: Vec<(PathBuf, String)> = match ctx.storage.local_files() {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "could not list the spool");
            return Ok(0);
        }
    };
    let mut dropped = 0;
    for (path, key) in files {
        let Some((status, node)) = ctx.store.file_by_key(&owner_key(&key)).await? else {
            continue;
        };
        if status == FileStatus::Recording && node == ctx.store.node() {
            continue;
        }
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {
                tracing::info!(path = %path.display(), status = status.as_str(), %node,
                    "dropped the spool copy of a file finished elsewhere");
                dropped += 1;
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "could not drop a spool copy")
            }
        }
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_belong_to_their_playlist() {
        assert_eq!(owner_key("d/live/s/x_1_ab_12.ts"), "d/live/s/x_1_ab.m3u8");
        assert_eq!(owner_key("d/live/s/x_1_ab.flv"), "d/live/s/x_1_ab.flv");
        assert_eq!(owner_key("d/live/s/x_.ts"), "d/live/s/x_.ts");
        assert_eq!(owner_key("d/live/s/x_1a.ts"), "d/live/s/x_1a.ts");
    }
}
