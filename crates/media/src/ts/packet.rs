//! The MPEG-TS wire layer (ISO/IEC 13818-1): 188-byte transport packets
//! with adaptation fields (PCR, random access, stuffing), the PAT and PMT
//! sections with their CRC-32, and PES headers. Knows nothing of codecs or
//! of when a table is due; [`super::TsMuxer`] decides that.

/// Size of a transport packet (§2.4.3.2).
pub(crate) const PACKET_LEN: usize = 188;
/// First byte of every transport packet.
pub(crate) const SYNC: u8 = 0x47;
/// Bytes after the 4-byte packet header.
const BODY_LEN: usize = PACKET_LEN - 4;
/// PID of the program association table (§2.4.4.4).
pub(crate) const PAT_PID: u16 = 0;
/// PTS/DTS/PCR base are 33-bit counters of a 90 kHz clock (§2.4.3.7).
pub(crate) const TS_MASK: u64 = (1 << 33) - 1;
/// `transport_stream_id` and `program_number` of the single program.
const PROGRAM: u16 = 1;

/// CRC-32/MPEG-2 (polynomial 0x04C11DB7, initial value all ones, no
/// reflection, no final XOR), as PSI sections end with (§2.4.4.10, annex A).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// What the adaptation field of a PES's first packet carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FirstPacket {
    /// `random_access_indicator` (§2.4.3.5): a keyframe or audio frame starts here.
    pub(crate) random_access: bool,
    /// Program clock reference base (90 kHz); the extension is written as 0.
    pub(crate) pcr: Option<u64>,
}

/// One elementary or PSI stream: its PID and `continuity_counter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pid {
    pid: u16,
    cc: u8,
}

impl Pid {
    /// A stream on `pid` whose first packet has continuity counter 0.
    pub(crate) fn new(pid: u16) -> Self {
        Pid { pid, cc: 0 }
    }

    /// A stream on `pid` whose next packet has continuity counter `cc`.
    #[cfg(test)]
    pub(crate) fn with_counter(pid: u16, cc: u8) -> Self {
        Pid { pid, cc: cc & 0x0f }
    }

    /// The 4-byte packet header; the counter advances only for packets that
    /// carry payload (§2.4.3.3).
    fn header(&mut self, start: bool, adaptation: bool, payload: bool, out: &mut Vec<u8>) {
        let control = (u8::from(adaptation) << 5) | (u8::from(payload) << 4);
        out.extend_from_slice(&[
            SYNC,
            (u8::from(start) << 6) | (self.pid >> 8) as u8 & 0x1f,
            self.pid as u8,
            control | self.cc,
        ]);
        if payload {
            self.cc = (self.cc + 1) & 0x0f;
        }
    }

