//! Crash recovery: files whose row still says `recording` when liverec
//! starts were open when the previous process died. Each is cut after its
//! last complete unit and its header fixed by the recoverer of its format
//! in [`media::recover`] (FLV tag, ADTS frame, MP3 frame; the MP4 journal's
//! last complete fragment; the HLS segment's last complete PES), then
//! published with status `recovered`. The same path finishes a file whose
//! writing failed (disk full). Recoverers stream through files with small
//! reads, so multi-gigabyte recordings need no memory.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use super::RecorderCtx;
use super::finalize::{blocking, complete, discard, finalize_mp4, publish};
use super::start::FileError;
use crate::store::{FileRow, FileStatus};
use crate::task::FileFormat;

/// Cuts a single-file recording after its last complete unit and fixes its
/// header; returns (media units kept, duration ms).
fn repair_blocking(path: &Path, format: FileFormat) -> std::io::Result<(u64, i64)> {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let len = f.metadata()?.len();
    let r = match format {
        FileFormat::Aac => media::recover::adts(&mut f, len)?,
        FileFormat::Mp3 => media::recover::mp3(&mut f, len)?,
        _ => media::recover::flv(&mut f, len)?,
    };
    if r.valid_len < len {
        f.set_len(r.valid_len)?;
    }
    for p in &r.patches {
        f.seek(SeekFrom::Start(p.offset))?;
        f.write_all(&p.bytes)?;
    }
    f.sync_all()?;
    Ok((r.units, r.duration_ms))
}

/// Finishes a file that was not closed normally (crash, write failure).
pub(super) async fn recover(
    ctx: &RecorderCtx,
    row: FileRow,
    spool: &Path,
) -> Result<Option<FileRow>, FileError> {
    match row.format {
        FileFormat::Mp4 => return finalize_mp4(ctx, row, spool, FileStatus::Recovered).await,
        FileFormat::Hls => return super::hls::recover(ctx, row).await,
        _ => {}
    }
    let (path, format) = (spool.to_path_buf(), row.format);
    let (units, duration_ms) = blocking(move || repair_blocking(&path, format)).await?;
    if units == 0 {
        return discard(ctx, &row, spool).await;
    }
    let size = ctx.storage.commit(spool, &row.storage_key).await?;
    publish_recovered(ctx, row, duration_ms, size).await
}

/// Publishes a recovered single-object file (its storage key).
async fn publish_recovered(
    ctx: &RecorderCtx,
    row: FileRow,
    duration_ms: i64,
    size: u64,
) -> Result<Option<FileRow>, FileError> {
    let key = row.storage_key.clone();
    publish(
        ctx,
        row,
        FileStatus::Recovered,
        duration_ms,
        size,
        vec![key],
    )
    .await
}

/// The size of a single file already in the bucket, if any.
async fn uploaded_size(ctx: &RecorderCtx, row: &FileRow) -> Option<u64> {
    ctx.storage.bucket()?;
    match ctx.storage.stored_size(&row.storage_key).await {
        Ok(size) => size,
        Err(e) => {
            tracing::warn!(file_id = %row.id, error = %e, "cannot ask the bucket for the file");
            None
        }
    }
}

/// Moves a published file back to its spool name so it can be checked.
async fn republish(ctx: &RecorderCtx, key: &str) -> std::io::Result<std::path::PathBuf> {
    let tmp = ctx.storage.spool_path(key)?;
    tokio::fs::rename(ctx.storage.path_of(key)?, &tmp).await?;
    Ok(tmp)
}

