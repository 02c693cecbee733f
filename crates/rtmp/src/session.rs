//! Sessions: the top layer, turning bytes into events and answers. The
//! [`ServerSession`] accepts publishers (what liverec ingests); the
//! [`ClientSession`] publishes (for tests and test tools). Both sit on a
//! shared `Connection` that owns the buffers, the chunk reader/writer and the
//! protocol control replies (Acknowledgement, Ping Response).

mod client;
mod connection;
mod server;

pub use client::{CLIENT_CHUNK_SIZE, ClientEvent, ClientSession};
pub use server::{
    DEFAULT_MAX_BUFFERED_BEFORE_PUBLISH, DEFAULT_MAX_BUFFERED_BYTES,
    DEFAULT_MAX_MESSAGE_BEFORE_PUBLISH, ServerConfig, ServerEvent, ServerSession,
};

/// Largest slice of input parsed at once; `feed` walks longer inputs in
/// slices of this size so the buffers stay bounded whatever the caller
/// passes.
pub const FEED_SLICE: usize = 64 * 1024;

/// Runs `step` over `input` in [`FEED_SLICE`] pieces, stopping at the
/// first error. An empty input still runs it once: that resumes parsing of
/// what is buffered.
fn in_slices<E>(input: &[u8], mut step: impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
    if input.is_empty() {
        return step(input);
    }
    input.chunks(FEED_SLICE).try_for_each(step)
}

/// Cap on answers waiting for `take_output`; more means the caller is not
/// draining the session and the peer keeps asking.
pub const MAX_PENDING_OUTPUT: usize = 4 * 1024 * 1024;

/// Message streams a connection may have open at once (publishers use one).
pub const MAX_MESSAGE_STREAMS: usize = 16;