    /// Splits `header` followed by `payload` (a PES header and its data, or
    /// nothing and a pointer field plus PSI section) into transport packets,
    /// the first with `payload_unit_start_indicator` and `first`'s
    /// adaptation field, the last padded by adaptation-field stuffing
    /// (§2.4.3.5). The header and the payload's slices are packetized as
    /// one byte stream, so the caller need not concatenate them: each byte
    /// is copied once, into its packet.
    ///
    /// The output grows once, by the whole PES; the packets between the
    /// first and the last, most of a large PES, are a header and 184 bytes
    /// of data each.
    pub(crate) fn write<'p>(
        &mut self,
        first: FirstPacket,
        header: &[u8],
        payload: Payload<impl Iterator<Item = &'p [u8]>>,
        out: &mut Vec<u8>,
    ) {
        let mut left = header.len() + payload.len;
        let mut data = Stream {
            now: header,
            next: payload.slices,
        };
        // The first packet's adaptation field after its length byte: flags, PCR.
        let mut af = [0u8; 7];
        af[0] = (u8::from(first.random_access) << 6) | (u8::from(first.pcr.is_some()) << 4);
        let af = match first.pcr {
            Some(pcr) => {
                af[1..].copy_from_slice(&pcr_bytes(pcr));
                &af[..]
            }
            None if first.random_access => &af[..1],
            None => &[],
        };
        let room = room(af);
        out.reserve(PACKET_LEN * (1 + left.saturating_sub(room).div_ceil(BODY_LEN)));
        let take = left.min(room);
        self.packet(true, af, take, &mut data, out);
        left -= take;
        while left >= BODY_LEN {
            self.header(false, false, true, out);
            data.copy(BODY_LEN, out);
            left -= BODY_LEN;
        }
        if left > 0 {
            self.packet(false, &[], left, &mut data, out);
        }
        debug_assert!(
            data.now.is_empty() && data.next.all(<[u8]>::is_empty),
            "payload longer than its length"
        );
    }

    /// One packet of `take` bytes of `data` behind the adaptation field
    /// `af` (its body: flags and PCR, or nothing), which stuffing fills up
    /// or adds when `take` leaves room.
    fn packet<'a, 'p: 'a>(
        &mut self,
        start: bool,
        af: &[u8],
        take: usize,
        data: &mut Stream<'a, impl Iterator<Item = &'p [u8]>>,
        out: &mut Vec<u8>,
    ) {
        let stuffing = room(af).saturating_sub(take);
        if af.is_empty() && stuffing == 0 {
            self.header(start, false, true, out);
        } else if af.is_empty() {
            self.header(start, true, true, out);
            // The length byte alone stuffs one byte; more need the flags byte.
            out.push((stuffing - 1) as u8);
            if stuffing > 1 {
                out.push(0);
                out.resize(out.len() + stuffing - 2, 0xff);
            }
        } else {
            self.header(start, true, true, out);
            out.push((af.len() + stuffing) as u8);
            out.extend_from_slice(af);
            out.resize(out.len() + stuffing, 0xff);
        }
        data.copy(take, out);
    }

    /// One packet holding a PSI section (pointer field included), padded
    /// with `0xff` after the section as §2.4.4.2 allows. Sections longer
    /// than one packet are split like PES data.
    pub(crate) fn write_section(&mut self, section: &[u8], out: &mut Vec<u8>) {
        let mut payload = [0xffu8; BODY_LEN];
        match payload.get_mut(..section.len()) {
            Some(head) => {
                head.copy_from_slice(section);
                self.write(FirstPacket::default(), &[], Payload::one(&payload), out);
            }
            None => self.write(FirstPacket::default(), &[], Payload::one(section), out),
        }
    }

    /// A packet carrying only an adaptation field with a PCR (no payload, so
    /// the continuity counter stays), for when the PCR stream is quiet.
    pub(crate) fn write_pcr_only(&mut self, pcr: u64, out: &mut Vec<u8>) {
        self.header(false, true, false, out);
        out.push((BODY_LEN - 1) as u8);
        out.push(0x10);
        out.extend_from_slice(&pcr_bytes(pcr));
        out.resize(out.len() + BODY_LEN - 8, 0xff);
    }
}

/// What [`Pid::write`] puts after the header: data held in consecutive
/// slices (the parts of an access unit, or one batch of audio frames).
#[derive(Debug)]
pub(crate) struct Payload<I> {
    /// Bytes in all, the sum of the slices' lengths.
    pub(crate) len: usize,
    /// The slices, in order.
    pub(crate) slices: I,
}

impl<'p> Payload<std::iter::Once<&'p [u8]>> {
    /// A payload of one slice.
    pub(crate) fn one(data: &'p [u8]) -> Self {
        Payload {
            len: data.len(),
            slices: std::iter::once(data),
        }
    }
}

/// Payload bytes a packet holds behind the adaptation field body `af`
/// (none when `af` is empty).
fn room(af: &[u8]) -> usize {
    if af.is_empty() {
        BODY_LEN
    } else {
        BODY_LEN - 1 - af.len()
    }
}

/// A byte stream held in consecutive slices, read in packet-sized pieces.
struct Stream<'a, I> {
    /// What is left of the current slice.
    now: &'a [u8],
    /// The slices after it.
    next: I,
}

impl<'a, 'p: 'a, I: Iterator<Item = &'p [u8]>> Stream<'a, I> {
    /// Appends the next `n` bytes (fewer when the stream ends first).
    #[inline]
    fn copy(&mut self, n: usize, out: &mut Vec<u8>) {
        // Mostly the current slice holds them: a large NAL unit spans many packets.
        match self.now.split_at_checked(n) {
            Some((now, later)) => {
                out.extend_from_slice(now);
                self.now = later;
            }
            None => self.copy_across(n, out),
        }
    }

    /// [`copy`](Self::copy) of bytes that run into the next slices; kept
    /// out of line so that `copy` stays small enough to inline.
    #[inline(never)]
    fn copy_across(&mut self, mut n: usize, out: &mut Vec<u8>) {
        loop {
            let (now, later) = self.now.split_at(n.min(self.now.len()));
            out.extend_from_slice(now);
            self.now = later;
            n -= now.len();
            if n == 0 {
                return;
            }
            match self.next.next() {
                Some(next) => self.now = next,
                None => {
                    debug_assert!(false, "payload shorter than its length");
                    return;
                }
            }
        }
    }
}

/// `program_clock_reference_base` (33 bits), 6 reserved bits, extension 0.
pub(crate) fn pcr_bytes(pcr: u64) -> [u8; 6] {
    let b = pcr & TS_MASK;
    [
        (b >> 25) as u8,
        (b >> 17) as u8,
        (b >> 9) as u8,
        (b >> 1) as u8,
        ((b as u8 & 1) << 7) | 0x7e,
        0,
    ]
}

