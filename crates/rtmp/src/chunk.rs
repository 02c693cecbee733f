//! The chunk stream layer (RTMP 1.0 §5.3): messages are cut into chunks of
//! at most the sender's chunk size, each with a basic header (format and
//! chunk stream id) and a message header that may be compressed against the
//! previous chunk on the same chunk stream. [`ChunkReader`] reassembles
//! messages from bytes without IO; [`ChunkWriter`] cuts them. Neither
//! interprets payloads.

pub mod reader;
pub mod writer;

pub use reader::ChunkReader;
pub use writer::ChunkWriter;

/// Chunk size both sides use until a Set Chunk Size says otherwise (§5.4.1).
pub const DEFAULT_CHUNK_SIZE: u32 = 128;

/// Largest chunk header: 3-byte basic header, 11-byte type-0 message header
/// and 4-byte extended timestamp.
pub const MAX_HEADER_LEN: usize = 18;

/// Timestamp field value meaning "the real value is in the 4-byte extended
/// timestamp that follows" (§5.3.1.3).
pub const EXTENDED_TIMESTAMP: u32 = 0x00FF_FFFF;

/// Lowest chunk stream id a message may use (0 and 1 are header escapes).
pub const MIN_CHUNK_STREAM_ID: u32 = 2;

/// Highest chunk stream id the 3-byte basic header can express.
pub const MAX_CHUNK_STREAM_ID: u32 = 65599;

/// Largest message length a message header can carry (24 bits).
pub const MAX_MESSAGE_LEN: u32 = 0x00FF_FFFF;
