//! Codec configuration parsing: the decoder configuration records FLV and
//! MP4 carry (AVC/HEVC), their parameter sets (picture size), the AAC
//! AudioSpecificConfig and MPEG audio frame headers. Every parser is bounded
//! by its input and returns [`CodecError`] instead of panicking; nothing here
//! knows a container format.

pub mod aac;
mod bits;
pub mod h264;
pub mod h265;
pub mod mp3;

use thiserror::Error;

/// Why codec bytes could not be parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The input ended inside a field.
    #[error("{0}: input ended inside a field")]
    Truncated(&'static str),
    /// A field holds a value the specification forbids or liverec cannot use.
    #[error("{0}: invalid value")]
    Invalid(&'static str),
}

/// What an H.264 or H.265 sequence parameter set says about the picture
/// ([`h264::parse_sps`], [`h265::parse_sps`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpsInfo {
    /// `profile_idc` (H.265: `general_profile_idc`).
    pub profile_idc: u8,
    /// `level_idc` (H.265: `general_level_idc`).
    pub level_idc: u8,
    /// Width in pixels after frame cropping (H.265: the conformance window).
    pub width: u32,
    /// Height in pixels after frame cropping (H.265: the conformance window).
    pub height: u32,
}

/// Removes H.264/H.265 emulation-prevention bytes (the `03` in `00 00 03`),
/// turning a NAL unit payload into its RBSP (H.264 §7.4.1, H.265 §7.4.2).
pub fn rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0usize;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// The NAL units of one length-prefixed (AVCC/HVCC) access unit, each
/// prefix `nal_length_size` bytes. An invalid prefix size or a truncated
/// unit yields one error and ends the iteration.
pub(crate) fn nal_units(
    mut data: &[u8],
    nal_length_size: u8,
) -> impl Iterator<Item = Result<&[u8], CodecError>> {
    const WHAT: &str = "length-prefixed NAL units";
    let n = usize::from(nal_length_size);
    let mut invalid = !(1..=4).contains(&n);
    std::iter::from_fn(move || {
        if invalid {
            invalid = false;
            data = &[];
            return Some(Err(CodecError::Invalid(WHAT)));
        }
        if data.is_empty() {
            return None;
        }
        let unit = data.split_at_checked(n).and_then(|(len, rest)| {
            let len = len
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            rest.split_at_checked(len)
        });
        let Some((nal, rest)) = unit else {
            data = &[];
            return Some(Err(CodecError::Truncated(WHAT)));
        };
        data = rest;
        Some(Ok(nal))
    })
}

/// Converts one length-prefixed (AVCC/HVCC) access unit to Annex-B (start
/// code `00 00 00 01` before each NAL unit), appending to `out`. Used by
/// formats that carry Annex-B, such as MPEG-TS.
pub fn length_prefixed_to_annexb(
    data: &[u8],
    nal_length_size: u8,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    for nal in nal_units(data, nal_length_size) {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rbsp_removes_emulation_prevention() {
        assert_eq!(rbsp(&[0, 0, 3, 1, 0, 0, 3]), [0, 0, 1, 0, 0]);
        assert_eq!(rbsp(&[0, 0, 3, 0, 0, 3, 0]), [0, 0, 0, 0, 0]);
        assert_eq!(rbsp(&[1, 3, 0, 3]), [1, 3, 0, 3]);
    }

    #[test]
    fn annexb_conversion() {
        let mut out = Vec::new();
        length_prefixed_to_annexb(&[0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x41], 4, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x65, 1, 0, 0, 0, 1, 0x41]);
        out.clear();
        length_prefixed_to_annexb(&[2, 0x65, 1], 1, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x65, 1]);
        assert!(length_prefixed_to_annexb(&[0, 0, 0, 9, 1], 4, &mut out).is_err());
        assert!(length_prefixed_to_annexb(&[0, 0], 4, &mut out).is_err());
        assert!(length_prefixed_to_annexb(&[], 5, &mut out).is_err());
    }

    #[test]
    fn nal_units_end_at_the_first_error() {
        let units: Vec<_> = nal_units(&[0, 1, 0x65, 0, 0, 0, 5, 1], 2).collect();
        assert_eq!(
            units,
            [
                Ok(&[0x65][..]),
                Ok(&[][..]),
                Err(CodecError::Truncated("length-prefixed NAL units"))
            ]
        );
        assert_eq!(nal_units(&[], 4).count(), 0);
        assert_eq!(nal_units(&[1, 2], 0).count(), 1);
    }
}
