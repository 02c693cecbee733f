//! One output file while it is written: the spool file, its muxer and
//! timestamp repair, its database row. Opens with status `recording`,
//! flushes at least every second (so a crash loses at most the last second),
//! and on close patches the header, publishes the file under its storage
//! key and records the final row. A write failure (disk full) ends the file
//! at its last complete tag instead of leaving it broken.

use std::io::SeekFrom;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use media::flv::FlvMuxer;
use media::timestamp::TimestampRepair;
use media::{Frame, Tracks};
use tokio::fs::File;
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};

use super::RecorderCtx;
use crate::hub::LiveStream;
use crate::store::{FileRow, FileStatus, Task};
use crate::task::FileFormat;

/// Longest time written data may sit in the process before reaching the OS.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
const WRITE_BUFFER: usize = 256 * 1024;

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub(super) enum FileError {
    #[error("file i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("muxer: {0}")]
    Mux(String),
}

pub(super) struct OpenFile {
    row: FileRow,
    spool: PathBuf,
    out: BufWriter<File>,
    muxer: FlvMuxer,
    repair: TimestampRepair,
    buf: Vec<u8>,
    frames: u64,
    last_flush: Instant,
    tracks: Tracks,
}

/// Characters kept in storage keys; everything else becomes `_`.
fn key_part(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => "_".to_string(),
        _ => cleaned,
    }
}

/// `<domain>/<app>/<stream>/<stream>_<UTC yyyymmddHHMMSS>_<task>_<random>.<ext>`;
/// the random part makes the key unguessable (files are served without
/// authentication).
pub(super) fn storage_key(
    stream: &LiveStream,
    task_id: &str,
    format: FileFormat,
    start_ms: i64,
) -> String {
    let ts = time::OffsetDateTime::from_unix_timestamp(start_ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year][month][day][hour][minute][second]"
            ))
            .ok()
        })
        .unwrap_or_else(|| "0".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "{}/{}/{}/{}_{}_{}_{}.{}",
        key_part(&stream.key.domain),
        key_part(&stream.key.app),
        key_part(&stream.key.stream),
        key_part(&stream.key.stream),
        ts,
        key_part(task_id),
        &random[..16],
        format.extension()
    )
}

/// JSON with codec and resolution, for DescribeRecordFiles and callbacks.
fn media_info(tracks: &Tracks) -> String {
    let mut m = serde_json::Map::new();
    if let Some(v) = &tracks.video {
        m.insert("video_codec".into(), v.codec.name().into());
        m.insert(
            "resolution".into(),
            format!("{}x{}", v.width, v.height).into(),
        );
    }
    if let Some(a) = &tracks.audio {
        m.insert("audio_codec".into(), a.codec.name().into());
        m.insert("audio_sample_rate".into(), a.sample_rate.into());
        m.insert("audio_channels".into(), a.channels.into());
    }
    serde_json::Value::Object(m).to_string()
}

/// What a new file starts with.
pub(super) struct FileStart<'a> {
    /// Container.
    pub(super) format: FileFormat,
    /// Wall-clock time of its first frame, ms.
    pub(super) first_wall_ms: i64,
    /// Decoder configurations at its start.
    pub(super) tracks: &'a Tracks,
    /// Whether it carries video.
    pub(super) video: bool,
    /// Whether it carries audio.
    pub(super) audio: bool,
}

impl OpenFile {
    /// Creates the spool file and its `recording` row.
    pub(super) async fn create(
        ctx: &RecorderCtx,
        task: &Task,
        stream: &LiveStream,
        start: FileStart<'_>,
    ) -> Result<OpenFile, FileError> {
        let FileStart {
            format,
            first_wall_ms,
            tracks,
            video,
            audio,
        } = start;
        let task_id = task.id.to_string();
        let key = storage_key(stream, &task_id, format, first_wall_ms);
        let spool = ctx.storage.spool_path(&key)?;
        let file = File::create(&spool).await?;
        let row = FileRow {
            id: uuid::Uuid::new_v4().simple().to_string(),
            account_id: task.account_id.clone(),
            task_id,
            session_id: stream.info.session_id.clone(),
            domain: stream.key.domain.clone(),
            app: stream.key.app.clone(),
            stream: stream.key.stream.clone(),
            format,
            record_type: task.record_type,
            start_ms: first_wall_ms,
            end_ms: first_wall_ms,
            duration_ms: 0,
            file_size: 0,
            storage_key: key,
            spool_path: spool.to_string_lossy().into_owned(),
            status: FileStatus::Recording,
            stream_param: stream.info.stream_param.clone(),
            media_info: media_info(tracks),
            storage_time_s: task.storage_time_s,
            expire_ms: None,
        };
        ctx.store.insert_file(&row, ctx.clock.now_ms()).await?;
        let mut muxer = FlvMuxer::new(video, audio);
        let mut buf = Vec::with_capacity(64 * 1024);
        muxer.start(tracks, &mut buf);
        let mut f = OpenFile {
            row,
            spool,
            out: BufWriter::with_capacity(WRITE_BUFFER, file),
            muxer,
            repair: TimestampRepair::new(ctx.max_jump_ms),
            buf,
            frames: 0,
            last_flush: Instant::now(),
            tracks: tracks.clone(),
        };
        f.drain().await?;
        tracing::info!(file_id = %f.row.id, key = %f.row.storage_key, "recording file opened");
        Ok(f)
    }

