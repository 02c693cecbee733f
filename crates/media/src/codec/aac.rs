//! AAC: the AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) and the 7-byte
//! ADTS header (§1.A.2.2) that `.aac` files and MPEG-TS put in front of each
//! raw access unit.

use super::CodecError;
use super::bits::BitReader;

/// Sampling rates by `samplingFrequencyIndex` (ISO/IEC 14496-3 Table 1.18).
pub const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Samples per channel in one AAC frame (access unit): AAC-LC with
/// `frameLengthFlag` 0, and the core of HE-AAC.
pub const FRAME_SAMPLES: u32 = 1024;

/// Audio object type of HE-AAC (SBR), which can wrap the core type.
const AOT_SBR: u8 = 5;
/// Audio object type of HE-AACv2 (PS), which can wrap the core type.
const AOT_PS: u8 = 29;

const ASC: &str = "AudioSpecificConfig";

/// What an AudioSpecificConfig says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AscInfo {
    /// Audio object type of the core coder (2 = AAC-LC). For explicitly
    /// signalled HE-AAC this is the underlying type, not 5/29.
    pub object_type: u8,
    /// Core sampling rate in Hz (the rate ADTS carries).
    pub sample_rate: u32,
    /// `channelConfiguration` (0 = defined in-band by a PCE).
    pub channel_config: u8,
    /// Output rate of explicitly signalled SBR (HE-AAC), if any.
    pub sbr_sample_rate: Option<u32>,
}

impl AscInfo {
    /// Channel count implied by `channel_config` (7 means 7.1 = 8 channels),
    /// 0 when the config defers to a PCE.
    pub fn channels(&self) -> u8 {
        match self.channel_config {
            7 => 8,
            c @ 0..=6 => c,
            _ => 0,
        }
    }
}

fn object_type(r: &mut BitReader<'_>) -> Result<u8, CodecError> {
    let aot = r.bits(5)? as u8;
    Ok(if aot == 31 {
        32 + r.bits(6)? as u8
    } else {
        aot
    })
}

fn sample_rate(r: &mut BitReader<'_>) -> Result<u32, CodecError> {
    let index = r.bits(4)? as usize;
    if index == 15 {
        return Ok(r.bits(24)? as u32);
    }
    SAMPLE_RATES
        .get(index)
        .copied()
        .ok_or(CodecError::Invalid(ASC))
}

/// Parses the head of an AudioSpecificConfig (object type, rate, channels).
pub fn parse_asc(asc: &[u8]) -> Result<AscInfo, CodecError> {
    let mut r = BitReader::new(asc, ASC);
    let mut object = object_type(&mut r)?;
    let rate = sample_rate(&mut r)?;
    let channel_config = r.bits(4)? as u8;
    let mut sbr_sample_rate = None;
    if object == AOT_SBR || object == AOT_PS {
        sbr_sample_rate = Some(sample_rate(&mut r)?);
        object = object_type(&mut r)?;
    }
    if rate == 0 || object == 0 {
        return Err(CodecError::Invalid(ASC));
    }
    Ok(AscInfo {
        object_type: object,
        sample_rate: rate,
        channel_config,
        sbr_sample_rate,
    })
}

/// Largest raw AAC payload one ADTS frame can carry (13-bit frame length).
pub const MAX_ADTS_PAYLOAD: usize = 0x1fff - 7;

/// The 7-byte ADTS header (no CRC) for one raw access unit of
/// `payload_len` bytes. Fails when the rate has no ADTS index, the object
/// type is not one of the four ADTS profiles, or the payload is too long.
pub fn adts_header(asc: &AscInfo, payload_len: usize) -> Result<[u8; 7], CodecError> {
    const ADTS: &str = "ADTS header";
    let index = SAMPLE_RATES
        .iter()
        .position(|&r| r == asc.sample_rate)
        .ok_or(CodecError::Invalid(ADTS))? as u8;
    if !(1..=4).contains(&asc.object_type) || asc.channel_config > 7 {
        return Err(CodecError::Invalid(ADTS));
    }
    if payload_len > MAX_ADTS_PAYLOAD {
        return Err(CodecError::Invalid(ADTS));
    }
    let profile = asc.object_type - 1;
    let len = (payload_len + 7) as u16;
    let ch = asc.channel_config;
    Ok([
        0xff,
        0xf1, // MPEG-4, layer 0, no CRC
        (profile << 6) | (index << 2) | (ch >> 2),
        ((ch & 3) << 6) | ((len >> 11) as u8 & 3),
        (len >> 3) as u8,
        (((len & 7) as u8) << 5) | 0x1f, // buffer fullness 0x7ff (VBR)
        0xfc,
    ])
}

