//! Crash recovery, one recoverer per recorded format. Each streams through
//! a file with small reads (`Read + Seek`, so multi-gigabyte recordings need
//! no memory), finds where its last complete unit ends and what the header
//! must say for what remains; the caller truncates the file and applies the
//! patches. Nothing here opens, truncates or writes files.
//!
//! | Format | Recoverer | Unit kept |
//! |---|---|---|
//! | FLV | [`flv`] | tag (with its `PreviousTagSize`); `onMetaData` duration and file size patched |
//! | ADTS (`.aac`) | [`adts`] | ADTS frame |
//! | MP3 | [`mp3`] | MPEG audio frame; an Info/Xing tag of the unfinished file blanked |
//! | MPEG-TS (HLS segment) | [`ts`] | PES |
//! | MP4 journal | [`mp4_journal`] | fragment (writes the faststart MP4) |

mod audio;
#[cfg(test)]
mod tests;

pub use crate::flv::recover as flv;
pub use crate::mp4::finalize as mp4_journal;
pub use crate::ts::recover_from as ts;
pub use audio::{adts, mp3};

use crate::flv::Patch;

/// What a recoverer found: where to cut the file and what to patch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recovery {
    /// Length to truncate the file to: the end of its last complete unit
    /// (0 when nothing in it is usable).
    pub valid_len: u64,
    /// Media units kept (FLV audio/video tags, audio frames).
    pub units: u64,
    /// Media duration of what is kept, ms.
    pub duration_ms: i64,
    /// Bytes to overwrite, all within `valid_len`.
    pub patches: Vec<Patch>,
}
