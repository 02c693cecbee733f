//! ISO BMFF box encoding (ISO/IEC 14496-12) shared by the journal writer and
//! the finalizer: a size-patching box builder and the header boxes of a
//! movie and its tracks (`mvhd`, `tkhd`, `mdhd`, `hdlr`, `minf` headers,
//! `elst`). Sample tables live in [`super::tables`], sample entries in
//! [`super::entry`]. Writes into memory only.

/// Big-endian integer appends.
pub(super) trait Put {
    fn u8(&mut self, v: u8);
    fn u16(&mut self, v: u16);
    fn u32(&mut self, v: u32);
    fn u64(&mut self, v: u64);
    fn zeros(&mut self, n: usize);
}

impl Put for Vec<u8> {
    fn u8(&mut self, v: u8) {
        self.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn zeros(&mut self, n: usize) {
        self.resize(self.len() + n, 0);
    }
}

/// Appends a box of type `kind` whose body `body` writes, then fills in its
/// 32-bit size. Boxes built in memory stay far below 4 GiB (the finalizer
/// checks the `moov` size before writing it).
pub(super) fn bx(out: &mut Vec<u8>, kind: &[u8; 4], body: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.zeros(4);
    out.extend_from_slice(kind);
    body(out);
    let size = u32::try_from(out.len() - at).unwrap_or(u32::MAX);
    out[at..at + 4].copy_from_slice(&size.to_be_bytes());
}

/// Appends a full box (version and 24-bit flags after the header).
pub(super) fn full(
    out: &mut Vec<u8>,
    kind: &[u8; 4],
    version: u8,
    flags: u32,
    body: impl FnOnce(&mut Vec<u8>),
) {
    bx(out, kind, |out| {
        out.u32((u32::from(version) << 24) | (flags & 0x00ff_ffff));
        body(out);
    });
}

/// Length of the header of an `mdat` holding `payload` bytes: 8, or 16
/// with a 64-bit `largesize` (§4.2) once the box passes 4 GiB.
pub(super) fn mdat_header_len(payload: u64) -> u64 {
    if payload + 8 > u64::from(u32::MAX) {
        16
    } else {
        8
    }
}

/// Appends the header of an `mdat` holding `payload` bytes (which the
/// caller appends or writes after it).
pub(super) fn mdat_header(out: &mut Vec<u8>, payload: u64) {
    let len = mdat_header_len(payload);
    if len == 16 {
        out.u32(1);
        out.extend_from_slice(b"mdat");
        out.u64(payload + len);
    } else {
        out.u32((payload + len) as u32);
        out.extend_from_slice(b"mdat");
    }
}

/// The unity transformation matrix of `mvhd` and `tkhd` (§8.2.2.3).
const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// Timescale of the movie (`mvhd`, `tkhd` and `elst` durations): ms.
pub(super) const MOVIE_TIMESCALE: u32 = 1000;

/// True when a duration needs the 64-bit (version 1) layout. Creation and
/// modification times are written as 0: the media crate has no clock.
fn needs_v1(duration: u64) -> bool {
    duration > u64::from(u32::MAX)
}

/// `ftyp` (§4.3).
pub(super) fn ftyp(out: &mut Vec<u8>, major: &[u8; 4], minor: u32, compatible: &[&[u8; 4]]) {
    bx(out, b"ftyp", |out| {
        out.extend_from_slice(major);
        out.u32(minor);
        for brand in compatible {
            out.extend_from_slice(*brand);
        }
    });
}

/// The creation and modification times (zero), timescale and duration that
/// open `mvhd` and `mdhd`: 64-bit fields in version 1, 32-bit in version 0.
fn header_times(out: &mut Vec<u8>, v1: bool, timescale: u32, duration: u64) {
    if v1 {
        out.zeros(16);
        out.u32(timescale);
        out.u64(duration);
    } else {
        out.zeros(8);
        out.u32(timescale);
        out.u32(duration as u32);
    }
}

/// `mvhd` (§8.2.2) with the movie timescale.
pub(super) fn mvhd(out: &mut Vec<u8>, duration: u64, next_track_id: u32) {
    let v1 = needs_v1(duration);
    full(out, b"mvhd", u8::from(v1), 0, |out| {
        header_times(out, v1, MOVIE_TIMESCALE, duration);
        out.u32(0x0001_0000); // rate 1.0
        out.u16(0x0100); // volume 1.0
        out.zeros(10);
        for m in MATRIX {
            out.u32(m);
        }
        out.zeros(24); // pre_defined
        out.u32(next_track_id);
    });
}

/// What a track header needs to know about its track.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TrackHeader {
    /// `track_ID` (1-based).
    pub(super) track_id: u32,
    /// `vide` or `soun`.
    pub(super) handler: [u8; 4],
    /// Media timescale (`mdhd`).
    pub(super) timescale: u32,
    /// Width and height as 16.16 fixed point (video; 0 for audio).
    pub(super) width: u32,
    /// See `width`.
    pub(super) height: u32,
}

