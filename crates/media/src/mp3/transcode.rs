//! AAC-LC → MP3: symphonia-codec-aac decodes each raw access unit to
//! interleaved `f32` PCM, LAME encodes it at a constant bitrate. HE-AAC
//! (SBR/PS) and more than two channels are refused: symphonia decodes
//! neither.

use std::num::NonZeroU32;

use mp3lame_encoder::{
    Bitrate, Builder, Encoder, FlushGap, InterleavedPcm, Mode, MonoPcm, Quality, VbrMode,
    max_required_buffer_size,
};
use symphonia_codec_aac::AacDecoder;
use symphonia_core::codecs::audio::well_known::CODEC_ID_AAC;
use symphonia_core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia_core::packet::PacketRef;
use symphonia_core::units::{Duration, Timestamp};

use crate::codec::aac::{self, parse_asc};
use crate::frame::AudioConfig;
use crate::mux::MuxError;

/// Samples per channel in an AAC-LC frame; also the silence put in place of
/// a frame that fails to decode.
const AAC_FRAME: usize = aac::FRAME_SAMPLES as usize;
/// AAC-LC audio object type.
const AOT_LC: u8 = 2;
/// Room LAME needs for its final frames (per mp3lame-encoder's docs).
const FLUSH_ROOM: usize = 7200;

fn bitrate(kbps: u32) -> Option<Bitrate> {
    Some(match kbps {
        8 => Bitrate::Kbps8,
        16 => Bitrate::Kbps16,
        24 => Bitrate::Kbps24,
        32 => Bitrate::Kbps32,
        40 => Bitrate::Kbps40,
        48 => Bitrate::Kbps48,
        64 => Bitrate::Kbps64,
        80 => Bitrate::Kbps80,
        96 => Bitrate::Kbps96,
        112 => Bitrate::Kbps112,
        128 => Bitrate::Kbps128,
        160 => Bitrate::Kbps160,
        192 => Bitrate::Kbps192,
        224 => Bitrate::Kbps224,
        256 => Bitrate::Kbps256,
        320 => Bitrate::Kbps320,
        _ => return None,
    })
}

fn lame_error(what: &str, e: impl std::fmt::Display) -> MuxError {
    MuxError::Transcode(format!("LAME {what}: {e}"))
}

/// One AAC decoder feeding one LAME encoder.
pub(super) struct Transcoder {
    decoder: AacDecoder,
    encoder: Encoder,
    channels: usize,
    pcm: Vec<f32>,
    decode_errors: u64,
}

