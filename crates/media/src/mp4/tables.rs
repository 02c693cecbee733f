//! Sample table boxes (ISO/IEC 14496-12 §8.6–§8.7): `stts`, `ctts`, `stss`,
//! `stsc`, `stsz` and `stco`/`co64`, run-length coded where the format
//! allows. Inputs are iterators so callers need not copy their tables.

use super::boxes::{Put, full};

/// Appends a full box whose body is a 32-bit entry count followed by the
/// entries `entries` writes; `entries` returns the count.
fn counted(
    out: &mut Vec<u8>,
    kind: &[u8; 4],
    version: u8,
    entries: impl FnOnce(&mut Vec<u8>) -> u32,
) {
    full(out, kind, version, 0, |out| {
        let at = out.len();
        out.u32(0);
        let n = entries(out);
        out[at..at + 4].copy_from_slice(&n.to_be_bytes());
    });
}

/// Run-length codes `values` into `(count, value)` entries.
fn runs<T: PartialEq + Copy>(
    out: &mut Vec<u8>,
    values: impl Iterator<Item = T>,
    mut put: impl FnMut(&mut Vec<u8>, u32, T),
) -> u32 {
    let mut n = 0;
    let mut current: Option<(u32, T)> = None;
    for v in values {
        current = match current {
            Some((count, value)) if value == v && count < u32::MAX => Some((count + 1, value)),
            Some((count, value)) => {
                put(out, count, value);
                n += 1;
                Some((1, v))
            }
            None => Some((1, v)),
        };
    }
    if let Some((count, value)) = current {
        put(out, count, value);
        n += 1;
    }
    n
}

/// A version-0 table of `(sample_count, value)` runs, the layout `stts`
/// and `ctts` share.
fn run_table(out: &mut Vec<u8>, kind: &[u8; 4], values: impl Iterator<Item = u32>) {
    counted(out, kind, 0, |out| {
        runs(out, values, |out, count, value| {
            out.u32(count);
            out.u32(value);
        })
    });
}

/// `stts` (§8.6.1.2): decoding time deltas.
pub(super) fn stts(out: &mut Vec<u8>, durations: impl Iterator<Item = u32>) {
    run_table(out, b"stts", durations);
}

/// `ctts` version 0 (§8.6.1.3): composition offsets, all non-negative.
pub(super) fn ctts(out: &mut Vec<u8>, offsets: impl Iterator<Item = u32>) {
    run_table(out, b"ctts", offsets);
}

/// `stss` (§8.6.2): 1-based numbers of the sync samples.
pub(super) fn stss(out: &mut Vec<u8>, sync: impl Iterator<Item = bool>) {
    counted(out, b"stss", 0, |out| {
        let mut n = 0;
        for (i, s) in sync.enumerate() {
            if s {
                out.u32(i as u32 + 1);
                n += 1;
            }
        }
        n
    });
}

/// `stsc` (§8.7.4): samples per chunk, one entry per change, all with
/// sample description 1.
pub(super) fn stsc(out: &mut Vec<u8>, per_chunk: impl Iterator<Item = u32>) {
    counted(out, b"stsc", 0, |out| {
        let mut n = 0;
        let mut last = None;
        for (i, count) in per_chunk.enumerate() {
            if last != Some(count) {
                out.u32(i as u32 + 1);
                out.u32(count);
                out.u32(1);
                n += 1;
                last = Some(count);
            }
        }
        n
    });
}

/// `stsz` (§8.7.3) with one size per sample.
pub(super) fn stsz(out: &mut Vec<u8>, sizes: impl Iterator<Item = u32>) {
    full(out, b"stsz", 0, 0, |out| {
        out.u32(0); // sample_size: sizes follow
        let at = out.len();
        out.u32(0);
        let mut n = 0u32;
        for size in sizes {
            out.u32(size);
            n += 1;
        }
        out[at..at + 4].copy_from_slice(&n.to_be_bytes());
    });
}

/// `stco` or, with `wide`, `co64` (§8.7.5): chunk offsets in the file.
pub(super) fn chunk_offsets(out: &mut Vec<u8>, offsets: impl Iterator<Item = u64>, wide: bool) {
    let kind = if wide { b"co64" } else { b"stco" };
    counted(out, kind, 0, |out| {
        let mut n = 0;
        for offset in offsets {
            if wide {
                out.u64(offset);
            } else {
                out.u32(offset as u32);
            }
            n += 1;
        }
        n
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u32]) -> Vec<u8> {
        let mut v = Vec::new();
        v.u32(8 + 4 * body.len() as u32);
        v.extend_from_slice(kind);
        for b in body {
            v.u32(*b);
        }
        v
    }

    #[test]
    fn run_length_tables() {
        let mut out = Vec::new();
        stts(&mut out, [3000, 3000, 3000, 2970, 3000].into_iter());
        assert_eq!(out, boxed(b"stts", &[0, 3, 3, 3000, 1, 2970, 1, 3000]));
        out.clear();
        ctts(&mut out, [].into_iter());
        assert_eq!(out, boxed(b"ctts", &[0, 0]));
        out.clear();
        stss(&mut out, [true, false, false, true].into_iter());
        assert_eq!(out, boxed(b"stss", &[0, 2, 1, 4]));
        out.clear();
        stsc(&mut out, [30, 30, 29, 29, 30].into_iter());
        assert_eq!(out, boxed(b"stsc", &[0, 3, 1, 30, 1, 3, 29, 1, 5, 30, 1]));
        out.clear();
        stsz(&mut out, [5, 6].into_iter());
        assert_eq!(out, boxed(b"stsz", &[0, 0, 2, 5, 6]));
    }

    #[test]
    fn chunk_offset_widths() {
        let mut out = Vec::new();
        chunk_offsets(&mut out, [40, 1 << 20].into_iter(), false);
        assert_eq!(out, boxed(b"stco", &[0, 2, 40, 1 << 20]));
        out.clear();
        chunk_offsets(&mut out, [5 << 32].into_iter(), true);
        assert_eq!(out, boxed(b"co64", &[0, 1, 5, 0]));
    }
}