impl TrackHeader {
    pub(super) fn is_video(&self) -> bool {
        &self.handler == b"vide"
    }
}

/// `tkhd` (§8.3.2): enabled, in movie, in preview.
pub(super) fn tkhd(out: &mut Vec<u8>, t: &TrackHeader, duration: u64) {
    let v1 = needs_v1(duration);
    full(out, b"tkhd", u8::from(v1), 0x7, |out| {
        if v1 {
            out.zeros(16);
            out.u32(t.track_id);
            out.zeros(4);
            out.u64(duration);
        } else {
            out.zeros(8);
            out.u32(t.track_id);
            out.zeros(4);
            out.u32(duration as u32);
        }
        out.zeros(8);
        out.u16(0); // layer
        out.u16(0); // alternate_group
        out.u16(if t.is_video() { 0 } else { 0x0100 });
        out.u16(0);
        for m in MATRIX {
            out.u32(m);
        }
        out.u32(t.width);
        out.u32(t.height);
    });
}

/// One `elst` entry (§8.6.6), in movie timescale / media timescale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Edit {
    /// Duration of this edit in the movie timescale.
    pub(super) segment_duration: u64,
    /// Start in the media timeline, -1 for an empty edit.
    pub(super) media_time: i64,
}

/// `edts` with one `elst` (§8.6.5, §8.6.6), rate 1.
pub(super) fn edts(out: &mut Vec<u8>, edits: &[Edit]) {
    let v1 = edits
        .iter()
        .any(|e| needs_v1(e.segment_duration) || i32::try_from(e.media_time).is_err());
    bx(out, b"edts", |out| {
        full(out, b"elst", u8::from(v1), 0, |out| {
            out.u32(edits.len() as u32);
            for e in edits {
                if v1 {
                    out.u64(e.segment_duration);
                    out.u64(e.media_time as u64);
                } else {
                    out.u32(e.segment_duration as u32);
                    out.u32(e.media_time as i32 as u32);
                }
                out.u32(0x0001_0000);
            }
        });
    });
}

/// `mdhd` (§8.4.2), language `und`.
pub(super) fn mdhd(out: &mut Vec<u8>, timescale: u32, duration: u64) {
    let v1 = needs_v1(duration);
    full(out, b"mdhd", u8::from(v1), 0, |out| {
        header_times(out, v1, timescale, duration);
        out.u16(0x55c4); // ISO-639-2 "und", packed
        out.u16(0);
    });
}

/// `hdlr` (§8.4.3).
pub(super) fn hdlr(out: &mut Vec<u8>, handler: &[u8; 4]) {
    let name: &[u8] = if handler == b"vide" {
        b"VideoHandler\0"
    } else {
        b"SoundHandler\0"
    };
    full(out, b"hdlr", 0, 0, |out| {
        out.u32(0);
        out.extend_from_slice(handler);
        out.zeros(12);
        out.extend_from_slice(name);
    });
}

