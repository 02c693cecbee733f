//! CreateCommonMixStream and CancelCommonMixStream (SPEC §6,
//! `reference/tencent-api.md` §4.3): the request is validated into a
//! `mixer::MixSpec` before any effect (`InvalidParameter.InvalidMixInputParam`,
//! `InvalidOutputStreamID`, `InvalidOutputType`, `TemplateNotMatchInputNum`,
//! `OtherError`), then handed to the mixer, which answers
//! `FailedOperation.StreamNotExist` for an input the caller is not
//! publishing (another account's stream included) and
//! `FailedOperation.CancelSessionNotExist` for a session it does not have.

use serde_json::Value;
use tcapi::Params;

use super::AppState;
use super::endpoint::{ActionResult, Call};
use super::error::Error;
use super::params::{check_name, invalid_value, missing, required};
use super::wire::{
    CancelCommonMixStreamRequest, CancelCommonMixStreamResponse, CreateCommonMixStreamRequest,
    CreateCommonMixStreamResponse, reply,
};
use crate::mixer::{Crop, Dim, InputKind, MixInput, MixSpec, OutputSpec, Template, parse_colour};

/// Inputs per session (Tencent: at most 16).
const MAX_INPUTS: usize = 16;
/// `MixStreamSessionId` is at most this long (Tencent: 80 bytes).
const MAX_SESSION_ID: usize = 80;
/// AAC sampling rates the output may use.
const AUDIO_RATES: [u32; 9] = [
    8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000,
];

/// CreateCommonMixStream: starts a session, or updates its layout.
pub(super) async fn create(state: &AppState, call: &Call) -> ActionResult {
    let r = CreateCommonMixStreamRequest::from_params(&call.req.params)?;
    let spec = parse_spec(r)?;
    state.mixer.create(&call.account_id, spec).await?;
    reply(&CreateCommonMixStreamResponse::default())
}

/// CancelCommonMixStream: ends a session and its output stream.
pub(super) async fn cancel(state: &AppState, call: &Call) -> ActionResult {
    let r = CancelCommonMixStreamRequest::from_params(&call.req.params)?;
    let id = session_id(r.session_id)?;
    state.mixer.cancel(&call.account_id, &id).await?;
    reply(&CancelCommonMixStreamResponse::default())
}

fn session_id(v: Option<String>) -> Result<String, Error> {
    let id = required("MixStreamSessionId", v)?;
    if id.len() > MAX_SESSION_ID || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(invalid_value(format!(
            "MixStreamSessionId must be at most {MAX_SESSION_ID} characters of letters, digits and '_'"
        )));
    }
    Ok(id)
}

/// A number given as JSON number or decimal string.
fn number(p: &Params, field: &str, at: &str) -> Result<Option<f64>, Error> {
    match p.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| Error::MixInput(format!("{at}.{field} must be a number, got {s:?}"))),
        Some(_) => Err(Error::MixInput(format!("{at}.{field} must be a number"))),
    }
}

fn dim(p: &Params, field: &str, at: &str) -> Result<Option<Dim>, Error> {
    number(p, field, at)?
        .map(|v| {
            Dim::from_value(v).ok_or_else(|| {
                Error::MixInput(format!(
                    "{at}.{field} must be pixels (≥ 0) or a fraction 0.01–0.99, got {v}"
                ))
            })
        })
        .transpose()
}