    async fn drain(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf).await?;
            metrics::counter!("liverec_recorded_bytes_total").increment(self.buf.len() as u64);
            self.buf.clear();
        }
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.out.flush().await?;
            self.last_flush = Instant::now();
        }
        Ok(())
    }

    /// Media time written so far, ms (the segmenting clock).
    pub(super) fn duration_ms(&self) -> i64 {
        self.muxer.duration_ms()
    }

    /// Appends one frame (timestamps are repaired here, per file, so every
    /// file starts at 0).
    pub(super) async fn write(
        &mut self,
        mut frame: Frame,
        tracks: &Tracks,
    ) -> Result<(), FileError> {
        if !self.repair.apply(&mut frame) {
            return Ok(());
        }
        self.muxer
            .push(&frame, tracks, &mut self.buf)
            .map_err(|e| FileError::Mux(e.to_string()))?;
        self.frames += 1;
        self.tracks = tracks.clone();
        self.drain().await?;
        Ok(())
    }

    /// Finalizes: patches, publishes, records the final row. A file with no
    /// frames is removed instead. Returns the final row, if any.
    pub(super) async fn close(mut self, ctx: &RecorderCtx) -> Result<Option<FileRow>, FileError> {
        if self.frames == 0 {
            drop(self.out);
            let _ = tokio::fs::remove_file(&self.spool).await;
            ctx.store.discard_file(&self.row.id).await?;
            tracing::info!(file_id = %self.row.id, "recording produced no media; file discarded");
            return Ok(None);
        }
        let patches = self.muxer.finish();
        let result = async {
            self.out.flush().await?;
            let mut f = self.out.into_inner();
            for p in &patches {
                f.seek(SeekFrom::Start(p.offset)).await?;
                f.write_all(&p.bytes).await?;
            }
            f.sync_all().await?;
            Ok::<_, std::io::Error>(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(file_id = %self.row.id, error = %e, "finalizing failed; keeping the complete part");
            return super::recovery::recover_spool(ctx, self.row, &self.spool).await;
        }
        let status = FileStatus::Finished;
        let duration_ms = self.muxer.duration_ms();
        let size = ctx
            .storage
            .commit(&self.spool, &self.row.storage_key)
            .await?;
        let mut row = self.row;
        row.status = status;
        row.duration_ms = duration_ms;
        row.end_ms = row.start_ms + duration_ms;
        row.file_size = i64::try_from(size).unwrap_or(i64::MAX);
        row.media_info = media_info(&self.tracks);
        row.expire_ms = super::recovery::expiry(&row);
        ctx.store.complete_file(&row).await?;
        if row.expire_ms.is_some() {
            ctx.retention_wake.notify_one();
        }
        tracing::info!(file_id = %row.id, key = %row.storage_key, duration_ms, size, status = status.as_str(), "recording file closed");
        Ok(Some(row))
    }

    /// Ends a file after a write failure: keep what is complete.
    pub(super) async fn abandon(self, ctx: &RecorderCtx) -> Result<Option<FileRow>, FileError> {
        // Flushing may fail again (disk full); recovery works from whatever
        // reached the file.
        let mut out = self.out;
        let _ = out.flush().await;
        drop(out);
        let spool = self.spool.clone();
        super::recovery::recover_spool(ctx, self.row, &spool).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_parts_are_path_safe() {
        assert_eq!(key_part("a b/c"), "a_b_c");
        assert_eq!(key_part(".."), "_");
        assert_eq!(key_part(""), "_");
        assert_eq!(key_part("Live-1.x_y"), "Live-1.x_y");
    }
}
