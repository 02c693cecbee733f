//! Template parameters of Create/ModifyLiveRecordTemplate (reference §1.10,
//! the SDK's `RecordParam`, `HlsSpecialParam`, `FlvSpecialParam`): the
//! request's [`TemplateFields`], whose nested objects come from JSON or
//! flattened form keys (`FlvParam.Enable=1`, values as strings) as
//! [`Params`], validated, and applied over a
//! [`TemplateBody`] (the defaults on create, the stored template on modify:
//! an absent field keeps its value). Touches no store.

use tcapi::{ApiError, Params};

use super::super::error::Error;
use super::super::params::{flag_value, invalid_value};
use super::super::wire::TemplateFields;
use crate::task::FileFormat;
use crate::task::template::{
    FlvSpecialParam, HlsSpecialParam, MAX_FLOW_CONTINUE_S, RecordParam, TemplateBody,
};

/// TemplateName length, characters (Tencent documents the character set,
/// not a length; its console stops at 30).
pub(super) const MAX_TEMPLATE_NAME: usize = 30;
/// Description length, characters.
const MAX_DESCRIPTION: usize = 1024;
/// VodFileName and the other kept strings, characters.
const MAX_TEXT: usize = 256;
/// RecordInterval when absent, seconds (Tencent's default).
pub(super) const DEFAULT_RECORD_INTERVAL: i64 = 1800;
/// Tencent's floor of RecordInterval, seconds (a lower configured
/// `min_record_interval` lowers it).
pub(super) const MIN_RECORD_INTERVAL: i64 = 60;
/// RecordInterval ceiling of FLV and MP4, seconds (12 h).
const MAX_INTERVAL_VIDEO: i64 = 43_200;
/// RecordInterval ceiling of AAC and MP3, seconds (2 h).
const MAX_INTERVAL_AUDIO: i64 = 7_200;
/// StorageTime ceiling, seconds (1500 days).
const MAX_STORAGE_TIME: i64 = 1500 * 86_400;

/// The VodFileName placeholders liverec renders: Tencent's set plus
/// `{Domain}`, `{AppName}` and `{TaskId}`.
pub(super) const PLACEHOLDERS: &[&str] = &[
    "StreamID",
    "Domain",
    "AppName",
    "TaskId",
    "StartYear",
    "StartMonth",
    "StartDay",
    "StartHour",
    "StartMinute",
    "StartSecond",
    "StartMillisecond",
    "EndYear",
    "EndMonth",
    "EndDay",
    "EndHour",
    "EndMinute",
    "EndSecond",
    "EndMillisecond",
];

/// Names a nested field in an accessor's error (`Enable …` → `FlvParam.Enable …`).
fn within(parent: &str) -> impl Fn(ApiError) -> Error + '_ {
    move |error| Error::Nested {
        parent: parent.to_string(),
        error,
    }
}

/// Validates a TemplateName: 1–30 characters, each a Chinese character, an
/// ASCII letter or digit, `_` or `-`.
pub(super) fn template_name(raw: &str) -> Result<String, Error> {
    if raw.is_empty() {
        return Err(Error::Missing("TemplateName".into()));
    }
    let ok_char = |c: char| {
        c.is_ascii_alphanumeric()
            || c == '_'
            || c == '-'
            || ('\u{4e00}'..='\u{9fff}').contains(&c)
            || ('\u{3400}'..='\u{4dbf}').contains(&c)
            || ('\u{f900}'..='\u{faff}').contains(&c)
    };
    if raw.chars().count() > MAX_TEMPLATE_NAME || !raw.chars().all(ok_char) {
        return Err(invalid_value(format!(
            "TemplateName must be 1 to {MAX_TEMPLATE_NAME} Chinese characters, letters, digits, '_' or '-', got {raw:?}"
        )));
    }
    Ok(raw.to_string())
}

