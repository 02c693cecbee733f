//! Crash recovery: files whose row still says `recording` when liverec
//! starts were open when the previous process died. Each spool file is cut
//! at its last complete FLV tag, its onMetaData duration/filesize patched,
//! and published with status `recovered`. The same path finishes a file
//! whose writing failed (disk full). The scan streams through the file with
//! small reads, so multi-gigabyte recordings need no memory.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::RecorderCtx;
use super::file::FileError;
use crate::store::{FileRow, FileStatus};

/// FLV file header (9 bytes) plus PreviousTagSize0.
const FLV_HEAD: u64 = 13;
const TAG_HEADER: u64 = 11;
/// The onMetaData tag is small; anything larger is not ours.
const MAX_SCRIPT_TAG: u64 = 64 * 1024;

/// What a scan of an FLV file found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct FlvScan {
    /// Bytes up to the end of the last complete tag (with its PreviousTagSize).
    pub(crate) valid_len: u64,
    /// Media (audio/video) tags found.
    pub(crate) media_tags: u64,
    /// Duration of the media, ms.
    pub(crate) duration_ms: i64,
    /// Offsets of the onMetaData `duration` and `filesize` numbers, if present.
    pub(crate) duration_at: Option<u64>,
    pub(crate) filesize_at: Option<u64>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Offset of the f64 following the AMF0 key `name` with a Number marker.
fn number_offset(body: &[u8], body_at: u64, name: &str) -> Option<u64> {
    let mut pat = Vec::with_capacity(name.len() + 3);
    pat.extend_from_slice(&(name.len() as u16).to_be_bytes());
    pat.extend_from_slice(name.as_bytes());
    pat.push(0x00);
    let i = find(body, &pat)?;
    let at = i + pat.len();
    (at + 8 <= body.len()).then_some(body_at + at as u64)
}

/// Walks the tags of an FLV file, stopping at the first incomplete or
/// inconsistent one.
pub(crate) fn scan_flv<R: Read + Seek>(r: &mut R, len: u64) -> std::io::Result<FlvScan> {
    let mut scan = FlvScan::default();
    let mut head = [0u8; FLV_HEAD as usize];
    if len < FLV_HEAD || r.read_exact(&mut head).is_err() || &head[..3] != b"FLV" {
        return Ok(scan);
    }
    let mut pos = FLV_HEAD;
    scan.valid_len = pos;
    let (mut first_ts, mut last_ts, mut prev_ts): (Option<i64>, i64, i64) = (None, 0, 0);
    loop {
        if pos + TAG_HEADER > len {
            break;
        }
        r.seek(SeekFrom::Start(pos))?;
        let mut th = [0u8; TAG_HEADER as usize];
        r.read_exact(&mut th)?;
        let tag_type = th[0] & 0x1f;
        let size = u64::from(u32::from_be_bytes([0, th[1], th[2], th[3]]));
        let ts = i64::from(u32::from_be_bytes([th[7], th[4], th[5], th[6]]));
        let end = pos + TAG_HEADER + size + 4;
        if !matches!(tag_type, 8 | 9 | 18) || end > len {
            break;
        }
        r.seek(SeekFrom::Start(pos + TAG_HEADER + size))?;
        let mut pts = [0u8; 4];
        r.read_exact(&mut pts)?;
        if u64::from(u32::from_be_bytes(pts)) != TAG_HEADER + size {
            break;
        }
        if tag_type == 18 && scan.media_tags == 0 && size <= MAX_SCRIPT_TAG {
            let mut body = vec![0u8; size as usize];
            r.seek(SeekFrom::Start(pos + TAG_HEADER))?;
            r.read_exact(&mut body)?;
            if find(&body, b"onMetaData").is_some() {
                scan.duration_at = number_offset(&body, pos + TAG_HEADER, "duration");
                scan.filesize_at = number_offset(&body, pos + TAG_HEADER, "filesize");
            }
        } else if tag_type != 18 && size > 0 {
            scan.media_tags += 1;
            first_ts.get_or_insert(ts);
            if ts > last_ts {
                prev_ts = last_ts;
                last_ts = ts;
            }
        }
        pos = end;
        scan.valid_len = pos;
    }
    if let Some(first) = first_ts {
        // The last frame lasts about as long as the interval before it.
        let tail = (last_ts - prev_ts).clamp(0, 100);
        scan.duration_ms = (last_ts - first).max(0) + tail;
    }
    Ok(scan)
}

