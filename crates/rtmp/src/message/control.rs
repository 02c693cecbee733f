//! Protocol control messages (RTMP 1.0 §5.4, types 1, 2, 3, 5, 6) and user
//! control events (§6.2, type 4): decoding from and encoding to
//! [`Message`]s. What to do about them is the session's business.

use bytes::{BufMut, Bytes, BytesMut};

use super::{Message, MessageType};
use crate::error::RtmpError;

/// Largest chunk size either side may announce (§5.4.1: 31 bits).
pub const MAX_CHUNK_SIZE: u32 = 0x7FFF_FFFF;

/// Set Peer Bandwidth limit type "dynamic" (§5.4.5), what servers send.
pub const LIMIT_DYNAMIC: u8 = 2;

/// User control event types (§7.1.7). An open code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventType(pub u16);

impl EventType {
    /// Stream Begin. Defined by: RTMP 1.0 §7.1.7.
    pub const STREAM_BEGIN: Self = Self(0);
    /// Stream EOF. Defined by: RTMP 1.0 §7.1.7.
    pub const STREAM_EOF: Self = Self(1);
    /// Stream Dry. Defined by: RTMP 1.0 §7.1.7.
    pub const STREAM_DRY: Self = Self(2);
    /// Set Buffer Length. Defined by: RTMP 1.0 §7.1.7.
    pub const SET_BUFFER_LENGTH: Self = Self(3);
    /// Stream Is Recorded. Defined by: RTMP 1.0 §7.1.7.
    pub const STREAM_IS_RECORDED: Self = Self(4);
    /// Ping Request. Defined by: RTMP 1.0 §7.1.7.
    pub const PING_REQUEST: Self = Self(6);
    /// Ping Response. Defined by: RTMP 1.0 §7.1.7.
    pub const PING_RESPONSE: Self = Self(7);
}

/// A decoded control message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Control {
    /// New maximum chunk payload size for the sender's chunks.
    SetChunkSize(u32),
    /// Discard the partial message on this chunk stream.
    Abort {
        /// Chunk stream id.
        chunk_stream_id: u32,
    },
    /// The peer has received this many bytes (mod 2^32).
    Acknowledgement {
        /// Sequence number.
        sequence: u32,
    },
    /// Acknowledge every this many bytes received.
    WindowAckSize(u32),
    /// Output bandwidth limit (advisory).
    SetPeerBandwidth {
        /// Window size in bytes.
        size: u32,
        /// Limit type: 0 hard, 1 soft, 2 dynamic.
        limit: u8,
    },
    /// A user control event: type plus its 4-byte argument (stream id,
    /// ping timestamp …); Set Buffer Length carries a second field.
    UserControl {
        /// Event type.
        event: EventType,
        /// First 4-byte field (0 if absent).
        value: u32,
        /// Second field of Set Buffer Length (0 otherwise).
        extra: u32,
    },
}

fn be32(payload: &[u8], at: usize) -> Option<u32> {
    let b = payload.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

impl Control {
    /// Decodes a control message; `Ok(None)` if `msg` is not of a control
    /// type. Trailing bytes are ignored.
    pub fn decode(msg: &Message) -> Result<Option<Self>, RtmpError> {
        let p = &msg.payload[..];
        let short = RtmpError::BadControl("payload too short");
        let need = |v: Option<u32>| v.ok_or_else(|| short.clone());
        Ok(Some(match msg.type_id {
            MessageType::SET_CHUNK_SIZE => Control::SetChunkSize(need(be32(p, 0))?),
            MessageType::ABORT => Control::Abort {
                chunk_stream_id: need(be32(p, 0))?,
            },
            MessageType::ACKNOWLEDGEMENT => Control::Acknowledgement {
                sequence: need(be32(p, 0))?,
            },
            MessageType::WINDOW_ACK_SIZE => Control::WindowAckSize(need(be32(p, 0))?),
            MessageType::SET_PEER_BANDWIDTH => Control::SetPeerBandwidth {
                size: need(be32(p, 0))?,
                // Some encoders omit the limit byte; treat as dynamic.
                limit: p.get(4).copied().unwrap_or(LIMIT_DYNAMIC),
            },
            MessageType::USER_CONTROL => {
                let event = match p {
                    [a, b, ..] => EventType(u16::from_be_bytes([*a, *b])),
                    _ => return Err(short),
                };
                Control::UserControl {
                    event,
                    // Unknown events (e.g. librtmp's 31/32 buffer events)
                    // may carry anything; only the ping needs its value.
                    value: be32(p, 2).unwrap_or(0),
                    extra: be32(p, 6).unwrap_or(0),
                }
            }
            _ => return Ok(None),
        }))
    }

    /// Encodes as a message on stream 0 with timestamp 0.
    pub fn encode(&self) -> Message {
        let mut b = BytesMut::with_capacity(10);
        let type_id = match *self {
            Control::SetChunkSize(n) => {
                b.put_u32(n);
                MessageType::SET_CHUNK_SIZE
            }
            Control::Abort { chunk_stream_id } => {
                b.put_u32(chunk_stream_id);
                MessageType::ABORT
            }
            Control::Acknowledgement { sequence } => {
                b.put_u32(sequence);
                MessageType::ACKNOWLEDGEMENT
            }
            Control::WindowAckSize(n) => {
                b.put_u32(n);
                MessageType::WINDOW_ACK_SIZE
            }
            Control::SetPeerBandwidth { size, limit } => {
                b.put_u32(size);
                b.put_u8(limit);
                MessageType::SET_PEER_BANDWIDTH
            }
            Control::UserControl {
                event,
                value,
                extra,
            } => {
                b.put_u16(event.0);
                b.put_u32(value);
                if event == EventType::SET_BUFFER_LENGTH {
                    b.put_u32(extra);
                }
                MessageType::USER_CONTROL
            }
        };
        Message::control(type_id, Bytes::from(b))
    }

    /// A user control event with one 4-byte argument.
    pub fn user(event: EventType, value: u32) -> Self {
        Control::UserControl {
            event,
            value,
            extra: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_every_variant() {
        let all = [
            Control::SetChunkSize(4096),
            Control::Abort { chunk_stream_id: 5 },
            Control::Acknowledgement { sequence: 7 },
            Control::WindowAckSize(2_500_000),
            Control::SetPeerBandwidth {
                size: 2_500_000,
                limit: LIMIT_DYNAMIC,
            },
            Control::user(EventType::PING_REQUEST, 99),
            Control::UserControl {
                event: EventType::SET_BUFFER_LENGTH,
                value: 1,
                extra: 3000,
            },
        ];
        for c in all {
            assert_eq!(Control::decode(&c.encode()).unwrap(), Some(c));
        }
    }

    #[test]
    fn known_bytes_and_short_payloads() {
        let m = Control::user(EventType::STREAM_BEGIN, 1).encode();
        assert_eq!(&m.payload[..], &[0, 0, 0, 0, 0, 1]);
        assert_eq!(m.type_id, MessageType::USER_CONTROL);
        let short = Message::control(MessageType::SET_CHUNK_SIZE, &[0u8, 0][..]);
        assert!(Control::decode(&short).is_err());
        let audio = Message::control(MessageType::AUDIO, &[0u8][..]);
        assert_eq!(Control::decode(&audio).unwrap(), None);
    }
}
