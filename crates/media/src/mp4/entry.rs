//! Sample descriptions (`stsd`, ISO/IEC 14496-12 §8.5.2) built from the
//! frame model's decoder configurations: `avc1`+`avcC` / `hvc1`+`hvcC`
//! (ISO/IEC 14496-15 §5.4.2, §8.4.1) carrying the configuration record
//! verbatim, and `mp4a`+`esds` (ISO/IEC 14496-14 §5.6) for AAC (object type
//! 0x40 with the AudioSpecificConfig) and MP3 (object type 0x6B for MPEG-1,
//! 0x69 for MPEG-2/2.5 rates, as FFmpeg writes it).

use super::boxes::{Put, bx, full};
use crate::frame::{AudioCodec, AudioConfig, VideoCodec, VideoConfig};
use crate::mux::MuxError;

/// `objectTypeIndication` values (ISO/IEC 14496-1 Table 5, MP4RA).
mod object_type {
    /// MPEG-4 Audio (AAC).
    pub(super) const AAC: u8 = 0x40;
    /// ISO/IEC 13818-3 (MPEG-2 audio, low sampling rates).
    pub(super) const MPEG2_AUDIO: u8 = 0x69;
    /// ISO/IEC 11172-3 (MPEG-1 audio).
    pub(super) const MPEG1_AUDIO: u8 = 0x6b;
}

/// Largest configuration record a sample entry carries; FLV sequence
/// headers are far smaller, and a box must stay well inside 32 bits.
const MAX_RECORD: usize = 1 << 20;

/// The `stsd` box of a video track.
pub(super) fn video_stsd(cfg: &VideoConfig) -> Result<Vec<u8>, MuxError> {
    if cfg.record.len() > MAX_RECORD {
        return Err(MuxError::Unsupported(format!(
            "mp4: {}-byte video configuration record",
            cfg.record.len()
        )));
    }
    let (entry, config) = match cfg.codec {
        VideoCodec::H264 => (b"avc1", b"avcC"),
        VideoCodec::H265 => (b"hvc1", b"hvcC"),
    };
    let mut out = Vec::with_capacity(cfg.record.len() + 128);
    full(&mut out, b"stsd", 0, 0, |out| {
        out.u32(1);
        bx(out, entry, |out| {
            out.zeros(6);
            out.u16(1); // data_reference_index
            out.zeros(16); // pre_defined, reserved
            out.u16(u16::try_from(cfg.width).unwrap_or(u16::MAX));
            out.u16(u16::try_from(cfg.height).unwrap_or(u16::MAX));
            out.u32(0x0048_0000); // 72 dpi
            out.u32(0x0048_0000);
            out.u32(0);
            out.u16(1); // frame_count
            out.zeros(32); // compressorname
            out.u16(0x0018); // depth
            out.u16(0xffff); // pre_defined = -1
            bx(out, config, |out| out.extend_from_slice(&cfg.record));
        });
    });
    Ok(out)
}

/// Appends an MPEG-4 descriptor (ISO/IEC 14496-1 §8.3.3): tag, expandable
/// size (one byte below 128, else four), body.
fn descriptor(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.u8(tag);
    let len = body.len();
    if len < 0x80 {
        out.u8(len as u8);
    } else {
        out.u8(0x80 | ((len >> 21) & 0x7f) as u8);
        out.u8(0x80 | ((len >> 14) & 0x7f) as u8);
        out.u8(0x80 | ((len >> 7) & 0x7f) as u8);
        out.u8((len & 0x7f) as u8);
    }
    out.extend_from_slice(body);
}

/// The `esds` box: ES_Descriptor with a DecoderConfigDescriptor (and the
/// DecoderSpecificInfo when `dsi` is not empty) and the MP4 SLConfig.
fn esds(out: &mut Vec<u8>, object_type: u8, dsi: &[u8]) {
    let mut dcd = vec![object_type, 0x15]; // streamType 5 (audio) << 2 | reserved 1
    dcd.zeros(3 + 4 + 4); // bufferSizeDB, maxBitrate, avgBitrate
    if !dsi.is_empty() {
        descriptor(&mut dcd, 0x05, dsi);
    }
    let mut es = vec![0, 0, 0]; // ES_ID 0, no flags
    descriptor(&mut es, 0x04, &dcd);
    descriptor(&mut es, 0x06, &[0x02]);
    full(out, b"esds", 0, 0, |out| descriptor(out, 0x03, &es));
}