/// Appends a PSI section (the bytes after `section_length`) with the common
/// header and CRC-32, preceded by the pointer field, ready for [`Pid::write`].
fn section(table_id: u8, id: u16, version: u8, body: &[u8], out: &mut Vec<u8>) {
    out.push(0); // pointer_field
    let start = out.len();
    // 5 bytes of extension header + body + CRC.
    let len = (5 + body.len() + 4) as u16;
    out.extend_from_slice(&[table_id, 0xb0 | (len >> 8) as u8, len as u8]);
    out.extend_from_slice(&id.to_be_bytes());
    // reserved '11', version_number, current_next_indicator 1.
    out.extend_from_slice(&[0xc1 | ((version & 0x1f) << 1), 0, 0]);
    out.extend_from_slice(body);
    let crc = crc32(out.get(start..).unwrap_or_default());
    out.extend_from_slice(&crc.to_be_bytes());
}

/// The program association table (§2.4.4.3) naming one program whose PMT is
/// on `pmt_pid`: pointer field plus section.
pub(crate) fn pat(pmt_pid: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(17);
    let mut body = PROGRAM.to_be_bytes().to_vec();
    body.extend_from_slice(&(0xe000 | pmt_pid).to_be_bytes());
    section(0x00, PROGRAM, 0, &body, &mut out);
    out
}

/// The program map table (§2.4.4.8) of the single program: PCR on
/// `pcr_pid`, one entry `(stream_type, pid)` per elementary stream, no
/// descriptors. Pointer field plus section.
pub(crate) fn pmt(version: u8, pcr_pid: u16, streams: &[(u8, u16)]) -> Vec<u8> {
    let mut body = Vec::with_capacity(4 + 5 * streams.len());
    body.extend_from_slice(&(0xe000 | pcr_pid).to_be_bytes());
    body.extend_from_slice(&0xf000u16.to_be_bytes()); // program_info_length 0
    for &(stream_type, pid) in streams {
        body.push(stream_type);
        body.extend_from_slice(&(0xe000 | pid).to_be_bytes());
        body.extend_from_slice(&0xf000u16.to_be_bytes()); // ES_info_length 0
    }
    let mut out = Vec::with_capacity(13 + body.len());
    section(0x02, PROGRAM, version, &body, &mut out);
    out
}

/// A 33-bit timestamp with its 4-bit prefix and marker bits (§2.4.3.7).
fn timestamp_bytes(prefix: u8, ts: u64) -> [u8; 5] {
    let t = ts & TS_MASK;
    [
        (prefix << 4) | ((t >> 29) as u8 & 0x0e) | 1,
        (t >> 22) as u8,
        ((t >> 14) as u8 & 0xfe) | 1,
        (t >> 7) as u8,
        ((t << 1) as u8) | 1,
    ]
}

/// Longest PES header [`pes_header`] writes.
pub(crate) const PES_HEADER_MAX: usize = 19;

/// A PES packet header, built on the stack.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PesHeader {
    bytes: [u8; PES_HEADER_MAX],
    len: usize,
}

impl PesHeader {
    fn push(&mut self, data: &[u8]) {
        self.bytes[self.len..self.len + data.len()].copy_from_slice(data);
        self.len += data.len();
    }
}

impl std::ops::Deref for PesHeader {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// A PES packet header (§2.4.3.6) for `payload_len` bytes of `stream_id`
/// with a PTS, and a DTS when it differs. `PES_packet_length` is 0
/// ("unbounded", allowed for video only) when the packet would not fit 16
/// bits.
pub(crate) fn pes_header(stream_id: u8, pts: u64, dts: u64, payload_len: usize) -> PesHeader {
    let with_dts = (pts & TS_MASK) != (dts & TS_MASK);
    let header_data: usize = if with_dts { 10 } else { 5 };
    let packet_len = u16::try_from(3 + header_data + payload_len).unwrap_or(0);
    let mut out = PesHeader {
        bytes: [0; PES_HEADER_MAX],
        len: 0,
    };
    out.push(&[0, 0, 1, stream_id]);
    out.push(&packet_len.to_be_bytes());
    // '10', not scrambled, no priority, no alignment, no copyright, copy.
    out.push(&[0x80, if with_dts { 0xc0 } else { 0x80 }, header_data as u8]);
    if with_dts {
        out.push(&timestamp_bytes(0b0011, pts));
        out.push(&timestamp_bytes(0b0001, dts));
    } else {
        out.push(&timestamp_bytes(0b0010, pts));
    }
    out
}
