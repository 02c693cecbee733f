//! Cuts messages into chunks (RTMP 1.0 §5.3). By default every message
//! starts with a type-0 header followed by type-3 continuations, which every
//! reader understands. With header compression on, it picks type 1/2/3 the
//! way ffmpeg's `ff_rtmp_packet_write` does (same message stream, forward
//! timestamp), which exercises a peer's delta handling. Owns our outgoing
//! chunk size; the caller announces it with Set Chunk Size first.

use std::collections::HashMap;

use bytes::{BufMut, BytesMut};

use super::{
    DEFAULT_CHUNK_SIZE, EXTENDED_TIMESTAMP, MAX_CHUNK_STREAM_ID, MAX_MESSAGE_LEN,
    MIN_CHUNK_STREAM_ID,
};
use crate::error::RtmpError;
use crate::message::Message;
use crate::message::control::MAX_CHUNK_SIZE;

/// What we last sent on a chunk stream (for header compression).
#[derive(Clone, Copy, Debug)]
struct LastHeader {
    timestamp: u32,
    ts_field: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
}

/// Half of the 32-bit timestamp space: a difference below it is "forward"
/// (serial-number arithmetic), so a wrap is sent as a small delta.
const FORWARD_WINDOW: u32 = 0x8000_0000;

/// Cuts messages into chunks; one per connection direction.
#[derive(Debug)]
pub struct ChunkWriter {
    chunk_size: usize,
    compress: bool,
    last: HashMap<u32, LastHeader>,
}

impl Default for ChunkWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkWriter {
    /// A writer at the default chunk size (128), type-0 headers only.
    pub fn new() -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE as usize,
            compress: false,
            last: HashMap::new(),
        }
    }

    /// Turns header compression (types 1–3 for follow-up messages) on or off.
    pub fn set_header_compression(&mut self, on: bool) {
        self.compress = on;
    }

    /// Sets our chunk size (1..=0x7FFFFFFF; other values are clamped). Send
    /// the matching Set Chunk Size message before the next [`Self::write`].
    pub fn set_chunk_size(&mut self, size: u32) {
        let size = size.clamp(1, MAX_CHUNK_SIZE);
        self.chunk_size = usize::try_from(size).unwrap_or(usize::MAX);
    }

    /// Our current chunk size.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// Appends `msg`, cut into chunks on chunk stream `csid` (clamped to
    /// 2..=65599), to `out`. Fails only for payloads longer than a message
    /// header can carry (16 MiB − 1).
    pub fn write(&mut self, csid: u32, msg: &Message, out: &mut BytesMut) -> Result<(), RtmpError> {
        let length = u32::try_from(msg.payload.len())
            .ok()
            .filter(|&l| l <= MAX_MESSAGE_LEN)
            .ok_or(RtmpError::MessageTooLarge {
                size: u32::try_from(msg.payload.len()).unwrap_or(u32::MAX),
                max: MAX_MESSAGE_LEN,
            })?;
        let csid = csid.clamp(MIN_CHUNK_STREAM_ID, MAX_CHUNK_STREAM_ID);
        let prev = self.last.get(&csid).copied();
        let (fmt, ts_field) = match prev {
            Some(p) if self.compress && p.stream_id == msg.stream_id => {
                let delta = msg.timestamp.wrapping_sub(p.timestamp);
                if delta >= FORWARD_WINDOW {
                    (0, msg.timestamp)
                } else if p.type_id != msg.type_id.0 || p.length != length {
                    (1, delta)
                } else if delta != p.ts_field {
                    (2, delta)
                } else {
                    (3, delta)
                }
            }
            _ => (0, msg.timestamp),
        };
        // Type 3 repeats the previous header's (possibly extended) field.
        let extended = ts_field >= EXTENDED_TIMESTAMP;
        out.reserve(
            msg.payload.len() + super::MAX_HEADER_LEN * (1 + msg.payload.len() / self.chunk_size),
        );
        put_basic_header(out, fmt, csid);
        if fmt < 3 {
            out.put_uint(u64::from(ts_field.min(EXTENDED_TIMESTAMP)), 3);
        }
        if fmt < 2 {
            out.put_uint(u64::from(length), 3);
            out.put_u8(msg.type_id.0);
        }
        if fmt == 0 {
            out.put_u32_le(msg.stream_id);
        }
        if extended {
            out.put_u32(ts_field);
        }
        let mut chunks = msg.payload.chunks(self.chunk_size);
        if let Some(first) = chunks.next() {
            out.put_slice(first);
        }
        for chunk in chunks {
            put_basic_header(out, 3, csid);
            if extended {
                out.put_u32(ts_field);
            }
            out.put_slice(chunk);
        }
        self.last.insert(
            csid,
            LastHeader {
                timestamp: msg.timestamp,
                ts_field,
                length,
                type_id: msg.type_id.0,
                stream_id: msg.stream_id,
            },
        );
        Ok(())
    }
}

