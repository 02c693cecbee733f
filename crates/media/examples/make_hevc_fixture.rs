//! Builds the H.265 + AAC fixture (`fixtures/h265_aac_10s.flv`) from an
//! HEVC Annex-B elementary stream and an ADTS AAC stream, which is how
//! `fixtures/make-hevc-fixture.sh` gets HEVC into FLV: FFmpeg 5.1 cannot
//! write HEVC into FLV, so this builds the HEVCDecoderConfigurationRecord
//! (ISO/IEC 14496-15 §8.3.3.1) from the VPS/SPS/PPS, splits access units,
//! converts them to 4-byte length-prefixed NAL units, derives presentation
//! order from the picture order count (H.265 §8.3.1) for B-frames, and
//! writes the file with [`media::FlvMuxer`] (enhanced RTMP `hvc1`).
//!
//! Usage: `make_hevc_fixture IN.hevc IN.aac OUT.flv [FPS]` (FPS defaults
//! to 30). Prints `key=value` facts about what it wrote.
//!
//! Assumes what libx265 produces with `open-gop=0`: one SPS and PPS, every
//! keyframe an IDR without leading pictures. Anything else is an error.

use std::error::Error;
use std::sync::Arc;

use bytes::Bytes;
use media::codec::{aac, h265, rbsp};
use media::{AudioCodec, AudioConfig, FlvMuxer, Frame, Track, Tracks, VideoCodec, VideoConfig};

type Res<T> = Result<T, Box<dyn Error>>;

/// AAC samples per frame, and the encoder delay FFmpeg's AAC encoder puts
/// in front (its `initial_padding`), which FFmpeg's own FLV muxer hides by
/// starting audio that much before video's first presentation time.
const AAC_FRAME_SAMPLES: i64 = 1024;
const AAC_PRIMING_SAMPLES: i64 = 1024;

/// MSB-first reader of an RBSP.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bits(&mut self, n: u32) -> Res<u64> {
        let mut v = 0;
        for _ in 0..n {
            let byte = self.data.get(self.pos / 8).ok_or("RBSP ended early")?;
            v = (v << 1) | u64::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Ok(v)
    }

    fn flag(&mut self) -> Res<bool> {
        Ok(self.bits(1)? == 1)
    }

    /// Exp-Golomb `ue(v)`.
    fn ue(&mut self) -> Res<u64> {
        let mut zeros = 0;
        while !self.flag()? {
            zeros += 1;
            if zeros > 31 {
                return Err("ue(v) too long".into());
            }
        }
        Ok((1 << zeros) - 1 + self.bits(zeros)?)
    }
}

/// What the SPS says beyond the picture size.
struct Sps {
    /// `general_profile_space` … `general_level_idc`: 12 bytes copied into
    /// the record as they are.
    general_ptl: [u8; 12],
    max_sub_layers: u8,
    temporal_id_nested: bool,
    chroma_format_idc: u8,
    separate_colour_plane: bool,
    bit_depth_luma_minus8: u8,
    bit_depth_chroma_minus8: u8,
    log2_max_poc_lsb: u32,
}

fn parse_sps(nal: &[u8]) -> Res<Sps> {
    let r = rbsp(nal.get(2..).ok_or("short SPS")?);
    let general_ptl: [u8; 12] = r.get(1..13).ok_or("short SPS")?.try_into()?;
    let mut b = Bits { data: &r, pos: 4 };
    let max_sub_layers_minus1 = b.bits(3)? as usize;
    let temporal_id_nested = b.flag()?;
    b.pos += 96; // general profile, tier and level
    let mut present = Vec::new();
    for _ in 0..max_sub_layers_minus1 {
        present.push((b.flag()?, b.flag()?));
    }
    if max_sub_layers_minus1 > 0 {
        b.pos += 2 * (8 - max_sub_layers_minus1);
    }
    for (profile, level) in present {
        b.pos += if profile { 88 } else { 0 } + if level { 8 } else { 0 };
    }
    b.ue()?; // sps_seq_parameter_set_id
    let chroma_format_idc = b.ue()? as u8;
    let separate_colour_plane = chroma_format_idc == 3 && b.flag()?;
    b.ue()?; // pic_width_in_luma_samples
    b.ue()?; // pic_height_in_luma_samples
    if b.flag()? {
        for _ in 0..4 {
            b.ue()?; // conformance window offsets
        }
    }
    Ok(Sps {
        general_ptl,
        max_sub_layers: max_sub_layers_minus1 as u8 + 1,
        temporal_id_nested,
        chroma_format_idc,
        separate_colour_plane,
        bit_depth_luma_minus8: b.ue()? as u8,
        bit_depth_chroma_minus8: b.ue()? as u8,
        log2_max_poc_lsb: b.ue()? as u32 + 4,
    })
}

