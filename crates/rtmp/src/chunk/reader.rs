//! Reassembles messages from chunks (RTMP 1.0 §5.3). Sans-IO: the caller
//! appends bytes to a `BytesMut` and calls [`ChunkReader::read_message`]
//! until it returns `Ok(None)` ("need more bytes"). A chunk is consumed only
//! once it is entirely buffered, so per-chunk-stream state never holds half
//! a header. Owns the peer's chunk size, timestamp accumulation (32-bit
//! wrap), the caps on message size and chunk stream count, and where each
//! payload lives: a buffer of its own, or, once pooling is on, a slice of a
//! block shared with the messages before and after it.

use std::collections::HashMap;

use bytes::{Buf, Bytes, BytesMut};

use super::{DEFAULT_CHUNK_SIZE, EXTENDED_TIMESTAMP};
use crate::error::RtmpError;
use crate::message::control::MAX_CHUNK_SIZE;
use crate::message::{Message, MessageType};

/// Largest buffer reserved up front for a message split over chunks.
const PREALLOCATE_MAX: usize = 1024 * 1024;

/// Size of a pooled block (see [`ChunkReader::set_pooling`]).
pub const POOL_BLOCK: usize = 16 * 1024;
/// Longest media message built in a pooled block; longer ones get a
/// buffer of their own. Small (audio frames, mostly), so that the tail a
/// block leaves unused when the next message does not fit is a small part
/// of it: consumers that keep many messages (the pre-roll) keep whole
/// blocks.
pub const POOL_MAX_MESSAGE: usize = 2 * 1024;
/// Chunk streams that may hold a pooled block (a publisher uses one for
/// audio and one for video).
const POOLED_CHUNK_STREAMS: usize = 4;

/// Message header lengths for chunk formats 0–3 (§5.3.1.2).
const MESSAGE_HEADER_LEN: [usize; 4] = [11, 7, 3, 0];

/// What the last header on a chunk stream said (§5.3.1.2: later headers
/// are compressed against it).
#[derive(Debug, Default)]
struct ChunkStream {
    /// Absolute timestamp of the current (or last) message.
    timestamp: u32,
    /// Last timestamp field: absolute for format 0, a delta for 1 and 2.
    /// A format-3 chunk that starts a message adds it again (§5.3.1.2.4).
    ts_field: u32,
    /// Whether the last format 0–2 header used the extended timestamp.
    extended: bool,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// Payload received so far of the message in progress; for a pooled
    /// chunk stream, followed by the rest of its current block.
    partial: BytesMut,
    /// Whether this chunk stream builds its small media messages in pooled
    /// blocks.
    pooled: bool,
}

/// A chunk whose header has been parsed but not yet applied.
#[derive(Debug)]
struct Pending {
    fmt: u8,
    csid: u32,
    header_len: usize,
    ts_field: u32,
    extended: bool,
    length: u32,
    type_id: u8,
    stream_id: u32,
    payload_len: usize,
}

/// Reassembles messages; one per connection direction.
#[derive(Debug)]
pub struct ChunkReader {
    chunk_size: usize,
    max_message_size: u32,
    max_chunk_streams: usize,
    streams: HashMap<u32, ChunkStream>,
    partial_bytes: usize,
    /// Whether small media messages share pooled blocks.
    pooling: bool,
    /// Chunk streams given a pooled block so far.
    pooled_streams: usize,
}

