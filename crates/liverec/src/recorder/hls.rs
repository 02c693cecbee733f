//! HLS output: MPEG-TS segments cut at keyframes (target set in the
//! configuration, 6 s by default), each written under a `.part` name and
//! published when complete, and an EVENT playlist republished after every
//! segment, so a player can read the recording while it grows; `#EXT-X-
//! ENDLIST` at close. The reported file (VideoUrl) is the playlist. Crash
//! recovery cuts the unfinished segment after its last complete PES. With
//! a bucket, each segment is uploaded as it completes and the playlist
//! after it (`upload`); the playlist's local copy stays until the end.

use media::hls::{Playlist, Segment, Segmenter};
use media::timestamp::TimestampRepair;
use media::{Frame, Muxer, Track, Tracks};

use super::finalize::{blocking, publish};
use super::naming::{named_base, storage_base};
use super::spool::MuxedSpool;
use super::start::{FileError, FileStart, media_info, muxer, new_row};
use super::upload::Job;
use super::{RecorderCtx, silence};
use crate::hub::LiveStream;
use crate::plan::Plan;
use crate::storage::{Storage, publish_now};
use crate::store::{FileRow, FileStatus};
use crate::task::FileFormat;

struct OpenSegment {
    index: usize,
    out: MuxedSpool,
}

pub(super) struct HlsOutput {
    row: FileRow,
    base: String,
    playlist: Playlist,
    segmenter: Segmenter,
    seg: Option<OpenSegment>,
    repair: TimestampRepair,
    video: bool,
    audio: bool,
    tracks: Tracks,
    /// Bytes of the published segments.
    bytes: u64,
    frames: u64,
    /// The muxer of the next segment, continuing the last one's counters.
    next_muxer: Option<Box<dyn Muxer>>,
    /// Where the audio written so far ends (DTS + one frame), ms.
    audio_end: Option<f64>,
    /// A reconnected session joined: its first audio frame fills the hole
    /// before it with silence (see `silence`).
    fill_join: bool,
}

fn playlist_key(base: &str) -> String {
    format!("{base}.m3u8")
}

fn segment_key(base: &str, index: usize) -> String {
    format!("{base}_{index}.ts")
}

/// The segment's URI relative to the playlist (same directory).
fn segment_uri(base: &str, index: usize) -> String {
    let name = base.rsplit('/').next().unwrap_or(base);
    format!("{name}_{index}.ts")
}

/// The storage keys of a playlist's segments.
fn segment_keys(playlist_key: &str, playlist: &Playlist) -> Vec<String> {
    let dir = playlist_key.rsplit_once('/').map(|(d, _)| d);
    playlist
        .segments()
        .iter()
        .map(|s| match dir {
            Some(d) => format!("{d}/{}", s.uri),
            None => s.uri.clone(),
        })
        .collect()
}

/// The playlist of `key`: its local copy (kept until the recording's row is
/// final), else the one in the bucket.
async fn read_playlist(storage: &Storage, key: &str) -> Option<Playlist> {
    let path = storage.path_of(key).ok()?;
    let text = match tokio::fs::read_to_string(path).await {
        Ok(t) => t,
        Err(_) => {
            let bytes = storage.bucket()?.read_all(key).await.ok()??;
            String::from_utf8(bytes.to_vec()).ok()?
        }
    };
    Playlist::parse(&text).ok()
}

/// Publishes `playlist` under `key`; returns its size.
async fn publish_playlist(
    storage: &Storage,
    key: &str,
    playlist: &Playlist,
    ended: bool,
) -> Result<u64, FileError> {
    let spool = storage.spool_path(key)?;
    tokio::fs::write(&spool, playlist.render(ended)).await?;
    Ok(storage.commit(&spool, key).await?)
}

/// Deletes a playlist and its segments.
pub(super) async fn delete(storage: &Storage, key: &str) -> std::io::Result<()> {
    if let Some(p) = read_playlist(storage, key).await {
        for seg in segment_keys(key, &p) {
            storage.delete(&seg).await?;
        }
    }
    storage.delete(key).await
}

impl HlsOutput {
    pub(super) async fn create(
        ctx: &RecorderCtx,
        plan: &Plan,
        stream: &LiveStream,
        start: FileStart<'_>,
    ) -> Result<HlsOutput, FileError> {
        // Segments are published while recording, so a template file name
        // is rendered at the start (its End placeholders get the start).
        let base = match &start.spec.file_name {
            Some(name) => named_base(
                name,
                &stream.key,
                &plan.task_id,
                start.first_wall_ms,
                start.first_wall_ms,
            ),
            None => storage_base(&stream.key, &plan.task_id, start.first_wall_ms),
        };
        let key = playlist_key(&base);
        let spool = ctx.storage.spool_path(&key)?;
        let row = new_row(plan, stream, &start, key, &spool);
        ctx.store.insert_file(&row, ctx.clock.now_ms()).await?;
        tracing::info!(file_id = %row.id, key = %row.storage_key, "HLS recording opened");
        Ok(HlsOutput {
            row,
            base,
            playlist: Playlist::new(ctx.hls_target_ms),
            segmenter: Segmenter::new(ctx.hls_target_ms),
            seg: None,
            // hls.js starts the timeline at the lowest DTS: a first picture
            // presented after it is a hole at the start to that player.
            repair: TimestampRepair::new(ctx.max_jump_ms).presenting_from_zero(),
            video: start.video,
            audio: start.audio,
            tracks: start.tracks.clone(),
            bytes: 0,
            frames: 0,
            next_muxer: None,
            audio_end: None,
            fill_join: false,
        })
    }

