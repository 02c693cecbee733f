//! The publisher side, for tests and test tools: a [`ClientSession`] runs
//! the simple handshake, then `connect` → `releaseStream` + `FCPublish` +
//! `createStream` → `publish`, the sequence ffmpeg 5.1 sends, and then
//! carries audio, video and data messages. Owns the client's command flow
//! and its interpretation of the server's answers.

use bytes::Bytes;
use media::amf0::Value;

use super::connection::{CSID_COMMAND, Connection};
use super::in_slices;
use crate::chunk::MAX_MESSAGE_LEN;
use crate::command::{Command, LEVEL_ERROR, StatusCode, status_fields};
use crate::error::RtmpError;
use crate::handshake::ClientHandshake;
use crate::message::{Message, MessageType};

/// Chunk size the client announces right after the handshake.
pub const CLIENT_CHUNK_SIZE: u32 = 4096;
/// Chunk stream limit for what the server sends us.
const MAX_SERVER_CHUNK_STREAMS: usize = 64;
/// `flashVer` the client announces, in the FMLE form encoders use.
const FLASH_VER: &str = "FMLE/3.0 (compatible; liverec-rtmp)";

/// Chunk streams for the publish command and media (ffmpeg uses one for
/// all media; separate ones keep header compression effective).
const CSID_PUBLISH: u32 = 8;
const CSID_AUDIO: u32 = 4;
const CSID_VIDEO: u32 = 6;
const CSID_DATA: u32 = 7;

/// What a [`ClientSession`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// `onStatus` NetStream.Publish.Start: media may be sent.
    PublishStarted,
    /// The server refused `connect`, `createStream` or `publish`.
    PublishRejected {
        /// Status code, e.g. `NetStream.Publish.BadName`.
        code: String,
        /// Human-readable reason.
        description: String,
    },
    /// Any other `onStatus`.
    Status {
        /// Status code.
        code: String,
        /// `status`, `warning` or `error`.
        level: String,
        /// Human-readable text.
        description: String,
    },
}

/// One publishing connection.
#[derive(Debug)]
pub struct ClientSession {
    handshake: ClientHandshake,
    conn: Connection,
    tc_url: String,
    app: String,
    stream_name: String,
    next_transaction: f64,
    connect_transaction: Option<f64>,
    create_transaction: Option<f64>,
    stream_id: Option<u32>,
    publishing: bool,
    failed: bool,
}

impl ClientSession {
    /// A session that will publish `stream_name` (sent exactly, query
    /// included) to `app` at `tc_url`. C0+C1 are already in the output.
    pub fn new(tc_url: &str, app: &str, stream_name: &str, random_seed: u64) -> Self {
        let mut conn = Connection::new(MAX_MESSAGE_LEN, MAX_SERVER_CHUNK_STREAMS);
        let handshake = ClientHandshake::new(random_seed, &mut conn.output);
        conn.writer.set_header_compression(true);
        Self {
            handshake,
            conn,
            tc_url: tc_url.to_owned(),
            app: app.to_owned(),
            stream_name: stream_name.to_owned(),
            next_transaction: 1.0,
            connect_transaction: None,
            create_transaction: None,
            stream_id: None,
            publishing: false,
            failed: false,
        }
    }

    /// Feeds bytes from the server; drives the handshake and the command
    /// sequence. After an error the session is dead.
    pub fn feed(&mut self, input: &[u8]) -> Result<Vec<ClientEvent>, RtmpError> {
        if self.failed {
            return Err(RtmpError::Failed);
        }
        let mut events = Vec::new();
        let result = in_slices(input, |slice| self.feed_slice(slice, &mut events));
        result.map(|()| events).inspect_err(|_| self.failed = true)
    }

    /// Bytes to write to the socket now (empty if none).
    pub fn take_output(&mut self) -> Bytes {
        self.conn.take_output()
    }

    /// Whether `NetStream.Publish.Start` has arrived (and no unpublish since).
    pub fn is_publishing(&self) -> bool {
        self.publishing
    }

    /// The message stream id from `createStream`, once known.
    pub fn stream_id(&self) -> Option<u32> {
        self.stream_id
    }

    /// Sends an audio message (an FLV audio tag body). Ignored unless
    /// publishing, or if over 16 MiB − 1 (impossible for an FLV tag).
    pub fn send_audio(&mut self, timestamp: u32, data: Bytes) {
        self.send_media(CSID_AUDIO, MessageType::AUDIO, timestamp, data);
    }

    /// Sends a video message (an FLV video tag body); as [`Self::send_audio`].
    pub fn send_video(&mut self, timestamp: u32, data: Bytes) {
        self.send_media(CSID_VIDEO, MessageType::VIDEO, timestamp, data);
    }

    /// Sends an AMF0 data message (e.g. `@setDataFrame`); as [`Self::send_audio`].
    pub fn send_data(&mut self, timestamp: u32, data: Bytes) {
        self.send_media(CSID_DATA, MessageType::DATA_AMF0, timestamp, data);
    }