/// The PPS fields the slice header depends on.
struct Pps {
    output_flag_present: bool,
    num_extra_slice_header_bits: u32,
}

fn parse_pps(nal: &[u8]) -> Res<Pps> {
    let r = rbsp(nal.get(2..).ok_or("short PPS")?);
    let mut b = Bits { data: &r, pos: 0 };
    b.ue()?; // pps_pic_parameter_set_id
    b.ue()?; // pps_seq_parameter_set_id
    b.flag()?; // dependent_slice_segments_enabled_flag
    Ok(Pps {
        output_flag_present: b.flag()?,
        num_extra_slice_header_bits: b.bits(3)? as u32,
    })
}

fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0xff, |b| (b >> 1) & 0x3f)
}

fn is_idr(t: u8) -> bool {
    t == 19 || t == 20
}

/// `slice_pic_order_cnt_lsb` of the first slice of a picture (H.265
/// §7.3.6.1); 0 for an IDR, which does not carry it.
fn poc_lsb(nal: &[u8], sps: &Sps, pps: &Pps) -> Res<u64> {
    let t = nal_type(nal);
    let r = rbsp(nal.get(2..).ok_or("short slice")?);
    let mut b = Bits { data: &r, pos: 0 };
    if !b.flag()? {
        return Err("not the first slice of a picture".into());
    }
    if (16..=23).contains(&t) {
        b.flag()?; // no_output_of_prior_pics_flag
    }
    b.ue()?; // slice_pic_parameter_set_id
    b.pos += pps.num_extra_slice_header_bits as usize;
    b.ue()?; // slice_type
    if pps.output_flag_present {
        b.flag()?;
    }
    if sps.separate_colour_plane {
        b.pos += 2;
    }
    if is_idr(t) {
        Ok(0)
    } else {
        b.bits(sps.log2_max_poc_lsb)
    }
}

/// NAL units of an Annex-B stream (start codes and trailing zeros removed).
fn split_annexb(data: &[u8]) -> Vec<&[u8]> {
    let starts: Vec<usize> = data
        .windows(3)
        .enumerate()
        .filter(|(_, w)| *w == [0, 0, 1])
        .map(|(i, _)| i + 3)
        .collect();
    let mut nals = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(data.len(), |&n| n - 3);
        let mut nal = &data[s..end];
        while let [rest @ .., 0] = nal {
            nal = rest;
        }
        if !nal.is_empty() {
            nals.push(nal);
        }
    }
    nals
}

/// One access unit in decode order.
struct Picture {
    keyframe: bool,
    poc: i64,
    /// Length-prefixed SEI and VCL NAL units (parameter sets go to the
    /// record; delimiters and end-of-sequence units are dropped).
    data: Vec<u8>,
}

fn push_nal(out: &mut Vec<u8>, nal: &[u8]) -> Res<()> {
    out.extend_from_slice(&u32::try_from(nal.len())?.to_be_bytes());
    out.extend_from_slice(nal);
    Ok(())
}

/// The record (§8.3.3.1) with one VPS, SPS and PPS array, 4-byte lengths.
fn hvcc(vps: &[u8], sps_nal: &[u8], pps: &[u8], sps: &Sps) -> Res<Vec<u8>> {
    let mut out = vec![1];
    out.extend_from_slice(&sps.general_ptl);
    out.extend_from_slice(&[
        0xf0, // reserved, min_spatial_segmentation_idc 0 (high bits)
        0x00,
        0xfc, // parallelismType 0 (unknown)
        0xfc | sps.chroma_format_idc,
        0xf8 | sps.bit_depth_luma_minus8,
        0xf8 | sps.bit_depth_chroma_minus8,
        0x00, // avgFrameRate 0: unspecified
        0x00,
        // constantFrameRate 0, numTemporalLayers, temporalIdNested,
        // lengthSizeMinusOne 3
        (sps.max_sub_layers << 3) | (u8::from(sps.temporal_id_nested) << 2) | 3,
        3, // numOfArrays
    ]);
    for (t, nal) in [(32u8, vps), (33, sps_nal), (34, pps)] {
        out.push(0x80 | t); // array_completeness: no parameter sets in-band
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&u16::try_from(nal.len())?.to_be_bytes());
        out.extend_from_slice(nal);
    }
    Ok(out)
}