/// What an ADTS header (§1.A.2.2) says about its frame: the frame length
/// including the header, and the sampling rate. `None` without the syncword,
/// with a frame length shorter than the header or a reserved rate index.
pub fn parse_adts_header(h: &[u8; 7]) -> Option<(usize, u32)> {
    if h[0] != 0xff || h[1] & 0xf0 != 0xf0 {
        return None;
    }
    let len = (usize::from(h[3] & 0x03) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
    let rate = SAMPLE_RATES.get(usize::from((h[2] >> 2) & 0x0f)).copied()?;
    (len >= 7).then_some((len, rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lc_stereo_44100() {
        // The fixtures' ASC (with ffmpeg's trailing sync extension).
        let info = parse_asc(&[0x12, 0x10, 0x56, 0xe5, 0x00]).unwrap();
        assert_eq!(
            info,
            AscInfo {
                object_type: 2,
                sample_rate: 44100,
                channel_config: 2,
                sbr_sample_rate: None
            }
        );
        assert_eq!(info.channels(), 2);
    }

    #[test]
    fn parses_escape_rate_and_he_aac() {
        // AOT 2, index 15 + 24-bit 44100, 1 channel.
        let mut w = crate::codec::bits::BitWriter::default();
        w.bits(2, 5);
        w.bits(15, 4);
        w.bits(44100, 24);
        w.bits(1, 4);
        let info = parse_asc(&w.finish()).unwrap();
        assert_eq!((info.sample_rate, info.channel_config), (44100, 1));
        // Explicit HE-AAC: AOT 5, 24 kHz core, 2 ch, 48 kHz SBR, core AOT 2.
        let info = parse_asc(&[0x2b, 0x11, 0x88, 0x00]).unwrap();
        assert_eq!(info.object_type, 2);
        assert_eq!(info.sample_rate, 24000);
        assert_eq!(info.sbr_sample_rate, Some(48000));
        // Escaped object type 31 -> 32 + 6 bits.
        assert_eq!(parse_asc(&[0xf8, 0x04, 0x20]).unwrap().object_type, 32);
    }

    #[test]
    fn rejects_bad_asc() {
        assert!(parse_asc(&[]).is_err());
        assert!(parse_asc(&[0x12]).is_err());
        assert!(parse_asc(&[0x16, 0x90]).is_err()); // index 13 is reserved
        assert!(parse_asc(&[0x17, 0x80, 0, 0, 0]).is_err()); // escape rate 0
        assert!(parse_asc(&[0x02, 0x10]).is_err()); // object type 0
    }

    #[test]
    fn adts_known_bytes() {
        let info = parse_asc(&[0x12, 0x10]).unwrap();
        // LC, 44.1 kHz (index 4), stereo, frame length 7 + 100 = 107.
        assert_eq!(
            adts_header(&info, 100).unwrap(),
            [0xff, 0xf1, 0x50, 0x80, 0x0d, 0x7f, 0xfc]
        );
        assert!(adts_header(&info, MAX_ADTS_PAYLOAD).is_ok());
        assert!(adts_header(&info, MAX_ADTS_PAYLOAD + 1).is_err());
        let odd = AscInfo {
            sample_rate: 44000,
            ..info
        };
        assert!(adts_header(&odd, 10).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..16), len in 0usize..10000) {
            if let Ok(info) = parse_asc(&data) {
                let _ = adts_header(&info, len);
            }
        }
    }
}
