//! Bounded parsing of the journal's boxes for the finalizer: box headers,
//! the init segment's tracks (`tkhd`, `mdhd`, `hdlr`, `stsd`, `trex`) and
//! movie fragments (`tfhd`, `tfdt`, `trun`, ISO/IEC 14496-12 §8.8). Works on
//! byte slices; every count is checked against the bytes that back it
//! before anything is allocated, and damage is reported as [`Corrupt`].

use std::ops::Range;

use super::boxes::TrackHeader;
use super::fragment::NON_SYNC_BIT;

/// Most tracks the finalizer accepts from an init segment.
const MAX_TRACKS: usize = 16;

/// The journal's bytes do not form the boxes they claim to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Corrupt(pub(super) &'static str);

type Result<T> = std::result::Result<T, Corrupt>;

/// A big-endian reader over a slice.
pub(super) struct Cursor<'a>(pub(super) &'a [u8]);

impl<'a> Cursor<'a> {
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(Corrupt("short box"))?;
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    pub(super) fn u32(&mut self) -> Result<u32> {
        self.array().map(u32::from_be_bytes)
    }
    pub(super) fn u64(&mut self) -> Result<u64> {
        self.array().map(u64::from_be_bytes)
    }
    /// Version and flags of a full box.
    fn full(&mut self) -> Result<(u8, u32)> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00ff_ffff))
    }
}

/// A box found in a slice.
pub(super) struct RawBox<'a> {
    pub(super) kind: [u8; 4],
    pub(super) body: &'a [u8],
    pub(super) whole: &'a [u8],
}

/// A parsed box header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct BoxHeader {
    pub(super) kind: [u8; 4],
    /// 8, or 16 with a 64-bit size.
    pub(super) len: usize,
    /// Total box size; `None` means "to the end of the enclosing space".
    pub(super) size: Option<u64>,
}

/// Parses the box header at the start of `b`; `None` if `b` is too short.
pub(super) fn header(b: &[u8]) -> Option<Result<BoxHeader>> {
    let mut c = Cursor(b);
    let size = c.u32().ok()?;
    let kind = c.array::<4>().ok()?;
    let (len, size) = match size {
        0 => (8, None),
        1 => match c.u64() {
            Ok(large) if large >= 16 => (16, Some(large)),
            Ok(_) => return Some(Err(Corrupt("box size"))),
            Err(_) => return None,
        },
        2..=7 => return Some(Err(Corrupt("box size"))),
        n => (8, Some(u64::from(n))),
    };
    Some(Ok(BoxHeader { kind, len, size }))
}

/// The boxes of a slice, in order; an error ends the iteration.
pub(super) struct Boxes<'a>(pub(super) &'a [u8]);

impl<'a> Iterator for Boxes<'a> {
    type Item = Result<RawBox<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let parsed = header(self.0).unwrap_or(Err(Corrupt("short box header")));
        let item = parsed.and_then(|h| {
            let (kind, header_len) = (h.kind, h.len);
            let size = match h.size {
                None => self.0.len(),
                Some(s) => usize::try_from(s).map_err(|_| Corrupt("box size"))?,
            };
            let whole = self.0.get(..size).ok_or(Corrupt("box past its parent"))?;
            self.0 = &self.0[size..];
            Ok(RawBox {
                kind,
                body: &whole[header_len..],
                whole,
            })
        });
        if item.is_err() {
            self.0 = &[];
        }
        Some(item)
    }
}

/// The first child box of type `kind`.
fn child<'a>(body: &'a [u8], kind: &[u8; 4]) -> Result<Option<RawBox<'a>>> {
    for b in Boxes(body) {
        let b = b?;
        if &b.kind == kind {
            return Ok(Some(b));
        }
    }
    Ok(None)
}

fn need<'a>(body: &'a [u8], kind: &[u8; 4], what: &'static str) -> Result<RawBox<'a>> {
    child(body, kind)?.ok_or(Corrupt(what))
}

/// Per-sample defaults of a track (`trex`, overridden by `tfhd`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Defaults {
    pub(super) duration: u32,
    pub(super) size: u32,
    pub(super) flags: u32,
}

