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

impl SpsInfo {
    /// Reads the cropping window that ends the picture-size fields of an
    /// SPS (H.264 `frame_cropping`, H.265 `conformance_window`: a flag, then
    /// the left, right, top and bottom offsets) and takes it off the coded
    /// size. `field_factor` is 2 for an H.264 SPS of field pictures (each
    /// vertical offset counts twice), otherwise 1.
    fn cropped(
        r: &mut bits::BitReader<'_>,
        (profile_idc, level_idc): (u8, u8),
        (coded_width, coded_height): (u64, u64),
        (separate_colour_plane, chroma_format_idc): (bool, u64),
        field_factor: u64,
    ) -> Result<SpsInfo, CodecError> {
        let (mut left, mut right, mut top, mut bottom) = (0, 0, 0, 0);
        if r.bit()? {
            left = r.ue()?;
            right = r.ue()?;
            top = r.ue()?;
            bottom = r.ue()?;
        }
        // Table 6-1 (both standards): SubWidthC/SubHeightC; ChromaArrayType 0
        // crops in luma units.
        let (sub_w, sub_h) = match (separate_colour_plane, chroma_format_idc) {
            (false, 1) => (2, 2),
            (false, 2) => (2, 1),
            _ => (1, 1),
        };
        let width = coded_width.checked_sub(sub_w * (left + right));
        let height = coded_height.checked_sub(sub_h * field_factor * (top + bottom));
        let to_u32 = |v: Option<u64>| v.and_then(|v| u32::try_from(v).ok()).ok_or(r.invalid());
        Ok(SpsInfo {
            profile_idc,
            level_idc,
            width: to_u32(width)?,
            height: to_u32(height)?,
        })
    }
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
    use bytes::Bytes;

    /// Asserts that `parse` refuses every proper prefix of `record`.
    pub(super) fn assert_prefixes_refused<T>(
        record: &Bytes,
        parse: fn(&Bytes) -> Result<T, CodecError>,
    ) {
        for cut in 0..record.len() {
            assert!(parse(&record.slice(..cut)).is_err(), "cut {cut}");
        }
    }

    /// Feeds arbitrary bytes to a record parser and, behind the NAL header
    /// byte `sps_header`, to an SPS parser: whatever they answer, they
    /// must not panic.
    pub(super) fn parse_garbage<T>(
        data: Vec<u8>,
        sps_header: u8,
        parse_record: fn(&Bytes) -> Result<T, CodecError>,
        parse_sps: fn(&[u8]) -> Result<SpsInfo, CodecError>,
    ) {
        let _ = parse_record(&Bytes::from(data.clone()));
        let mut nal = data;
        if let Some(b) = nal.first_mut() {
            *b = sps_header;
        }
        let _ = parse_sps(&nal);
    }

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
