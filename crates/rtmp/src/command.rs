//! Command messages (RTMP 1.0 §7.1.1, §7.2): an AMF0 command name, a
//! transaction id, a command object and arguments. Owns their decoding
//! (including the AMF3-command envelope, type 17) and the shapes of the
//! replies a server sends (`_result`, `_error`, `onStatus`). Which command
//! means what is the sessions' business.

use bytes::Bytes;
use media::amf0::{self, Value};

use crate::error::RtmpError;
use crate::message::MessageType;

/// `onStatus` / `_result` info level for success (§7.2.2).
pub const LEVEL_STATUS: &str = "status";
/// `onStatus` / `_error` info level for failure (§7.2.2).
pub const LEVEL_ERROR: &str = "error";

/// One decoded command.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    /// Command name (`connect`, `publish`, `_result` …).
    pub name: String,
    /// Transaction id; 0 for commands that expect no answer.
    pub transaction_id: f64,
    /// Command object; `Null` when the command has none.
    pub object: Value,
    /// Remaining arguments.
    pub args: Vec<Value>,
}

/// Strips the AMF3-command envelope: type 17 carries a 0x00 format byte
/// before the AMF0 values (a command name never starts with 0x00, the AMF0
/// number marker).
fn body(type_id: MessageType, payload: &[u8]) -> &[u8] {
    match payload {
        [0, rest @ ..] if type_id == MessageType::COMMAND_AMF3 => rest,
        _ => payload,
    }
}

impl Command {
    /// A command from its parts.
    pub fn new(name: &str, transaction_id: f64, object: Value, args: Vec<Value>) -> Self {
        Self {
            name: name.to_owned(),
            transaction_id,
            object,
            args,
        }
    }

    /// `_result` for `transaction_id` (§7.2.1.1).
    pub fn result(transaction_id: f64, object: Value, info: Value) -> Self {
        Self::new("_result", transaction_id, object, vec![info])
    }

    /// `_error` for `transaction_id` (§7.2.1.1).
    pub fn error(transaction_id: f64, object: Value, info: Value) -> Self {
        Self::new("_error", transaction_id, object, vec![info])
    }

    /// `onStatus` with an info object (§7.2.2).
    pub fn on_status(info: Value) -> Self {
        Self::new("onStatus", 0.0, Value::Null, vec![info])
    }

    /// Decodes a command message of type 20 or 17. The name must be a
    /// string; a missing transaction id reads as 0, a missing object as
    /// `Null`.
    pub fn decode(type_id: MessageType, payload: &[u8]) -> Result<Self, RtmpError> {
        let mut input = body(type_id, payload);
        let name = match amf0::decode(&mut input)? {
            Value::String(s) => s,
            _ => return Err(RtmpError::BadCommand("command name is not a string".into())),
        };
        let mut rest = amf0::decode_all(input)?.into_iter();
        let transaction_id = rest.next().and_then(|v| v.as_f64()).unwrap_or(0.0);
        let object = rest.next().unwrap_or(Value::Null);
        Ok(Self {
            name,
            transaction_id,
            object,
            args: rest.collect(),
        })
    }

    /// The command name alone, if it decodes; lets a caller tell a malformed
    /// `connect` (fatal) from a malformed unknown command (ignorable).
    pub fn peek_name(type_id: MessageType, payload: &[u8]) -> Option<String> {
        match amf0::decode(&mut body(type_id, payload)) {
            Ok(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// AMF0 encoding (message type 20).
    pub fn encode(&self) -> Bytes {
        let mut out = Vec::new();
        amf0::encode(&Value::String(self.name.clone()), &mut out);
        amf0::encode(&Value::Number(self.transaction_id), &mut out);
        amf0::encode(&self.object, &mut out);
        for a in &self.args {
            amf0::encode(a, &mut out);
        }
        Bytes::from(out)
    }

    /// Argument `i` as a string.
    pub fn arg_str(&self, i: usize) -> Option<&str> {
        self.args.get(i).and_then(Value::as_str)
    }

    /// Argument `i` as a number.
    pub fn arg_f64(&self, i: usize) -> Option<f64> {
        self.args.get(i).and_then(Value::as_f64)
    }
}

/// The `code` of an info object a server sends (§7.2.2, and the codes
/// Flash Media Server made conventional). Its level follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// `connect` accepted.
    ConnectSuccess,
    /// An unknown or failed call.
    CallFailed,
    /// `publish` accepted: media may be sent.
    PublishStart,
    /// The stream name is taken or not acceptable.
    PublishBadName,
    /// The connection cannot publish (e.g. not connected to an app).
    PublishBadConnection,
    /// The publish is refused by policy (e.g. a forbidden stream).
    PublishRejected,
    /// The publish lacks valid authentication.
    PublishUnauthorized,
    /// The server could not decide (an internal failure).
    PublishFailed,
    /// `FCUnpublish` / `deleteStream` done.
    UnpublishSuccess,
    /// `play` refused (this server only records).
    PlayFailed,
}

impl StatusCode {
    /// Every code, for tables and tests.
    pub const ALL: [StatusCode; 10] = [
        StatusCode::ConnectSuccess,
        StatusCode::CallFailed,
        StatusCode::PublishStart,
        StatusCode::PublishBadName,
        StatusCode::PublishBadConnection,
        StatusCode::PublishRejected,
        StatusCode::PublishUnauthorized,
        StatusCode::PublishFailed,
        StatusCode::UnpublishSuccess,
        StatusCode::PlayFailed,
    ];

    /// The wire string, e.g. `NetStream.Publish.BadName`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::ConnectSuccess => "NetConnection.Connect.Success",
            StatusCode::CallFailed => "NetConnection.Call.Failed",
            StatusCode::PublishStart => "NetStream.Publish.Start",
            StatusCode::PublishBadName => "NetStream.Publish.BadName",
            StatusCode::PublishBadConnection => "NetStream.Publish.BadConnection",
            StatusCode::PublishRejected => "NetStream.Publish.Rejected",
            StatusCode::PublishUnauthorized => "NetStream.Publish.Unauthorized",
            StatusCode::PublishFailed => "NetStream.Publish.Failed",
            StatusCode::UnpublishSuccess => "NetStream.Unpublish.Success",
            StatusCode::PlayFailed => "NetStream.Play.Failed",
        }
    }

