//! H.264 / AVC: the AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3)
//! and the picture size in a sequence parameter set (ITU-T H.264 §7.3.2.1).
//! Only what muxers need; the video itself is never decoded.

use bytes::Bytes;

use super::bits::BitReader;
use super::{CodecError, SpsInfo};

/// NAL unit types (H.264 Table 7-1) liverec looks for.
pub mod nal_type {
    /// Sequence parameter set.
    pub const SPS: u8 = 7;
    /// Access unit delimiter.
    pub const AUD: u8 = 9;
}

/// `nal_unit_type` from the first byte of a NAL unit header (§7.3.1).
pub fn nal_unit_type(header: u8) -> u8 {
    header & 0x1f
}

/// Parsed AVCDecoderConfigurationRecord.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvcConfig {
    /// `AVCProfileIndication` (profile_idc of the SPS).
    pub profile: u8,
    /// `profile_compatibility` (the SPS constraint flags).
    pub compatibility: u8,
    /// `AVCLevelIndication`.
    pub level: u8,
    /// Size of the NAL unit length prefix in frames (1 to 4 bytes).
    pub nal_length_size: u8,
    /// Sequence parameter set NAL units (zero-copy slices of the record).
    pub sps: Vec<Bytes>,
    /// Picture parameter set NAL units (zero-copy slices of the record).
    pub pps: Vec<Bytes>,
}

const RECORD: &str = "AVCDecoderConfigurationRecord";
const SPS: &str = "H.264 SPS";

/// Reads a `u16` length and that many bytes from `record` at `*pos`.
fn length_prefixed(record: &Bytes, pos: &mut usize) -> Result<Bytes, CodecError> {
    let hi = record.get(*pos).ok_or(CodecError::Truncated(RECORD))?;
    let lo = record.get(*pos + 1).ok_or(CodecError::Truncated(RECORD))?;
    let len = usize::from(u16::from_be_bytes([*hi, *lo]));
    let start = *pos + 2;
    let end = start + len;
    if end > record.len() {
        return Err(CodecError::Truncated(RECORD));
    }
    *pos = end;
    Ok(record.slice(start..end))
}

/// Parses an AVCDecoderConfigurationRecord (the body of an FLV AVC sequence
/// header or an MP4 `avcC` box). Trailing high-profile extension fields are
/// ignored.
pub fn parse_record(record: &Bytes) -> Result<AvcConfig, CodecError> {
    let head = record.get(..6).ok_or(CodecError::Truncated(RECORD))?;
    if head[0] != 1 {
        return Err(CodecError::Invalid(RECORD));
    }
    let mut pos = 6;
    let sps_count = head[5] & 0x1f;
    let mut sps = Vec::new();
    for _ in 0..sps_count {
        sps.push(length_prefixed(record, &mut pos)?);
    }
    let pps_count = *record.get(pos).ok_or(CodecError::Truncated(RECORD))?;
    pos += 1;
    let mut pps = Vec::new();
    for _ in 0..pps_count {
        pps.push(length_prefixed(record, &mut pos)?);
    }
    Ok(AvcConfig {
        profile: head[1],
        compatibility: head[2],
        level: head[3],
        nal_length_size: (head[4] & 3) + 1,
        sps,
        pps,
    })
}

/// Builds an AVCDecoderConfigurationRecord from parameter sets (4-byte NAL
/// lengths). Used by tests and by sources that deliver Annex-B parameter sets.
pub fn build_record(sps: &[&[u8]], pps: &[&[u8]]) -> Result<Vec<u8>, CodecError> {
    let first = sps.first().ok_or(CodecError::Invalid(RECORD))?;
    let profile = first.get(1..4).ok_or(CodecError::Truncated(SPS))?;
    if sps.len() > 31 || pps.len() > 255 {
        return Err(CodecError::Invalid(RECORD));
    }
    let mut out = vec![
        1,
        profile[0],
        profile[1],
        profile[2],
        0xff,
        0xe0 | sps.len() as u8,
    ];
    for s in sps {
        put_u16_prefixed(s, &mut out)?;
    }
    out.push(pps.len() as u8);
    for p in pps {
        put_u16_prefixed(p, &mut out)?;
    }
    Ok(out)
}

