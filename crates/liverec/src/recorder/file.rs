//! One output file of a single-file format (FLV, MP4, AAC, MP3) while it is
//! written: its spool file, muxer, timestamp repair and database row. Opens
//! with status `recording`; on close the muxer's patches are applied (FLV
//! onMetaData, MP3 Info tag) or, for MP4, the fragmented journal is turned
//! into a faststart MP4; then the file is published under its storage key
//! and its final row recorded. A write failure (disk full) ends the file at
//! its last complete unit instead of leaving it broken.

use std::path::PathBuf;

use media::timestamp::TimestampRepair;
use media::{AdtsWriter, FlvMuxer, Fmp4Journal, Frame, Mp3Writer, MuxError, Muxer, Tracks};

use super::RecorderCtx;
use super::spool::MuxedSpool;
use crate::hub::LiveStream;
use crate::plan::{OutputPlan, Plan};
use crate::store::{FileRow, FileStatus};
use crate::task::{FileFormat, RecordType, StreamKey};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub(super) enum FileError {
    #[error("file i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("muxer: {0}")]
    Mux(#[from] MuxError),
    #[error("only {0} bytes free on the storage filesystem")]
    LowDisk(u64),
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

fn random16() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_string()
}

fn stream_dir(key: &StreamKey) -> String {
    format!(
        "{}/{}/{}",
        key_part(&key.domain),
        key_part(&key.app),
        key_part(&key.stream)
    )
}

/// `<domain>/<app>/<stream>/<stream>_<UTC yyyymmddHHMMSS>_<task>_<random>`
/// (without extension); the random part makes keys unguessable, as files
/// are served without authentication.
pub(super) fn storage_base(stream: &StreamKey, task_id: &str, start_ms: i64) -> String {
    let ts = time::OffsetDateTime::from_unix_timestamp(start_ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year][month][day][hour][minute][second]"
            ))
            .ok()
        })
        .unwrap_or_else(|| "0".into());
    let task = if task_id.is_empty() { "rule" } else { task_id };
    format!(
        "{}/{}_{}_{}_{}",
        stream_dir(stream),
        key_part(&stream.stream),
        ts,
        key_part(task),
        random16(),
    )
}

/// Renders a template `VodFileName` (China Standard Time placeholders, as
/// Tencent) under the stream's directory, with a random suffix.
pub(super) fn named_base(
    name: &str,
    stream: &StreamKey,
    task_id: &str,
    start_ms: i64,
    end_ms: i64,
) -> String {
    let cst = time::macros::offset!(+8);
    let parts = |ms: i64| {
        let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .to_offset(cst);
        [
            ("Year", format!("{:04}", t.year())),
            ("Month", format!("{:02}", u8::from(t.month()))),
            ("Day", format!("{:02}", t.day())),
            ("Hour", format!("{:02}", t.hour())),
            ("Minute", format!("{:02}", t.minute())),
            ("Second", format!("{:02}", t.second())),
            ("Millisecond", format!("{:03}", ms.rem_euclid(1000))),
        ]
    };
    let mut out = name
        .replace("{StreamID}", &stream.stream)
        .replace("{Domain}", &stream.domain)
        .replace("{AppName}", &stream.app)
        .replace("{TaskId}", task_id);
    for (prefix, ms) in [("Start", start_ms), ("End", end_ms)] {
        for (field, value) in parts(ms) {
            out = out.replace(&format!("{{{prefix}{field}}}"), &value);
        }
    }
    format!("{}/{}_{}", stream_dir(stream), key_part(&out), random16())
}

/// JSON with codec and resolution, for DescribeRecordFiles and callbacks.
pub(super) fn media_info(tracks: &Tracks, video: bool, audio: bool) -> String {
    let mut m = serde_json::Map::new();
    if let Some(v) = tracks.video.as_ref().filter(|_| video) {
        m.insert("video_codec".into(), v.codec.name().into());
        m.insert(
            "resolution".into(),
            format!("{}x{}", v.width, v.height).into(),
        );
    }
    if let Some(a) = tracks.audio.as_ref().filter(|_| audio) {
        m.insert("audio_codec".into(), a.codec.name().into());
        m.insert("audio_sample_rate".into(), a.sample_rate.into());
        m.insert("audio_channels".into(), a.channels.into());
    }
    serde_json::Value::Object(m).to_string()
}

/// The row of a file that starts now.
pub(super) fn new_row(
    plan: &Plan,
    stream: &LiveStream,
    start: &FileStart<'_>,
    key: String,
    spool: &std::path::Path,
) -> FileRow {
    let audio_only = start.spec.format.audio_only() || plan.record_type == RecordType::Audio;
    FileRow {
        id: uuid::Uuid::new_v4().simple().to_string(),
        account_id: plan.account_id.clone(),
        task_id: plan.task_id.clone(),
        session_id: stream.info.session_id.clone(),
        domain: stream.key.domain.clone(),
        app: stream.key.app.clone(),
        stream: stream.key.stream.clone(),
        format: start.spec.format,
        record_type: if audio_only {
            RecordType::Audio
        } else {
            RecordType::Video
        },
        start_ms: start.first_wall_ms,
        end_ms: start.first_wall_ms,
        duration_ms: 0,
        file_size: 0,
        storage_key: key,
        spool_path: spool.to_string_lossy().into_owned(),
        status: FileStatus::Recording,
        stream_param: stream.info.stream_param.clone(),
        media_info: media_info(start.tracks, start.video, start.audio),
        storage_time_s: start.spec.storage_time_s,
        expire_ms: None,
    }
}