/// A track of the init segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct InitTrack {
    pub(super) header: TrackHeader,
    /// The whole `stsd` box, copied to the output verbatim.
    pub(super) stsd: Vec<u8>,
    pub(super) defaults: Defaults,
}

fn parse_trak(body: &[u8]) -> Result<Option<InitTrack>> {
    let mut tkhd = Cursor(need(body, b"tkhd", "tkhd missing")?.body);
    let (version, _) = tkhd.full()?;
    tkhd.take(if version == 1 { 16 } else { 8 })?;
    let track_id = tkhd.u32()?;
    tkhd.take(if version == 1 { 12 } else { 8 } + 52)?;
    let (width, height) = (tkhd.u32()?, tkhd.u32()?);
    let mdia = need(body, b"mdia", "mdia missing")?.body;
    let mut mdhd = Cursor(need(mdia, b"mdhd", "mdhd missing")?.body);
    let (version, _) = mdhd.full()?;
    mdhd.take(if version == 1 { 16 } else { 8 })?;
    let timescale = mdhd.u32()?;
    let mut hdlr = Cursor(need(mdia, b"hdlr", "hdlr missing")?.body);
    hdlr.take(8)?;
    let handler = hdlr.array::<4>()?;
    if !matches!(&handler, b"vide" | b"soun") {
        return Ok(None);
    }
    let minf = need(mdia, b"minf", "minf missing")?.body;
    let stbl = need(minf, b"stbl", "stbl missing")?.body;
    let stsd = need(stbl, b"stsd", "stsd missing")?.whole;
    // Copied verbatim, so its size field must be the plain 32-bit length: a
    // size of 0 ("to the end") would swallow the tables written after it.
    if stsd.get(..4) != Some(&(stsd.len() as u32).to_be_bytes()[..]) {
        return Err(Corrupt("stsd size"));
    }
    let stsd = stsd.to_vec();
    if timescale == 0 || track_id == 0 {
        return Err(Corrupt("track timescale or id"));
    }
    Ok(Some(InitTrack {
        header: TrackHeader {
            track_id,
            handler,
            timescale,
            width,
            height,
        },
        stsd,
        defaults: Defaults::default(),
    }))
}

/// The tracks of a `moov` body, with their `trex` defaults.
pub(super) fn parse_moov(body: &[u8]) -> Result<Vec<InitTrack>> {
    let mut tracks: Vec<InitTrack> = Vec::new();
    for b in Boxes(body) {
        let b = b?;
        if &b.kind != b"trak" {
            continue;
        }
        if let Some(t) = parse_trak(b.body)? {
            let id = t.header.track_id;
            if tracks.len() == MAX_TRACKS || tracks.iter().any(|o| o.header.track_id == id) {
                return Err(Corrupt("too many or duplicate tracks"));
            }
            tracks.push(t);
        }
    }
    if let Some(mvex) = child(body, b"mvex")? {
        for b in Boxes(mvex.body) {
            let b = b?;
            if &b.kind != b"trex" {
                continue;
            }
            let mut c = Cursor(b.body);
            c.full()?;
            let id = c.u32()?;
            c.u32()?; // default_sample_description_index
            let d = Defaults {
                duration: c.u32()?,
                size: c.u32()?,
                flags: c.u32()?,
            };
            if let Some(t) = tracks.iter_mut().find(|t| t.header.track_id == id) {
                t.defaults = d;
            }
        }
    }
    Ok(tracks)
}

/// One sample of a fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FragSample {
    pub(super) size: u32,
    pub(super) duration: u32,
    pub(super) cts: i64,
    pub(super) sync: bool,
}

/// The samples of one `trun`: contiguous bytes from `offset` in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct FragRun {
    pub(super) offset: u64,
    pub(super) samples: Vec<FragSample>,
}

/// The samples of one track in a fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Traf {
    /// Index into the init tracks.
    pub(super) track: usize,
    /// `baseMediaDecodeTime`, if the `traf` has a `tfdt`.
    pub(super) base_dts: Option<u64>,
    pub(super) runs: Vec<FragRun>,
}