fn put_u16_prefixed(nal: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
    let len = u16::try_from(nal.len()).map_err(|_| CodecError::Invalid(RECORD))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(nal);
    Ok(())
}

/// Profiles whose SPS carries chroma format, bit depths and scaling lists
/// (H.264 §7.3.2.1.1).
fn has_chroma_info(profile_idc: u8) -> bool {
    matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    )
}

fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Result<(), CodecError> {
    let mut last = 8i64;
    let mut next = 8i64;
    for _ in 0..size {
        if next != 0 {
            let delta = r.se()?;
            next = (last + delta).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Ok(())
}

/// Parses the picture size out of an SPS NAL unit (with its one-byte NAL
/// header, emulation-prevention bytes still in place).
pub fn parse_sps(nal: &[u8]) -> Result<SpsInfo, CodecError> {
    let header = nal.first().ok_or(CodecError::Truncated(SPS))?;
    if nal_unit_type(*header) != nal_type::SPS {
        return Err(CodecError::Invalid(SPS));
    }
    let data = super::rbsp(&nal[1..]);
    let mut r = BitReader::new(&data, SPS);
    let profile_idc = r.bits(8)? as u8;
    r.skip(8)?; // constraint flags
    let level_idc = r.bits(8)? as u8;
    r.ue_max(31)?; // seq_parameter_set_id
    let mut chroma_format_idc = 1;
    let mut separate_colour_plane = false;
    if has_chroma_info(profile_idc) {
        chroma_format_idc = r.ue_max(3)?;
        if chroma_format_idc == 3 {
            separate_colour_plane = r.bit()?;
        }
        r.ue_max(6)?; // bit_depth_luma_minus8
        r.ue_max(6)?; // bit_depth_chroma_minus8
        r.skip(1)?; // qpprime_y_zero_transform_bypass_flag
        if r.bit()? {
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bit()? {
                    skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    r.ue_max(12)?; // log2_max_frame_num_minus4
    match r.ue_max(2)? {
        0 => {
            r.ue_max(12)?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.skip(1)?; // delta_pic_order_always_zero_flag
            r.se()?; // offset_for_non_ref_pic
            r.se()?; // offset_for_top_to_bottom_field
            for _ in 0..r.ue_max(255)? {
                r.se()?; // offset_for_ref_frame
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.skip(1)?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = r.ue()? + 1;
    let height_map_units = r.ue()? + 1;
    let frame_mbs_only = r.bit()?;
    if !frame_mbs_only {
        r.skip(1)?; // mb_adaptive_frame_field_flag
    }
    r.skip(1)?; // direct_8x8_inference_flag
    let field_factor = if frame_mbs_only { 1 } else { 2 };
    SpsInfo::cropped(
        &mut r,
        (profile_idc, level_idc),
        (width_mbs * 16, height_map_units * 16 * field_factor),
        (separate_colour_plane, chroma_format_idc),
        field_factor,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::bits::BitWriter;
    use crate::test_support::SPS_640X360;

    /// SPS of the 1280x720 High-profile fixture (x264), which crops 736 -> 720.
    const SPS_1280X720_HIGH: &[u8] = &[
        0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03,
        0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x19, 0x60,
    ];

    #[test]
    fn parses_fixture_sps() {
        let info = parse_sps(SPS_640X360).unwrap();
        assert_eq!((info.width, info.height), (640, 360));
        assert_eq!((info.profile_idc, info.level_idc), (77, 30));
        let info = parse_sps(SPS_1280X720_HIGH).unwrap();
        assert_eq!(
            (info.width, info.height, info.profile_idc),
            (1280, 720, 100)
        );
    }

    #[test]
    fn parses_high_profile_with_scaling_lists() {
        // High profile 1920x1080 (cropped from 1088), seq_scaling_matrix_present with
        // one list: built with the writer below so every field is exercised.
        let sps = high_profile_sps();
        let info = parse_sps(&sps).unwrap();
        assert_eq!((info.width, info.height), (1920, 1080));
        assert_eq!(info.profile_idc, 100);
    }

    #[test]
    fn parses_interlaced_baseline() {
        // Baseline 1920x1080i: 34 map units of 32 lines, 8 lines cropped (2 units of 4).
        let mut w = sps_writer(66, 40);
        w.ue(0); // log2_max_frame_num
        w.ue(2); // poc type 2
        w.ue(1); // max_num_ref_frames
        w.bits(0, 1);
        w.ue(119);
        w.ue(33);
        w.bits(0, 1); // frame_mbs_only = 0
        w.bits(1, 1); // mb_adaptive_frame_field
        w.bits(1, 1); // direct_8x8
        w.crop(0, 0, 0, 2);
        w.bits(0, 1);
        w.bits(1, 1);
        let mut sps = vec![0x67];
        sps.extend(w.finish());
        let info = parse_sps(&sps).unwrap();
        assert_eq!((info.width, info.height), (1920, 1080));
    }

    /// A writer holding the start of an SPS: profile, no constraint flags,
    /// level, SPS id 0.
    fn sps_writer(profile_idc: u64, level_idc: u64) -> BitWriter {
        let mut w = BitWriter::default();
        w.bits(profile_idc, 8);
        w.bits(0, 8);
        w.bits(level_idc, 8);
        w.ue(0); // sps id
        w
    }

    /// Writes a High-profile SPS bit by bit.
    fn high_profile_sps() -> Vec<u8> {
        let mut w = sps_writer(100, 40);
        w.ue(1); // chroma_format_idc 4:2:0
        w.ue(0);
        w.ue(0);
        w.bits(0, 1);
        w.bits(1, 1); // seq_scaling_matrix_present_flag
        w.bits(1, 1); // list 0 present
        for _ in 0..16 {
            w.se(1);
        }
        for _ in 1..8 {
            w.bits(0, 1);
        }
        w.ue(0); // log2_max_frame_num
        w.ue(1); // poc type 1
        w.bits(0, 1);
        w.se(-2);
        w.se(3);
        w.ue(2);
        w.se(1);
        w.se(-1);
        w.ue(4); // max_num_ref_frames
        w.bits(0, 1);
        w.ue(119); // 120 MBs wide
        w.ue(67); // 68 map units high
        w.bits(1, 1); // frame_mbs_only
        w.bits(1, 1); // direct_8x8
        w.crop(0, 0, 0, 4); // 8 lines at the bottom
        w.bits(0, 1); // vui
        w.bits(1, 1); // stop bit
        let mut out = vec![0x67];
        out.extend(w.finish());
        out
    }

    #[test]
    fn record_roundtrip() {
        let record =
            Bytes::from(build_record(&[SPS_640X360], &[&[0x68, 0xeb, 0xe3, 0xcb]]).unwrap());
        let cfg = parse_record(&record).unwrap();
        assert_eq!(cfg.nal_length_size, 4);
        assert_eq!(cfg.profile, 0x4d);
        assert_eq!(cfg.sps, [Bytes::from_static(SPS_640X360)]);
        assert_eq!(cfg.pps.len(), 1);
        crate::codec::tests::assert_prefixes_refused(&record, parse_record);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_sps(&[]).is_err());
        assert!(parse_sps(&[0x68, 1, 2]).is_err());
        assert!(parse_sps(&[0x67, 0x64, 0, 0x1e, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        for cut in 1..8 {
            assert!(parse_sps(&SPS_640X360[..cut]).is_err(), "cut {cut}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            crate::codec::tests::parse_garbage(data, 0x67, parse_record, parse_sps);
        }
    }
}