    /// Ends publishing as ffmpeg does on close: `FCUnpublish` then
    /// `deleteStream`.
    pub fn unpublish(&mut self) {
        let Some(stream_id) = self.stream_id.take() else {
            return;
        };
        self.publishing = false;
        let name = Value::String(self.stream_name.clone());
        self.call("FCUnpublish", vec![name]);
        self.call("deleteStream", vec![Value::Number(f64::from(stream_id))]);
    }

    fn send_media(&mut self, csid: u32, type_id: MessageType, timestamp: u32, payload: Bytes) {
        let (true, Some(stream_id)) = (self.publishing, self.stream_id) else {
            return;
        };
        let msg = Message {
            timestamp,
            type_id,
            stream_id,
            payload,
        };
        let _ = self.conn.send(csid, &msg);
    }

    /// Sends a command on stream 0 with a fresh transaction id.
    fn call(&mut self, name: &str, args: Vec<Value>) -> f64 {
        let txn = self.next_transaction;
        self.next_transaction += 1.0;
        let cmd = Command::new(name, txn, Value::Null, args);
        self.conn.send_command(CSID_COMMAND, 0, &cmd);
        txn
    }

    fn feed_slice(&mut self, slice: &[u8], events: &mut Vec<ClientEvent>) -> Result<(), RtmpError> {
        self.conn.receive(slice);
        if !self.handshake.is_done() {
            let Connection { input, output, .. } = &mut self.conn;
            if self.handshake.process(input, output)? {
                self.send_connect();
            }
        }
        if self.handshake.is_done() {
            while let Some(msg) = self.conn.next_message()? {
                if matches!(
                    msg.type_id,
                    MessageType::COMMAND_AMF0 | MessageType::COMMAND_AMF3
                ) {
                    // A server command we cannot decode is not ours to fix.
                    if let Ok(cmd) = Command::decode(msg.type_id, &msg.payload) {
                        self.on_command(&cmd, events);
                    }
                }
            }
            self.conn.acknowledge_if_due();
        }
        Ok(())
    }

    fn send_connect(&mut self) {
        self.conn.set_chunk_size(CLIENT_CHUNK_SIZE);
        let txn = self.next_transaction;
        self.next_transaction += 1.0;
        let object = Value::Object(vec![
            ("app".into(), Value::String(self.app.clone())),
            ("type".into(), Value::String("nonprivate".into())),
            ("flashVer".into(), Value::String(FLASH_VER.into())),
            ("tcUrl".into(), Value::String(self.tc_url.clone())),
        ]);
        let cmd = Command::new("connect", txn, object, Vec::new());
        self.conn.send_command(CSID_COMMAND, 0, &cmd);
        self.connect_transaction = Some(txn);
    }

    fn on_command(&mut self, cmd: &Command, events: &mut Vec<ClientEvent>) {
        let txn = Some(cmd.transaction_id);
        let info = cmd.args.first().unwrap_or(&Value::Null);
        match cmd.name.as_str() {
            "_result" if txn == self.connect_transaction => {
                self.connect_transaction = None;
                let name = Value::String(self.stream_name.clone());
                self.call("releaseStream", vec![name.clone()]);
                self.call("FCPublish", vec![name]);
                self.create_transaction = Some(self.call("createStream", Vec::new()));
            }
            "_result" if txn == self.create_transaction => {
                self.create_transaction = None;
                let Some(id) = info
                    .as_f64()
                    .filter(|n| n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(n))
                else {
                    events.push(rejected("createStream", "no stream id in _result"));
                    return;
                };
                let stream_id = id as u32;
                self.stream_id = Some(stream_id);
                let txn = self.next_transaction;
                self.next_transaction += 1.0;
                let args = vec![
                    Value::String(self.stream_name.clone()),
                    Value::String("live".into()),
                ];
                let publish = Command::new("publish", txn, Value::Null, args);
                self.conn.send_command(CSID_PUBLISH, stream_id, &publish);
            }
            "_error" if txn == self.connect_transaction || txn == self.create_transaction => {
                let (_, code, description) = status_fields(info);
                events.push(ClientEvent::PublishRejected { code, description });
            }
            "onStatus" => {
                let (level, code, description) = status_fields(info);
                if code == StatusCode::PublishStart.as_str() {
                    self.publishing = true;
                    events.push(ClientEvent::PublishStarted);
                } else if level == LEVEL_ERROR && !self.publishing {
                    events.push(ClientEvent::PublishRejected { code, description });
                } else {
                    events.push(ClientEvent::Status {
                        code,
                        level,
                        description,
                    });
                }
            }
            _ => {}
        }
    }
}

fn rejected(code: &str, description: &str) -> ClientEvent {
    ClientEvent::PublishRejected {
        code: code.to_owned(),
        description: description.to_owned(),
    }
}
