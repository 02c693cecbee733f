//! The interface of single-file output muxers (FLV, MPEG-TS, fragmented MP4
//! journal, ADTS AAC, MP3): frames in, bytes out, plus in-place patches
//! applied when the file is closed. The recorder drives every format through
//! it; segmenting and file handling stay with the caller.

use crate::flv::{FlvError, FlvMuxer, Patch};
use crate::frame::{Frame, Tracks};

/// Why a muxer could not take a frame or finish a file.
#[derive(Debug, thiserror::Error)]
pub enum MuxError {
    /// FLV muxing failed.
    #[error(transparent)]
    Flv(#[from] FlvError),
    /// A codec configuration could not be used.
    #[error(transparent)]
    Codec(#[from] crate::codec::CodecError),
    /// The format cannot carry this codec or track.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A frame's timestamp is unusable (negative or going back).
    #[error("bad timestamp: {0}")]
    Timestamp(String),
    /// An audio decoder or encoder failed.
    #[error("transcoding: {0}")]
    Transcode(String),
    /// Reading or writing a file failed (MP4 journal finalization).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// A single-file output muxer.
pub trait Muxer: Send {
    /// Appends the file header (called once, before any frame).
    fn start(&mut self, tracks: &Tracks, out: &mut Vec<u8>) -> Result<(), MuxError>;
    /// Appends one frame (DTS already repaired: non-negative, strictly
    /// increasing per track). Emits new codec configuration first when
    /// `tracks` changed.
    fn push(&mut self, frame: &Frame, tracks: &Tracks, out: &mut Vec<u8>) -> Result<(), MuxError>;
    /// Ends the file: appends trailing bytes to `out` and returns patches to
    /// overwrite earlier bytes in place (offsets from the start of the file).
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<Vec<Patch>, MuxError>;
    /// Media duration written so far, ms.
    fn duration_ms(&self) -> i64;
    /// For segmented outputs, called after [`finish`](Muxer::finish): the
    /// muxer of the next segment, carrying on what must continue across
    /// segment files (MPEG-TS continuity counters and PMT version). None
    /// for formats whose files stand alone.
    fn next_segment(&self) -> Option<Box<dyn Muxer>> {
        None
    }
}

impl Muxer for FlvMuxer {
    fn start(&mut self, tracks: &Tracks, out: &mut Vec<u8>) -> Result<(), MuxError> {
        FlvMuxer::start(self, tracks, out);
        Ok(())
    }

    fn push(&mut self, frame: &Frame, tracks: &Tracks, out: &mut Vec<u8>) -> Result<(), MuxError> {
        Ok(FlvMuxer::push(self, frame, tracks, out)?)
    }

    fn finish(&mut self, _out: &mut Vec<u8>) -> Result<Vec<Patch>, MuxError> {
        Ok(FlvMuxer::finish(self))
    }

    fn duration_ms(&self) -> i64 {
        FlvMuxer::duration_ms(self)
    }
}