/// Recovers every file left open by a previous process of `node` (this
/// node at its start, or a dead peer whose spool this node can read);
/// returns how many became playable files.
#[tracing::instrument(name = "recovery", skip_all, fields(node))]
pub async fn recover_open_files(
    ctx: &RecorderCtx,
    node: &str,
) -> Result<usize, crate::store::StoreError> {
    let mut recovered = 0;
    for row in ctx.store.open_files(node).await? {
        let spool = std::path::PathBuf::from(&row.spool_path);
        let id = row.id.clone();
        let published = matches!(ctx.storage.size(&row.storage_key).await, Ok(Some(_)));
        let outcome = if row.format == FileFormat::Hls
            || tokio::fs::try_exists(&spool).await.unwrap_or(false)
        {
            recover(ctx, row, &spool).await
        } else if published && row.format != FileFormat::Mp4 {
            // Published but its row not yet final: the bytes are complete;
            // scan them for the final values.
            match republish(ctx, &row.storage_key).await {
                Ok(tmp) => recover(ctx, row, &tmp).await,
                Err(e) => Err(FileError::Io(e)),
            }
        } else if published {
            let size = ctx.storage.size(&row.storage_key).await.ok().flatten();
            let duration_ms = row.duration_ms;
            publish_recovered(ctx, row, duration_ms, size.unwrap_or(0)).await
        } else if ctx.storage.bucket().is_some()
            && super::takeover::in_bucket(ctx, &row).await.unwrap_or(false)
        {
            // The spool lost its copy (a new disk, or a takeover of a dead
            // peer's file that stopped half-way): the bucket has its parts.
            super::takeover::finish(ctx, row).await
        } else if let Some(size) = uploaded_size(ctx, &row).await {
            // Uploaded, but the process died before its row was final.
            let duration_ms = row.duration_ms;
            complete(ctx, row, FileStatus::Recovered, duration_ms, size).await
        } else {
            ctx.store
                .discard_file(&row.id)
                .await
                .map(|_| None)
                .map_err(FileError::from)
        };
        match outcome {
            Ok(Some(_)) => recovered += 1,
            Ok(None) => {}
            Err(e) => tracing::error!(file_id = %id, error = %e, "could not recover file"),
        }
    }
    Ok(recovered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(t: u8, ts: u32, body: &[u8]) -> Vec<u8> {
        let mut v = vec![t];
        v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        v.extend_from_slice(&ts.to_be_bytes()[1..]);
        v.push((ts >> 24) as u8);
        v.extend_from_slice(&[0, 0, 0]);
        v.extend_from_slice(body);
        v.extend_from_slice(&(11 + body.len() as u32).to_be_bytes());
        v
    }

    fn file() -> Vec<u8> {
        let mut f = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
        let mut meta = vec![0x02, 0, 10];
        meta.extend_from_slice(b"onMetaData");
        meta.extend_from_slice(&[0x08, 0, 0, 0, 2]);
        for k in ["duration", "filesize"] {
            meta.extend_from_slice(&(k.len() as u16).to_be_bytes());
            meta.extend_from_slice(k.as_bytes());
            meta.push(0);
            meta.extend_from_slice(&0f64.to_be_bytes());
        }
        meta.extend_from_slice(&[0, 0, 9]);
        f.extend(tag(18, 0, &meta));
        for i in 0..10u32 {
            f.extend(tag(9, i * 40, &[0x17, 1, 0, 0, 0, 1, 2, 3]));
        }
        f
    }

    #[test]
    fn repair_truncates_and_patches() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.flv.part");
        let f = file();
        std::fs::write(&p, &f[..f.len() - 5]).unwrap();
        let (units, _) = repair_blocking(&p, FileFormat::Flv).unwrap();
        let s = media::recover::flv(
            &mut std::fs::File::open(&p).unwrap(),
            std::fs::metadata(&p).unwrap().len(),
        )
        .unwrap();
        assert_eq!(units, 9);
        assert_eq!(s.units, 9);
        let out = std::fs::read(&p).unwrap();
        assert_eq!(out.len() as u64, s.valid_len);
        let at = s.patches[0].offset as usize;
        let d = f64::from_be_bytes(out[at..at + 8].try_into().unwrap());
        assert!((d - 0.36).abs() < 1e-9, "{d}");
        let at = s.patches[1].offset as usize;
        assert_eq!(
            f64::from_be_bytes(out[at..at + 8].try_into().unwrap()),
            out.len() as f64
        );
    }
}