/// Parses a `moof` that starts at file offset `moof_start` and whose sample
/// data must lie in `data` (the following `mdat`'s payload).
pub(super) fn parse_moof(
    body: &[u8],
    moof_start: u64,
    data: Range<u64>,
    tracks: &[InitTrack],
) -> Result<Vec<Traf>> {
    let mut out = Vec::new();
    // Without a base offset or default-base-is-moof, a traf's data follows
    // the previous traf's (§8.8.7.1).
    let mut data_end = moof_start;
    for b in Boxes(body) {
        let b = b?;
        if &b.kind != b"traf" {
            continue;
        }
        let mut tfhd = Cursor(need(b.body, b"tfhd", "tfhd missing")?.body);
        let (_, flags) = tfhd.full()?;
        let id = tfhd.u32()?;
        let Some(track) = tracks.iter().position(|t| t.header.track_id == id) else {
            continue;
        };
        let mut d = tracks[track].defaults;
        let base = if flags & 0x1 != 0 {
            tfhd.u64()?
        } else if flags & 0x02_0000 != 0 {
            moof_start
        } else {
            data_end
        };
        if flags & 0x2 != 0 {
            tfhd.u32()?; // sample_description_index
        }
        if flags & 0x8 != 0 {
            d.duration = tfhd.u32()?;
        }
        if flags & 0x10 != 0 {
            d.size = tfhd.u32()?;
        }
        if flags & 0x20 != 0 {
            d.flags = tfhd.u32()?;
        }
        let base_dts = match child(b.body, b"tfdt")? {
            Some(tfdt) => {
                let mut c = Cursor(tfdt.body);
                let (version, _) = c.full()?;
                Some(if version == 1 {
                    c.u64()?
                } else {
                    u64::from(c.u32()?)
                })
            }
            None => None,
        };
        let mut traf = Traf {
            track,
            base_dts,
            runs: Vec::new(),
        };
        let mut next = base;
        for r in Boxes(b.body) {
            let r = r?;
            if &r.kind == b"trun" {
                let run = parse_trun(r.body, base, next, d, &data)?;
                next = run.offset + run.samples.iter().map(|s| u64::from(s.size)).sum::<u64>();
                traf.runs.push(run);
            }
        }
        data_end = next;
        out.push(traf);
    }
    Ok(out)
}

fn parse_trun(
    body: &[u8],
    base: u64,
    next: u64,
    d: Defaults,
    data: &Range<u64>,
) -> Result<FragRun> {
    let mut c = Cursor(body);
    let (version, flags) = c.full()?;
    let count = c.u32()?;
    let offset = if flags & 0x1 != 0 {
        let rel = c.u32()? as i32;
        base.checked_add_signed(i64::from(rel))
            .ok_or(Corrupt("data offset"))?
    } else {
        next
    };
    let first_flags = if flags & 0x4 != 0 {
        Some(c.u32()?)
    } else {
        None
    };
    let fields = [0x100, 0x200, 0x400, 0x800]
        .iter()
        .filter(|&&f| flags & f != 0)
        .count();
    // Every sample needs its bytes in the trun (if it has fields) and at
    // least one byte of mdat, so `count` is bounded before allocating.
    let room = data.end.saturating_sub(offset);
    if (fields > 0 && count as usize > c.0.len() / (4 * fields)) || u64::from(count) > room {
        return Err(Corrupt("trun sample count"));
    }
    let mut samples = Vec::with_capacity(count as usize);
    let mut end = offset;
    for i in 0..count {
        let duration = if flags & 0x100 != 0 {
            c.u32()?
        } else {
            d.duration
        };
        let size = if flags & 0x200 != 0 { c.u32()? } else { d.size };
        let mut sample_flags = if flags & 0x400 != 0 {
            c.u32()?
        } else {
            d.flags
        };
        if i == 0 {
            sample_flags = first_flags.unwrap_or(sample_flags);
        }
        let cts = if flags & 0x800 != 0 {
            let raw = c.u32()?;
            if version == 0 {
                i64::from(raw)
            } else {
                i64::from(raw as i32)
            }
        } else {
            0
        };
        end = end.saturating_add(u64::from(size));
        if size == 0 || end > data.end {
            return Err(Corrupt("sample size"));
        }
        samples.push(FragSample {
            size,
            duration,
            cts,
            sync: sample_flags & NON_SYNC_BIT == 0,
        });
    }
    if offset < data.start || end > data.end {
        return Err(Corrupt("sample data outside the mdat"));
    }
    Ok(FragRun { offset, samples })
}