/// Checks that every `{…}` of a VodFileName is a known placeholder.
pub(super) fn vod_file_name(field: &str, v: &str) -> Result<(), Error> {
    let bad = |what: String| {
        Error::VodFileName(format!(
            "{field} {what}; the placeholders are {}",
            PLACEHOLDERS
                .iter()
                .map(|p| format!("{{{p}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    if v.chars().count() > MAX_TEXT {
        return Err(bad(format!("is longer than {MAX_TEXT} characters")));
    }
    let mut rest = v;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(bad("has a '}' without '{'".into()));
        }
        let after = &rest[open + 1..];
        let close = after
            .find(['{', '}'])
            .filter(|&i| after[i..].starts_with('}'))
            .ok_or_else(|| bad("has a '{' without '}'".into()))?;
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(bad(format!("has an unknown placeholder {{{name}}}")));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// A string field of bounded length.
fn text(p: &Params, parent: &str, name: &str, max: usize) -> Result<Option<String>, Error> {
    let v = p.str_opt(name).map_err(within(parent))?;
    if let Some(s) = &v
        && s.chars().count() > max
    {
        return Err(invalid_value(format!(
            "{parent}.{name} must be at most {max} characters"
        )));
    }
    Ok(v)
}

/// An integer field within `range`.
fn int_in(
    p: &Params,
    parent: &str,
    name: &str,
    range: std::ops::RangeInclusive<i64>,
    unit: &str,
) -> Result<Option<i64>, Error> {
    let v = p.i64_opt(name).map_err(within(parent))?;
    if let Some(n) = v
        && !range.contains(&n)
    {
        return Err(invalid_value(format!(
            "{parent}.{name} must be between {} and {}{unit}, got {n}",
            range.start(),
            range.end()
        )));
    }
    Ok(v)
}

/// The RecordParam of a format that is absent from the request.
pub(super) fn default_record_param() -> RecordParam {
    RecordParam {
        record_interval: DEFAULT_RECORD_INTERVAL,
        ..RecordParam::default()
    }
}

/// Applies one RecordParam object over `base`.
fn record_param(
    p: &Params,
    parent: &str,
    format: FileFormat,
    mut base: RecordParam,
    min_interval: i64,
) -> Result<RecordParam, Error> {
    if let Some(v) = int_in(p, parent, "Enable", 0..=1, "")? {
        base.enable = v;
    }
    let max_interval = match format {
        FileFormat::Flv | FileFormat::Mp4 => Some(MAX_INTERVAL_VIDEO),
        FileFormat::Aac | FileFormat::Mp3 => Some(MAX_INTERVAL_AUDIO),
        // One file per publish session: the interval is ignored.
        FileFormat::Hls => None,
    };
    let interval = match max_interval {
        Some(max) => int_in(p, parent, "RecordInterval", min_interval..=max, " seconds")?,
        None => p.i64_opt("RecordInterval").map_err(within(parent))?,
    };
    if let Some(v) = interval {
        base.record_interval = v;
    }
    if let Some(v) = int_in(p, parent, "StorageTime", 0..=MAX_STORAGE_TIME, " seconds")? {
        base.storage_time = v;
    }
    if let Some(v) = int_in(p, parent, "VodSubAppId", 0..=i64::MAX, "")? {
        base.vod_sub_app_id = v;
    }
    if let Some(v) = text(p, parent, "VodFileName", MAX_TEXT)? {
        vod_file_name(&format!("{parent}.VodFileName"), &v)?;
        base.vod_file_name = v;
    }
    if let Some(v) = text(p, parent, "Procedure", MAX_TEXT)? {
        base.procedure = v;
    }
    if let Some(v) = text(p, parent, "StorageMode", MAX_TEXT)? {
        if !matches!(v.as_str(), "" | "normal" | "cold") {
            return Err(invalid_value(format!(
                "{parent}.StorageMode must be normal or cold, got {v:?}"
            )));
        }
        base.storage_mode = v;
    }
    if let Some(v) = int_in(p, parent, "ClassId", 0..=i64::MAX, "")? {
        base.class_id = v;
    }
    if let Some(v) = text(p, parent, "CosBucketName", MAX_TEXT)? {
        base.cos_bucket_name = v;
    }
    if let Some(v) = text(p, parent, "CosBucketRegion", MAX_TEXT)? {
        base.cos_bucket_region = v;
    }
    if let Some(v) = text(p, parent, "CosBucketPath", MAX_TEXT)? {
        if !v.is_empty() && !v.starts_with('/') {
            return Err(invalid_value(format!(
                "{parent}.CosBucketPath must start with '/', got {v:?}"
            )));
        }
        base.cos_bucket_path = v;
    }
    Ok(base)
}

/// Validates every template field present in `p` and applies it to `body`;
/// `body` is unchanged when an error is returned.
pub(super) fn apply(
    p: &TemplateFields,
    body: &mut TemplateBody,
    min_interval: i64,
) -> Result<(), Error> {
    let mut b = body.clone();
    if let Some(v) = p.description.clone() {
        if v.chars().count() > MAX_DESCRIPTION {
            return Err(invalid_value(format!(
                "Description must be at most {MAX_DESCRIPTION} characters"
            )));
        }
        b.description = v;
    }
    for format in FileFormat::ALL {
        let (name, Some(o)) = p.param(format) else {
            continue;
        };
        let slot = b.param_mut(format);
        let base = slot.take().unwrap_or_else(default_record_param);
        *slot = Some(record_param(o, name, format, base, min_interval)?);
    }
    if let Some(v) = flag_value("IsDelayLive", p.is_delay_live)? {
        b.is_delay_live = i64::from(v);
    }
    if let Some(v) = flag_value("CosStore", p.cos_store)? {
        b.cos_store = i64::from(v);
    }
    if let Some(o) = &p.hls_special_param {
        let mut h = b.hls_special_param.take().unwrap_or_default();
        let parent = "HlsSpecialParam";
        if let Some(v) = o.u64_opt("FlowContinueDuration").map_err(within(parent))? {
            if v > MAX_FLOW_CONTINUE_S {
                return Err(invalid_value(format!(
                    "{parent}.FlowContinueDuration must be between 0 and {MAX_FLOW_CONTINUE_S} seconds, got {v}"
                )));
            }
            h.flow_continue_duration = v;
        }
        b.hls_special_param = Some(h);
    }
    if let Some(v) = p.reconnect_window {
        b.reconnect_window = u64::try_from(v)
            .ok()
            .filter(|&s| s <= MAX_FLOW_CONTINUE_S)
            .ok_or_else(|| {
                invalid_value(format!(
                    "ReconnectWindow must be between 0 and {MAX_FLOW_CONTINUE_S} seconds, got {v}"
                ))
            })?;
    }
    if let Some(v) = p.remove_watermark {
        b.remove_watermark = v;
    }
    if let Some(o) = &p.flv_special_param {
        let mut f: FlvSpecialParam = b.flv_special_param.take().unwrap_or_default();
        if let Some(v) = o
            .bool_opt("UploadInRecording")
            .map_err(within("FlvSpecialParam"))?
        {
            f.upload_in_recording = v;
        }
        b.flv_special_param = Some(f);
    }
    *body = b;
    Ok(())
}

/// The template as `RecordTemplateInfo` shows it: every format present
/// (absent ones disabled, with the defaults), like Tencent's answers.
pub(super) fn shown(body: &TemplateBody) -> TemplateBody {
    let mut shown = TemplateBody {
        hls_special_param: Some(body.hls_special_param.clone().unwrap_or(HlsSpecialParam {
            flow_continue_duration: 0,
        })),
        flv_special_param: Some(body.flv_special_param.clone().unwrap_or_default()),
        ..body.clone()
    };
    for format in FileFormat::ALL {
        let p = shown.param_mut(format);
        *p = Some(p.take().unwrap_or_else(default_record_param));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::wire::{CreateLiveRecordTemplateRequest, ModifyLiveRecordTemplateRequest};
    use serde_json::{Value, json};
    use tcapi::ErrorCode;

    fn params(v: Value) -> Params {
        Params::from_map(v.as_object().expect("an object").clone())
    }

    /// The template fields of a CreateLiveRecordTemplate request.
    fn create_fields(p: &Params) -> Result<TemplateFields, Error> {
        CreateLiveRecordTemplateRequest::from_params(p).map(TemplateFields::from)
    }

    /// The template fields of a ModifyLiveRecordTemplate request.
    fn modify_fields(v: Value) -> TemplateFields {
        ModifyLiveRecordTemplateRequest::from_params(&params(v))
            .map(TemplateFields::from)
            .unwrap()
    }

    fn create(v: Value) -> Result<TemplateBody, ApiError> {
        let mut b = TemplateBody::default();
        create_fields(&params(v))
            .and_then(|f| apply(&f, &mut b, MIN_RECORD_INTERVAL))
            .map(|()| b)
            .map_err(|e| e.to_api(""))
    }

    /// Asserts `v` is refused with `code` and a message naming `field`.
    fn refused(v: Value, code: ErrorCode, field: &str) {
        let e = create(v.clone()).unwrap_err();
        assert_eq!(e.code, code, "{v}: {}", e.message);
        assert!(
            e.message.contains(field),
            "{:?} should name {field}",
            e.message
        );
    }

    #[test]
    fn names() {
        for ok in [
            "tpl",
            "a_b-C9",
            "录制模板1",
            &"x".repeat(30),
            &"录".repeat(30),
        ] {
            assert_eq!(template_name(ok).unwrap(), ok);
        }
        assert_eq!(
            template_name("").unwrap_err().to_api("").code,
            ErrorCode::MissingParameter
        );
        for bad in ["a b", "a/b", "a.b", "tab\t", "é", "😀", &"x".repeat(31)] {
            let e = template_name(bad).unwrap_err().to_api("");
            assert_eq!(e.code, ErrorCode::InvalidParameterValue, "{bad:?}");
            assert!(e.message.contains("TemplateName"));
        }
    }

    #[test]
    fn vod_file_names() {
        for ok in [
            "",
            "plain",
            "{StreamID}_{StartYear}-{StartMonth}-{StartDay}-{StartHour}-{StartMinute}-{StartSecond}_{EndYear}-{EndMonth}-{EndDay}-{EndHour}-{EndMinute}-{EndSecond}",
            "{Domain}/{AppName}/{TaskId}_{StartMillisecond}_{EndMillisecond}",
        ] {
            vod_file_name("F", ok).unwrap();
        }
        for (bad, why) in [
            ("{Foo}", "{Foo}"),
            ("{streamid}", "{streamid}"),
            ("{StreamID", "without"),
            ("StreamID}", "without"),
            ("{{StreamID}}", "without"),
            ("{}", "{}"),
        ] {
            let e = vod_file_name("FlvParam.VodFileName", bad)
                .unwrap_err()
                .to_api("");
            assert_eq!(
                e.code,
                ErrorCode::InvalidParameterInvalidVodFileName,
                "{bad}"
            );
            assert!(e.message.contains(why), "{bad}: {}", e.message);
            assert!(e.message.starts_with("FlvParam.VodFileName"));
        }
        assert!(vod_file_name("F", &"a".repeat(257)).is_err());
        let e = create(json!({"Mp4Param": {"VodFileName": "{Bad}"}})).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameterInvalidVodFileName);
        assert!(e.message.contains("Mp4Param.VodFileName"));
    }

    #[test]
    fn record_interval_ranges_per_format() {
        let b = create(json!({"FlvParam": {"Enable": 1}})).unwrap();
        assert_eq!(b.flv_param.unwrap().record_interval, 1800, "default");
        for (param, max) in [
            ("FlvParam", 43_200),
            ("Mp4Param", 43_200),
            ("AacParam", 7_200),
            ("Mp3Param", 7_200),
        ] {
            for ok in [60, max] {
                create(json!({ param: {"RecordInterval": ok} })).unwrap();
            }
            for bad in [59, max + 1, 0, -1] {
                refused(
                    json!({ param: {"RecordInterval": bad} }),
                    ErrorCode::InvalidParameterValue,
                    &format!("{param}.RecordInterval"),
                );
            }
        }
        // Ignored for HLS (one file per publish session).
        let b = create(json!({"HlsParam": {"Enable": 1, "RecordInterval": 5}})).unwrap();
        assert_eq!(b.hls_param.unwrap().record_interval, 5);
        // A lower configured floor lowers the template floor.
        let mut b = TemplateBody::default();
        apply(
            &create_fields(&params(json!({"FlvParam": {"RecordInterval": 5}}))).unwrap(),
            &mut b,
            5,
        )
        .unwrap();
        assert_eq!(b.flv_param.unwrap().record_interval, 5);
    }

    #[test]
    fn other_ranges_and_types() {
        create(json!({"FlvParam": {"StorageTime": 1500 * 86_400}})).unwrap();
        refused(
            json!({"FlvParam": {"StorageTime": 1500 * 86_400 + 1}}),
            ErrorCode::InvalidParameterValue,
            "FlvParam.StorageTime",
        );
        refused(
            json!({"AacParam": {"StorageTime": -1}}),
            ErrorCode::InvalidParameterValue,
            "AacParam.StorageTime",
        );
        refused(
            json!({"HlsParam": {"Enable": 2}}),
            ErrorCode::InvalidParameterValue,
            "HlsParam.Enable",
        );
        refused(
            json!({"HlsParam": {"Enable": "yes"}}),
            ErrorCode::InvalidParameter,
            "HlsParam.Enable",
        );
        refused(
            json!({"HlsParam": 1}),
            ErrorCode::InvalidParameter,
            "HlsParam",
        );
        refused(
            json!({"HlsSpecialParam": {"FlowContinueDuration": 1801}}),
            ErrorCode::InvalidParameterValue,
            "HlsSpecialParam.FlowContinueDuration",
        );
        refused(
            json!({"HlsSpecialParam": {"FlowContinueDuration": -1}}),
            ErrorCode::InvalidParameter,
            "HlsSpecialParam.FlowContinueDuration",
        );
        refused(
            json!({"ReconnectWindow": 1801}),
            ErrorCode::InvalidParameterValue,
            "ReconnectWindow",
        );
        refused(
            json!({"ReconnectWindow": -1}),
            ErrorCode::InvalidParameterValue,
            "ReconnectWindow",
        );
        assert_eq!(
            create(json!({"ReconnectWindow": 1800}))
                .unwrap()
                .reconnect_window,
            1800
        );
        refused(
            json!({"IsDelayLive": 2}),
            ErrorCode::InvalidParameterValue,
            "IsDelayLive",
        );
        refused(
            json!({"CosStore": 3}),
            ErrorCode::InvalidParameterValue,
            "CosStore",
        );
        refused(
            json!({"RemoveWatermark": "maybe"}),
            ErrorCode::InvalidParameter,
            "RemoveWatermark",
        );
        refused(
            json!({"FlvSpecialParam": {"UploadInRecording": 7}}),
            ErrorCode::InvalidParameter,
            "FlvSpecialParam.UploadInRecording",
        );
        refused(
            json!({"Mp4Param": {"StorageMode": "hot"}}),
            ErrorCode::InvalidParameterValue,
            "Mp4Param.StorageMode",
        );
        refused(
            json!({"Mp4Param": {"CosBucketPath": "no-slash"}}),
            ErrorCode::InvalidParameterValue,
            "Mp4Param.CosBucketPath",
        );
        refused(
            json!({"Description": "d".repeat(1025)}),
            ErrorCode::InvalidParameterValue,
            "Description",
        );
        refused(
            json!({"Description": 5}),
            ErrorCode::InvalidParameter,
            "Description",
        );
    }

    #[test]
    fn flattened_string_values_are_accepted() {
        let p = Params::from_pairs([
            ("FlvParam.Enable", "1"),
            ("FlvParam.RecordInterval", "3600"),
            ("FlvParam.StorageTime", "86400"),
            ("FlvParam.VodFileName", "{StreamID}_{StartYear}"),
            ("HlsSpecialParam.FlowContinueDuration", "30"),
            ("RemoveWatermark", "True"),
            ("IsDelayLive", "0"),
            ("Unknown.Field", "x"),
        ])
        .unwrap();
        let mut b = TemplateBody::default();
        apply(&create_fields(&p).unwrap(), &mut b, MIN_RECORD_INTERVAL).unwrap();
        let f = b.flv_param.unwrap();
        assert_eq!(
            (f.enable, f.record_interval, f.storage_time),
            (1, 3600, 86_400)
        );
        assert_eq!(f.vod_file_name, "{StreamID}_{StartYear}");
        assert_eq!(b.hls_special_param.unwrap().flow_continue_duration, 30);
        assert!(b.remove_watermark);
    }

    #[test]
    fn modify_keeps_absent_fields_and_ignores_create_only_ones() {
        let mut b = create(json!({
            "Description": "d", "IsDelayLive": 1, "CosStore": 1,
            "FlvParam": {"Enable": 1, "RecordInterval": 600, "StorageTime": 60},
            "HlsSpecialParam": {"FlowContinueDuration": 10}
        }))
        .unwrap();
        let before = b.clone();
        apply(
            &modify_fields(json!({"FlvParam": {"Enable": 0}, "IsDelayLive": 0, "CosStore": 0, "Mp3Param": {"Enable": 1}})),
            &mut b,
            MIN_RECORD_INTERVAL,
        )
        .unwrap();
        let f = b.flv_param.clone().unwrap();
        assert_eq!((f.enable, f.record_interval, f.storage_time), (0, 600, 60));
        assert_eq!((b.is_delay_live, b.cos_store), (1, 1));
        assert_eq!(b.description, "d");
        assert_eq!(b.hls_special_param, before.hls_special_param);
        assert_eq!(b.mp3_param.clone().unwrap().record_interval, 1800);
        // A refused change leaves the body untouched.
        let snapshot = b.clone();
        assert!(
            apply(
                &modify_fields(json!({"Description": "new", "AacParam": {"RecordInterval": 1}})),
                &mut b,
                MIN_RECORD_INTERVAL
            )
            .is_err()
        );
        assert_eq!(b, snapshot);
    }

    #[test]
    fn shown_fills_every_format() {
        let b = create(json!({"HlsParam": {"Enable": 1}})).unwrap();
        let v = serde_json::to_value(shown(&b)).unwrap();
        assert_eq!(v["HlsParam"]["Enable"], 1);
        for f in ["FlvParam", "Mp4Param", "AacParam", "Mp3Param"] {
            assert_eq!(v[f]["Enable"], 0, "{f}");
            assert_eq!(v[f]["RecordInterval"], 1800, "{f}");
        }
        assert_eq!(v["HlsSpecialParam"]["FlowContinueDuration"], 0);
        assert_eq!(v["FlvSpecialParam"]["UploadInRecording"], false);
        assert_eq!(v["IsDelayLive"], 0);
        assert_eq!(v["RemoveWatermark"], false);
    }

    /// Every field of the SDK's nested models (`RecordParam`,
    /// `HlsSpecialParam`, `FlvSpecialParam`, copied from `models.py`) is
    /// read: each value sent comes back in the stored body.
    #[test]
    fn every_sdk_nested_field_is_read() {
        let record_param = json!({
            "RecordInterval": 600, "StorageTime": 86_400, "Enable": 1,
            "VodSubAppId": 7, "VodFileName": "{StreamID}", "Procedure": "p",
            "StorageMode": "cold", "ClassId": 3, "CosBucketName": "b",
            "CosBucketRegion": "r", "CosBucketPath": "/x",
        });
        let sent = json!({
            "Description": "d",
            "FlvParam": record_param, "HlsParam": record_param, "Mp4Param": record_param,
            "AacParam": record_param, "Mp3Param": record_param,
            "IsDelayLive": 1, "CosStore": 1, "RemoveWatermark": true,
            "HlsSpecialParam": {"FlowContinueDuration": 30},
            "FlvSpecialParam": {"UploadInRecording": true},
        });
        let stored = serde_json::to_value(create(sent.clone()).unwrap()).unwrap();
        assert_eq!(stored, sent);
    }
}

#[cfg(test)]
mod props;
