//! The `onMetaData` script tag of files this crate writes: every value has
//! a fixed size (AMF0 numbers and booleans) so that duration, file size and
//! late-known track facts can be patched in place when the file is closed,
//! and the offsets of those values can be found again in a crashed file.

use crate::amf0::{self, Value};
use crate::frame::{AudioCodec, Tracks, VideoCodec};

/// AMF0 markers written here (AMF0 spec §2.1).
const NUMBER: u8 = 0x00;
const BOOLEAN: u8 = 0x01;
const STRING: u8 = 0x02;
const ECMA_ARRAY: u8 = 0x08;
const OBJECT_END: u8 = 0x09;

/// `videocodecid` of HEVC: the FourCC `hvc1` as a number, the enhanced-RTMP
/// convention for files that carry HEVC as `hvc1` tags.
const HEVC_CODEC_ID: f64 = 1_752_589_105.0;

/// Value written after this muxer's name in `encoder`.
const ENCODER: &str = "liverec";

/// A fixed-size metadata value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Field {
    Number(f64),
    Boolean(bool),
}

impl Field {
    pub(super) fn bytes(self) -> Vec<u8> {
        match self {
            Field::Number(n) => n.to_be_bytes().to_vec(),
            Field::Boolean(b) => vec![u8::from(b)],
        }
    }
}

/// The keys and values of the metadata. The key set depends only on the
/// header flags, so re-computing it at close gives the same layout.
pub(super) fn fields(
    video: bool,
    audio: bool,
    tracks: &Tracks,
    duration_ms: i64,
    filesize: u64,
) -> Vec<(&'static str, Field)> {
    let mut out = vec![
        ("duration", Field::Number(duration_ms as f64 / 1000.0)),
        ("filesize", Field::Number(filesize as f64)),
    ];
    if video {
        let v = tracks.video.as_deref();
        let codec_id = match v.map(|v| v.codec) {
            Some(VideoCodec::H264) => 7.0,
            Some(VideoCodec::H265) => HEVC_CODEC_ID,
            None => 0.0,
        };
        out.extend([
            (
                "width",
                Field::Number(v.map_or(0.0, |v| f64::from(v.width))),
            ),
            (
                "height",
                Field::Number(v.map_or(0.0, |v| f64::from(v.height))),
            ),
            ("videocodecid", Field::Number(codec_id)),
        ]);
    }
    if audio {
        let a = tracks.audio.as_deref();
        let codec_id = match a.map(|a| a.codec) {
            Some(AudioCodec::Aac) => 10.0,
            Some(AudioCodec::Mp3) => 2.0,
            None => 0.0,
        };
        out.extend([
            ("audiocodecid", Field::Number(codec_id)),
            (
                "audiosamplerate",
                Field::Number(a.map_or(0.0, |a| f64::from(a.sample_rate))),
            ),
            ("audiosamplesize", Field::Number(16.0)),
            ("stereo", Field::Boolean(a.is_some_and(|a| a.channels >= 2))),
        ]);
    }
    out
}

fn put_key(key: &str, out: &mut Vec<u8>) {
    // Keys are short literals of this module.
    out.extend_from_slice(&(key.len() as u16).to_be_bytes());
    out.extend_from_slice(key.as_bytes());
}

