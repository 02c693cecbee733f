//! The ingest side: a [`ServerSession`] takes a publisher from handshake to
//! media, sans-IO. The caller feeds socket bytes, writes
//! [`ServerSession::take_output`], and decides each publish with
//! [`ServerSession::accept_publish`] / [`ServerSession::reject_publish`]
//! (the rml_rtmp shape). Owns per-connection state (connect info, message
//! streams and their publish state) and which media reaches the caller;
//! command handling is in `commands`.

mod commands;
mod config;

pub use config::{
    DEFAULT_MAX_BUFFERED_BEFORE_PUBLISH, DEFAULT_MAX_BUFFERED_BYTES,
    DEFAULT_MAX_MESSAGE_BEFORE_PUBLISH, ServerConfig,
};

use std::collections::BTreeMap;

use bytes::Bytes;

use super::connection::{CSID_STATUS, Connection};
use super::{MAX_PENDING_OUTPUT, in_slices};
use crate::command::{Command, StatusCode, status};
use crate::error::RtmpError;
use crate::handshake::ServerHandshake;
use crate::message::control::{Control, EventType};
use crate::message::{Message, MessageType, split_aggregate};

/// What a [`ServerSession`] reports to its caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// `connect` was received and answered (Window Ack Size, Set Peer
    /// Bandwidth, Set Chunk Size, `_result` NetConnection.Connect.Success).
    Connected {
        /// `app` exactly as sent.
        app: String,
        /// `tcUrl`, if sent.
        tc_url: Option<String>,
        /// `flashVer`, if sent.
        flash_ver: Option<String>,
    },
    /// `publish(name, type)` on a stream made by `createStream`. Nothing has
    /// been answered yet: call `accept_publish` or `reject_publish`.
    PublishRequested {
        /// Message stream id.
        stream_id: u32,
        /// `app` from `connect`.
        app: String,
        /// `tcUrl` from `connect`.
        tc_url: Option<String>,
        /// Publishing name exactly as sent, including any `?query`.
        name: String,
        /// Publishing type (`live`, `record`, `append`); `live` if absent.
        publish_type: String,
    },
    /// Audio message (type 8): an FLV audio tag body.
    Audio {
        /// Message stream id.
        stream_id: u32,
        /// Absolute timestamp, ms, wrapping at 2^32.
        timestamp: u32,
        /// Payload.
        data: Bytes,
    },
    /// Video message (type 9): an FLV video tag body.
    Video {
        /// Message stream id.
        stream_id: u32,
        /// Absolute timestamp, ms, wrapping at 2^32.
        timestamp: u32,
        /// Payload.
        data: Bytes,
    },
    /// AMF0 data message (type 18, e.g. `@setDataFrame` `onMetaData`), raw.
    Data {
        /// Message stream id.
        stream_id: u32,
        /// Absolute timestamp, ms, wrapping at 2^32.
        timestamp: u32,
        /// Payload (AMF0 values).
        data: Bytes,
    },
    /// `FCUnpublish`, `closeStream` or `deleteStream` of a publishing stream.
    Unpublished {
        /// Message stream id.
        stream_id: u32,
    },
    /// `play`/`play2`, already refused with `NetStream.Play.Failed`.
    PlayRefused {
        /// Message stream id.
        stream_id: u32,
        /// Requested name.
        name: String,
    },
}

/// Publish state of one message stream.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Stream {
    /// Created, not publishing.
    Idle,
    /// `publish` received, waiting for the caller's decision.
    Pending { name: String },
    /// Accepted: media flows.
    Publishing { name: String },
}

/// What `connect` told us.
#[derive(Clone, Debug)]
struct ConnectInfo {
    app: String,
    tc_url: Option<String>,
}

/// One publisher connection, from handshake to unpublish.
#[derive(Debug)]
pub struct ServerSession {
    config: ServerConfig,
    handshake: ServerHandshake,
    conn: Connection,
    connect: Option<ConnectInfo>,
    streams: BTreeMap<u32, Stream>,
    next_stream_id: u32,
    /// A `publish` has arrived: the admission caps are lifted.
    publish_seen: bool,
    failed: bool,
}

