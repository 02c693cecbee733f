//! One movie fragment of the journal: `moof` (`mfhd`, then per track a
//! `traf` with `tfhd`, `tfdt` and one `trun`, ISO/IEC 14496-12 §8.8) followed
//! by the `mdat` holding the samples of each track in turn.

use bytes::Bytes;

use super::boxes::{Put, bx, full, mdat_header, mdat_header_len};
use crate::mux::MuxError;

/// `sample_flags` of a sync sample: `sample_depends_on` = 2 (§8.8.3.1).
pub(super) const FLAGS_SYNC: u32 = 0x0200_0000;
/// `sample_flags` of a non-sync sample: `sample_depends_on` = 1 and
/// `sample_is_non_sync_sample`.
pub(super) const FLAGS_NON_SYNC: u32 = 0x0101_0000;
/// `sample_is_non_sync_sample` bit of `sample_flags`.
pub(super) const NON_SYNC_BIT: u32 = 0x0001_0000;

/// `tfhd` flag: the base data offset is the start of the `moof`.
pub(super) const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;
/// `trun` flags: data offset, then per sample duration, size, flags and
/// composition offset.
pub(super) const TRUN_ALL: u32 = 0x0001 | 0x0100 | 0x0200 | 0x0400 | 0x0800;

/// A sample whose duration is known, waiting for its fragment.
#[derive(Clone, Debug)]
pub(super) struct Sample {
    /// Duration in the track's timescale.
    pub(super) duration: u32,
    /// Composition offset in the track's timescale.
    pub(super) cts: i32,
    /// A sync (random access) sample.
    pub(super) sync: bool,
    /// The sample bytes.
    pub(super) data: Bytes,
}

/// The samples of one track in a fragment.
pub(super) struct Run<'a> {
    /// `track_ID`.
    pub(super) track_id: u32,
    /// Decode time of the first sample (`tfdt`).
    pub(super) base_dts: u64,
    /// The samples, in decode order.
    pub(super) samples: &'a [Sample],
}

/// Appends `moof` + `mdat` for `runs` (tracks without samples are left out).
pub(super) fn write(out: &mut Vec<u8>, sequence: u32, runs: &[Run<'_>]) -> Result<(), MuxError> {
    let payload: u64 = runs
        .iter()
        .flat_map(|r| r.samples)
        .map(|s| s.data.len() as u64)
        .sum();
    let moof_at = out.len();
    let mut offset_fields = Vec::with_capacity(runs.len());
    bx(out, b"moof", |out| {
        full(out, b"mfhd", 0, 0, |out| out.u32(sequence));
        for run in runs.iter().filter(|r| !r.samples.is_empty()) {
            bx(out, b"traf", |out| {
                full(out, b"tfhd", 0, TFHD_DEFAULT_BASE_IS_MOOF, |out| {
                    out.u32(run.track_id);
                });
                full(out, b"tfdt", 1, 0, |out| out.u64(run.base_dts));
                full(out, b"trun", 1, TRUN_ALL, |out| {
                    out.u32(run.samples.len() as u32);
                    offset_fields.push(out.len());
                    out.u32(0); // data_offset, set below
                    for s in run.samples {
                        out.u32(s.duration);
                        out.u32(s.data.len() as u32);
                        out.u32(if s.sync { FLAGS_SYNC } else { FLAGS_NON_SYNC });
                        out.u32(s.cts as u32);
                    }
                });
            });
        }
    });
    let moof_len = (out.len() - moof_at) as u64;
    let mut data_offset = moof_len + mdat_header_len(payload);
    for (field, run) in offset_fields
        .iter()
        .zip(runs.iter().filter(|r| !r.samples.is_empty()))
    {
        let value = i32::try_from(data_offset).map_err(|_| {
            MuxError::Unsupported(format!("mp4: {payload}-byte fragment is too large"))
        })?;
        out[*field..*field + 4].copy_from_slice(&value.to_be_bytes());
        data_offset += run.samples.iter().map(|s| s.data.len() as u64).sum::<u64>();
    }
    mdat_header(out, payload);
    out.reserve(usize::try_from(payload).unwrap_or(0));
    for s in runs.iter().flat_map(|r| r.samples) {
        out.extend_from_slice(&s.data);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_known_bytes() {
        let samples = [
            Sample {
                duration: 3000,
                cts: 6000,
                sync: true,
                data: Bytes::from_static(b"abc"),
            },
            Sample {
                duration: 3000,
                cts: -3000,
                sync: false,
                data: Bytes::from_static(b"d"),
            },
        ];
        let mut out = Vec::new();
        write(
            &mut out,
            7,
            &[Run {
                track_id: 1,
                base_dts: 90_000,
                samples: &samples,
            }],
        )
        .unwrap();
        let mut want = vec![0, 0, 0, 0x78];
        want.extend_from_slice(b"moof");
        want.extend_from_slice(&[0, 0, 0, 16, b'm', b'f', b'h', b'd', 0, 0, 0, 0, 0, 0, 0, 7]);
        want.extend_from_slice(&[0, 0, 0, 0x60, b't', b'r', b'a', b'f']);
        want.extend_from_slice(&[0, 0, 0, 16, b't', b'f', b'h', b'd', 0, 2, 0, 0, 0, 0, 0, 1]);
        want.extend_from_slice(&[0, 0, 0, 20, b't', b'f', b'd', b't', 1, 0, 0, 0]);
        want.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0x5f, 0x90]);
        want.extend_from_slice(&[0, 0, 0, 0x34, b't', b'r', b'u', b'n', 1, 0, 0x0f, 0x01]);
        want.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 0x80]);
        want.extend_from_slice(&[0, 0, 0x0b, 0xb8, 0, 0, 0, 3, 2, 0, 0, 0, 0, 0, 0x17, 0x70]);
        want.extend_from_slice(&[0, 0, 0x0b, 0xb8, 0, 0, 0, 1, 1, 1, 0, 0]);
        want.extend_from_slice(&[0xff, 0xff, 0xf4, 0x48]);
        want.extend_from_slice(&[0, 0, 0, 12, b'm', b'd', b'a', b't', b'a', b'b', b'c', b'd']);
        assert_eq!(out, want);
    }
}
