//! Property tests of template bodies: any TemplateName, VodFileName or
//! nested parameter object is validated without a panic; what is accepted
//! is within the documented ranges; a refusal names the field and leaves
//! the body as it was.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tcapi::{ErrorCode, Params};

use super::*;
use crate::api::wire::CreateLiveRecordTemplateRequest;

/// A JSON value of a few shapes: what a client may put in any field.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-10_000i64..200_000_000).prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        "[0-9]{1,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop::collection::vec(inner, 0..3).prop_map(Value::Array)
    })
}

/// RecordParam's fields, as the SDK's model lists them.
fn fields() -> &'static [&'static str] {
    crate::api::wire::tests::SDK_MODELS
        .iter()
        .find(|(model, _)| *model == "RecordParam")
        .map_or(&[], |(_, fields)| *fields)
}

const TOP: &[&str] = &[
    "Description",
    "FlvParam",
    "HlsParam",
    "Mp4Param",
    "AacParam",
    "Mp3Param",
    "IsDelayLive",
    "CosStore",
    "RemoveWatermark",
    "HlsSpecialParam",
    "FlvSpecialParam",
];

/// A request object with some of the template's fields, nested or not.
fn any_request() -> impl Strategy<Value = Map<String, Value>> {
    let record_param = prop::collection::btree_map(
        prop::sample::select(fields()).prop_map(str::to_string),
        any_value(),
        0..5,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()));
    let field = prop_oneof![record_param, any_value()];
    prop::collection::btree_map(
        prop::sample::select(TOP).prop_map(str::to_string),
        field,
        0..6,
    )
    .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #[test]
    fn template_names(raw in any::<String>()) {
        match template_name(&raw) {
            Ok(n) => {
                prop_assert_eq!(&n, &raw);
                prop_assert!((1..=MAX_TEMPLATE_NAME).contains(&n.chars().count()));
            }
            Err(e) => prop_assert!(e.to_api("").message.contains("TemplateName")),
        }
    }

    #[test]
    fn vod_file_names_never_panic(raw in any::<String>()) {
        if let Err(e) = vod_file_name("FlvParam.VodFileName", &raw) {
            let e = e.to_api("");
            prop_assert_eq!(e.code, ErrorCode::InvalidParameterInvalidVodFileName);
            prop_assert!(e.message.starts_with("FlvParam.VodFileName "));
        }
    }

    #[test]
    fn placeholders_and_text_are_accepted(
        parts in prop::collection::vec(
            prop_oneof![
                prop::sample::select(PLACEHOLDERS).prop_map(|p| format!("{{{p}}}")),
                "[^{}]{0,6}",
            ],
            0..12,
        ),
    ) {
        let name: String = parts.concat();
        prop_assume!(name.chars().count() <= 256);
        prop_assert!(vod_file_name("F", &name).is_ok(), "{:?}", name);
    }

    #[test]
    fn any_body_is_validated_and_refusals_change_nothing(req in any_request()) {
        let params = Params::from_map(req);
        let Ok(fields) = CreateLiveRecordTemplateRequest::from_params(&params) else {
            return Ok(());
        };
        let fields = TemplateFields::from(fields);
        let mut body = TemplateBody::default();
        let before = body.clone();
        match apply(&fields, &mut body, MIN_RECORD_INTERVAL) {
            Ok(()) => {
                for format in FileFormat::ALL {
                    if let Some(p) = body.param(format) {
                        prop_assert!((0..=1).contains(&p.enable));
                        prop_assert!((0..=MAX_STORAGE_TIME).contains(&p.storage_time));
                        if format != FileFormat::Hls {
                            prop_assert!((MIN_RECORD_INTERVAL..=MAX_INTERVAL_VIDEO).contains(&p.record_interval));
                        }
                        prop_assert!(vod_file_name("F", &p.vod_file_name).is_ok());
                    }
                }
                prop_assert!(body.description.chars().count() <= MAX_DESCRIPTION);
                prop_assert!((0..=1).contains(&body.is_delay_live));
            }
            Err(e) => {
                prop_assert_eq!(&body, &before);
                let e = e.to_api("");
                prop_assert!(
                    TOP.iter().any(|f| e.message.contains(f)),
                    "{:?} names no field", e.message
                );
            }
        }
    }
}