fn input(i: usize, p: &Params) -> Result<MixInput, Error> {
    let at = format!("InputStreamList.{i}");
    let name = required(
        &format!("{at}.InputStreamName"),
        p.str_opt("InputStreamName")?,
    )?;
    check_name(&format!("{at}.InputStreamName"), &name)?;
    let layout = p
        .object_opt("LayoutParams")?
        .ok_or_else(|| missing(&format!("{at}.LayoutParams")))?;
    let at = format!("{at}.LayoutParams");
    let layer =
        number(&layout, "ImageLayer", &at)?.ok_or_else(|| missing(&format!("{at}.ImageLayer")))?;
    if !(1.0..=16.0).contains(&layer) || layer.fract() != 0.0 {
        return Err(Error::MixInput(format!(
            "{at}.ImageLayer must be 1 (background) to 16, got {layer}"
        )));
    }
    let kind = match number(&layout, "InputType", &at)?.map(|v| v as i64) {
        None | Some(0) => InputKind::AudioVideo,
        Some(3) => InputKind::Canvas,
        Some(4) => InputKind::AudioOnly,
        Some(5) => InputKind::VideoOnly,
        Some(2) => {
            return Err(Error::MixInput(format!(
                "{at}.InputType 2 (picture input, a watermark image) is not supported by liverec; use 0, 3, 4 or 5"
            )));
        }
        Some(t) => {
            return Err(Error::MixInput(format!(
                "{at}.InputType must be 0 (audio and video), 3 (canvas), 4 (audio only) or 5 (video only), got {t}"
            )));
        }
    };
    let colour =
        match layout.str_opt("Color")? {
            None => None,
            Some(s) if s.trim().is_empty() => None,
            Some(s) => Some(parse_colour(&s).ok_or_else(|| {
                Error::MixInput(format!("{at}.Color must be 0xRRGGBB, got {s:?}"))
            })?),
        };
    let crop = match p.object_opt("CropParams")? {
        Some(c) if kind.has_video() && kind.is_stream() => crop(&c, &format!("{at}.CropParams"))?,
        _ => None,
    };
    Ok(MixInput {
        name,
        crop,
        layer: layer as u8,
        kind,
        width: dim(&layout, "ImageWidth", &at)?,
        height: dim(&layout, "ImageHeight", &at)?,
        x: dim(&layout, "LocationX", &at)?.unwrap_or(Dim::Px(0)),
        y: dim(&layout, "LocationY", &at)?.unwrap_or(Dim::Px(0)),
        colour,
    })
}

/// `CropParams` (`None` when it crops nothing).
fn crop(p: &Params, at: &str) -> Result<Option<Crop>, Error> {
    let c = Crop {
        x: dim(p, "CropStartLocationX", at)?.unwrap_or(Dim::Px(0)),
        y: dim(p, "CropStartLocationY", at)?.unwrap_or(Dim::Px(0)),
        width: dim(p, "CropWidth", at)?.filter(|d| *d != Dim::Px(0)),
        height: dim(p, "CropHeight", at)?.filter(|d| *d != Dim::Px(0)),
    };
    let whole = c.x == Dim::Px(0) && c.y == Dim::Px(0) && c.width.is_none() && c.height.is_none();
    Ok((!whole).then_some(c))
}

/// An integer field of OutputParams within `range`, or its default.
fn ranged(
    p: &Params,
    field: &str,
    range: std::ops::RangeInclusive<u64>,
    default: Option<u64>,
) -> Result<Option<u32>, Error> {
    match p.u64_opt(field)? {
        None | Some(0) => Ok(default.map(|d| d as u32)),
        Some(v) if range.contains(&v) => Ok(Some(v as u32)),
        Some(v) => Err(invalid_value(format!(
            "OutputParams.{field} must be {} to {}, got {v}",
            range.start(),
            range.end()
        ))),
    }
}

