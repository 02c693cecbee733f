//! MPEG-1/2/2.5 audio frame headers (ISO/IEC 11172-3 §2.4.2.3, 13818-3):
//! version, layer, rate, channels, bitrate and frame length. FLV carries MP3
//! without a sequence header, so the first frame's header is the config.

use super::CodecError;

/// MPEG audio version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// MPEG-1.
    Mpeg1,
    /// MPEG-2 (LSF).
    Mpeg2,
    /// MPEG-2.5 (unofficial low rates).
    Mpeg25,
}

/// What one frame header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// MPEG version.
    pub version: Version,
    /// Layer (1, 2 or 3).
    pub layer: u8,
    /// Sampling rate in Hz.
    pub sample_rate: u32,
    /// 1 for mono, 2 otherwise (stereo, joint stereo, dual channel).
    pub channels: u8,
    /// Bitrate in kbit/s (0 for "free format").
    pub bitrate_kbps: u32,
    /// Frame length in bytes including the header (0 for "free format").
    pub frame_len: usize,
    /// Samples per channel in this frame.
    pub samples: u32,
}

const HEADER: &str = "MPEG audio header";

/// Bitrates in kbit/s by index 1..=14 (index 0 = free, 15 = invalid).
const BITRATES_V1: [[u32; 14]; 3] = [
    [
        32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
];
const BITRATES_V2_L1: [u32; 14] = [
    32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
];
const BITRATES_V2_L23: [u32; 14] = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

/// Parses the 4-byte header at the start of `data`.
pub fn parse_header(data: &[u8]) -> Result<FrameHeader, CodecError> {
    let h = match data.get(..4) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => return Err(CodecError::Truncated(HEADER)),
    };
    if h >> 21 != 0x7ff {
        return Err(CodecError::Invalid(HEADER));
    }
    let version = match (h >> 19) & 3 {
        0 => Version::Mpeg25,
        2 => Version::Mpeg2,
        3 => Version::Mpeg1,
        _ => return Err(CodecError::Invalid(HEADER)),
    };
    let layer = match (h >> 17) & 3 {
        1 => 3u8,
        2 => 2,
        3 => 1,
        _ => return Err(CodecError::Invalid(HEADER)),
    };
    let bitrate_index = ((h >> 12) & 0xf) as usize;
    let rate_index = ((h >> 10) & 3) as usize;
    let padding = (h >> 9) & 1;
    let mono = (h >> 6) & 3 == 3;
    let base_rate = [44100, 48000, 32000]
        .get(rate_index)
        .copied()
        .ok_or(CodecError::Invalid(HEADER))?;
    let sample_rate = match version {
        Version::Mpeg1 => base_rate,
        Version::Mpeg2 => base_rate / 2,
        Version::Mpeg25 => base_rate / 4,
    };
    let bitrate_kbps = match bitrate_index {
        0 => 0,
        15 => return Err(CodecError::Invalid(HEADER)),
        i => {
            let table = match (version, layer) {
                (Version::Mpeg1, l) => &BITRATES_V1[usize::from(l - 1)],
                (_, 1) => &BITRATES_V2_L1,
                _ => &BITRATES_V2_L23,
            };
            table[i - 1]
        }
    };
    let samples = match (layer, version) {
        (1, _) => 384,
        (3, Version::Mpeg2 | Version::Mpeg25) => 576,
        _ => 1152,
    };
    let frame_len = if layer == 1 {
        (12 * bitrate_kbps * 1000 / sample_rate + padding) * 4
    } else {
        // samples / 8 bytes per bit-per-sample-period
        samples / 8 * bitrate_kbps * 1000 / sample_rate + padding
    };
    Ok(FrameHeader {
        version,
        layer,
        sample_rate,
        channels: if mono { 1 } else { 2 },
        bitrate_kbps,
        frame_len: if bitrate_kbps == 0 {
            0
        } else {
            frame_len as usize
        },
        samples,
    })
}

/// Samples per channel in the MPEG audio frames at the start of `data`
/// (walking frame headers; stops at the first byte that is not one).
pub(crate) fn frame_samples(data: &[u8]) -> u32 {
    let mut total = 0u32;
    let mut rest = data;
    while let Ok(h) = parse_header(rest) {
        total = total.saturating_add(h.samples);
        match rest.get(h.frame_len..) {
            Some(next) if h.frame_len > 0 => rest = next,
            _ => break,
        }
    }
    total
}

