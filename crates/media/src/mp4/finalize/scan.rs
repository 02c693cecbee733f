//! The finalizer's pass over a journal: the init segment's tracks, then
//! every complete fragment into per-track sample tables (about 16 bytes per
//! sample) and a list of chunks (runs of samples contiguous in the journal).
//! Reads box headers and `moof`s only; `mdat` payloads stay on disk. A
//! fragment counts only when its `moof` and `mdat` are both complete and
//! consistent.

use std::io::{self, Read, Seek, SeekFrom};

use crate::codec::CodecError;
use crate::mp4::reader::{self, FragSample, InitTrack, Traf};
use crate::mux::MuxError;

/// Largest `moov` accepted from a journal (it holds only sample entries).
const MAX_INIT_BOX: u64 = 16 << 20;
/// Largest `moof` accepted: a fragment of about a second needs a few KiB.
const MAX_MOOF: u64 = 16 << 20;

#[derive(Clone, Copy, Debug)]
pub(super) struct Rec {
    pub(super) size: u32,
    pub(super) duration: u32,
    pub(super) cts: i32,
    pub(super) sync: bool,
}

#[derive(Debug, Default)]
pub(super) struct Table {
    pub(super) samples: Vec<Rec>,
    /// Decode time of the first sample.
    pub(super) first: i64,
    last: i64,
    /// Decode time after the last sample.
    pub(super) next: i64,
}

impl Table {
    /// Appends a sample at `dts`, nudged to keep decode times strictly
    /// increasing, and fixes the previous sample's duration to reach it.
    /// Returns the decode time after the sample.
    fn push(&mut self, dts: i64, s: FragSample) -> i64 {
        let dts = match self.samples.last_mut() {
            Some(prev) => {
                let lo = self.last.saturating_add(1);
                let dts = dts.clamp(lo, self.last.saturating_add(i64::from(u32::MAX)).max(lo));
                prev.duration = u32::try_from(dts - self.last).unwrap_or(u32::MAX);
                dts
            }
            None => {
                self.first = dts;
                dts
            }
        };
        self.last = dts;
        let duration = s.duration.max(1);
        self.samples.push(Rec {
            size: s.size,
            duration,
            cts: s.cts.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
            sync: s.sync,
        });
        self.next = dts.saturating_add(i64::from(duration));
        self.next
    }
}

/// A run of samples of one track that is contiguous in the journal; it
/// becomes one chunk of the output.
#[derive(Clone, Copy, Debug)]
pub(super) struct Chunk {
    /// Index into the init tracks.
    pub(super) track: usize,
    /// Where the bytes are in the journal.
    pub(super) offset: u64,
    pub(super) len: u64,
    pub(super) samples: u32,
}

#[derive(Debug, Default)]
pub(super) struct Collected {
    /// One per init track.
    pub(super) tables: Vec<Table>,
    /// In journal order, which is the output order.
    pub(super) chunks: Vec<Chunk>,
}

impl Collected {
    fn add(&mut self, trafs: Vec<Traf>) {
        for traf in trafs {
            let Some(t) = self.tables.get_mut(traf.track) else {
                continue;
            };
            let mut dts = traf
                .base_dts
                .map_or(t.next, |b| i64::try_from(b).unwrap_or(i64::MAX / 4));
            for run in traf.runs.into_iter().filter(|r| !r.samples.is_empty()) {
                self.chunks.push(Chunk {
                    track: traf.track,
                    offset: run.offset,
                    len: run.samples.iter().map(|s| u64::from(s.size)).sum(),
                    samples: run.samples.len() as u32,
                });
                for s in run.samples {
                    dts = t.push(dts, s);
                }
            }
        }
    }
}

/// A box header that fits in what is left of the journal.
struct BoxHead {
    kind: [u8; 4],
    header_len: u64,
    size: u64,
}

enum Head {
    /// Fewer bytes than a box header, or a header that cannot be valid.
    Unusable,
    /// A header whose box runs past the end.
    Overruns,
    Box(BoxHead),
}