    /// `status` for successes, `error` for refusals (§7.2.2).
    pub fn level(self) -> &'static str {
        match self {
            StatusCode::ConnectSuccess
            | StatusCode::PublishStart
            | StatusCode::UnpublishSuccess => LEVEL_STATUS,
            StatusCode::CallFailed
            | StatusCode::PublishBadName
            | StatusCode::PublishBadConnection
            | StatusCode::PublishRejected
            | StatusCode::PublishUnauthorized
            | StatusCode::PublishFailed
            | StatusCode::PlayFailed => LEVEL_ERROR,
        }
    }

    /// The code of a wire string, if it is one of these.
    pub fn parse(s: &str) -> Option<StatusCode> {
        StatusCode::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for StatusCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An info object `{level, code, description}` (§7.2.2).
pub fn status(code: StatusCode, description: &str) -> Value {
    Value::Object(status_properties(code, description))
}

/// The properties of [`status`], for info objects that carry more fields.
pub fn status_properties(code: StatusCode, description: &str) -> Vec<(String, Value)> {
    vec![
        ("level".into(), Value::String(code.level().into())),
        ("code".into(), Value::String(code.as_str().into())),
        ("description".into(), Value::String(description.into())),
    ]
}

/// Level, code and description of an info object (empty when absent).
pub fn status_fields(info: &Value) -> (String, String, String) {
    let field = |k: &str| {
        info.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (field("level"), field("code"), field("description"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn status_codes_round_trip_with_their_level() {
        for c in StatusCode::ALL {
            assert_eq!(StatusCode::parse(c.as_str()), Some(c));
            let expected = if c.as_str().ends_with(".Start") || c.as_str().ends_with(".Success") {
                LEVEL_STATUS
            } else {
                LEVEL_ERROR
            };
            assert_eq!(c.level(), expected, "{c}");
            assert_eq!(
                status_fields(&status(c, "d")),
                (
                    expected.to_string(),
                    c.as_str().to_string(),
                    "d".to_string()
                )
            );
        }
        assert_eq!(StatusCode::parse("NetStream.Publish.Nope"), None);
    }

    use super::*;

    #[test]
    fn roundtrip_and_amf3_envelope() {
        let c = Command::new(
            "publish",
            5.0,
            Value::Null,
            vec![Value::String("s?x=1".into()), Value::String("live".into())],
        );
        let bytes = c.encode();
        assert_eq!(
            Command::decode(MessageType::COMMAND_AMF0, &bytes).unwrap(),
            c
        );
        let mut amf3 = vec![0u8];
        amf3.extend_from_slice(&bytes);
        assert_eq!(
            Command::decode(MessageType::COMMAND_AMF3, &amf3).unwrap(),
            c
        );
        assert_eq!(c.arg_str(0), Some("s?x=1"));
        assert_eq!(c.arg_f64(0), None);
    }

    #[test]
    fn short_and_malformed_commands() {
        let mut only_name = Vec::new();
        amf0::encode(&Value::String("FCUnpublish".into()), &mut only_name);
        let c = Command::decode(MessageType::COMMAND_AMF0, &only_name).unwrap();
        assert_eq!(
            (c.transaction_id, c.object, c.args.len()),
            (0.0, Value::Null, 0)
        );
        let mut bad = only_name.clone();
        bad.extend_from_slice(&[0x02, 0, 9, b'x']);
        assert!(Command::decode(MessageType::COMMAND_AMF0, &bad).is_err());
        assert_eq!(
            Command::peek_name(MessageType::COMMAND_AMF0, &bad).as_deref(),
            Some("FCUnpublish")
        );
        assert!(Command::decode(MessageType::COMMAND_AMF0, &[0x00; 9]).is_err());
    }

    #[test]
    fn status_helpers() {
        let s = status(StatusCode::PublishBadName, "busy");
        assert_eq!(
            status_fields(&s),
            (
                "error".into(),
                "NetStream.Publish.BadName".into(),
                "busy".into()
            )
        );
        assert_eq!(
            status_fields(&Value::Null),
            (String::new(), String::new(), String::new())
        );
    }
}