/// The media header (`vmhd` or `smhd`) and `dinf` with a self-contained
/// `url ` reference (§8.4.5, §8.7.1).
pub(super) fn minf_headers(out: &mut Vec<u8>, video: bool) {
    if video {
        full(out, b"vmhd", 0, 1, |out| out.zeros(8));
    } else {
        full(out, b"smhd", 0, 0, |out| out.zeros(4));
    }
    bx(out, b"dinf", |out| {
        full(out, b"dref", 0, 0, |out| {
            out.u32(1);
            full(out, b"url ", 0, 1, |_| {});
        });
    });
}

/// A complete `trak`: header boxes around `stbl`, whose children `stbl`
/// writes (it must start with the `stsd` box).
pub(super) fn trak(
    out: &mut Vec<u8>,
    t: &TrackHeader,
    movie_duration: u64,
    media_duration: u64,
    edits: &[Edit],
    stbl: impl FnOnce(&mut Vec<u8>),
) {
    bx(out, b"trak", |out| {
        tkhd(out, t, movie_duration);
        if !edits.is_empty() {
            edts(out, edits);
        }
        bx(out, b"mdia", |out| {
            mdhd(out, t.timescale, media_duration);
            hdlr(out, &t.handler);
            bx(out, b"minf", |out| {
                minf_headers(out, t.is_video());
                bx(out, b"stbl", stbl);
            });
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_sizes_are_patched() {
        let mut out = Vec::new();
        bx(&mut out, b"free", |out| out.extend_from_slice(b"ab"));
        assert_eq!(out, [0, 0, 0, 10, b'f', b'r', b'e', b'e', b'a', b'b']);
        out.clear();
        full(&mut out, b"url ", 0, 1, |_| {});
        assert_eq!(out, [0, 0, 0, 12, b'u', b'r', b'l', b' ', 0, 0, 0, 1]);
    }

    #[test]
    fn mdat_headers_widen_past_4_gib() {
        let mut out = Vec::new();
        mdat_header(&mut out, 10);
        assert_eq!(out, [0, 0, 0, 18, b'm', b'd', b'a', b't']);
        let last_narrow = u64::from(u32::MAX) - 8;
        assert_eq!(mdat_header_len(last_narrow), 8);
        out.clear();
        mdat_header(&mut out, last_narrow + 1);
        assert_eq!(mdat_header_len(last_narrow + 1), 16);
        assert_eq!(out[..8], [0, 0, 0, 1, b'm', b'd', b'a', b't']);
        assert_eq!(out[8..], (last_narrow + 17).to_be_bytes());
    }

    #[test]
    fn header_box_sizes() {
        let mut out = Vec::new();
        mvhd(&mut out, 10_000, 3);
        assert_eq!(out.len(), 108);
        assert_eq!(&out[20..28], &[0, 0, 0x03, 0xe8, 0, 0, 0x27, 0x10]);
        out.clear();
        mvhd(&mut out, 1 << 33, 3);
        assert_eq!((out.len(), out[8]), (120, 1));
        let t = TrackHeader {
            track_id: 1,
            handler: *b"vide",
            timescale: 90_000,
            width: 640 << 16,
            height: 360 << 16,
        };
        out.clear();
        tkhd(&mut out, &t, 500);
        assert_eq!(out.len(), 92);
        assert_eq!(&out[84..92], &[2, 0x80, 0, 0, 1, 0x68, 0, 0]);
        out.clear();
        mdhd(&mut out, 44_100, 1024);
        assert_eq!(
            out,
            [
                0, 0, 0, 32, b'm', b'd', b'h', b'd', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0xac, 0x44, 0, 0, 4, 0, 0x55, 0xc4, 0, 0
            ]
        );
    }

    #[test]
    fn elst_known_bytes() {
        let mut out = Vec::new();
        edts(
            &mut out,
            &[
                Edit {
                    segment_duration: 40,
                    media_time: -1,
                },
                Edit {
                    segment_duration: 1000,
                    media_time: 0,
                },
            ],
        );
        let mut want = vec![0, 0, 0, 48, b'e', b'd', b't', b's', 0, 0, 0, 40];
        want.extend_from_slice(b"elst");
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 2]);
        want.extend_from_slice(&[0, 0, 0, 40, 0xff, 0xff, 0xff, 0xff, 0, 1, 0, 0]);
        want.extend_from_slice(&[0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(out, want);
    }
}