/// Cuts the file at its last complete tag and patches onMetaData; returns
/// the scan.
fn repair_flv_blocking(path: &Path) -> std::io::Result<FlvScan> {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let len = f.metadata()?.len();
    let scan = scan_flv(&mut f, len)?;
    if scan.valid_len < len {
        f.set_len(scan.valid_len)?;
    }
    if let Some(at) = scan.duration_at {
        f.seek(SeekFrom::Start(at))?;
        f.write_all(&(scan.duration_ms as f64 / 1000.0).to_be_bytes())?;
    }
    if let Some(at) = scan.filesize_at {
        f.seek(SeekFrom::Start(at))?;
        f.write_all(&(scan.valid_len as f64).to_be_bytes())?;
    }
    f.sync_all()?;
    Ok(scan)
}

/// When retention removes a finished file.
pub(super) fn expiry(row: &FileRow) -> Option<i64> {
    (row.storage_time_s > 0).then(|| row.end_ms + row.storage_time_s * 1000)
}

/// Finishes a spool file that was not closed normally. A file with no
/// complete media tag is removed.
pub(super) async fn recover_spool(
    ctx: &RecorderCtx,
    mut row: FileRow,
    spool: &Path,
) -> Result<Option<FileRow>, FileError> {
    let path = spool.to_path_buf();
    let scan = tokio::task::spawn_blocking(move || repair_flv_blocking(&path))
        .await
        .map_err(|e| FileError::Io(std::io::Error::other(e)))??;
    if scan.media_tags == 0 {
        let _ = tokio::fs::remove_file(spool).await;
        ctx.store.discard_file(&row.id).await?;
        tracing::warn!(file_id = %row.id, "open file held no complete media; discarded");
        return Ok(None);
    }
    let size = ctx.storage.commit(spool, &row.storage_key).await?;
    row.status = FileStatus::Recovered;
    row.duration_ms = scan.duration_ms;
    row.end_ms = row.start_ms + scan.duration_ms;
    row.file_size = i64::try_from(size).unwrap_or(i64::MAX);
    row.expire_ms = expiry(&row);
    ctx.store.complete_file(&row).await?;
    if row.expire_ms.is_some() {
        ctx.retention_wake.notify_one();
    }
    tracing::info!(file_id = %row.id, key = %row.storage_key, duration_ms = row.duration_ms, size, "recording file recovered");
    Ok(Some(row))
}

/// Moves a published file back to its spool name so it can be checked.
async fn republish(ctx: &RecorderCtx, key: &str) -> std::io::Result<std::path::PathBuf> {
    let tmp = ctx.storage.spool_path(key)?;
    tokio::fs::rename(ctx.storage.path_of(key)?, &tmp).await?;
    Ok(tmp)
}

/// Recovers every file left open by a previous process; returns how many
/// became playable files.
pub async fn recover_open_files(ctx: &RecorderCtx) -> Result<usize, crate::store::StoreError> {
    let mut recovered = 0;
    for row in ctx.store.open_files().await? {
        let spool = std::path::PathBuf::from(&row.spool_path);
        let id = row.id.clone();
        let outcome = if tokio::fs::try_exists(&spool).await.unwrap_or(false) {
            recover_spool(ctx, row, &spool).await
        } else if matches!(ctx.storage.size(&row.storage_key).await, Ok(Some(_))) {
            // Published but not yet recorded as finished: the bytes are
            // complete; only the row needs its final values.
            match republish(ctx, &row.storage_key).await {
                Ok(tmp) => recover_spool(ctx, row, &tmp).await,
                Err(e) => Err(FileError::Io(e)),
            }
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
    use std::io::Cursor;

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
    fn scan_finds_complete_tags_and_metadata() {
        let f = file();
        let s = scan_flv(&mut Cursor::new(&f), f.len() as u64).unwrap();
        assert_eq!(s.valid_len, f.len() as u64);
        assert_eq!(s.media_tags, 10);
        assert_eq!(s.duration_ms, 360 + 40);
        assert!(s.duration_at.is_some() && s.filesize_at.is_some());
        // Every truncation stops at a tag boundary.
        for cut in 0..f.len() {
            let s = scan_flv(&mut Cursor::new(&f[..cut]), cut as u64).unwrap();
            assert!(s.valid_len as usize <= cut);
            if cut >= 13 {
                assert!(s.valid_len >= 13);
            }
        }
    }

    #[test]
    fn repair_truncates_and_patches() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.flv.part");
        let f = file();
        std::fs::write(&p, &f[..f.len() - 5]).unwrap();
        let s = repair_flv_blocking(&p).unwrap();
        assert_eq!(s.media_tags, 9);
        let out = std::fs::read(&p).unwrap();
        assert_eq!(out.len() as u64, s.valid_len);
        let at = s.duration_at.unwrap() as usize;
        let d = f64::from_be_bytes(out[at..at + 8].try_into().unwrap());
        assert!((d - 0.36).abs() < 1e-9, "{d}");
        let at = s.filesize_at.unwrap() as usize;
        assert_eq!(
            f64::from_be_bytes(out[at..at + 8].try_into().unwrap()),
            out.len() as f64
        );
    }
}