/// Encodes the script tag body; returns it with the offset of each field's
/// value bytes (after the marker), in `fields` order.
pub(super) fn encode(fields: &[(&'static str, Field)]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    amf0::encode(&Value::String("onMetaData".into()), &mut out);
    out.push(ECMA_ARRAY);
    out.extend_from_slice(&(fields.len() as u32 + 1).to_be_bytes());
    let mut offsets = Vec::with_capacity(fields.len());
    for (key, field) in fields {
        put_key(key, &mut out);
        out.push(match field {
            Field::Number(_) => NUMBER,
            Field::Boolean(_) => BOOLEAN,
        });
        offsets.push(out.len());
        out.extend_from_slice(&field.bytes());
    }
    put_key("encoder", &mut out);
    out.push(STRING);
    put_key(ENCODER, &mut out);
    out.extend_from_slice(&[0, 0, OBJECT_END]);
    (out, offsets)
}

/// Offsets (within `body`) of the 8 value bytes of each top-level Number
/// property of an `onMetaData` script body, by key. Empty when the body is
/// not `onMetaData` followed by an object or ECMA array.
pub(super) fn locate_numbers(body: &[u8]) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut input = body;
    if amf0::decode(&mut input)
        .ok()
        .as_ref()
        .and_then(Value::as_str)
        != Some("onMetaData")
    {
        return found;
    }
    let skip = match input.first() {
        Some(&ECMA_ARRAY) => 5,
        Some(&0x03) => 1,
        _ => return found,
    };
    input = input.get(skip..).unwrap_or_default();
    loop {
        let Some(&[hi, lo]) = input.get(..2) else {
            return found;
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let Some(key) = input.get(2..2 + len) else {
            return found;
        };
        let key = String::from_utf8_lossy(key).into_owned();
        input = &input[2 + len..];
        if key.is_empty() && input.first() == Some(&OBJECT_END) {
            return found;
        }
        let value_at = body.len() - input.len();
        if input.first() == Some(&NUMBER) && input.len() >= 9 {
            found.push((key, value_at + 1));
        }
        if amf0::decode(&mut input).is_err() {
            return found;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{AudioConfig, VideoConfig};
    use bytes::Bytes;
    use std::sync::Arc;

    fn tracks() -> Tracks {
        Tracks {
            video: Some(Arc::new(VideoConfig {
                codec: VideoCodec::H264,
                record: Bytes::new(),
                width: 640,
                height: 360,
                nal_length_size: 4,
            })),
            audio: Some(Arc::new(AudioConfig {
                codec: AudioCodec::Aac,
                sample_rate: 44100,
                channels: 2,
                asc: Bytes::new(),
                flv_header: 0xaf,
            })),
        }
    }

    #[test]
    fn encodes_decodable_metadata_with_offsets() {
        let f = fields(true, true, &tracks(), 10_500, 1234);
        let (body, offsets) = encode(&f);
        let values = amf0::decode_all(&body).unwrap();
        let meta = &values[1];
        assert_eq!(meta.get("duration"), Some(&Value::Number(10.5)));
        assert_eq!(meta.get("width"), Some(&Value::Number(640.0)));
        assert_eq!(meta.get("stereo"), Some(&Value::Boolean(true)));
        assert_eq!(meta.get("encoder").and_then(Value::as_str), Some("liverec"));
        assert_eq!(&body[offsets[0]..offsets[0] + 8], &10.5f64.to_be_bytes());
        let located = locate_numbers(&body);
        assert_eq!(located.len(), 8);
        assert_eq!(located[0], ("duration".to_string(), offsets[0]));
        assert_eq!(located[1], ("filesize".to_string(), offsets[1]));
        // Same flags, other values: same layout.
        let (body2, offsets2) = encode(&fields(true, true, &Tracks::default(), 0, 0));
        assert_eq!((body.len(), &offsets), (body2.len(), &offsets2));
    }

    #[test]
    fn locate_ignores_other_script_data() {
        assert!(locate_numbers(&[]).is_empty());
        let mut body = Vec::new();
        amf0::encode(&Value::String("onCuePoint".into()), &mut body);
        amf0::encode(
            &Value::Object(vec![("duration".into(), Value::Number(1.0))]),
            &mut body,
        );
        assert!(locate_numbers(&body).is_empty());
        let mut body = Vec::new();
        amf0::encode(&Value::String("onMetaData".into()), &mut body);
        amf0::encode(
            &Value::Object(vec![("duration".into(), Value::Number(1.0))]),
            &mut body,
        );
        assert_eq!(locate_numbers(&body), [("duration".to_string(), 25)]);
        for cut in 0..body.len() {
            let _ = locate_numbers(&body[..cut]);
        }
    }
}