fn read_head<R: Read + Seek>(r: &mut R, pos: u64, end: u64) -> io::Result<Head> {
    let mut buf = [0u8; 16];
    let avail = end.saturating_sub(pos).min(16) as usize;
    r.seek(SeekFrom::Start(pos))?;
    r.read_exact(&mut buf[..avail])?;
    Ok(match reader::header(&buf[..avail]) {
        Some(Ok(h)) => match h.size.unwrap_or(end - pos) {
            size if size > end - pos => Head::Overruns,
            size => Head::Box(BoxHead {
                kind: h.kind,
                header_len: h.len as u64,
                size,
            }),
        },
        _ => Head::Unusable,
    })
}

fn read_bytes<R: Read + Seek>(r: &mut R, pos: u64, len: u64) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; usize::try_from(len).unwrap_or(0)];
    r.seek(SeekFrom::Start(pos))?;
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// Reads boxes up to and including `moov`; returns its tracks and the
/// offset after it.
fn read_init<R: Read + Seek>(r: &mut R, len: u64) -> Result<(Vec<InitTrack>, u64), MuxError> {
    let truncated = || {
        MuxError::Codec(CodecError::Truncated(
            "MP4 journal init segment (ftyp + moov)",
        ))
    };
    let corrupt = || {
        MuxError::Codec(CodecError::Invalid(
            "MP4 journal init segment (ftyp + moov)",
        ))
    };
    let mut pos = 0;
    while pos < len {
        let (kind, header_len, size) = match read_head(r, pos, len)? {
            Head::Box(h) => (h.kind, h.header_len, h.size),
            Head::Unusable if len - pos >= 16 => return Err(corrupt()),
            Head::Unusable | Head::Overruns => return Err(truncated()),
        };
        match &kind {
            b"moov" if size <= MAX_INIT_BOX => {
                let body = read_bytes(r, pos + header_len, size - header_len)?;
                let tracks = reader::parse_moov(&body).map_err(|_| corrupt())?;
                if tracks.is_empty() {
                    return Err(corrupt());
                }
                return Ok((tracks, pos + size));
            }
            b"moov" | b"moof" | b"mdat" => return Err(corrupt()),
            _ => pos += size,
        }
    }
    Err(truncated())
}

/// Collects the complete fragments from `pos` on; returns whether the
/// journal ended inside a fragment or at damaged bytes.
fn collect<R: Read + Seek>(
    r: &mut R,
    len: u64,
    mut pos: u64,
    tracks: &[InitTrack],
    into: &mut Collected,
) -> io::Result<bool> {
    while pos < len {
        let Head::Box(moof) = read_head(r, pos, len)? else {
            return Ok(true);
        };
        if &moof.kind != b"moof" {
            pos += moof.size;
            continue;
        }
        let next = pos + moof.size;
        if moof.size > MAX_MOOF || next >= len {
            return Ok(true);
        }
        let Head::Box(mdat) = read_head(r, next, len)? else {
            return Ok(true);
        };
        if &mdat.kind != b"mdat" {
            return Ok(true);
        }
        let body = read_bytes(r, pos + moof.header_len, moof.size - moof.header_len)?;
        let data = next + mdat.header_len..next + mdat.size;
        let Ok(trafs) = reader::parse_moof(&body, pos, data, tracks) else {
            return Ok(true);
        };
        into.add(trafs);
        pos = next + mdat.size;
    }
    Ok(false)
}

/// Reads the init segment and every complete fragment of a journal of `len`
/// bytes. Returns the tracks, their sample tables and chunks, and whether
/// the journal ended inside a fragment or at damaged bytes.
pub(super) fn scan<R: Read + Seek>(
    r: &mut R,
    len: u64,
) -> Result<(Vec<InitTrack>, Collected, bool), MuxError> {
    let (tracks, init_end) = read_init(r, len)?;
    let mut c = Collected {
        tables: tracks.iter().map(|_| Table::default()).collect(),
        chunks: Vec::new(),
    };
    let truncated = collect(r, len, init_end, &tracks, &mut c)?;
    Ok((tracks, c, truncated))
}