fn put_basic_header(out: &mut BytesMut, fmt: u8, csid: u32) {
    let fmt = fmt << 6;
    match csid {
        0..=63 => out.put_u8(fmt | csid as u8),
        64..=319 => out.put_slice(&[fmt, (csid - 64) as u8]),
        _ => {
            let v = csid - 64;
            out.put_slice(&[fmt | 1, v as u8, (v >> 8) as u8]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ChunkReader;
    use super::*;
    use crate::message::MessageType;
    use bytes::Bytes;

    fn msg(ts: u32, kind: u8, stream: u32, len: usize) -> Message {
        Message {
            timestamp: ts,
            type_id: MessageType(kind),
            stream_id: stream,
            payload: Bytes::from((0..len).map(|i| (i * 31 + len) as u8).collect::<Vec<_>>()),
        }
    }

    #[test]
    fn known_bytes_type0_then_type3() {
        let mut w = ChunkWriter::new();
        let mut out = BytesMut::new();
        w.write(3, &msg(0x0102_0304, 20, 1, 130), &mut out).unwrap();
        assert_eq!(
            &out[..12],
            &[0x03, 0xFF, 0xFF, 0xFF, 0, 0, 130, 20, 1, 0, 0, 0]
        );
        assert_eq!(&out[12..16], &[1, 2, 3, 4]);
        assert_eq!(out[16 + 128], 0xC3);
        assert_eq!(&out[16 + 129..16 + 133], &[1, 2, 3, 4]);
        assert_eq!(out.len(), 16 + 128 + 5 + 2);
    }

    #[test]
    fn compressed_headers_roundtrip_through_the_reader() {
        let mut w = ChunkWriter::new();
        w.set_header_compression(true);
        w.set_chunk_size(100);
        let mut r = ChunkReader::new(1 << 24, 64);
        r.set_chunk_size(100).unwrap();
        let plan = [
            msg(0, 9, 1, 250),
            msg(33, 9, 1, 250),
            msg(66, 9, 1, 250),
            msg(99, 9, 1, 10),
            msg(0x0100_0000, 9, 1, 300),
            msg(0x0200_0000, 9, 1, 300),
            msg(0x0300_0000, 9, 1, 300),
            msg(0xFFFF_FFF0, 9, 1, 5),
            msg(0x10, 9, 1, 5),
            msg(5, 9, 1, 5),
            msg(7, 8, 2, 0),
            msg(7, 8, 2, 0),
        ];
        let mut out = BytesMut::new();
        for (i, m) in plan.iter().enumerate() {
            let csid = if i < 10 { 4 } else { 400 };
            w.write(csid, m, &mut out).unwrap();
        }
        let mut got = Vec::new();
        while let Some(m) = r.read_message(&mut out).unwrap() {
            got.push(m);
        }
        assert_eq!(got, plan);
    }

    #[test]
    fn oversized_payload_is_refused() {
        let mut w = ChunkWriter::new();
        let mut out = BytesMut::new();
        let m = msg(0, 9, 1, MAX_MESSAGE_LEN as usize + 1);
        assert!(w.write(4, &m, &mut out).is_err());
        assert!(out.is_empty());
    }
}
