//! One output file of a single-file format (FLV, MP4, AAC, MP3) while it is
//! written: its spool file, muxer, timestamp repair and database row. Opens
//! with status `recording` (its key and row from `naming` and `start`); on
//! close the muxer's patches are applied (FLV onMetaData, MP3 Info tag) or,
//! for MP4, the fragmented journal is turned into a faststart MP4; then the
//! file is published under its storage key and its final row recorded
//! (`finalize`). A write failure (disk full) ends the file at its last
//! complete unit (`recovery`) instead of leaving it broken. With S3
//! storage, FLV, AAC and MP3 files upload their parts while recording
//! (`live_upload`).

use std::path::PathBuf;

use media::timestamp::TimestampRepair;
use media::{Frame, Tracks};

use super::RecorderCtx;
use super::finalize::{finalize_mp4, publish_live};
use super::live_upload::{Ledger, LiveParts, LiveUpload};
use super::naming::{named_base, storage_base};
use super::spool::MuxedSpool;
use super::start::{media_info, muxer, new_row};
use crate::hub::LiveStream;
use crate::plan::Plan;
use crate::store::{FileRow, FileStatus};
use crate::task::{FileFormat, StreamKey};

use super::start::{FileError, FileStart};

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
    /// With S3 storage: parts uploaded while recording (for MP4 those of
    /// its journal; none for template file names of other formats, whose
    /// key is known only at close).
    live: Option<LiveUpload>,
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
        let row = new_row(plan, stream, &start, key.clone(), &path);
        ctx.store.insert_file(&row, ctx.clock.now_ms()).await?;
        // What goes up while recording: the file itself (FLV, AAC, MP3,
        // unless its name is rendered only at close), or for MP4 its
        // journal, as an object of its own that only a peer taking this
        // node over completes (the MP4 itself is written at close).
        let object = match format {
            FileFormat::Mp4 => Some(format!("{key}{}", super::takeover::JOURNAL_OBJECT)),
            _ if start.spec.file_name.is_none() => Some(key),
            _ => None,
        };
        let live = match (ctx.storage.bucket(), object) {
            (Some(b), Some(object)) => Some(LiveUpload::start(
                b.clone(),
                object,
                path.clone(),
                ctx.uploads.slots(),
                Ledger {
                    store: ctx.store.clone(),
                    clock: ctx.clock.clone(),
                    file_id: row.id.clone(),
                },
            )),
            _ => None,
        };
        let f = OpenFile {
            row,
            file_name: start.spec.file_name.clone(),
            out,
            repair: TimestampRepair::new(ctx.max_jump_ms),
            frames: 0,
            tracks: start.tracks.clone(),
            video: start.video,
            audio: start.audio,
            live,
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
        note_join_drops(&mut self.repair);
        self.out.push(&frame, tracks).await?;
        if let Some(l) = self.live.as_mut() {
            l.flushed(self.out.flushed_mark());
        }
        self.frames += 1;
        self.tracks = tracks.clone();
        Ok(())
    }

    /// The next frames come from a new publish session of the stream (a
    /// reconnect within the window): they continue the file right after
    /// what it holds.
    pub(super) fn splice(&mut self) {
        self.repair.splice();
    }

    /// Finalizes: publishes the file and records the final row; a file with
    /// no frames is removed instead. Returns the final row, if any.
    pub(super) async fn close(mut self, ctx: &RecorderCtx) -> Result<Option<FileRow>, FileError> {
        let live = match self.live.take() {
            Some(l) => Some(l.stop().await),
            None => None,
        };
        self.close_with(ctx, live).await
    }

    /// [`close`](Self::close) with what was uploaded while recording.
    async fn close_with(
        self,
        ctx: &RecorderCtx,
        mut live: Option<LiveParts>,
    ) -> Result<Option<FileRow>, FileError> {
        if self.frames == 0 {
            if let Some(l) = live {
                l.abort().await;
            }
            let path = self.out.path().to_path_buf();
            self.out.abandon().await;
            let _ = tokio::fs::remove_file(&path).await;
            ctx.store.discard_file(&self.row.id).await?;
            tracing::info!(file_id = %self.row.id, "recording produced no media; file discarded");
            return Ok(None);
        }
        let duration_ms = self.out.duration_ms();
        let path = match self.out.finish().await {
            Ok((p, patched)) => {
                if let Some(l) = live.as_mut() {
                    l.invalidate(&patched);
                }
                p
            }
            Err(e) => {
                if let Some(l) = live {
                    l.abort().await;
                }
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
            // The journal's own upload was only for a peer's takeover;
            // from now on the MP4 is on this node's spool only.
            if let Some(l) = live {
                tokio::spawn(l.abort());
                if let Err(e) = ctx.store.forget_upload(&row.id).await {
                    tracing::warn!(file_id = %row.id, error = %e, "could not forget the journal's upload");
                }
            }
            // The journal becomes a faststart MP4 under the spool name.
            return finalize_mp4(ctx, row, &path, FileStatus::Finished).await;
        }
        let size = ctx.storage.commit(&path, &row.storage_key).await?;
        row.media_info = media_info(&self.tracks, self.video, self.audio);
        let key = row.storage_key.clone();
        publish_live(
            ctx,
            row,
            FileStatus::Finished,
            duration_ms,
            size,
            vec![key],
            live,
        )
        .await
    }

    /// Ends a file after a write failure: keeps what is complete.
    pub(super) async fn abandon(mut self, ctx: &RecorderCtx) -> Result<Option<FileRow>, FileError> {
        if let Some(l) = self.live.take() {
            l.stop().await.abort().await;
        }
        self.out.abandon().await;
        let path = PathBuf::from(&self.row.spool_path);
        super::recovery::recover(ctx, self.row, &path).await
    }
}

/// Logs and counts (`liverec_join_audio_dropped_frames_total`) the audio
/// frames of a reconnected session that the repair dropped because they
/// overlapped the old session's audio.
pub(super) fn note_join_drops(repair: &mut media::timestamp::TimestampRepair) {
    if let Some(dropped) = repair.take_join_drops() {
        metrics::counter!("liverec_join_audio_dropped_frames_total").increment(u64::from(dropped));
        tracing::debug!(
            frames = dropped,
            "audio of the new session overlapping the old one dropped at the join"
        );
    }
}
