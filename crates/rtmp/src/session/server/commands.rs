//! The server's answers to a publisher's commands, in the order ffmpeg 5.1,
//! OBS/librtmp, GStreamer `rtmp2sink` and Larix send them: `connect`,
//! `releaseStream`, `FCPublish`, `createStream`, `publish`, then
//! `FCUnpublish` / `closeStream` / `deleteStream`. Reply shapes follow
//! nginx-rtmp and SRS, which those clients are tested against. A malformed
//! `connect` or `publish` ends the session; other malformed or unknown
//! commands are answered with `_error` or ignored.

use media::amf0::Value;

use super::{ConnectInfo, ServerEvent, ServerSession, Stream};
use crate::command::{Command, StatusCode, status, status_properties};
use crate::error::RtmpError;
use crate::message::Message;
use crate::message::control::{Control, LIMIT_DYNAMIC};
use crate::session::MAX_MESSAGE_STREAMS;
use crate::session::connection::{CSID_COMMAND, CSID_STATUS};

/// Commands whose failure leaves nothing sensible to do.
const CRITICAL: [&str; 2] = ["connect", "publish"];

/// What `connect`'s `_result` announces; clients only log it.
const FMS_VERSION: &str = "FMS/3,0,1,123";
/// Capabilities value nginx-rtmp and SRS announce.
const CAPABILITIES: f64 = 31.0;

fn bad(msg: impl Into<String>) -> RtmpError {
    RtmpError::BadCommand(msg.into())
}

impl ServerSession {
    pub(super) fn on_command(
        &mut self,
        msg: &Message,
        events: &mut Vec<ServerEvent>,
    ) -> Result<(), RtmpError> {
        let cmd = match Command::decode(msg.type_id, &msg.payload) {
            Ok(cmd) => cmd,
            Err(e) => {
                return match Command::peek_name(msg.type_id, &msg.payload) {
                    Some(name) if CRITICAL.contains(&name.as_str()) => Err(e),
                    _ => Ok(()),
                };
            }
        };
        let txn = cmd.transaction_id;
        match cmd.name.as_str() {
            "connect" => self.on_connect(&cmd, events)?,
            "releaseStream" => self.reply(txn, Value::Undefined),
            "FCPublish" => {
                let name = cmd.arg_str(0).unwrap_or_default();
                let info = status(StatusCode::PublishStart, name);
                self.send(
                    0,
                    &Command::new("onFCPublish", 0.0, Value::Null, vec![info]),
                );
                self.reply(txn, Value::Undefined);
            }
            "createStream" => self.on_create_stream(txn)?,
            "publish" => self.on_publish(&cmd, msg.stream_id, events)?,
            "FCUnpublish" => {
                let name = cmd.arg_str(0).unwrap_or_default();
                let found = self.streams.iter().find_map(|(id, s)| match s {
                    Stream::Publishing { name: n } | Stream::Pending { name: n } if n == name => {
                        Some(*id)
                    }
                    _ => None,
                });
                if let Some(id) = found {
                    self.stop(id, events);
                }
                let info = status(StatusCode::UnpublishSuccess, name);
                self.send(
                    0,
                    &Command::new("onFCUnpublish", 0.0, Value::Null, vec![info]),
                );
                self.reply(txn, Value::Undefined);
            }
            "closeStream" => self.stop(msg.stream_id, events),
            "deleteStream" => {
                if let Some(id) = cmd.arg_f64(0).and_then(stream_id_from) {
                    self.stop(id, events);
                    self.streams.remove(&id);
                }
            }
            "getStreamLength" => self.reply(txn, Value::Number(0.0)),
            "checkbw" | "_checkbw" => self.reply(txn, Value::Undefined),
            "play" | "play2" => {
                let name = cmd.arg_str(0).unwrap_or_default().to_owned();
                let info = status(
                    StatusCode::PlayFailed,
                    "play is not supported by this server",
                );
                self.send_status(msg.stream_id, info);
                events.push(ServerEvent::PlayRefused {
                    stream_id: msg.stream_id,
                    name,
                });
            }
            // Answers and notifications from the client: nothing to do.
            "_result" | "_error" | "onStatus" | "onBWDone" | "onBWCheck" => {}
            other if txn != 0.0 => {
                let description = format!("unknown command {other}");
                let info = status(StatusCode::CallFailed, &description);
                self.send(0, &Command::error(txn, Value::Null, info));
            }
            _ => {}
        }
        Ok(())
    }