/// The `stsd` box of an audio track.
pub(super) fn audio_stsd(cfg: &AudioConfig) -> Result<Vec<u8>, MuxError> {
    if cfg.asc.len() > MAX_RECORD {
        return Err(MuxError::Unsupported(format!(
            "mp4: {}-byte AudioSpecificConfig",
            cfg.asc.len()
        )));
    }
    let (object, dsi): (u8, &[u8]) = match cfg.codec {
        AudioCodec::Aac => {
            crate::codec::aac::parse_asc(&cfg.asc)?;
            (object_type::AAC, &cfg.asc)
        }
        AudioCodec::Mp3 if crate::codec::mp3::is_mpeg1_rate(cfg.sample_rate) => {
            (object_type::MPEG1_AUDIO, &[])
        }
        AudioCodec::Mp3 => (object_type::MPEG2_AUDIO, &[]),
    };
    let channels = if cfg.channels == 0 { 2 } else { cfg.channels };
    let mut out = Vec::with_capacity(dsi.len() + 96);
    full(&mut out, b"stsd", 0, 0, |out| {
        out.u32(1);
        bx(out, b"mp4a", |out| {
            out.zeros(6);
            out.u16(1); // data_reference_index
            out.zeros(8);
            out.u16(u16::from(channels));
            out.u16(16); // samplesize
            out.zeros(4);
            // 16.16 rate; the mdhd timescale is authoritative above 65535 Hz.
            out.u32(if cfg.sample_rate <= 0xffff {
                cfg.sample_rate << 16
            } else {
                0
            });
            esds(out, object, dsi);
        });
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn aac_entry_known_bytes() {
        let cfg = AudioConfig {
            codec: AudioCodec::Aac,
            sample_rate: 44_100,
            channels: 2,
            asc: Bytes::from_static(&[0x12, 0x10]),
            flv_header: 0xaf,
        };
        let stsd = audio_stsd(&cfg).unwrap();
        let mut want = vec![
            0, 0, 0, 0x5b, b's', b't', b's', b'd', 0, 0, 0, 0, 0, 0, 0, 1,
        ];
        want.extend_from_slice(&[
            0, 0, 0, 0x4b, b'm', b'p', b'4', b'a', 0, 0, 0, 0, 0, 0, 0, 1,
        ]);
        want.extend_from_slice(&[
            0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 16, 0, 0, 0, 0, 0xac, 0x44, 0, 0,
        ]);
        want.extend_from_slice(&[0, 0, 0, 0x27, b'e', b's', b'd', b's', 0, 0, 0, 0]);
        want.extend_from_slice(&[3, 0x19, 0, 0, 0, 4, 0x11, 0x40, 0x15]);
        want.extend_from_slice(&[0; 11]);
        want.extend_from_slice(&[5, 2, 0x12, 0x10, 6, 1, 2]);
        assert_eq!(stsd, want);
    }

    #[test]
    fn mp3_object_types() {
        let mut cfg = AudioConfig {
            codec: AudioCodec::Mp3,
            sample_rate: 44_100,
            channels: 1,
            asc: Bytes::new(),
            flv_header: 0x2e,
        };
        let stsd = audio_stsd(&cfg).unwrap();
        let esds = stsd.windows(4).position(|w| w == b"esds").unwrap();
        assert_eq!(stsd[esds + 15], object_type::MPEG1_AUDIO);
        assert!(!stsd[esds..].contains(&0x05));
        cfg.sample_rate = 22_050;
        let stsd = audio_stsd(&cfg).unwrap();
        assert_eq!(stsd[esds + 15], object_type::MPEG2_AUDIO);
    }

    #[test]
    fn descriptor_sizes() {
        let mut out = Vec::new();
        descriptor(&mut out, 5, &[0; 200]);
        assert_eq!(&out[..5], &[5, 0x80, 0x80, 0x81, 0x48]);
        assert_eq!(out.len(), 205);
    }

    #[test]
    fn avc_entry_carries_the_record_verbatim() {
        let record = Bytes::from_static(&[1, 0x4d, 0, 0x1e, 0xff, 0xe1, 0, 0]);
        let cfg = VideoConfig {
            codec: VideoCodec::H264,
            record: record.clone(),
            width: 640,
            height: 360,
            nal_length_size: 4,
        };
        let stsd = video_stsd(&cfg).unwrap();
        assert_eq!(stsd.len(), 16 + 86 + 8 + record.len());
        assert_eq!(&stsd[20..24], b"avc1");
        assert_eq!(&stsd[48..52], &[2, 0x80, 1, 0x68]);
        assert_eq!(&stsd[stsd.len() - record.len()..], &record[..]);
        assert_eq!(&stsd[stsd.len() - record.len() - 4..][..4], b"avcC");
    }
}
