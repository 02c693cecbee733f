//! The crate's one error type. Every variant means "this connection is
//! broken or hostile; flush what is pending and close it". Needing more bytes
//! is never an error: the parsers keep partial state and wait.

use media::amf0::Amf0Error;
use thiserror::Error;

/// Why a session cannot go on.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RtmpError {
    /// The peer's C0/S0 asked for a protocol version other than 3
    /// (6 would be RTMPE, which is not supported).
    #[error("unexpected RTMP version {0} (only 3 is supported)")]
    UnexpectedVersion(u8),
    /// A chunk violates the chunk-stream rules (RTMP 1.0 §5.3).
    #[error("malformed chunk: {0}")]
    BadChunk(&'static str),
    /// The peer announced a chunk size of 0 or above 0x7FFFFFFF (§5.4.1).
    #[error("invalid chunk size {0}")]
    BadChunkSize(u32),
    /// A message is longer than the configured maximum.
    #[error("message of {size} bytes exceeds the limit of {max}")]
    MessageTooLarge {
        /// Length announced in the chunk header.
        size: u32,
        /// Configured limit.
        max: u32,
    },
    /// The peer opened more chunk streams than allowed.
    #[error("more than {max} chunk streams")]
    TooManyChunkStreams {
        /// Configured limit.
        max: usize,
    },
    /// The peer created more message streams than allowed.
    #[error("more than {max} message streams")]
    TooManyStreams {
        /// Limit ([`crate::MAX_MESSAGE_STREAMS`]).
        max: usize,
    },
    /// Unparsed input plus partial messages exceed the per-connection cap.
    #[error("more than {max} bytes buffered for one connection")]
    BufferLimit {
        /// Configured limit.
        max: usize,
    },
    /// Responses piled up because the caller does not call `take_output`.
    #[error("more than {max} bytes of output pending")]
    OutputLimit {
        /// Limit ([`crate::MAX_PENDING_OUTPUT`]).
        max: usize,
    },
    /// A protocol control or user control message has the wrong shape.
    #[error("malformed control message: {0}")]
    BadControl(&'static str),
    /// An AMF0 value could not be decoded where one was required.
    #[error("AMF0: {0}")]
    Amf0(#[from] Amf0Error),
    /// A command the session depends on (connect, publish) is malformed
    /// or out of order.
    #[error("bad command: {0}")]
    BadCommand(String),
    /// `feed` was called again after it had returned an error.
    #[error("session already failed")]
    Failed,
}