fn output(p: &Params, inputs: &[MixInput]) -> Result<OutputSpec, Error> {
    let name = required(
        "OutputParams.OutputStreamName",
        p.str_opt("OutputStreamName")?,
    )?;
    check_name("OutputParams.OutputStreamName", &name)?;
    let is_input = inputs.iter().any(|i| i.name == name && i.kind.is_stream());
    let replace = match p.u64_opt("OutputStreamType")? {
        Some(0) if !is_input => {
            return Err(Error::MixOutputType(format!(
                "OutputStreamType 0 (A+B=A) needs OutputStreamName to be one of the inputs, not {name}"
            )));
        }
        Some(0) => true,
        None | Some(1) if is_input => {
            return Err(Error::MixOutputId(format!(
                "OutputStreamName {name} is one of the inputs; a new stream C needs its own name"
            )));
        }
        None | Some(1) => false,
        Some(t) => {
            return Err(Error::MixOutputType(format!(
                "OutputStreamType must be 0 or 1, got {t}"
            )));
        }
    };
    let audio_rate =
        ranged(p, "OutputAudioSampleRate", 8_000..=48_000, Some(44_100))?.unwrap_or(44_100);
    if !AUDIO_RATES.contains(&audio_rate) {
        return Err(invalid_value(format!(
            "OutputParams.OutputAudioSampleRate must be one of {AUDIO_RATES:?}, got {audio_rate}"
        )));
    }
    Ok(OutputSpec {
        name,
        replace,
        bitrate_kbps: ranged(p, "OutputStreamBitRate", 50..=50_000, None)?,
        gop_s: ranged(p, "OutputStreamGop", 1..=10, Some(2))?.unwrap_or(2),
        fps: ranged(p, "OutputStreamFrameRate", 1..=60, Some(25))?.unwrap_or(25),
        audio_bitrate_kbps: ranged(p, "OutputAudioBitRate", 16..=320, Some(128))?.unwrap_or(128),
        audio_rate,
        audio_channels: ranged(p, "OutputAudioChannels", 1..=2, Some(2))?.unwrap_or(2) as u8,
    })
}

/// Validates a CreateCommonMixStream request (no effect, no lookups).
pub(super) fn parse_spec(r: CreateCommonMixStreamRequest) -> Result<MixSpec, Error> {
    let session_id = session_id(r.session_id)?;
    let list = r.inputs.ok_or_else(|| missing("InputStreamList"))?;
    if list.is_empty() || list.len() > MAX_INPUTS {
        return Err(Error::MixInput(format!(
            "InputStreamList must hold 1 to {MAX_INPUTS} inputs, got {}",
            list.len()
        )));
    }
    let mut inputs = list
        .iter()
        .enumerate()
        .map(|(i, p)| input(i, p))
        .collect::<Result<Vec<_>, _>>()?;
    inputs.sort_by_key(|i| i.layer);
    for pair in inputs.windows(2) {
        if pair[0].layer == pair[1].layer {
            return Err(Error::MixInput(format!(
                "ImageLayer {} is used twice; each input needs its own layer",
                pair[0].layer
            )));
        }
    }
    if inputs.first().map(|i| i.layer) != Some(1) {
        return Err(Error::MixInput(
            "one input must be the background, ImageLayer 1".into(),
        ));
    }
    for (i, a) in inputs.iter().enumerate() {
        if inputs[..i].iter().any(|b| b.name == a.name) {
            return Err(Error::MixInput(format!(
                "InputStreamName {} is listed twice",
                a.name
            )));
        }
    }
    if !inputs.iter().any(|i| i.kind.is_stream()) {
        return Err(Error::MixInput(
            "at least one input must be a stream (InputType 0, 4 or 5); canvas layers alone mix nothing".into(),
        ));
    }
    let out = r.output.ok_or_else(|| missing("OutputParams"))?;
    let output = output(&out, &inputs)?;
    let id = r.template_id.unwrap_or(0);
    let template = Template::from_id(id).ok_or_else(|| {
        Error::MixOther(format!(
            "MixStreamTemplateId {id} is not one of liverec's presets (0, 10, 20, 30, 40)"
        ))
    })?;
    if let Some(n) = template.inputs()
        && n != inputs.len()
    {
        return Err(Error::MixTemplateInputs(format!(
            "MixStreamTemplateId {id} lays out {n} inputs, the request has {}",
            inputs.len()
        )));
    }
    Ok(MixSpec {
        session_id,
        inputs,
        output,
        template,
    })
}

#[cfg(test)]
mod tests;