impl Transcoder {
    /// Sets up decoding of `cfg` (AAC-LC, one or two channels) and encoding
    /// at `kbps`, keeping the sampling rate when MP3 has it (else LAME
    /// resamples).
    pub(super) fn new(cfg: &AudioConfig, kbps: u32) -> Result<Self, MuxError> {
        let asc = parse_asc(&cfg.asc)?;
        if asc.sbr_sample_rate.is_some() {
            return Err(MuxError::Unsupported(
                "mp3: HE-AAC (SBR/PS) cannot be transcoded, only AAC-LC".into(),
            ));
        }
        if asc.object_type != AOT_LC {
            return Err(MuxError::Unsupported(format!(
                "mp3: AAC object type {} cannot be transcoded, only AAC-LC (2)",
                asc.object_type
            )));
        }
        let channels = asc.channels();
        if !(1..=2).contains(&channels) {
            return Err(MuxError::Unsupported(format!(
                "mp3: AAC channel configuration {} cannot be transcoded (mono or stereo only)",
                asc.channel_config
            )));
        }
        let brate = bitrate(kbps)
            .ok_or_else(|| MuxError::Unsupported(format!("mp3: bitrate {kbps} kbit/s")))?;

        let mut params = AudioCodecParameters::new();
        params
            .for_codec(CODEC_ID_AAC)
            .with_sample_rate(asc.sample_rate);
        params.extra_data = Some(cfg.asc.to_vec().into_boxed_slice());
        let decoder = AacDecoder::try_new(&params, &AudioDecoderOptions::default())
            .map_err(|e| MuxError::Transcode(format!("AAC decoder: {e}")))?;

        let mut b = Builder::new().ok_or_else(|| lame_error("init", "out of memory"))?;
        b.set_num_channels(channels)
            .map_err(|e| lame_error("channels", e))?;
        b.set_sample_rate(asc.sample_rate)
            .map_err(|e| lame_error("sample rate", e))?;
        let out_rate = matches!(
            asc.sample_rate,
            8000 | 11_025 | 12_000 | 16_000 | 22_050 | 24_000 | 32_000 | 44_100 | 48_000
        )
        .then(|| NonZeroU32::new(asc.sample_rate))
        .flatten();
        b.set_output_sample_rate(out_rate)
            .map_err(|e| lame_error("output rate", e))?;
        b.set_brate(brate).map_err(|e| lame_error("bitrate", e))?;
        b.set_vbr_mode(VbrMode::Off)
            .map_err(|e| lame_error("CBR", e))?;
        b.set_mode(if channels == 1 {
            Mode::Mono
        } else {
            Mode::JointStereo
        })
        .map_err(|e| lame_error("mode", e))?;
        b.set_quality(Quality::Good)
            .map_err(|e| lame_error("quality", e))?;
        b.set_to_write_vbr_tag(true)
            .map_err(|e| lame_error("Info tag", e))?;
        let encoder = b.build().map_err(|e| lame_error("parameters", e))?;
        Ok(Transcoder {
            decoder,
            encoder,
            channels: usize::from(channels),
            pcm: Vec::with_capacity(AAC_FRAME * 2),
            decode_errors: 0,
        })
    }

    pub(super) fn decode_errors(&self) -> u64 {
        self.decode_errors
    }

    /// Decodes one raw AAC access unit and appends whatever MP3 bytes LAME
    /// releases. Returns the samples per channel decoded; a frame that fails
    /// to decode becomes [`AAC_FRAME`] samples of silence, so timing holds.
    /// An empty frame carries no audio and is skipped.
    pub(super) fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<u64, MuxError> {
        if data.is_empty() {
            return Ok(0);
        }
        let packet = PacketRef::new(0, Timestamp::new(0), Duration::new(AAC_FRAME as u64), data);
        match self.decoder.decode_ref(&packet) {
            Ok(buf) if buf.frames() > 0 && buf.num_planes() == self.channels => {
                buf.copy_to_vec_interleaved(&mut self.pcm)
            }
            _ => {
                self.decode_errors += 1;
                self.pcm.clear();
                self.pcm.resize(AAC_FRAME * self.channels, 0.0);
            }
        }
        let frames = self.pcm.len() / self.channels;
        out.reserve(max_required_buffer_size(frames));
        let encoded = if self.channels == 1 {
            self.encoder.encode_to_vec(MonoPcm(&self.pcm[..]), out)
        } else {
            self.encoder
                .encode_to_vec(InterleavedPcm(&self.pcm[..]), out)
        };
        encoded.map_err(|e| lame_error("encode", e))?;
        Ok(frames as u64)
    }

    /// Flushes LAME's last frames into `out` and returns the final
    /// LAME/Info tag frame, which replaces the first frame of the file.
    pub(super) fn finish(&mut self, out: &mut Vec<u8>) -> Result<Option<Vec<u8>>, MuxError> {
        out.reserve(FLUSH_ROOM);
        self.encoder
            .flush_to_vec::<FlushGap>(out)
            .map_err(|e| lame_error("flush", e))?;
        let size = self.encoder.lame_tag_size();
        if size == 0 {
            return Ok(None);
        }
        let mut tag = Vec::with_capacity(size);
        Ok(self.encoder.lame_tag_encode_to_vec(&mut tag).map(|_| tag))
    }
}