/// Whether MPEG audio at `sample_rate` is MPEG-1 audio (ISO/IEC 11172-3:
/// 32, 44.1 or 48 kHz); the lower rates are MPEG-2 (or 2.5) audio, as the
/// frame header's version field says.
pub fn is_mpeg1_rate(sample_rate: u32) -> bool {
    matches!(sample_rate, 32_000 | 44_100 | 48_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fixture_header() {
        // First frame of h264_mp3_10s.flv: MPEG-1 Layer III 128k 44.1 kHz joint stereo.
        let h = parse_header(&[0xff, 0xfb, 0x90, 0x64]).unwrap();
        assert_eq!(h.version, Version::Mpeg1);
        assert_eq!(h.layer, 3);
        assert_eq!((h.sample_rate, h.channels, h.bitrate_kbps), (44100, 2, 128));
        assert_eq!((h.frame_len, h.samples), (417, 1152));
    }

    #[test]
    fn other_versions_and_layers() {
        // MPEG-2 Layer III 64k 22.05 kHz mono, padded: 72 * 64000 / 22050 + 1 = 209.
        let h = parse_header(&[0xff, 0xf3, 0x82, 0xc4]).unwrap();
        assert_eq!(
            (h.version, h.sample_rate, h.channels),
            (Version::Mpeg2, 22050, 1)
        );
        assert_eq!((h.bitrate_kbps, h.frame_len, h.samples), (64, 209, 576));
        // MPEG-1 Layer II 192k 48 kHz: 144 * 192000 / 48000 = 576.
        let h = parse_header(&[0xff, 0xfd, 0xa4, 0x00]).unwrap();
        assert_eq!((h.layer, h.frame_len, h.samples), (2, 576, 1152));
        // MPEG-2.5 Layer III 8 kHz.
        let h = parse_header(&[0xff, 0xe3, 0x18, 0x00]).unwrap();
        assert_eq!((h.version, h.sample_rate), (Version::Mpeg25, 8000));
        // Layer I 32k 32 kHz: (12 * 32000 / 32000) * 4 = 48.
        let h = parse_header(&[0xff, 0xff, 0x18, 0x00]).unwrap();
        assert_eq!((h.layer, h.frame_len), (1, 48));
    }

    #[test]
    fn rejects_bad_headers() {
        assert!(parse_header(&[0xff, 0xfb, 0x90]).is_err());
        assert!(parse_header(&[0xff, 0x7b, 0x90, 0x64]).is_err()); // no sync
        assert!(parse_header(&[0xff, 0xeb, 0x90, 0x64]).is_err()); // reserved version
        assert!(parse_header(&[0xff, 0xf9, 0x90, 0x64]).is_err()); // reserved layer
        assert!(parse_header(&[0xff, 0xfb, 0xf0, 0x64]).is_err()); // bitrate 15
        assert!(parse_header(&[0xff, 0xfb, 0x9c, 0x64]).is_err()); // rate index 3
        assert_eq!(
            parse_header(&[0xff, 0xfb, 0x00, 0x64]).unwrap().frame_len,
            0
        );
    }

    #[test]
    fn frame_samples_walks_headers() {
        let frame: Vec<u8> = [0xff, 0xfb, 0x90, 0x64]
            .into_iter()
            .chain(std::iter::repeat_n(0, 413))
            .collect();
        assert_eq!(frame_samples(&frame), 1152);
        assert_eq!(frame_samples(&[frame.clone(), frame].concat()), 2304);
        assert_eq!(frame_samples(&[0, 1, 2]), 0);
    }

    #[test]
    fn mpeg1_rates() {
        for (rate, mpeg1) in [
            (48_000, true),
            (44_100, true),
            (32_000, true),
            (24_000, false),
        ] {
            assert_eq!(is_mpeg1_rate(rate), mpeg1, "{rate}");
        }
        for rate in [8_000, 11_025, 12_000, 16_000, 22_050] {
            assert!(!is_mpeg1_rate(rate), "{rate}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..6)) {
            let _ = parse_header(&data);
        }
    }
}
