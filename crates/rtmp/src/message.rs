//! RTMP messages (RTMP 1.0 §6): a typed header plus an opaque payload, as
//! the chunk layer reassembles them. Owns the message type codes and, in
//! [`control`], the protocol control and user control messages. Commands
//! (AMF0) live in [`crate::command`]; audio/video/data payloads are never
//! looked into here.

pub mod control;

use bytes::Bytes;

/// A message type id. An open code: unknown values pass through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessageType(pub u8);

impl MessageType {
    /// Set Chunk Size. Defined by: RTMP 1.0 §5.4.1.
    pub const SET_CHUNK_SIZE: Self = Self(1);
    /// Abort Message. Defined by: RTMP 1.0 §5.4.2.
    pub const ABORT: Self = Self(2);
    /// Acknowledgement. Defined by: RTMP 1.0 §5.4.3.
    pub const ACKNOWLEDGEMENT: Self = Self(3);
    /// User Control Message. Defined by: RTMP 1.0 §6.2.
    pub const USER_CONTROL: Self = Self(4);
    /// Window Acknowledgement Size. Defined by: RTMP 1.0 §5.4.4.
    pub const WINDOW_ACK_SIZE: Self = Self(5);
    /// Set Peer Bandwidth. Defined by: RTMP 1.0 §5.4.5.
    pub const SET_PEER_BANDWIDTH: Self = Self(6);
    /// Audio data (an FLV audio tag body). Defined by: RTMP 1.0 §7.1.4.
    pub const AUDIO: Self = Self(8);
    /// Video data (an FLV video tag body). Defined by: RTMP 1.0 §7.1.5.
    pub const VIDEO: Self = Self(9);
    /// AMF3 data message. Defined by: RTMP 1.0 §7.1.2.
    pub const DATA_AMF3: Self = Self(15);
    /// AMF3 shared object. Defined by: RTMP 1.0 §7.1.3.
    pub const SHARED_OBJECT_AMF3: Self = Self(16);
    /// AMF3 command (a 0x00 format byte, then AMF0). Defined by: RTMP 1.0 §7.1.1.
    pub const COMMAND_AMF3: Self = Self(17);
    /// AMF0 data message (`@setDataFrame`, `onMetaData`). Defined by: RTMP 1.0 §7.1.2.
    pub const DATA_AMF0: Self = Self(18);
    /// AMF0 shared object. Defined by: RTMP 1.0 §7.1.3.
    pub const SHARED_OBJECT_AMF0: Self = Self(19);
    /// AMF0 command. Defined by: RTMP 1.0 §7.1.1.
    pub const COMMAND_AMF0: Self = Self(20);
    /// Aggregate of FLV-tag-shaped sub-messages. Defined by: RTMP 1.0 §7.1.6.
    pub const AGGREGATE: Self = Self(22);

    /// Whether this is one of the protocol control types 1–6 (§5.4, §6.2),
    /// which the connection layer handles itself.
    pub fn is_control(self) -> bool {
        (1..=6).contains(&self.0)
    }
}

/// One complete message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Absolute timestamp in milliseconds; wraps at 2^32 (§5.3.1.2.1).
    pub timestamp: u32,
    /// Message type.
    pub type_id: MessageType,
    /// Message stream id (0 is the connection's control stream).
    pub stream_id: u32,
    /// Payload bytes. [`ChunkReader`](crate::chunk::ChunkReader) hands out
    /// each payload as an exact-size buffer of its own, never a slice of its
    /// input, so keeping payloads alive keeps no read buffers alive.
    pub payload: Bytes,
}

impl Message {
    /// A message on stream 0 with timestamp 0, as control messages and
    /// connection-level commands are sent.
    pub fn control(type_id: MessageType, payload: impl Into<Bytes>) -> Self {
        Self {
            timestamp: 0,
            type_id,
            stream_id: 0,
            payload: payload.into(),
        }
    }
}

/// One sub-message of an aggregate message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregatePart {
    /// Sub-message type (normally audio, video or data).
    pub type_id: MessageType,
    /// Absolute timestamp: the aggregate's timestamp plus this part's offset
    /// from the first part.
    pub timestamp: u32,
    /// Payload bytes (shares the aggregate's buffer).
    pub payload: Bytes,
}

/// FLV tag header length inside an aggregate (type, size, timestamp, stream id).
const TAG_HEADER_LEN: usize = 11;
/// Trailing PreviousTagSize of each aggregate part.
const BACK_POINTER_LEN: usize = 4;

/// Splits an aggregate message (§7.1.6) into its parts. Parsing stops at the
/// first part that does not fit, so a truncated aggregate yields its
/// complete leading parts.
pub fn split_aggregate(timestamp: u32, payload: &Bytes) -> Vec<AggregatePart> {
    let mut parts = Vec::new();
    let mut pos = 0usize;
    let mut first_ts = None;
    while let Some(header) = payload.get(pos..pos + TAG_HEADER_LEN) {
        let size =
            usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
        let tag_ts = u32::from_be_bytes([header[7], header[4], header[5], header[6]]);
        let body_start = pos + TAG_HEADER_LEN;
        let Some(body_end) = body_start.checked_add(size) else {
            break;
        };
        if body_end > payload.len() {
            break;
        }
        let base = *first_ts.get_or_insert(tag_ts);
        parts.push(AggregatePart {
            type_id: MessageType(header[0]),
            timestamp: timestamp.wrapping_add(tag_ts.wrapping_sub(base)),
            payload: payload.slice(body_start..body_end),
        });
        pos = body_end + BACK_POINTER_LEN;
    }
    parts
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One FLV tag of an aggregate message (RTMP 1.0 §7.1.6).
    pub(crate) fn tag(kind: u8, ts: u32, body: &[u8]) -> Vec<u8> {
        let mut v = vec![kind];
        v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        let t = ts.to_be_bytes();
        v.extend_from_slice(&[t[1], t[2], t[3], t[0], 0, 0, 0]);
        v.extend_from_slice(body);
        v.extend_from_slice(&((body.len() + 11) as u32).to_be_bytes());
        v
    }

    #[test]
    fn aggregate_parts_are_rebased() {
        let mut p = tag(9, 0x0100_0010, b"video");
        p.extend(tag(8, 0x0100_0030, b"au"));
        p.extend_from_slice(&[8, 0, 0, 50]); // truncated third part
        let parts = split_aggregate(1000, &Bytes::from(p));
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].type_id, parts[0].timestamp),
            (MessageType::VIDEO, 1000)
        );
        assert_eq!(&parts[0].payload[..], b"video");
        assert_eq!(
            (parts[1].type_id, parts[1].timestamp),
            (MessageType::AUDIO, 1032)
        );
        assert_eq!(&parts[1].payload[..], b"au");
    }

    #[test]
    fn control_range() {
        assert!(MessageType::SET_CHUNK_SIZE.is_control());
        assert!(MessageType::SET_PEER_BANDWIDTH.is_control());
        assert!(!MessageType::AUDIO.is_control());
        assert!(!MessageType(0).is_control());
    }
}