/// PicOrderCntMsb tracking (H.265 §8.3.1) across pictures.
struct PocState {
    max_lsb: i64,
    prev_lsb: i64,
    prev_msb: i64,
}

impl PocState {
    fn poc(&mut self, nal: &[u8], lsb: i64) -> i64 {
        let t = nal_type(nal);
        let (prev_lsb, prev_msb, max) = (self.prev_lsb, self.prev_msb, self.max_lsb);
        let msb = if is_idr(t) {
            0
        } else if lsb < prev_lsb && prev_lsb - lsb >= max / 2 {
            prev_msb + max
        } else if lsb > prev_lsb && lsb - prev_lsb > max / 2 {
            prev_msb - max
        } else {
            prev_msb
        };
        let temporal_id = nal.get(1).map_or(0, |b| (b & 7).saturating_sub(1));
        // prevTid0Pic: TemporalId 0, not RADL/RASL, not a sub-layer
        // non-reference picture (even types below 16).
        if temporal_id == 0 && !(6..=9).contains(&t) && !(t <= 14 && t.is_multiple_of(2)) {
            (self.prev_lsb, self.prev_msb) = (lsb, msb);
        }
        msb + lsb
    }
}

/// Splits access units (§7.4.2.4.4) and reads their POC; returns the
/// pictures in decode order and the video configuration.
fn read_hevc(data: &[u8]) -> Res<(Vec<Picture>, VideoConfig)> {
    let nals = split_annexb(data);
    let first = |t: u8| -> Res<&[u8]> {
        let mut sets = nals.iter().filter(|n| nal_type(n) == t);
        let set = *sets.next().ok_or("missing parameter set")?;
        if sets.any(|n| *n != set) {
            return Err("parameter sets change mid-stream".into());
        }
        Ok(set)
    };
    let (vps, sps_nal, pps_nal) = (first(32)?, first(33)?, first(34)?);
    let sps = parse_sps(sps_nal)?;
    let pps = parse_pps(pps_nal)?;
    let size = h265::parse_sps(sps_nal)?;
    let mut poc = PocState {
        max_lsb: 1 << sps.log2_max_poc_lsb,
        prev_lsb: 0,
        prev_msb: 0,
    };
    let mut pictures: Vec<Picture> = Vec::new();
    // Prefix SEI waiting for the first slice of its picture.
    let mut pending = Vec::new();
    for nal in nals {
        let t = nal_type(nal);
        if t < 32 && nal.get(2).is_some_and(|b| b & 0x80 != 0) {
            // first_slice_segment_in_pic_flag: a new picture.
            if matches!(t, 6..=9 | 16..=18 | 21) {
                return Err(format!("NAL type {t}: only IDR keyframes are handled").into());
            }
            let lsb = poc_lsb(nal, &sps, &pps)? as i64;
            pictures.push(Picture {
                keyframe: is_idr(t),
                poc: poc.poc(nal, lsb),
                data: std::mem::take(&mut pending),
            });
        }
        match (t, pictures.last_mut()) {
            (39, _) => push_nal(&mut pending, nal)?,
            (0..=31 | 40, Some(p)) => push_nal(&mut p.data, nal)?,
            (0..=31, None) => return Err("slice before the first picture".into()),
            _ => {}
        }
    }
    let config = VideoConfig {
        codec: VideoCodec::H265,
        record: Bytes::from(hvcc(vps, sps_nal, pps_nal, &sps)?),
        width: size.width,
        height: size.height,
        nal_length_size: 4,
    };
    Ok((pictures, config))
}

/// Display index of each picture: POC periods start at each IDR and follow
/// each other; within one, display order is POC order.
fn display_order(pictures: &[Picture]) -> Res<Vec<usize>> {
    let mut order = vec![0; pictures.len()];
    let mut start = 0;
    while start < pictures.len() {
        let end = pictures[start + 1..]
            .iter()
            .position(|p| p.keyframe)
            .map_or(pictures.len(), |i| start + 1 + i);
        let mut period: Vec<usize> = (start..end).collect();
        period.sort_by_key(|&i| pictures[i].poc);
        if pictures[start..end].iter().any(|p| p.poc < 0) {
            return Err("leading pictures before an IDR".into());
        }
        for (rank, i) in period.into_iter().enumerate() {
            order[i] = start + rank;
        }
        start = end;
    }
    Ok(order)
}

