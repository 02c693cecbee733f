//! RTMP for liverec, sans-IO: bytes in, events and bytes out. No sockets,
//! no clock, no entropy source (the caller passes a seed). Built in layers,
//! like rml_rtmp: handshake → chunk streams → messages → commands →
//! sessions. Publishers push to a [`ServerSession`]; a [`ClientSession`]
//! publishes, for tests and tools.
//!
//! # Layout
//!
//! - [`handshake`]: C0/C1/C2 ↔ S0/S1/S2, simple and FP9 digest
//!   ([`handshake::digest`]).
//! - [`chunk`]: [`chunk::ChunkReader`] reassembles messages from chunks,
//!   [`chunk::ChunkWriter`] cuts them.
//! - [`message`]: message types and [`message::control`] (protocol and user
//!   control messages).
//! - [`command`]: AMF0 commands (`connect`, `publish`, `_result`, `onStatus` …).
//! - `session`: [`ServerSession`], [`ClientSession`] and the connection
//!   state they share (acknowledgements, ping replies).
//! - [`error`]: the one error type, [`RtmpError`].
//!
//! # Specification coverage
//!
//! | Adobe RTMP 1.0 | here |
//! |---|---|
//! | §5.2 handshake | version 3; simple; FP9 digest schema 0 and 1 (not in the spec) |
//! | §5.3 chunking | fmt 0–3, 1/2/3-byte chunk stream ids, extended timestamps (type-3 repeat optional), 32-bit wrap |
//! | §5.4 protocol control | Set Chunk Size, Abort, Acknowledgement, Window Ack Size, Set Peer Bandwidth |
//! | §6.2, §7.1.7 user control | Stream Begin sent; Ping Request answered |
//! | §7.1.1–7.1.6 messages | commands AMF0 and AMF3-envelope, data, audio, video, aggregate; shared objects ignored |
//! | §7.2 commands | connect, createStream, publish, deleteStream, closeStream, play (refused), FCPublish/FCUnpublish/releaseStream (not in the spec) |
//!
//! # Bounds
//!
//! A hostile peer can make a session hold at most
//! [`ServerConfig::max_buffered_bytes`] of input and partial messages,
//! [`ServerConfig::max_chunk_streams`] chunk streams,
//! [`MAX_MESSAGE_STREAMS`] message streams and [`MAX_PENDING_OUTPUT`] of
//! unsent answers; AMF0 nesting is capped by `media::amf0`.
#![deny(missing_docs)]

pub mod chunk;
pub mod command;
pub mod error;
pub mod handshake;
pub mod message;
mod rng;
mod session;

pub use command::StatusCode;
pub use error::RtmpError;
pub use session::{
    CLIENT_CHUNK_SIZE, ClientEvent, ClientSession, DEFAULT_MAX_BUFFERED_BEFORE_PUBLISH,
    DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_MESSAGE_BEFORE_PUBLISH, FEED_SLICE,
    MAX_MESSAGE_STREAMS, MAX_PENDING_OUTPUT, ServerConfig, ServerEvent, ServerSession,
};

#[cfg(test)]
mod tests;