    /// Appends one frame, cutting a segment first when one is due.
    pub(super) async fn write(
        &mut self,
        ctx: &RecorderCtx,
        mut frame: Frame,
        tracks: &Tracks,
    ) -> Result<(), FileError> {
        if !self.repair.apply(&mut frame) {
            return Ok(());
        }
        super::file::note_join_drops(&mut self.repair);
        if frame.track == Track::Audio
            && let Some(cfg) = &tracks.audio
        {
            let frame_ms = silence::frame_ms(cfg.sample_rate);
            if std::mem::take(&mut self.fill_join)
                && let (Some(end), Some(unit)) = (self.audio_end, silence::aac_frame(cfg))
            {
                // Frames of silence from the old audio's end up to the new
                // session's first frame (at most 2 s): as many as fit to the
                // nearest frame, so what is left is under half a frame of
                // gap or overlap.
                let gap = frame.dts as f64 - end;
                let n = (gap / frame_ms).round().clamp(0.0, 2000.0 / frame_ms) as i64;
                for i in 0..n {
                    let dts = (end + i as f64 * frame_ms).round() as i64;
                    let filler = Frame {
                        track: Track::Audio,
                        dts,
                        cts: 0,
                        keyframe: true,
                        data: unit.clone(),
                    };
                    self.push(ctx, filler, tracks).await?;
                }
                if n > 0 {
                    tracing::debug!(
                        frames = n,
                        gap_ms = gap,
                        "audio hole at the join filled with silence"
                    );
                }
            }
            self.audio_end = Some(frame.dts as f64 + frame_ms);
        }
        self.push(ctx, frame, tracks).await
    }

    /// Writes one repaired frame, cutting a segment first when one is due.
    async fn push(
        &mut self,
        ctx: &RecorderCtx,
        frame: Frame,
        tracks: &Tracks,
    ) -> Result<(), FileError> {
        if self.segmenter.should_cut(&frame, self.video) && self.seg.is_some() {
            let d = self.segmenter.closed_duration_ms();
            self.close_segment(ctx, d).await?;
        }
        let seg = match &mut self.seg {
            Some(s) => s,
            None => {
                // Each segment is a new file: only with room for it.
                ctx.check_free_space().map_err(FileError::LowDisk)?;
                let index = self.playlist.segments().len();
                let path = ctx.storage.spool_path(&segment_key(&self.base, index))?;
                // The next segment carries on the TS continuity counters
                // of the last one (players check them across segments).
                let muxer = self
                    .next_muxer
                    .take()
                    .unwrap_or_else(|| muxer(FileFormat::Hls, self.video, self.audio));
                self.seg.insert(OpenSegment {
                    index,
                    out: MuxedSpool::create(&path, muxer, tracks).await?,
                })
            }
        };
        seg.out.push(&frame, tracks).await?;
        self.frames += 1;
        self.tracks = tracks.clone();
        Ok(())
    }

    /// Publishes the open segment and the playlist that lists it, in one
    /// blocking-pool trip after the segment's sync.
    async fn close_segment(
        &mut self,
        ctx: &RecorderCtx,
        duration_ms: i64,
    ) -> Result<(), FileError> {
        let Some(seg) = self.seg.take() else {
            return Ok(());
        };
        let seg_key = segment_key(&self.base, seg.index);
        let seg_spool = seg.out.path().to_path_buf();
        let seg_dest = ctx.storage.path_of(&seg_key)?;
        let list_spool = ctx.storage.spool_path(&self.row.storage_key)?;
        let list_dest = ctx.storage.path_of(&self.row.storage_key)?;
        let mut playlist = self.playlist.clone();
        playlist.push(Segment {
            uri: segment_uri(&self.base, seg.index),
            duration_ms,
            discontinuity: false,
        });
        let text = playlist.render(false);
        let (size, next) = seg
            .out
            .finish_segment_then(move || {
                let size = publish_now(&seg_spool, &seg_dest)?;
                std::fs::write(&list_spool, text)?;
                publish_now(&list_spool, &list_dest)?;
                Ok(size)
            })
            .await?;
        self.next_muxer = next;
        self.bytes += size;
        self.playlist = playlist;
        if ctx.storage.bucket().is_some() {
            // The segment, then the playlist that lists it; the playlist's
            // local copy stays (it is uploaded again after each segment).
            let playlist = self.row.storage_key.clone();
            ctx.uploads.submit(Job::partial(
                &self.row.id,
                vec![seg_key, playlist.clone()],
                vec![playlist],
            ));
        }
        Ok(())
    }

