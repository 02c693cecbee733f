//! Silent AAC-LC access units, to fill the audio hole an HLS playlist would
//! otherwise have where a reconnected publisher's session joins the last
//! one (its audio starts a frame or a few after its keyframe, and the old
//! session's audio may have stopped before its video): players built on
//! Media Source Extensions (hls.js) must skip such a hole. One unit per
//! (sample rate, channels), encoded once with the FDK AAC encoder the mixer
//! uses, from zeros, past the encoder's look-ahead.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use media::frame::{AudioCodec, AudioConfig};

use crate::mixer::codec::{AAC_FRAME, AudioEncoder};

/// Audio object type of AAC-LC in an AudioSpecificConfig.
const AAC_LC: u8 = 2;
/// The sampling frequencies of the AAC index table. An AudioSpecificConfig
/// may name any other rate explicitly; those get no padding, so a publisher
/// cannot grow the cache below (or make the encoder start) once per made-up
/// rate.
const AAC_RATES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

/// Silent units by (sample rate, channels); None where encoding failed.
type Cache = Mutex<HashMap<(u32, u8), Option<Bytes>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// A silent access unit that decodes with `config`, when it is AAC-LC with
/// one or two channels (None otherwise: no padding).
pub(super) fn aac_frame(config: &AudioConfig) -> Option<Bytes> {
    if config.codec != AudioCodec::Aac
        || config.asc.first().map(|b| b >> 3) != Some(AAC_LC)
        || !(1..=2).contains(&config.channels)
        || !AAC_RATES.contains(&config.sample_rate)
    {
        return None;
    }
    let key = (config.sample_rate, config.channels);
    let mut map = cache().lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key)
        .or_insert_with(|| encode(config.sample_rate, config.channels))
        .clone()
}

fn encode(rate: u32, channels: u8) -> Option<Bytes> {
    let mut enc = AudioEncoder::new(rate, usize::from(channels), 64_000).ok()?;
    let zeros = vec![0i16; AAC_FRAME * usize::from(channels)];
    // The first units carry the encoder's start-up; a later one is silence
    // in steady state.
    let mut got = 0;
    for _ in 0..16 {
        if let Ok(Some(unit)) = enc.encode(&zeros) {
            got += 1;
            if got == 3 {
                return Some(unit);
            }
        }
    }
    None
}

/// Duration of one AAC access unit at `rate` Hz, ms.
pub(super) fn frame_ms(rate: u32) -> f64 {
    AAC_FRAME as f64 * 1000.0 / f64::from(rate.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(rate: u32, channels: u8, asc: &'static [u8]) -> AudioConfig {
        AudioConfig {
            codec: AudioCodec::Aac,
            sample_rate: rate,
            channels,
            asc: Bytes::from_static(asc),
            flv_header: 0xaf,
        }
    }

    #[test]
    fn silence_decodes_as_silence_for_lc_only() {
        // 44.1 kHz stereo LC: ASC 0x12 0x10.
        let cfg = config(44_100, 2, &[0x12, 0x10]);
        let unit = aac_frame(&cfg).expect("a silent unit");
        // Constant bit rate: the unit is padded to the rate (64 kbit/s).
        assert!(!unit.is_empty() && unit.len() < 512, "{} bytes", unit.len());
        let mut dec = crate::mixer::codec::AudioInputDecoder::new(&cfg).expect("decoder");
        for _ in 0..3 {
            let pcm = dec.decode(&unit);
            assert_eq!(pcm.len(), AAC_FRAME * 2);
            assert!(pcm.iter().all(|s| s.abs() < 1e-3), "silent");
        }
        assert_eq!(aac_frame(&cfg), Some(unit), "cached");
        // HE-AAC (object type 5) and MP3 are not padded.
        assert_eq!(
            aac_frame(&config(44_100, 2, &[0x2b, 0x92, 0x08, 0x00])),
            None
        );
        // A rate outside the AAC table (written explicitly in the ASC).
        assert_eq!(aac_frame(&config(44_101, 2, &[0x17, 0x80])), None);
        let mut mp3 = cfg.clone();
        mp3.codec = AudioCodec::Mp3;
        assert_eq!(aac_frame(&mp3), None);
        assert!((frame_ms(48_000) - 21.333).abs() < 0.01);
    }
}