    fn on_connect(
        &mut self,
        cmd: &Command,
        events: &mut Vec<ServerEvent>,
    ) -> Result<(), RtmpError> {
        if self.connect.is_some() {
            return Err(bad("second connect on one connection"));
        }
        if cmd.object.properties().is_none() {
            return Err(bad("connect without a command object"));
        }
        let string = |key: &str| {
            cmd.object
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let app = string("app").ok_or_else(|| bad("connect without app"))?;
        let tc_url = string("tcUrl");
        let flash_ver = string("flashVer");
        let object_encoding = cmd
            .object
            .get("objectEncoding")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);

        self.conn
            .send_control(Control::WindowAckSize(self.config.window_ack_size));
        self.conn.send_control(Control::SetPeerBandwidth {
            size: self.config.peer_bandwidth,
            limit: LIMIT_DYNAMIC,
        });
        self.conn.set_chunk_size(self.config.chunk_size);

        let mut properties = vec![
            ("fmsVer".to_owned(), Value::String(FMS_VERSION.into())),
            ("capabilities".to_owned(), Value::Number(CAPABILITIES)),
        ];
        // Enhanced RTMP: echoing the client's codec list tells it that
        // FourCC-tagged media (hvc1, av01 …) is understood.
        for key in ["fourCcList", "capsEx"] {
            if let Some(v) = cmd.object.get(key) {
                properties.push((key.to_owned(), v.clone()));
            }
        }
        let mut info = status_properties(StatusCode::ConnectSuccess, "Connection succeeded.");
        info.push(("objectEncoding".to_owned(), Value::Number(object_encoding)));
        self.send(
            0,
            &Command::result(
                cmd.transaction_id,
                Value::Object(properties),
                Value::Object(info),
            ),
        );

        events.push(ServerEvent::Connected {
            app: app.clone(),
            tc_url: tc_url.clone(),
            flash_ver,
        });
        self.connect = Some(ConnectInfo { app, tc_url });
        Ok(())
    }

    fn on_create_stream(&mut self, txn: f64) -> Result<(), RtmpError> {
        if self.connect.is_none() {
            return Err(bad("createStream before connect"));
        }
        if self.streams.len() >= MAX_MESSAGE_STREAMS {
            return Err(RtmpError::TooManyStreams {
                max: MAX_MESSAGE_STREAMS,
            });
        }
        let id = self.next_stream_id;
        self.next_stream_id = self.next_stream_id.checked_add(1).unwrap_or(1);
        self.streams.insert(id, Stream::Idle);
        self.reply(txn, Value::Number(f64::from(id)));
        Ok(())
    }

    fn on_publish(
        &mut self,
        cmd: &Command,
        stream_id: u32,
        events: &mut Vec<ServerEvent>,
    ) -> Result<(), RtmpError> {
        let connect = self
            .connect
            .clone()
            .ok_or_else(|| bad("publish before connect"))?;
        let name = cmd
            .arg_str(0)
            .ok_or_else(|| bad("publish without a stream name"))?
            .to_owned();
        let publish_type = cmd.arg_str(1).unwrap_or("live").to_owned();
        let Some(stream) = self.streams.get_mut(&stream_id) else {
            return Err(bad(format!(
                "publish on stream {stream_id}, which was not created"
            )));
        };
        if *stream != Stream::Idle {
            let info = status(
                StatusCode::PublishBadName,
                "this stream is already publishing",
            );
            self.send_status(stream_id, info);
            return Ok(());
        }
        *stream = Stream::Pending { name: name.clone() };
        self.lift_admission_caps();
        events.push(ServerEvent::PublishRequested {
            stream_id,
            app: connect.app,
            tc_url: connect.tc_url,
            name,
            publish_type,
        });
        Ok(())
    }

    /// Ends publishing on `stream_id` (if it was), telling the client and
    /// the caller.
    fn stop(&mut self, stream_id: u32, events: &mut Vec<ServerEvent>) {
        let Some(stream) = self.streams.get_mut(&stream_id) else {
            return;
        };
        let was_publishing = matches!(stream, Stream::Publishing { .. });
        *stream = Stream::Idle;
        if was_publishing {
            let info = status(StatusCode::UnpublishSuccess, "stream is now unpublished.");
            self.send_status(stream_id, info);
            events.push(ServerEvent::Unpublished { stream_id });
        }
    }

    /// `_result(txn, null, value)`, unless the transaction id is 0: the
    /// client then expects no reply (RTMP 1.0 §7.1.1), and GStreamer's
    /// rtmp2sink warns about an unsolicited `_result`.
    fn reply(&mut self, txn: f64, value: Value) {
        if txn == 0.0 {
            return;
        }
        self.send(0, &Command::result(txn, Value::Null, value));
    }

    fn send(&mut self, stream_id: u32, cmd: &Command) {
        self.conn.send_command(CSID_COMMAND, stream_id, cmd);
    }

    fn send_status(&mut self, stream_id: u32, info: Value) {
        self.conn
            .send_command(CSID_STATUS, stream_id, &Command::on_status(info));
    }
}

/// A stream id argument: a non-negative integer that fits in u32.
fn stream_id_from(n: f64) -> Option<u32> {
    (n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n)).then_some(n as u32)
}
