//! What a [`super::ServerSession`] may accept: chunk and window sizes it
//! announces, and the caps that bound what a peer can make it hold, lower
//! until a `publish` arrives (an anonymous peer gets little).

use crate::chunk::MAX_MESSAGE_LEN;

/// Default cap on bytes one connection may hold while parsing: unparsed
/// input plus partial messages. Two maximum-size messages fit.
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 32 * 1024 * 1024;

/// Default cap on one message before a publish is requested: connect,
/// createStream and publish are a few hundred bytes, so a bigger message
/// from a peer nobody has admitted yet is refused before it is buffered.
pub const DEFAULT_MAX_MESSAGE_BEFORE_PUBLISH: u32 = 64 * 1024;

/// Default cap on bytes held while parsing before a publish is requested.
pub const DEFAULT_MAX_BUFFERED_BEFORE_PUBLISH: usize = 1024 * 1024;

/// Server session settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Chunk size we announce and send with (bytes, 1..=0x7FFFFFFF). Default 4096.
    pub chunk_size: u32,
    /// Window Acknowledgement Size we announce after connect (bytes). Default 2,500,000.
    pub window_ack_size: u32,
    /// Set Peer Bandwidth we announce after connect (bytes). Default 2,500,000.
    pub peer_bandwidth: u32,
    /// Largest message accepted (bytes). Default 16 MiB − 1, the most a
    /// chunk header can announce.
    pub max_message_size: u32,
    /// Distinct chunk stream ids a connection may use. Default 64.
    pub max_chunk_streams: usize,
    /// Bytes a connection may hold while parsing (unparsed input plus
    /// partial messages). Default [`DEFAULT_MAX_BUFFERED_BYTES`].
    pub max_buffered_bytes: usize,
    /// Largest message accepted until a `publish` arrives (bytes). Default
    /// [`DEFAULT_MAX_MESSAGE_BEFORE_PUBLISH`].
    pub max_message_before_publish: u32,
    /// Bytes a connection may hold while parsing until a `publish` arrives.
    /// Default [`DEFAULT_MAX_BUFFERED_BEFORE_PUBLISH`].
    pub max_buffered_before_publish: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            chunk_size: 4096,
            window_ack_size: 2_500_000,
            peer_bandwidth: 2_500_000,
            max_message_size: MAX_MESSAGE_LEN,
            max_chunk_streams: 64,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
            max_message_before_publish: DEFAULT_MAX_MESSAGE_BEFORE_PUBLISH,
            max_buffered_before_publish: DEFAULT_MAX_BUFFERED_BEFORE_PUBLISH,
        }
    }
}