    /// Continues after the publisher came back: the open segment is closed
    /// and the next one starts with `#EXT-X-DISCONTINUITY`; timestamps go on
    /// from where they were (the repair re-bases the new session: its
    /// keyframe one frame after the old video, its audio at the same offset
    /// and never over the old audio; silence fills the audio hole).
    pub(super) async fn resume(&mut self, ctx: &RecorderCtx) -> Result<(), FileError> {
        let d = self.segmenter.open_duration_ms();
        self.close_segment(ctx, d).await?;
        self.segmenter = Segmenter::new(ctx.hls_target_ms);
        self.playlist.mark_discontinuity();
        self.repair.splice();
        self.fill_join = true;
        Ok(())
    }

    /// Closes the last segment and ends the playlist.
    pub(super) async fn close(mut self, ctx: &RecorderCtx) -> Result<Option<FileRow>, FileError> {
        if self.frames == 0 {
            ctx.store.discard_file(&self.row.id).await?;
            return Ok(None);
        }
        let d = self.segmenter.open_duration_ms();
        if let Err(e) = self.close_segment(ctx, d).await {
            tracing::error!(file_id = %self.row.id, error = %e, "closing the last segment failed; recovering");
            return recover(ctx, self.row).await;
        }
        let size =
            publish_playlist(&ctx.storage, &self.row.storage_key, &self.playlist, true).await?;
        let mut row = self.row;
        row.media_info = media_info(&self.tracks, self.video, self.audio);
        let duration_ms = self.playlist.duration_ms();
        let key = row.storage_key.clone();
        publish(
            ctx,
            row,
            FileStatus::Finished,
            duration_ms,
            self.bytes + size,
            vec![key],
        )
        .await
    }

    /// Ends after a write failure: keeps what is complete.
    pub(super) async fn abandon(mut self, ctx: &RecorderCtx) -> Result<Option<FileRow>, FileError> {
        if let Some(seg) = self.seg.take() {
            seg.out.abandon().await;
        }
        recover(ctx, self.row).await
    }
}

/// Finishes an HLS recording that was not closed: cuts the unfinished
/// segment after its last complete PES, publishes it, ends the playlist.
pub(super) async fn recover(ctx: &RecorderCtx, row: FileRow) -> Result<Option<FileRow>, FileError> {
    let key = row.storage_key.clone();
    let Some(base) = key.strip_suffix(".m3u8").map(str::to_string) else {
        ctx.store.discard_file(&row.id).await?;
        return Ok(None);
    };
    let mut playlist = read_playlist(&ctx.storage, &key)
        .await
        .unwrap_or_else(|| Playlist::new(ctx.hls_target_ms));
    let index = playlist.segments().len();
    let spool = ctx.storage.spool_path(&segment_key(&base, index))?;
    let path = spool.clone();
    let cut = blocking(move || {
        // An unreadable segment is left as it is.
        let Ok(mut f) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
        else {
            return Ok(None);
        };
        let Ok(r) = media::recover::ts(std::io::BufReader::new(&mut f)) else {
            return Ok(None);
        };
        if r.valid_len > 0 && r.duration_ms > 0 {
            f.set_len(r.valid_len as u64)?;
            f.sync_all()?;
        }
        Ok(Some(r))
    })
    .await?;
    if let Some(r) = cut {
        if r.valid_len > 0 && r.duration_ms > 0 {
            ctx.storage
                .commit(&spool, &segment_key(&base, index))
                .await?;
            playlist.push(Segment {
                uri: segment_uri(&base, index),
                duration_ms: r.duration_ms,
                discontinuity: false,
            });
        } else {
            let _ = tokio::fs::remove_file(&spool).await;
        }
    }
    if playlist.segments().is_empty() {
        let _ = ctx.storage.delete(&key).await;
        ctx.store.discard_file(&row.id).await?;
        return Ok(None);
    }
    let mut size = publish_playlist(&ctx.storage, &key, &playlist, true).await?;
    // Segments still on the spool go up before the ended playlist; the
    // others are in the bucket already.
    let mut pending = Vec::new();
    for seg in segment_keys(&key, &playlist) {
        match ctx.storage.size(&seg).await? {
            Some(n) => {
                size += n;
                pending.push(seg);
            }
            None => {
                size += ctx
                    .storage
                    .stored_size(&seg)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or(0)
            }
        }
    }
    pending.push(key);
    let duration_ms = playlist.duration_ms();
    publish(ctx, row, FileStatus::Recovered, duration_ms, size, pending).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(segment_uri("d/live/s/s_1_2_ab", 3), "s_1_2_ab_3.ts");
        assert_eq!(
            segment_key("d/live/s/s_1_2_ab", 3),
            "d/live/s/s_1_2_ab_3.ts"
        );
        let mut p = Playlist::new(6000);
        p.push(Segment {
            uri: "x_0.ts".into(),
            duration_ms: 6000,
            discontinuity: false,
        });
        assert_eq!(segment_keys("d/live/s/x.m3u8", &p), ["d/live/s/x_0.ts"]);
    }
}
