//! What both session roles share once the handshake is done: the input and
//! output buffers, the chunk reader and writer, byte accounting, and the
//! protocol control messages that need no decision (RTMP 1.0 §5.4, §6.2):
//! the peer's Set Chunk Size and Abort, Window Acknowledgement Size (we
//! acknowledge every window), and Ping Request (we answer). Everything else
//! goes up to the session.

use bytes::{Bytes, BytesMut};

use crate::chunk::{ChunkReader, ChunkWriter};
use crate::command::Command;
use crate::error::RtmpError;
use crate::message::control::{Control, EventType, MAX_CHUNK_SIZE};
use crate::message::{Message, MessageType};

/// Chunk stream for protocol control messages (§5.4: chunk stream 2).
pub(crate) const CSID_CONTROL: u32 = 2;
/// Chunk stream for connection-level commands and their replies.
pub(crate) const CSID_COMMAND: u32 = 3;
/// Chunk stream for `onStatus` and other per-stream commands.
pub(crate) const CSID_STATUS: u32 = 5;

#[derive(Debug)]
pub(crate) struct Connection {
    /// Bytes received and not yet parsed (handshake or chunks).
    pub(crate) input: BytesMut,
    /// Bytes to send.
    pub(crate) output: BytesMut,
    pub(crate) reader: ChunkReader,
    pub(crate) writer: ChunkWriter,
    received: u64,
    /// Acknowledgement window the peer asked for, if any.
    ack_window: Option<u32>,
    acked_at: u64,
}

impl Connection {
    pub(crate) fn new(max_message_size: u32, max_chunk_streams: usize) -> Self {
        Self {
            input: BytesMut::new(),
            output: BytesMut::new(),
            reader: ChunkReader::new(max_message_size, max_chunk_streams),
            writer: ChunkWriter::new(),
            received: 0,
            ack_window: None,
            acked_at: 0,
        }
    }

    /// Appends received bytes.
    pub(crate) fn receive(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
        self.received += bytes.len() as u64;
    }

    /// Total bytes received.
    pub(crate) fn received(&self) -> u64 {
        self.received
    }

    /// Bytes held for parsing: unparsed input plus partial messages.
    pub(crate) fn buffered(&self) -> usize {
        self.input.len() + self.reader.buffered()
    }

    /// The next message that is not protocol control; control messages
    /// are applied on the way. `Ok(None)`: need more bytes.
    pub(crate) fn next_message(&mut self) -> Result<Option<Message>, RtmpError> {
        while let Some(msg) = self.reader.read_message(&mut self.input)? {
            match Control::decode(&msg)? {
                None => return Ok(Some(msg)),
                Some(control) => self.apply(control)?,
            }
        }
        Ok(None)
    }

    fn apply(&mut self, control: Control) -> Result<(), RtmpError> {
        match control {
            Control::SetChunkSize(size) => self.reader.set_chunk_size(size)?,
            Control::Abort { chunk_stream_id } => self.reader.abort(chunk_stream_id),
            Control::WindowAckSize(size) => self.ack_window = (size > 0).then_some(size),
            Control::UserControl {
                event: EventType::PING_REQUEST,
                value,
                ..
            } => self.send_control(Control::user(EventType::PING_RESPONSE, value)),
            // Acknowledgements of our output, the peer's bandwidth hint and
            // other user control events need no action from a publisher's
            // or an ingest's point of view.
            Control::Acknowledgement { .. }
            | Control::SetPeerBandwidth { .. }
            | Control::UserControl { .. } => {}
        }
        Ok(())
    }

    /// Sends an Acknowledgement if a whole window has arrived since the last
    /// one (§5.4.3: the sequence number is the byte count, mod 2^32).
    pub(crate) fn acknowledge_if_due(&mut self) {
        if let Some(window) = self.ack_window
            && self.received - self.acked_at >= u64::from(window)
        {
            self.acked_at = self.received;
            self.send_control(Control::Acknowledgement {
                sequence: self.received as u32,
            });
        }
    }

    /// Queues a message. Only payloads over 16 MiB fail; our own control
    /// and command messages are far smaller, so callers may ignore it.
    pub(crate) fn send(&mut self, csid: u32, msg: &Message) -> Result<(), RtmpError> {
        self.writer.write(csid, msg, &mut self.output)
    }

    pub(crate) fn send_control(&mut self, control: Control) {
        // A control message is at most 10 bytes: writing cannot fail.
        let _ = self.send(CSID_CONTROL, &control.encode());
    }

    /// Announces and switches to our chunk size (clamped to 1..=0x7FFFFFFF).
    pub(crate) fn set_chunk_size(&mut self, size: u32) {
        let size = size.clamp(1, MAX_CHUNK_SIZE);
        self.send_control(Control::SetChunkSize(size));
        self.writer.set_chunk_size(size);
    }

    /// Queues a command on `csid`, message stream `stream_id`.
    pub(crate) fn send_command(&mut self, csid: u32, stream_id: u32, command: &Command) {
        let msg = Message {
            timestamp: 0,
            type_id: MessageType::COMMAND_AMF0,
            stream_id,
            payload: command.encode(),
        };
        // Commands we build carry at most what the peer sent us in one
        // message, itself limited to 16 MiB − 1; an oversize one is dropped.
        let _ = self.send(csid, &msg);
    }

    pub(crate) fn take_output(&mut self) -> Bytes {
        self.output.split().freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_control(conn: &mut Connection, c: Control) {
        let mut w = ChunkWriter::new();
        let mut out = BytesMut::new();
        w.write(CSID_CONTROL, &c.encode(), &mut out).unwrap();
        conn.receive(&out);
        assert_eq!(conn.next_message().unwrap(), None);
    }

    #[test]
    fn answers_ping_and_acknowledges_windows() {
        let mut conn = Connection::new(1 << 20, 8);
        feed_control(&mut conn, Control::user(EventType::PING_REQUEST, 1234));
        let mut r = ChunkReader::new(1 << 20, 8);
        let mut out = BytesMut::from(&conn.take_output()[..]);
        let pong = r.read_message(&mut out).unwrap().unwrap();
        assert_eq!(
            Control::decode(&pong).unwrap(),
            Some(Control::user(EventType::PING_RESPONSE, 1234))
        );
        feed_control(&mut conn, Control::WindowAckSize(20));
        conn.acknowledge_if_due();
        let ack = r
            .read_message(&mut BytesMut::from(&conn.take_output()[..]))
            .unwrap()
            .unwrap();
        assert_eq!(
            Control::decode(&ack).unwrap(),
            Some(Control::Acknowledgement { sequence: 34 })
        );
        conn.acknowledge_if_due();
        assert!(conn.take_output().is_empty());
    }
}