impl ServerSession {
    /// A session waiting for C0+C1. `random_seed` feeds the handshake's
    /// random bytes (no secrecy needed; any per-connection value will do).
    pub fn new(config: ServerConfig, random_seed: u64) -> Self {
        let first_cap = config
            .max_message_before_publish
            .min(config.max_message_size);
        let conn = Connection::new(first_cap, config.max_chunk_streams);
        Self {
            config,
            handshake: ServerHandshake::new(random_seed),
            conn,
            connect: None,
            streams: BTreeMap::new(),
            next_stream_id: 1,
            publish_seen: false,
            failed: false,
        }
    }

    /// Feeds bytes read from the socket; returns the events they complete.
    /// Answers accumulate for [`Self::take_output`]. Parsing pauses after a
    /// [`ServerEvent::PublishRequested`] until the caller decides; `feed(&[])`
    /// resumes it. After an error the session is dead: flush the output,
    /// close the socket.
    pub fn feed(&mut self, input: &[u8]) -> Result<Vec<ServerEvent>, RtmpError> {
        if self.failed {
            return Err(RtmpError::Failed);
        }
        let mut events = Vec::new();
        let result = in_slices(input, |slice| self.feed_slice(slice, &mut events));
        match result {
            Ok(()) => Ok(events),
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// Bytes to write to the socket now (empty if none).
    pub fn take_output(&mut self) -> Bytes {
        self.conn.take_output()
    }

    /// Total bytes received, handshake included.
    pub fn bytes_received(&self) -> u64 {
        self.conn.received()
    }

    /// Accepts a [`ServerEvent::PublishRequested`]: sends StreamBegin and
    /// `onStatus` NetStream.Publish.Start; media on the stream now reaches
    /// the caller. No effect unless the stream has a pending publish. Then
    /// call `feed(&[])` to process input buffered while the decision was
    /// pending (see [`Self::awaiting_decision`]).
    pub fn accept_publish(&mut self, stream_id: u32) {
        let Some(stream) = self.streams.get_mut(&stream_id) else {
            return;
        };
        let Stream::Pending { name } = stream else {
            return;
        };
        let name = std::mem::take(name);
        let description = format!("{name} is now published.");
        *stream = Stream::Publishing { name };
        self.conn
            .send_control(Control::user(EventType::STREAM_BEGIN, stream_id));
        let info = status(StatusCode::PublishStart, &description);
        self.conn
            .send_command(CSID_STATUS, stream_id, &Command::on_status(info));
    }

    /// Refuses a publish with an `onStatus` error the publisher can show,
    /// e.g. `NetStream.Publish.BadName` (stream busy) or
    /// `NetStream.Publish.Unauthorized` / `NetStream.Publish.Rejected`
    /// (auth). Works on a pending or publishing stream (which then stops
    /// delivering media; no [`ServerEvent::Unpublished`] follows, the caller
    /// knows). Flush the output, then close the socket (or call `feed(&[])`
    /// to go on with input buffered meanwhile).
    pub fn reject_publish(&mut self, stream_id: u32, code: StatusCode, description: &str) {
        let Some(stream) = self.streams.get_mut(&stream_id) else {
            return;
        };
        *stream = Stream::Idle;
        let info = status(code, description);
        self.conn
            .send_command(CSID_STATUS, stream_id, &Command::on_status(info));
    }

    /// Whether the handshake is complete.
    pub fn handshake_done(&self) -> bool {
        self.handshake.is_done()
    }

    /// Whether a `publish` has arrived (pending, accepted or refused since).
    pub fn publish_requested(&self) -> bool {
        self.publish_seen
    }

    /// The cap on buffered bytes now: small until a publish is requested.
    fn buffer_cap(&self) -> usize {
        if self.publish_requested() {
            self.config.max_buffered_bytes
        } else {
            self.config
                .max_buffered_before_publish
                .min(self.config.max_buffered_bytes)
        }
    }

    /// Called when a `publish` arrives: media messages may be large now,
    /// and small ones share pooled blocks (`ChunkReader::set_pooling`).
    pub(super) fn lift_admission_caps(&mut self) {
        self.publish_seen = true;
        self.conn
            .reader
            .set_max_message_size(self.config.max_message_size);
        self.conn.reader.set_pooling(true);
    }

    /// Bytes currently held for parsing (unparsed input plus partial
    /// messages); never more than `max_buffered_bytes` after a `feed`.
    pub fn buffered_bytes(&self) -> usize {
        self.conn.buffered()
    }

    /// Whether a [`ServerEvent::PublishRequested`] awaits `accept_publish`
    /// or `reject_publish`. Meanwhile nothing more is parsed (input is only
    /// buffered), so media a client sends right behind `publish` is neither
    /// lost nor delivered before the decision.
    pub fn awaiting_decision(&self) -> bool {
        self.streams
            .values()
            .any(|s| matches!(s, Stream::Pending { .. }))
    }

    /// Whether media on `stream_id` is being delivered.
    pub fn is_publishing(&self, stream_id: u32) -> bool {
        matches!(
            self.streams.get(&stream_id),
            Some(Stream::Publishing { .. })
        )
    }

    fn feed_slice(&mut self, slice: &[u8], events: &mut Vec<ServerEvent>) -> Result<(), RtmpError> {
        self.conn.receive(slice);
        if !self.handshake.is_done() {
            let Connection { input, output, .. } = &mut self.conn;
            self.handshake.process(input, output)?;
        }
        if self.handshake.is_done() {
            while !self.awaiting_decision() {
                let Some(msg) = self.conn.next_message()? else {
                    break;
                };
                self.on_message(msg, events)?;
            }
            self.conn.acknowledge_if_due();
        }
        let max = self.buffer_cap();
        if self.conn.buffered() > max {
            return Err(RtmpError::BufferLimit { max });
        }
        if self.conn.output.len() > MAX_PENDING_OUTPUT {
            return Err(RtmpError::OutputLimit {
                max: MAX_PENDING_OUTPUT,
            });
        }
        Ok(())
    }

    fn on_message(&mut self, msg: Message, events: &mut Vec<ServerEvent>) -> Result<(), RtmpError> {
        match msg.type_id {
            MessageType::AUDIO | MessageType::VIDEO | MessageType::DATA_AMF0 => {
                self.on_media(
                    msg.type_id,
                    msg.stream_id,
                    msg.timestamp,
                    msg.payload,
                    events,
                );
            }
            MessageType::DATA_AMF3 => {
                // AMF3 data: a 0x00 format byte, then AMF0 like type 18.
                let data = match msg.payload.first() {
                    Some(0) => msg.payload.slice(1..),
                    _ => msg.payload,
                };
                self.on_media(
                    MessageType::DATA_AMF0,
                    msg.stream_id,
                    msg.timestamp,
                    data,
                    events,
                );
            }
            MessageType::AGGREGATE => {
                for part in split_aggregate(msg.timestamp, &msg.payload) {
                    self.on_media(
                        part.type_id,
                        msg.stream_id,
                        part.timestamp,
                        part.payload,
                        events,
                    );
                }
            }
            MessageType::COMMAND_AMF0 | MessageType::COMMAND_AMF3 => {
                self.on_command(&msg, events)?
            }
            // Shared objects and unknown types: nothing a publisher needs.
            _ => {}
        }
        Ok(())
    }

    /// Delivers media of accepted streams; drops the rest (media on a stream
    /// that is not publishing, e.g. after a rejection, is not an error).
    fn on_media(
        &self,
        type_id: MessageType,
        stream_id: u32,
        timestamp: u32,
        data: Bytes,
        events: &mut Vec<ServerEvent>,
    ) {
        if !self.is_publishing(stream_id) {
            return;
        }
        events.push(match type_id {
            MessageType::AUDIO => ServerEvent::Audio {
                stream_id,
                timestamp,
                data,
            },
            MessageType::VIDEO => ServerEvent::Video {
                stream_id,
                timestamp,
                data,
            },
            MessageType::DATA_AMF0 => ServerEvent::Data {
                stream_id,
                timestamp,
                data,
            },
            _ => return,
        });
    }
}
