//! H.265 / HEVC: the HEVCDecoderConfigurationRecord (ISO/IEC 14496-15
//! §8.3.3) and the picture size in a sequence parameter set (ITU-T H.265
//! §7.3.2.2). Best effort: callers treat a failed SPS parse as "size
//! unknown", never as a broken stream.

use bytes::Bytes;

use super::bits::BitReader;
use super::{CodecError, SpsInfo};

/// NAL unit types (H.265 Table 7-1) liverec looks for.
pub mod nal_type {
    /// Video parameter set.
    pub const VPS: u8 = 32;
    /// Sequence parameter set.
    pub const SPS: u8 = 33;
    /// Picture parameter set.
    pub const PPS: u8 = 34;
    /// Access unit delimiter.
    pub const AUD: u8 = 35;
}

/// `nal_unit_type` from the first byte of a NAL unit header (§7.3.1.2).
pub fn nal_unit_type(header: u8) -> u8 {
    (header >> 1) & 0x3f
}

/// One `array` of the record: NAL units of one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NalArray {
    /// `array_completeness`.
    pub complete: bool,
    /// `NAL_unit_type` (see [`nal_type`]).
    pub nal_type: u8,
    /// The NAL units (zero-copy slices of the record).
    pub nalus: Vec<Bytes>,
}

/// Parsed HEVCDecoderConfigurationRecord.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HevcConfig {
    /// `general_profile_idc`.
    pub profile_idc: u8,
    /// `general_level_idc`.
    pub level_idc: u8,
    /// Size of the NAL unit length prefix in frames (1 to 4 bytes).
    pub nal_length_size: u8,
    /// The parameter-set arrays in record order.
    pub arrays: Vec<NalArray>,
}

impl HevcConfig {
    /// Every NAL unit of type `nal_type` across the arrays.
    pub fn nalus(&self, nal_type: u8) -> impl Iterator<Item = &Bytes> {
        self.arrays
            .iter()
            .filter(move |a| a.nal_type == nal_type)
            .flat_map(|a| a.nalus.iter())
    }
}

const RECORD: &str = "HEVCDecoderConfigurationRecord";
const SPS: &str = "H.265 SPS";
/// Bytes before `numOfArrays`.
const FIXED_LEN: usize = 22;

fn u16_at(data: &[u8], pos: usize) -> Result<u16, CodecError> {
    match data.get(pos..pos + 2) {
        Some(&[hi, lo]) => Ok(u16::from_be_bytes([hi, lo])),
        _ => Err(CodecError::Truncated(RECORD)),
    }
}

/// Parses an HEVCDecoderConfigurationRecord (the body of an FLV/enhanced-RTMP
/// HEVC sequence header or an MP4 `hvcC` box).
pub fn parse_record(record: &Bytes) -> Result<HevcConfig, CodecError> {
    let head = record
        .get(..=FIXED_LEN)
        .ok_or(CodecError::Truncated(RECORD))?;
    if head[0] != 1 {
        return Err(CodecError::Invalid(RECORD));
    }
    let mut pos = FIXED_LEN + 1;
    let mut arrays = Vec::new();
    for _ in 0..head[FIXED_LEN] {
        let b = *record.get(pos).ok_or(CodecError::Truncated(RECORD))?;
        let count = u16_at(record, pos + 1)?;
        pos += 3;
        let mut nalus = Vec::new();
        for _ in 0..count {
            let len = usize::from(u16_at(record, pos)?);
            let end = pos + 2 + len;
            if end > record.len() {
                return Err(CodecError::Truncated(RECORD));
            }
            nalus.push(record.slice(pos + 2..end));
            pos = end;
        }
        arrays.push(NalArray {
            complete: b & 0x80 != 0,
            nal_type: b & 0x3f,
            nalus,
        });
    }
    Ok(HevcConfig {
        profile_idc: head[1] & 0x1f,
        level_idc: head[12],
        nal_length_size: (head[21] & 3) + 1,
        arrays,
    })
}

/// Skips `profile_tier_level(1, max_sub_layers_minus1)` (H.265 §7.3.3),
/// returning general profile and level.
fn profile_tier_level(
    r: &mut BitReader<'_>,
    max_sub_layers_minus1: u64,
) -> Result<(u8, u8), CodecError> {
    r.skip(3)?; // general_profile_space, general_tier_flag
    let profile_idc = r.bits(5)? as u8;
    r.skip(32 + 48)?; // compatibility flags, constraint flags
    let level_idc = r.bits(8)? as u8;
    let mut present = [(false, false); 8];
    for p in present.iter_mut().take(max_sub_layers_minus1 as usize) {
        *p = (r.bit()?, r.bit()?);
    }
    if max_sub_layers_minus1 > 0 {
        r.skip(2 * (8 - max_sub_layers_minus1 as usize))?; // reserved_zero_2bits
    }
    for &(profile, level) in present.iter().take(max_sub_layers_minus1 as usize) {
        if profile {
            r.skip(88)?;
        }
        if level {
            r.skip(8)?;
        }
    }
    Ok((profile_idc, level_idc))
}

