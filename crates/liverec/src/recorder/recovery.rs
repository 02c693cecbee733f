//! Crash recovery: files whose row still says `recording` when liverec
//! starts were open when the previous process died. Each is cut after its
//! last complete unit (FLV tag, ADTS frame, MP3 frame; the MP4 journal's
//! last complete fragment; the HLS segment's last complete PES), its header
//! fixed (FLV onMetaData, MP3 Info tag) and published with status
//! `recovered`. The same path finishes a file whose writing failed (disk
//! full). Scans stream through files with small reads, so multi-gigabyte
//! recordings need no memory.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::RecorderCtx;
use super::file::FileError;
use crate::store::{FileRow, FileStatus};
use crate::task::FileFormat;

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

/// When retention removes a finished file.
pub(super) fn expiry(row: &FileRow) -> Option<i64> {
    (row.storage_time_s > 0).then(|| row.end_ms + row.storage_time_s * 1000)
}

/// Records the final row of a published file.
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
    ctx.store.complete_file(&row).await?;
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

/// What a scan of an audio elementary stream file found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct AudioScan {
    pub(crate) valid_len: u64,
    pub(crate) frames: u64,
    pub(crate) duration_ms: i64,
    /// Byte range of an MP3 LAME/Info/Xing tag to neutralize.
    pub(crate) tag: Option<(u64, u64)>,
}

/// Walks ADTS frames (AAC) or MPEG audio frames (MP3).
pub(crate) fn scan_audio<R: Read + Seek>(
    r: &mut R,
    len: u64,
    mp3: bool,
) -> std::io::Result<AudioScan> {
    let mut scan = AudioScan::default();
    let mut pos = 0u64;
    let mut samples_ms = 0f64;
    let mut hdr = [0u8; 7];
    while pos + 7 <= len {
        r.seek(SeekFrom::Start(pos))?;
        r.read_exact(&mut hdr)?;
        let (frame_len, frame_ms) = if mp3 {
            match media::codec::mp3::parse_header(&hdr) {
                Ok(h) if h.frame_len > 0 && h.sample_rate > 0 => (
                    h.frame_len as u64,
                    f64::from(h.samples) * 1000.0 / f64::from(h.sample_rate),
                ),
                _ => break,
            }
        } else {
            if hdr[0] != 0xff || hdr[1] & 0xf0 != 0xf0 {
                break;
            }
            let n = (u64::from(hdr[3] & 0x03) << 11)
                | (u64::from(hdr[4]) << 3)
                | u64::from(hdr[5] >> 5);
            let rate = media::codec::aac::SAMPLE_RATES
                .get(usize::from((hdr[2] >> 2) & 0x0f))
                .copied()
                .unwrap_or(0);
            if n < 7 || rate == 0 {
                break;
            }
            (n, 1024.0 * 1000.0 / f64::from(rate))
        };
        if pos + frame_len > len {
            break;
        }
        if mp3 && scan.frames == 0 {
            let mut first = vec![0u8; frame_len as usize];
            r.seek(SeekFrom::Start(pos))?;
            r.read_exact(&mut first)?;
            let tag = first.windows(4).position(|w| w == b"Info" || w == b"Xing");
            if let Some(at) = tag {
                // The tag frame holds no audio.
                scan.tag = Some((pos + at as u64, pos + frame_len));
                pos += frame_len;
                scan.valid_len = pos;
                continue;
            }
        }
        scan.frames += 1;
        samples_ms += frame_ms;
        pos += frame_len;
        scan.valid_len = pos;
    }
    scan.duration_ms = samples_ms.round() as i64;
    Ok(scan)
}

/// Cuts a single-file recording after its last complete unit and fixes its
/// header; returns (media units kept, duration ms).
fn repair_blocking(path: &Path, format: FileFormat) -> std::io::Result<(u64, i64)> {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let len = f.metadata()?.len();
    let (valid_len, units, duration_ms, patches) = match format {
        FileFormat::Aac | FileFormat::Mp3 => {
            let s = scan_audio(&mut f, len, format == FileFormat::Mp3)?;
            // An Info tag with the counts of an unfinished file would give a
            // wrong duration: blank it (the frame then decodes as silence).
            let patches = s
                .tag
                .map(|(a, b)| vec![(a, vec![0u8; (b - a) as usize])])
                .unwrap_or_default();
            (s.valid_len, s.frames, s.duration_ms, patches)
        }
        _ => {
            let s = scan_flv(&mut f, len)?;
            let mut patches = Vec::new();
            if let Some(at) = s.duration_at {
                patches.push((at, (s.duration_ms as f64 / 1000.0).to_be_bytes().to_vec()));
            }
            if let Some(at) = s.filesize_at {
                patches.push((at, (s.valid_len as f64).to_be_bytes().to_vec()));
            }
            (s.valid_len, s.media_tags, s.duration_ms, patches)
        }
    };
    if valid_len < len {
        f.set_len(valid_len)?;
    }
    for (at, bytes) in patches {
        f.seek(SeekFrom::Start(at))?;
        f.write_all(&bytes)?;
    }
    f.sync_all()?;
    Ok((units, duration_ms))
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, FileError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FileError::Io(std::io::Error::other(e)))?
        .map_err(FileError::Io)
}

async fn discard(
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
        let info = match media::mp4::finalize(&mut j, len, &mut w) {
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
    complete(ctx, row, status, info.duration_ms, size).await
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
    complete(ctx, row, FileStatus::Recovered, duration_ms, size).await
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
            complete(
                ctx,
                row,
                FileStatus::Recovered,
                duration_ms,
                size.unwrap_or(0),
            )
            .await
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
        let (units, _) = repair_blocking(&p, FileFormat::Flv).unwrap();
        let s = scan_flv(
            &mut std::fs::File::open(&p).unwrap(),
            std::fs::metadata(&p).unwrap().len(),
        )
        .unwrap();
        assert_eq!(units, 9);
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

#[cfg(test)]
mod mp4_finalize_tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::SystemClock;
    use crate::storage::Storage;
    use crate::store::test_support::{file_row, store, two_accounts};

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
        let open = store.open_files().await.unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].status, FileStatus::Recording);

        // Once it can be written, a journal without a complete init
        // segment holds nothing playable and is discarded.
        std::fs::remove_dir(&out).unwrap();
        let done = finalize_mp4(&ctx, row, &journal, FileStatus::Finished).await;
        assert!(matches!(done, Ok(None)), "{done:?}");
        assert!(!journal.exists());
        assert!(!out.exists());
        assert!(store.open_files().await.unwrap().is_empty());
    }
}