/// What a new file starts with.
pub(super) struct FileStart<'a> {
    /// The output it belongs to.
    pub(super) spec: &'a OutputPlan,
    /// Wall-clock time of its first frame, ms.
    pub(super) first_wall_ms: i64,
    /// Decoder configurations at its start.
    pub(super) tracks: &'a Tracks,
    /// Whether it carries video.
    pub(super) video: bool,
    /// Whether it carries audio.
    pub(super) audio: bool,
}

pub(super) fn muxer(format: FileFormat, video: bool, audio: bool) -> Box<dyn Muxer> {
    match format {
        FileFormat::Flv => Box::new(FlvMuxer::new(video, audio)),
        FileFormat::Mp4 => Box::new(Fmp4Journal::new(video, audio)),
        FileFormat::Aac => Box::new(AdtsWriter::new()),
        FileFormat::Mp3 => Box::new(Mp3Writer::new()),
        // HLS segments (the playlist is `hls::HlsOutput`'s).
        FileFormat::Hls => Box::new(media::TsMuxer::new(video, audio)),
    }
}

pub(super) struct OpenFile {
    row: FileRow,
    /// `VodFileName` of the template: the final key is rendered at close.
    file_name: Option<String>,
    /// Where the muxer's bytes go: the file itself, or the MP4 journal.
    out: MuxedSpool,
    repair: TimestampRepair,
    frames: u64,
    tracks: Tracks,
    video: bool,
    audio: bool,
}

impl OpenFile {
    /// Creates the spool file and its `recording` row.
    pub(super) async fn create(
        ctx: &RecorderCtx,
        plan: &Plan,
        stream: &LiveStream,
        start: FileStart<'_>,
    ) -> Result<OpenFile, FileError> {
        let format = start.spec.format;
        let key = format!(
            "{}.{}",
            storage_base(&stream.key, &plan.task_id, start.first_wall_ms),
            format.extension()
        );
        let path: PathBuf = match format {
            FileFormat::Mp4 => ctx.storage.journal_path(&key)?,
            _ => ctx.storage.spool_path(&key)?,
        };
        let out = MuxedSpool::create(&path, muxer(format, start.video, start.audio), start.tracks)
            .await?;
        let row = new_row(plan, stream, &start, key, &path);
        ctx.store.insert_file(&row, ctx.clock.now_ms()).await?;
        let f = OpenFile {
            row,
            file_name: start.spec.file_name.clone(),
            out,
            repair: TimestampRepair::new(ctx.max_jump_ms),
            frames: 0,
            tracks: start.tracks.clone(),
            video: start.video,
            audio: start.audio,
        };
        tracing::info!(file_id = %f.row.id, key = %f.row.storage_key, %format, "recording file opened");
        Ok(f)
    }

    /// Media time written so far, ms (the segmenting clock).
    pub(super) fn duration_ms(&self) -> i64 {
        self.out.duration_ms()
    }

    /// Appends one frame (timestamps are repaired per file, so every file
    /// starts at 0).
    pub(super) async fn write(
        &mut self,
        mut frame: Frame,
        tracks: &Tracks,
    ) -> Result<(), FileError> {
        if !self.repair.apply(&mut frame) {
            return Ok(());
        }
        self.out.push(&frame, tracks).await?;
        self.frames += 1;
        self.tracks = tracks.clone();
        Ok(())
    }

    /// Finalizes: publishes the file and records the final row; a file with
    /// no frames is removed instead. Returns the final row, if any.
    pub(super) async fn close(self, ctx: &RecorderCtx) -> Result<Option<FileRow>, FileError> {
        if self.frames == 0 {
            let path = self.out.path().to_path_buf();
            self.out.abandon().await;
            let _ = tokio::fs::remove_file(&path).await;
            ctx.store.discard_file(&self.row.id).await?;
            tracing::info!(file_id = %self.row.id, "recording produced no media; file discarded");
            return Ok(None);
        }
        let duration_ms = self.out.duration_ms();
        let path = match self.out.finish().await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(file_id = %self.row.id, error = %e, "finalizing failed; keeping the complete part");
                let path = PathBuf::from(&self.row.spool_path);
                return super::recovery::recover(ctx, self.row, &path).await;
            }
        };
        let mut row = self.row;
        if let Some(name) = &self.file_name {
            // Rendered now that the end time is known.
            let stream_key = StreamKey::new(&row.domain, &row.app, &row.stream);
            let end = row.start_ms + duration_ms;
            let base = named_base(name, &stream_key, &row.task_id, row.start_ms, end);
            row.storage_key = format!("{base}.{}", row.format.extension());
        }
        if row.format == FileFormat::Mp4 {
            // The journal becomes a faststart MP4 under the spool name.
            return super::recovery::finalize_mp4(ctx, row, &path, FileStatus::Finished).await;
        }
        let size = ctx.storage.commit(&path, &row.storage_key).await?;
        row.media_info = media_info(&self.tracks, self.video, self.audio);
        super::recovery::complete(ctx, row, FileStatus::Finished, duration_ms, size).await
    }

    /// Ends a file after a write failure: keeps what is complete.
    pub(super) async fn abandon(self, ctx: &RecorderCtx) -> Result<Option<FileRow>, FileError> {
        self.out.abandon().await;
        let path = PathBuf::from(&self.row.spool_path);
        super::recovery::recover(ctx, self.row, &path).await
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