/// Parses the picture size out of an SPS NAL unit (with its two-byte NAL
/// header, emulation-prevention bytes still in place).
pub fn parse_sps(nal: &[u8]) -> Result<SpsInfo, CodecError> {
    let header = nal.get(..2).ok_or(CodecError::Truncated(SPS))?;
    if nal_unit_type(header[0]) != nal_type::SPS {
        return Err(CodecError::Invalid(SPS));
    }
    let data = super::rbsp(&nal[2..]);
    let mut r = BitReader::new(&data, SPS);
    r.skip(4)?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = r.bits(3)?;
    if max_sub_layers_minus1 > 6 {
        return Err(CodecError::Invalid(SPS));
    }
    r.skip(1)?; // sps_temporal_id_nesting_flag
    let (profile_idc, level_idc) = profile_tier_level(&mut r, max_sub_layers_minus1)?;
    r.ue_max(15)?; // sps_seq_parameter_set_id
    let chroma_format_idc = r.ue_max(3)?;
    let separate_colour_plane = chroma_format_idc == 3 && r.bit()?;
    let width = r.ue()?;
    let height = r.ue()?;
    SpsInfo::cropped(
        &mut r,
        (profile_idc, level_idc),
        (width, height),
        (separate_colour_plane, chroma_format_idc),
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::codec::bits::BitWriter;
    use crate::test_support::{HEVC_SPS_320X240, x265_record};

    /// libx265 at 318x238: coded 320x240 with a conformance window.
    const SPS_318X238: &[u8] = &[
        0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
        0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0f, 0x1d, 0x56, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0,
        0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x10,
    ];

    #[test]
    fn conformance_window() {
        let info = parse_sps(SPS_318X238).unwrap();
        assert_eq!((info.width, info.height), (318, 238));
    }

    #[test]
    fn sub_layers() {
        // max_sub_layers_minus1 = 2, sub-layer 0 has profile and level, 1 has level only.
        let mut w = BitWriter::default();
        w.bits(0, 4);
        w.bits(2, 3);
        w.bits(1, 1);
        w.bits(0b000_00001, 8); // general profile Main
        w.bits(0x6000_0000, 32);
        w.bits(0x9000_0000_0000, 48);
        w.bits(93, 8); // level 3.1
        w.bits(0b11, 2);
        w.bits(0b01, 2);
        w.bits(0, 2 * 6); // reserved_zero_2bits
        w.bits(0, 88); // sub-layer 0 profile
        w.bits(90, 8); // sub-layer 0 level
        w.bits(60, 8); // sub-layer 1 level
        w.ue(0); // sps id
        w.ue(1); // 4:2:0
        w.ue(1280);
        w.ue(736);
        w.crop(0, 0, 0, 8); // 16 lines
        w.bits(1, 1);
        let mut nal = vec![0x42, 0x01];
        nal.extend(w.finish());
        let info = parse_sps(&nal).unwrap();
        assert_eq!((info.width, info.height, info.level_idc), (1280, 720, 93));
    }

    #[test]
    fn parses_record_and_sps() {
        let record = x265_record();
        let cfg = parse_record(&record).unwrap();
        assert_eq!(cfg.nal_length_size, 4);
        assert_eq!(cfg.level_idc, 60);
        assert_eq!(cfg.arrays.len(), 3);
        let sps = cfg.nalus(nal_type::SPS).next().unwrap();
        assert_eq!(&sps[..], HEVC_SPS_320X240);
        let info = parse_sps(sps).unwrap();
        assert_eq!((info.width, info.height), (320, 240));
        assert_eq!(info.profile_idc, 1);
        crate::codec::tests::assert_prefixes_refused(&record, parse_record);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_sps(&[]).is_err());
        assert!(parse_sps(&[0x40, 1, 0]).is_err());
        assert!(parse_sps(&HEVC_SPS_320X240[..10]).is_err());
        assert!(parse_record(&Bytes::from_static(&[0; 23])).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..96)) {
            crate::codec::tests::parse_garbage(data, 0x42, parse_record, parse_sps);
        }
    }
}