/// Raw AAC frames of an ADTS stream and their AudioSpecificConfig.
fn read_adts(mut data: &[u8]) -> Res<(Vec<Bytes>, AudioConfig)> {
    let mut frames = Vec::new();
    let mut asc = None;
    while !data.is_empty() {
        let h = data.get(..7).ok_or("truncated ADTS header")?;
        if h[0] != 0xff || h[1] & 0xf0 != 0xf0 || h[6] & 3 != 0 {
            return Err("not a single-block ADTS frame".into());
        }
        let header_len = if h[1] & 1 == 1 { 7 } else { 9 };
        let len = (usize::from(h[3] & 3) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
        let frame = data.get(header_len..len).ok_or("truncated ADTS frame")?;
        let (object, rate, ch) = (
            (h[2] >> 6) + 1,
            (h[2] >> 2) & 0xf,
            ((h[2] & 1) << 2) | (h[3] >> 6),
        );
        asc.get_or_insert([(object << 3) | (rate >> 1), ((rate & 1) << 7) | (ch << 3)]);
        frames.push(Bytes::copy_from_slice(frame));
        data = &data[len..];
    }
    let asc = asc.ok_or("no ADTS frame")?;
    let info = aac::parse_asc(&asc)?;
    let config = AudioConfig {
        codec: AudioCodec::Aac,
        sample_rate: info.sample_rate,
        channels: info.channels(),
        asc: Bytes::copy_from_slice(&asc),
        flv_header: 0xaf,
    };
    Ok((frames, config))
}

/// `num / den` rounded half up, for non-negative values.
fn div_round(num: i64, den: i64) -> i64 {
    (2 * num + den) / (2 * den)
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, hevc, adts, out, rest @ ..] = args.as_slice() else {
        return Err("usage: make_hevc_fixture IN.hevc IN.aac OUT.flv [FPS]".into());
    };
    let fps: i64 = rest.first().map_or(Ok(30), |f| f.parse())?;
    let (pictures, video) = read_hevc(&std::fs::read(hevc)?)?;
    let (audio_frames, audio) = read_adts(&std::fs::read(adts)?)?;
    let display = display_order(&pictures)?;
    // Decode order is display order delayed by the reorder depth.
    let delay = (0..pictures.len())
        .map(|i| i.saturating_sub(display[i]))
        .max()
        .unwrap_or(0) as i64;
    let ms = |frame: i64| div_round(frame * 1000, fps);
    let mut frames: Vec<Frame> = Vec::new();
    for (i, p) in pictures.iter().enumerate() {
        let dts = ms(i as i64);
        frames.push(Frame {
            track: Track::Video,
            dts,
            cts: i32::try_from(ms(display[i] as i64 + delay) - dts)?,
            keyframe: p.keyframe,
            data: Bytes::from(p.data.clone()),
        });
    }
    // Audio's first sample of content plays with video's first picture.
    let rate = i64::from(audio.sample_rate);
    for (k, data) in audio_frames.into_iter().enumerate() {
        let samples = k as i64 * AAC_FRAME_SAMPLES - AAC_PRIMING_SAMPLES;
        let dts = div_round((ms(delay) * rate + samples * 1000).max(0), rate);
        frames.push(Frame {
            track: Track::Audio,
            dts,
            cts: 0,
            keyframe: true,
            data,
        });
    }
    // Stable: video stays before audio of the same millisecond.
    frames.sort_by_key(|f| f.dts);
    let tracks = Tracks {
        video: Some(Arc::new(video.clone())),
        audio: Some(Arc::new(audio.clone())),
    };
    let mut muxer = FlvMuxer::new(true, true);
    let mut file = Vec::new();
    muxer.start(&tracks, &mut file);
    for f in &frames {
        muxer.push(f, &tracks, &mut file)?;
    }
    for patch in muxer.finish() {
        let at = usize::try_from(patch.offset)?;
        file.get_mut(at..at + patch.bytes.len())
            .ok_or("patch outside the file")?
            .copy_from_slice(&patch.bytes);
    }
    std::fs::write(out, &file)?;
    let keyframes: Vec<usize> = (0..pictures.len())
        .filter(|&i| pictures[i].keyframe)
        .collect();
    let (w, h, n, a) = (video.width, video.height, pictures.len(), audio);
    println!(
        "video={w}x{h} frames={n} keyframes_at={keyframes:?} reorder_delay_frames={delay}\n\
         audio_frames={} sample_rate={} channels={}\nduration_ms={} bytes={}",
        frames.len() - n,
        a.sample_rate,
        a.channels,
        muxer.duration_ms(),
        file.len()
    );
    Ok(())
}