fn be24(b: &[u8]) -> u32 {
    u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl ChunkReader {
    /// A reader at the default chunk size (128) with these caps.
    pub fn new(max_message_size: u32, max_chunk_streams: usize) -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE as usize,
            max_message_size,
            max_chunk_streams,
            streams: HashMap::new(),
            partial_bytes: 0,
            pooling: false,
            pooled_streams: 0,
        }
    }

    /// From now on, audio and video messages of at most
    /// [`POOL_MAX_MESSAGE`] bytes are built one after the other in blocks
    /// of [`POOL_BLOCK`] bytes (one per chunk stream, for at most a few
    /// chunk streams), each payload a slice of its block: one allocation
    /// per block instead of two per message (the buffer, then the shared
    /// header its first clone adds). A block is freed when the last of its
    /// payloads is, so consumers that keep payloads (the pre-roll) keep at
    /// most one block per chunk stream beyond what they hold. The server
    /// session turns this on once a publisher is admitted, so nobody
    /// unauthenticated makes it allocate blocks.
    pub fn set_pooling(&mut self, on: bool) {
        self.pooling = on;
    }

    /// Changes the largest message accepted from now on (messages already
    /// under way keep the length they announced).
    pub fn set_max_message_size(&mut self, max: u32) {
        self.max_message_size = max;
    }

    /// Applies the peer's Set Chunk Size (§5.4.1: 1 to 0x7FFFFFFF).
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), RtmpError> {
        if size == 0 || size > MAX_CHUNK_SIZE {
            return Err(RtmpError::BadChunkSize(size));
        }
        self.chunk_size = usize::try_from(size).map_err(|_| RtmpError::BadChunkSize(size))?;
        Ok(())
    }

    /// The peer's current chunk size.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// Applies an Abort Message (§5.4.2): drops the partial message.
    pub fn abort(&mut self, csid: u32) {
        if let Some(st) = self.streams.get_mut(&csid) {
            self.partial_bytes -= st.partial.len();
            st.partial.clear();
        }
    }

    /// Bytes held in partial messages (for the connection's buffer cap).
    pub fn buffered(&self) -> usize {
        self.partial_bytes
    }

    /// Reads chunks from the front of `input` until a message completes.
    /// `Ok(None)` means more bytes are needed; what was consumed is kept.
    pub fn read_message(&mut self, input: &mut BytesMut) -> Result<Option<Message>, RtmpError> {
        loop {
            let Some(chunk) = self.parse(input)? else {
                return Ok(None);
            };
            if input.len() < chunk.header_len + chunk.payload_len {
                return Ok(None);
            }
            if let Some(msg) = self.apply(&chunk, input) {
                return Ok(Some(msg));
            }
        }
    }

    /// Parses the chunk header at the front of `buf` without consuming it.
    fn parse(&self, buf: &[u8]) -> Result<Option<Pending>, RtmpError> {
        let Some(&b0) = buf.first() else {
            return Ok(None);
        };
        let fmt = b0 >> 6;
        let (csid, mut pos) = match b0 & 0x3F {
            0 => match buf.get(1) {
                Some(&b1) => (64 + u32::from(b1), 2),
                None => return Ok(None),
            },
            1 => match buf.get(1..3) {
                Some(b) => (64 + u32::from(b[0]) + 256 * u32::from(b[1]), 3),
                None => return Ok(None),
            },
            n => (u32::from(n), 1),
        };
        let header_len = MESSAGE_HEADER_LEN[usize::from(fmt)];
        let Some(h) = buf.get(pos..pos + header_len) else {
            return Ok(None);
        };
        pos += header_len;
        let prev = self.streams.get(&csid);
        let prev = match (fmt, prev) {
            (_, Some(p)) => Some(p),
            (0, None) if self.streams.len() >= self.max_chunk_streams => {
                return Err(RtmpError::TooManyChunkStreams {
                    max: self.max_chunk_streams,
                });
            }
            (0, None) => None,
            (_, None) => {
                return Err(RtmpError::BadChunk(
                    "chunk stream must start with a type-0 header",
                ));
            }
        };
        let mut ts_field = if fmt < 3 {
            be24(h)
        } else {
            prev.map_or(0, |p| p.ts_field)
        };
        let mut extended = false;
        if fmt < 3 && ts_field == EXTENDED_TIMESTAMP {
            let Some(ext) = buf.get(pos..pos + 4) else {
                return Ok(None);
            };
            ts_field = be32(ext);
            extended = true;
            pos += 4;
        } else if fmt == 3 && prev.is_some_and(|p| p.extended) {
            // Type-3 chunks after an extended header repeat the extended
            // field (Flash, FMS, ffmpeg, librtmp), but some encoders omit it;
            // like SRS's reader, consume the 4 bytes only if they repeat the
            // value. Decide as soon as the bytes at hand differ from it, so
            // a short final chunk without the repeat is not left waiting.
            let expected = ts_field.to_be_bytes();
            let at_hand = buf.get(pos..).unwrap_or_default();
            let n = at_hand.len().min(4);
            extended = true;
            if at_hand[..n] == expected[..n] {
                if n < 4 {
                    return Ok(None);
                }
                pos += 4;
            }
        }
        let (length, type_id, stream_id) = match (fmt, prev) {
            (0, _) => (
                be24(&h[3..]),
                h[6],
                u32::from_le_bytes([h[7], h[8], h[9], h[10]]),
            ),
            (1, p) => (be24(&h[3..]), h[6], p.map_or(0, |p| p.stream_id)),
            (_, Some(p)) => (p.length, p.type_id, p.stream_id),
            (_, None) => (0, 0, 0),
        };
        if length > self.max_message_size {
            return Err(RtmpError::MessageTooLarge {
                size: length,
                max: self.max_message_size,
            });
        }
        let done = match (fmt, prev) {
            (3, Some(p)) => p.partial.len(),
            _ => 0,
        };
        let remaining = (length as usize).saturating_sub(done);
        Ok(Some(Pending {
            fmt,
            csid,
            header_len: pos,
            ts_field,
            extended,
            length,
            type_id,
            stream_id,
            payload_len: remaining.min(self.chunk_size),
        }))
    }

    /// Consumes a fully buffered chunk and updates its chunk stream.
    fn apply(&mut self, c: &Pending, input: &mut BytesMut) -> Option<Message> {
        input.advance(c.header_len);
        let data = input.split_to(c.payload_len);
        let st = self.streams.entry(c.csid).or_default();
        if c.fmt != 3 && !st.partial.is_empty() {
            // A new header in the middle of a message: treat it as an
            // implicit abort rather than mixing two messages.
            self.partial_bytes -= st.partial.len();
            st.partial.clear();
        }
        match c.fmt {
            0 => st.timestamp = c.ts_field,
            1 | 2 => st.timestamp = st.timestamp.wrapping_add(c.ts_field),
            _ if st.partial.is_empty() => st.timestamp = st.timestamp.wrapping_add(st.ts_field),
            _ => {}
        }
        if c.fmt != 3 {
            st.ts_field = c.ts_field;
            st.extended = c.extended;
        }
        st.length = c.length;
        st.type_id = c.type_id;
        st.stream_id = c.stream_id;
        // Every payload is a buffer of its own, exactly its size, or a
        // slice of a pooled block: `data` is a slice of the connection's
        // input buffer, and consumers keep payloads alive for seconds (the
        // pre-roll), which a slice would turn into keeping whole read
        // buffers (chunk headers included).
        let length = c.length as usize;
        let media = matches!(
            MessageType(c.type_id),
            MessageType::AUDIO | MessageType::VIDEO
        );
        if st.partial.is_empty() && self.pooling && media && length <= POOL_MAX_MESSAGE {
            if !st.pooled && self.pooled_streams < POOLED_CHUNK_STREAMS {
                st.pooled = true;
                self.pooled_streams += 1;
            }
            if st.pooled && st.partial.capacity() < length {
                st.partial = BytesMut::with_capacity(POOL_BLOCK);
            }
        }
        let payload = if st.pooled && length <= POOL_MAX_MESSAGE && media {
            st.partial.extend_from_slice(&data);
            if st.partial.len() < length {
                self.partial_bytes += data.len();
                return None;
            }
            self.partial_bytes -= st.partial.len() - data.len();
            // The block's rest stays for the next message.
            st.partial.split().freeze()
        } else if st.partial.is_empty() && data.len() == length {
            Bytes::copy_from_slice(&data)
        } else {
            if st.partial.is_empty() {
                // Size the buffer for the whole message, up to a cap a
                // hostile length cannot abuse.
                st.partial = BytesMut::with_capacity(length.min(PREALLOCATE_MAX));
            }
            st.partial.extend_from_slice(&data);
            self.partial_bytes += data.len();
            if st.partial.len() < length {
                return None;
            }
            self.partial_bytes -= st.partial.len();
            let whole = std::mem::take(&mut st.partial);
            if whole.capacity() == whole.len() {
                whole.freeze()
            } else {
                // Past the cap the buffer grew with spare capacity.
                Bytes::copy_from_slice(&whole)
            }
        };
        Some(Message {
            timestamp: st.timestamp,
            type_id: MessageType(c.type_id),
            stream_id: c.stream_id,
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(reader: &mut ChunkReader, bytes: &[u8]) -> Vec<Message> {
        let mut input = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(m) = reader.read_message(&mut input).unwrap() {
            out.push(m);
        }
        assert!(input.is_empty(), "left over: {input:?}");
        out
    }

    #[test]
    fn type0_then_type3_continuation() {
        // csid 3, ts 1, len 200, type 20, stream 0; 128 + 72 bytes.
        let mut b = vec![0x03, 0, 0, 1, 0, 0, 200, 20, 0, 0, 0, 0];
        b.extend([7u8; 128]);
        b.push(0xC3);
        b.extend([8u8; 72]);
        let msgs = read_all(&mut ChunkReader::new(1 << 20, 8), &b);
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].timestamp, 1);
        assert_eq!(msgs[0].payload.len(), 200);
        assert_eq!(msgs[0].payload[127..129], [7, 8]);
    }

    /// Payloads must not share the input buffer nor hold spare capacity:
    /// the pre-roll keeps them alive for seconds.
    #[test]
    fn payloads_are_exact_standalone_buffers() {
        fn exact_and_unique(payload: Bytes) -> bool {
            let len = payload.len();
            payload.try_into_mut().is_ok_and(|b| b.capacity() == len)
        }
        // One chunk, several chunks, and several chunks past the
        // preallocation cap.
        for len in [100usize, 200, PREALLOCATE_MAX + 1000] {
            let len24 = u32::try_from(len).unwrap().to_be_bytes();
            let mut b = vec![0x03, 0, 0, 1, len24[1], len24[2], len24[3], 9, 1, 0, 0, 0];
            for (i, part) in vec![7u8; len]
                .chunks(DEFAULT_CHUNK_SIZE as usize)
                .enumerate()
            {
                if i > 0 {
                    b.push(0xC3);
                }
                b.extend_from_slice(part);
            }
            // Trailing bytes keep the input buffer in use after the message.
            b.extend([0x03, 0, 0]);
            let mut input = BytesMut::from(&b[..]);
            let mut r = ChunkReader::new(1 << 24, 8);
            let m = r.read_message(&mut input).unwrap().unwrap();
            assert_eq!(input.len(), 3);
            assert_eq!(m.payload.len(), len);
            assert!(exact_and_unique(m.payload), "len {len}");
        }
    }

    /// Chunks of `len` bytes of `fill` on chunk stream `csid` as one
    /// message of `type_id` (chunk size 128).
    fn chunked(csid: u8, type_id: u8, len: usize, fill: u8) -> Vec<Vec<u8>> {
        let len24 = u32::try_from(len).unwrap().to_be_bytes();
        let body = vec![fill; len];
        body.chunks(DEFAULT_CHUNK_SIZE as usize)
            .enumerate()
            .map(|(i, part)| {
                let mut c = if i == 0 {
                    vec![
                        csid, 0, 0, 1, len24[1], len24[2], len24[3], type_id, 1, 0, 0, 0,
                    ]
                } else {
                    vec![0xC0 | csid]
                };
                c.extend_from_slice(part);
                c
            })
            .collect()
    }

    #[test]
    fn pooled_media_payloads_share_blocks_and_keep_their_bytes() {
        // Audio on chunk stream 4 and video on 6, their chunks interleaved
        // (as a publisher sends them), plus a command and a large frame.
        let mut r = ChunkReader::new(1 << 24, 8);
        r.set_pooling(true);
        let mut wire = Vec::new();
        let mut want = Vec::new();
        for i in 0..40u8 {
            let audio = chunked(4, 8, 300 + usize::from(i), i);
            let video = chunked(6, 9, 1000 + 97 * usize::from(i), 100 + i);
            let (mut a, mut v) = (audio.iter(), video.iter());
            loop {
                match (a.next(), v.next()) {
                    (None, None) => break,
                    (x, y) => x.into_iter().chain(y).for_each(|c| wire.extend(c)),
                }
            }
            want.push((8, 300 + usize::from(i), i));
            want.push((9, 1000 + 97 * usize::from(i), 100 + i));
        }
        chunked(5, 20, 200, 0xC).iter().for_each(|c| wire.extend(c));
        chunked(6, 9, POOL_MAX_MESSAGE + 1, 0xB)
            .iter()
            .for_each(|c| wire.extend(c));
        let mut msgs = read_all(&mut r, &wire);
        assert_eq!(msgs.len(), want.len() + 2);
        let mut sorted: Vec<_> = msgs[..want.len()].iter().collect();
        sorted.sort_by_key(|m| (m.payload[0], m.type_id.0));
        let mut want_sorted = want.clone();
        want_sorted.sort_by_key(|w| (w.2, w.0));
        for (m, (ty, len, fill)) in sorted.iter().zip(&want_sorted) {
            assert_eq!((m.type_id.0, m.payload.len()), (*ty, *len));
            assert!(m.payload.iter().all(|b| b == fill), "type {ty} fill {fill}");
        }
        // Consecutive audio payloads sit next to each other in one block.
        let audio: Vec<_> = msgs.iter().filter(|m| m.type_id.0 == 8).collect();
        let adjacent = audio
            .windows(2)
            .filter(|w| w[0].payload.as_ptr_range().end == w[1].payload.as_ptr())
            .count();
        assert!(
            adjacent >= 30,
            "{adjacent} of 39 audio payloads follow the one before"
        );
        assert_eq!(r.buffered(), 0);
        // Commands and frames past the pooled size are buffers of their own.
        let large = msgs.pop().unwrap().payload;
        assert!(
            large
                .try_into_mut()
                .is_ok_and(|b| b.capacity() == POOL_MAX_MESSAGE + 1)
        );
        let command = msgs.pop().unwrap().payload;
        assert!(command.try_into_mut().is_ok_and(|b| b.capacity() == 200));
    }

    #[test]
    fn an_aborted_pooled_message_leaves_nothing_behind() {
        let mut r = ChunkReader::new(1 << 24, 8);
        r.set_pooling(true);
        let first = chunked(4, 8, 300, 1);
        let mut input = BytesMut::from(&first[0][..]);
        assert!(r.read_message(&mut input).unwrap().is_none());
        assert_eq!(r.buffered(), 128);
        r.abort(4);
        assert_eq!(r.buffered(), 0);
        let mut wire = Vec::new();
        chunked(4, 8, 200, 2).iter().for_each(|c| wire.extend(c));
        let msgs = read_all(&mut r, &wire);
        assert_eq!(msgs.len(), 1);
        assert!(msgs[0].payload.iter().all(|&b| b == 2) && msgs[0].payload.len() == 200);
    }

    #[test]
    fn deltas_and_type3_new_messages_accumulate() {
        let mut b = vec![0x04, 0, 0, 10, 0, 0, 1, 8, 1, 0, 0, 0, 0xAA]; // fmt0 ts 10
        b.extend([0x84, 0, 0, 20, 0xBB]); // fmt2 delta 20 -> 30
        b.extend([0xC4, 0xCC]); // fmt3 new message: delta 20 -> 50
        b.extend([0x44, 0, 0, 5, 0, 0, 2, 9, 0xDD, 0xEE]); // fmt1 delta 5, len 2, video -> 55
        let msgs = read_all(&mut ChunkReader::new(1 << 20, 8), &b);
        let got: Vec<_> = msgs
            .iter()
            .map(|m| (m.timestamp, m.type_id.0, m.stream_id))
            .collect();
        assert_eq!(got, [(10, 8, 1), (30, 8, 1), (50, 8, 1), (55, 9, 1)]);
    }

    #[test]
    fn type3_after_type0_adds_the_type0_timestamp() {
        // §5.3.1.2.4: the delta of such a type-3 chunk is the type-0 timestamp.
        let mut b = vec![0x04, 0, 0, 40, 0, 0, 1, 8, 1, 0, 0, 0, 0xAA];
        b.extend([0xC4, 0xBB]);
        let msgs = read_all(&mut ChunkReader::new(1 << 20, 8), &b);
        assert_eq!(msgs[1].timestamp, 80);
    }

    #[test]
    fn extended_timestamp_with_and_without_repeat_in_type3() {
        for repeat in [true, false] {
            let mut b = vec![0x06, 0xFF, 0xFF, 0xFF, 0, 0, 130, 9, 1, 0, 0, 0];
            b.extend(0x0123_4567u32.to_be_bytes());
            b.extend([1u8; 128]);
            b.push(0xC6);
            if repeat {
                b.extend(0x0123_4567u32.to_be_bytes());
            }
            b.extend([2u8; 2]);
            let msgs = read_all(&mut ChunkReader::new(1 << 20, 8), &b);
            assert_eq!(msgs.len(), 1);
            assert_eq!(msgs[0].timestamp, 0x0123_4567);
            assert_eq!(&msgs[0].payload[126..], &[1, 1, 2, 2]);
        }
    }

    #[test]
    fn timestamps_wrap_at_32_bits() {
        let mut b = vec![0x04, 0xFF, 0xFF, 0xFF, 0, 0, 1, 8, 1, 0, 0, 0];
        b.extend(0xFFFF_FFF0u32.to_be_bytes());
        b.push(0xAA);
        b.extend([0x84, 0, 0, 0x20, 0xBB]);
        let msgs = read_all(&mut ChunkReader::new(1 << 20, 8), &b);
        assert_eq!(msgs[0].timestamp, 0xFFFF_FFF0);
        assert_eq!(msgs[1].timestamp, 0x10);
    }

    #[test]
    fn two_and_three_byte_chunk_stream_ids() {
        let mut b = vec![0x00, 200 - 64, 0, 0, 0, 0, 0, 1, 8, 1, 0, 0, 0, 0xAA];
        b.extend([0x01, 0x10, 0x27, 0, 0, 0, 0, 0, 1, 9, 1, 0, 0, 0, 0xBB]);
        let mut r = ChunkReader::new(1 << 20, 8);
        let msgs = read_all(&mut r, &b);
        assert_eq!(msgs.len(), 2);
        assert!(r.streams.contains_key(&200));
        assert!(r.streams.contains_key(&(64 + 0x10 + 0x27 * 256)));
    }

    #[test]
    fn incomplete_input_is_not_an_error() {
        let mut b = vec![0x03, 0, 0, 1, 0, 0, 5, 20, 0, 0, 0, 0];
        b.extend([9u8; 5]);
        let mut r = ChunkReader::new(1 << 20, 8);
        let mut input = BytesMut::new();
        for (i, byte) in b.iter().enumerate() {
            input.extend_from_slice(&[*byte]);
            let got = r.read_message(&mut input).unwrap();
            assert_eq!(got.is_some(), i == b.len() - 1);
        }
    }

    #[test]
    fn limits_and_malformed_headers() {
        let big = [0x03, 0, 0, 0, 0x01, 0, 0, 9, 1, 0, 0, 0];
        assert_eq!(
            ChunkReader::new(1000, 8).read_message(&mut BytesMut::from(&big[..])),
            Err(RtmpError::MessageTooLarge {
                size: 0x10000,
                max: 1000
            })
        );
        let orphan = [0xC5, 1, 2, 3];
        assert!(matches!(
            ChunkReader::new(1000, 8).read_message(&mut BytesMut::from(&orphan[..])),
            Err(RtmpError::BadChunk(_))
        ));
        let mut r = ChunkReader::new(1000, 2);
        let mut b = Vec::new();
        for csid in 3..6u8 {
            b.extend([csid, 0, 0, 0, 0, 0, 1, 8, 1, 0, 0, 0, 0]);
        }
        let mut input = BytesMut::from(&b[..]);
        assert!(r.read_message(&mut input).unwrap().is_some());
        assert!(r.read_message(&mut input).unwrap().is_some());
        assert_eq!(
            r.read_message(&mut input),
            Err(RtmpError::TooManyChunkStreams { max: 2 })
        );
        assert_eq!(r.set_chunk_size(0), Err(RtmpError::BadChunkSize(0)));
        assert_eq!(
            r.set_chunk_size(0x8000_0000),
            Err(RtmpError::BadChunkSize(0x8000_0000))
        );
        assert_eq!(r.set_chunk_size(0x7FFF_FFFF), Ok(()));
    }

    #[test]
    fn abort_and_implicit_abort_release_partial_bytes() {
        let mut b = vec![0x03, 0, 0, 1, 0, 0, 200, 20, 0, 0, 0, 0];
        b.extend([7u8; 128]);
        let mut r = ChunkReader::new(1 << 20, 8);
        let mut input = BytesMut::from(&b[..]);
        assert_eq!(r.read_message(&mut input).unwrap(), None);
        assert_eq!(r.buffered(), 128);
        r.abort(3);
        assert_eq!(r.buffered(), 0);
        input.extend_from_slice(&b);
        assert_eq!(r.read_message(&mut input).unwrap(), None);
        // A fresh type-0 header replaces the half-read message.
        input.extend_from_slice(&[0x03, 0, 0, 1, 0, 0, 1, 20, 0, 0, 0, 0, 5]);
        let m = r.read_message(&mut input).unwrap().unwrap();
        assert_eq!(&m.payload[..], &[5]);
        assert_eq!(r.buffered(), 0);
    }
}
