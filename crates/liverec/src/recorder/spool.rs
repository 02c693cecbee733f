//! A file being written: muxed bytes collect in one buffer per file and
//! reach the OS at the first data (a new recording shows bytes in storage
//! at once), whenever the buffer fills, and at least every second (so a
//! crash loses at most about a second of media); in-place patches and
//! fsync at the end; and [`MuxedSpool`], a muxer writing into one. Used for
//! every output file and HLS segment. The flush cadence follows tokio's
//! clock.
//!
//! Writes are plain `write(2)` calls made on the recording's own task, as
//! nginx-rtmp and SRS make them: a write of a buffer into the page cache
//! costs microseconds, far less than handing each one to a blocking-pool
//! thread and back (two context switches per 32 KiB). Creating the file
//! is as quick and is made there too. Only the closing fsync, which can
//! wait on the disk, goes to the blocking pool, in one trip with whatever
//! the caller does after it (an HLS segment's rename and its playlist).

use std::io::Write;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use media::{Frame, Muxer, Patch, Tracks};
use tokio::time::Instant;

use super::live_upload::Mark;
use super::start::FileError;

/// Longest time written data may sit in the process before reaching the OS.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Buffered bytes that are handed to the OS at once, without waiting.
const WRITE_BUFFER: usize = 32 * 1024;

pub(super) struct SpoolWriter {
    path: PathBuf,
    file: std::fs::File,
    /// Bytes not yet handed to the OS, all whole media units.
    pending: Vec<u8>,
    /// None until the first data reached the OS.
    last_flush: Option<Instant>,
    /// Bytes that reached the OS (readable from the file).
    flushed: u64,
}

impl SpoolWriter {
    /// Creates (truncates) `path`.
    pub(super) fn create(path: &Path) -> std::io::Result<SpoolWriter> {
        let file = std::fs::File::create(path)?;
        Ok(SpoolWriter {
            path: path.to_path_buf(),
            file,
            pending: Vec::with_capacity(WRITE_BUFFER),
            last_flush: None,
            flushed: 0,
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Where a muxer appends whole units; [`commit`](Self::commit) after.
    fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.pending
    }

    /// Appends `data` and empties it; see [`commit`](Self::commit).
    pub(super) async fn write(&mut self, data: &mut Vec<u8>) -> std::io::Result<()> {
        self.pending.append(data);
        self.commit()
    }

    /// Hands the buffer to the OS at the first data, when it is full, and
    /// once a second.
    fn commit(&mut self) -> std::io::Result<()> {
        let due = match self.last_flush {
            None => !self.pending.is_empty(),
            Some(t) => self.pending.len() >= WRITE_BUFFER || t.elapsed() >= FLUSH_EVERY,
        };
        if due {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            self.file.write_all(&self.pending)?;
            metrics::counter!("liverec_recorded_bytes_total").increment(self.pending.len() as u64);
            self.flushed += self.pending.len() as u64;
            self.pending.clear();
        }
        self.last_flush = Some(Instant::now());
        Ok(())
    }

    /// Bytes from the start of the file that can be read back from it.
    pub(super) fn flushed(&self) -> u64 {
        self.flushed
    }

    /// Flushes, applies `patches`, syncs and closes, then runs `then` on
    /// the same blocking-pool thread as the sync (one trip for both).
    pub(super) async fn finish_then<T: Send + 'static>(
        mut self,
        patches: &[Patch],
        then: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        self.flush()?;
        for p in patches {
            self.file.write_all_at(&p.bytes, p.offset)?;
        }
        let file = self.file;
        tokio::task::spawn_blocking(move || {
            file.sync_all()?;
            drop(file);
            then()
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Gives up: pushes out what can be pushed, ignoring errors (the disk
    /// may be full); recovery works from whatever reached the file.
    pub(super) async fn abandon(mut self) {
        let _ = self.flush();
    }
}

/// A muxer writing into a spool file: frames in, bytes on disk.
pub(super) struct MuxedSpool {
    spool: SpoolWriter,
    muxer: Box<dyn Muxer>,
    /// Media time of the bytes that reached the OS, ms.
    flushed_ms: i64,
}

impl MuxedSpool {
    /// Creates `path` with the muxer's header for `tracks` (nothing is
    /// created when the muxer refuses the tracks).
    pub(super) async fn create(
        path: &Path,
        mut muxer: Box<dyn Muxer>,
        tracks: &Tracks,
    ) -> Result<MuxedSpool, FileError> {
        let mut header = Vec::new();
        muxer.start(tracks, &mut header)?;
        let mut spool = SpoolWriter::create(path)?;
        spool.write(&mut header).await?;
        Ok(MuxedSpool {
            spool,
            muxer,
            flushed_ms: 0,
        })
    }

    /// Muxes and writes one frame.
    pub(super) async fn push(&mut self, frame: &Frame, tracks: &Tracks) -> Result<(), FileError> {
        self.muxer.push(frame, tracks, self.spool.buffer())?;
        let before = self.spool.flushed();
        self.spool.commit()?;
        if self.spool.flushed() != before {
            self.flushed_ms = self.muxer.duration_ms();
        }
        Ok(())
    }

    /// Media time written so far, ms.
    pub(super) fn duration_ms(&self) -> i64 {
        self.muxer.duration_ms()
    }

    pub(super) fn path(&self) -> &Path {
        self.spool.path()
    }

    /// Where the bytes that can be read back from the file (see
    /// [`SpoolWriter::flushed`]) end: always between two units,
    /// since each frame's bytes are written whole before a flush.
    pub(super) fn flushed_mark(&self) -> Mark {
        Mark {
            bytes: self.spool.flushed(),
            media_ms: self.flushed_ms,
        }
    }

    /// Writes the muxer's trailer and patches and syncs; returns the path
    /// and the byte ranges the patches rewrote.
    pub(super) async fn finish(mut self) -> Result<(PathBuf, Vec<Range<u64>>), FileError> {
        let patches = self.muxer.finish(self.spool.buffer())?;
        let path = self.spool.path().to_path_buf();
        let ranges = patches
            .iter()
            .map(|p| p.offset..p.offset + p.bytes.len() as u64)
            .collect();
        self.spool.finish_then(&patches, || Ok(())).await?;
        Ok((path, ranges))
    }

    /// [`finish`](Self::finish) for a segment: `then` runs right after the
    /// sync, on its thread (see [`SpoolWriter::finish_then`]); returns what
    /// it returned and the muxer for the next segment of the same output
    /// (see `Muxer::next_segment`).
    pub(super) async fn finish_segment_then<T: Send + 'static>(
        mut self,
        then: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    ) -> Result<(T, Option<Box<dyn Muxer>>), FileError> {
        let patches = self.muxer.finish(self.spool.buffer())?;
        let done = self.spool.finish_then(&patches, then).await?;
        Ok((done, self.muxer.next_segment()))
    }

    /// Gives up; see [`SpoolWriter::abandon`].
    pub(super) async fn abandon(self) {
        self.spool.abandon().await;
    }
}

#[cfg(test)]
mod tests;
