//! A file being written: buffered writes that reach the OS at the first
//! write (a new recording shows bytes in storage at once) and then at least
//! every second (so a crash loses at most about a second of media), in-place
//! patches and fsync at the end; and [`MuxedSpool`], a muxer writing into
//! one. Used for every output file and HLS segment. The flush cadence
//! follows tokio's clock.

use std::io::SeekFrom;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use media::{Frame, Muxer, Patch, Tracks};
use tokio::fs::File;
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};
use tokio::time::Instant;

use super::live_upload::Mark;
use super::start::FileError;

/// Longest time written data may sit in the process before reaching the OS.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
const WRITE_BUFFER: usize = 32 * 1024;

pub(super) struct SpoolWriter {
    path: PathBuf,
    out: BufWriter<File>,
    /// None until the first data reached the OS.
    last_flush: Option<Instant>,
    /// Bytes handed to the writer.
    written: u64,
    /// Bytes that reached the OS (readable from the file).
    flushed: u64,
}

impl SpoolWriter {
    /// Creates (truncates) `path`.
    pub(super) async fn create(path: &Path) -> std::io::Result<SpoolWriter> {
        let file = File::create(path).await?;
        Ok(SpoolWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(WRITE_BUFFER, file),
            last_flush: None,
            written: 0,
            flushed: 0,
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `data` and empties it; flushes to the OS at the first data,
    /// then once a second.
    pub(super) async fn write(&mut self, data: &mut Vec<u8>) -> std::io::Result<()> {
        let wrote = !data.is_empty();
        if wrote {
            self.out.write_all(data).await?;
            metrics::counter!("liverec_recorded_bytes_total").increment(data.len() as u64);
            self.written += data.len() as u64;
            data.clear();
        }
        let due = match self.last_flush {
            None => wrote,
            Some(t) => t.elapsed() >= FLUSH_EVERY,
        };
        if due {
            self.out.flush().await?;
            self.last_flush = Some(Instant::now());
            self.flushed = self.written;
        }
        Ok(())
    }

    /// Bytes from the start of the file that can be read back from it.
    pub(super) fn flushed(&self) -> u64 {
        self.flushed
    }

    /// Flushes, applies `patches`, syncs and closes.
    pub(super) async fn finish(self, patches: &[Patch]) -> std::io::Result<()> {
        let mut out = self.out;
        out.flush().await?;
        let mut f = out.into_inner();
        for p in patches {
            f.seek(SeekFrom::Start(p.offset)).await?;
            f.write_all(&p.bytes).await?;
        }
        f.sync_all().await
    }

    /// Gives up: pushes out what can be pushed, ignoring errors (the disk
    /// may be full); recovery works from whatever reached the file.
    pub(super) async fn abandon(self) {
        let mut out = self.out;
        let _ = out.flush().await;
    }
}

/// A muxer writing into a spool file: frames in, bytes on disk.
pub(super) struct MuxedSpool {
    spool: SpoolWriter,
    muxer: Box<dyn Muxer>,
    buf: Vec<u8>,
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
        let mut buf = Vec::with_capacity(16 * 1024);
        muxer.start(tracks, &mut buf)?;
        let mut spool = SpoolWriter::create(path).await?;
        spool.write(&mut buf).await?;
        Ok(MuxedSpool {
            spool,
            muxer,
            buf,
            flushed_ms: 0,
        })
    }

    /// Muxes and writes one frame.
    pub(super) async fn push(&mut self, frame: &Frame, tracks: &Tracks) -> Result<(), FileError> {
        self.muxer.push(frame, tracks, &mut self.buf)?;
        let before = self.spool.flushed();
        self.spool.write(&mut self.buf).await?;
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
        let patches = self.muxer.finish(&mut self.buf)?;
        self.spool.write(&mut self.buf).await?;
        let path = self.spool.path().to_path_buf();
        let ranges = patches
            .iter()
            .map(|p| p.offset..p.offset + p.bytes.len() as u64)
            .collect();
        self.spool.finish(&patches).await?;
        Ok((path, ranges))
    }

    /// [`finish`](Self::finish), also returning the muxer for the next
    /// segment of the same output (see `Muxer::next_segment`).
    pub(super) async fn finish_segment(
        mut self,
    ) -> Result<(PathBuf, Option<Box<dyn Muxer>>), FileError> {
        let patches = self.muxer.finish(&mut self.buf)?;
        self.spool.write(&mut self.buf).await?;
        let path = self.spool.path().to_path_buf();
        self.spool.finish(&patches).await?;
        Ok((path, self.muxer.next_segment()))
    }

    /// Gives up; see [`SpoolWriter::abandon`].
    pub(super) async fn abandon(self) {
        self.spool.abandon().await;
    }
}

#[cfg(test)]
mod tests;
