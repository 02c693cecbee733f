use serde_json::json;
use tcapi::ErrorCode as C;

use super::*;

fn request(v: serde_json::Value) -> CreateCommonMixStreamRequest {
    let Value::Object(m) = v else {
        panic!("object")
    };
    CreateCommonMixStreamRequest::from_params(&Params::from_map(m)).expect("well-typed")
}

fn base() -> serde_json::Value {
    json!({
        "MixStreamSessionId": "room_1",
        "InputStreamList": [
            {"InputStreamName": "a", "LayoutParams": {"ImageLayer": 1, "ImageWidth": 640, "ImageHeight": 360, "Color": "0x0000FF"}},
            {"InputStreamName": "b", "LayoutParams": {"ImageLayer": 2, "InputType": 5, "ImageWidth": 0.5, "ImageHeight": 0.5, "LocationX": 0.5, "LocationY": "10"}}
        ],
        "OutputParams": {"OutputStreamName": "c", "OutputStreamType": 1, "OutputStreamFrameRate": 30}
    })
}

fn code(v: serde_json::Value) -> (C, String) {
    let e = parse_spec(request(v)).expect_err("refused").to_api("rid");
    (e.code, e.message)
}

#[test]
fn a_valid_request_becomes_a_spec() {
    let s = parse_spec(request(base())).expect("valid");
    assert_eq!(s.session_id, "room_1");
    assert_eq!(s.inputs.len(), 2);
    assert_eq!(s.inputs[1].kind, InputKind::VideoOnly);
    assert_eq!(s.inputs[1].width, Some(Dim::Frac(0.5)));
    assert_eq!(s.inputs[1].x, Dim::Frac(0.5));
    assert_eq!(s.inputs[1].y, Dim::Px(10));
    assert_eq!(s.output.fps, 30);
    assert_eq!(s.output.gop_s, 2, "default");
    assert_eq!(s.output.audio_rate, 44_100, "default");
    assert_eq!(s.template, Template::None);
}

#[test]
fn inputs_are_ordered_by_layer() {
    let mut v = base();
    v["InputStreamList"][0]["LayoutParams"]["ImageLayer"] = json!(3);
    v["InputStreamList"][1]["LayoutParams"]["ImageLayer"] = json!(1);
    let s = parse_spec(request(v)).expect("valid");
    assert_eq!(s.inputs[0].name, "b");
}

/// A change to the base request and the code it must get.
type Case = (Box<dyn Fn(&mut serde_json::Value)>, C);

#[test]
fn bad_parameters_get_tencents_codes() {
    let cases: Vec<Case> = vec![
        (
            Box::new(|v| v["InputStreamList"] = json!([])),
            C::InvalidParameterInvalidMixInputParam,
        ),
        (
            Box::new(|v| {
                let one = v["InputStreamList"][0].clone();
                v["InputStreamList"] = json!(vec![one; 17]);
            }),
            C::InvalidParameterInvalidMixInputParam,
        ),
        (
            Box::new(|v| v["InputStreamList"][1]["LayoutParams"]["ImageLayer"] = json!(1)),
            C::InvalidParameterInvalidMixInputParam,
        ),
        (
            Box::new(|v| v["InputStreamList"][0]["LayoutParams"]["ImageLayer"] = json!(17)),
            C::InvalidParameterInvalidMixInputParam,
        ),
        (
            Box::new(|v| v["InputStreamList"][0]["LayoutParams"]["ImageLayer"] = json!(5)),
            C::InvalidParameterInvalidMixInputParam,
        ),
        (
            Box::new(|v| v["InputStreamList"][1]["LayoutParams"]["InputType"] = json!(7)),
            C::InvalidParameterInvalidMixInputParam,
        ),
        (
            Box::new(|v| v["InputStreamList"][1]["LayoutParams"]["LocationX"] = json!(-3)),
            C::InvalidParameterInvalidMixInputParam,
        ),
        (
            Box::new(|v| v["InputStreamList"][0]["LayoutParams"]["Color"] = json!("blue")),
            C::InvalidParameterInvalidMixInputParam,
        ),
        (
            Box::new(|v| v["InputStreamList"][1]["InputStreamName"] = json!("a")),
            C::InvalidParameterInvalidMixInputParam,
        ),
        (
            Box::new(|v| v["OutputParams"]["OutputStreamName"] = json!("a")),
            C::InvalidParameterInvalidOutputStreamId,
        ),
        (
            Box::new(|v| v["OutputParams"]["OutputStreamType"] = json!(0)),
            C::InvalidParameterInvalidOutputType,
        ),
        (
            Box::new(|v| v["OutputParams"]["OutputStreamType"] = json!(2)),
            C::InvalidParameterInvalidOutputType,
        ),
        (
            Box::new(|v| v["MixStreamTemplateId"] = json!(30)),
            C::InvalidParameterTemplateNotMatchInputNum,
        ),
        (
            Box::new(|v| v["MixStreamTemplateId"] = json!(390)),
            C::InvalidParameterOtherError,
        ),
        (
            Box::new(|v| v["MixStreamSessionId"] = json!("bad id!")),
            C::InvalidParameterValue,
        ),
        (
            Box::new(|v| v["OutputParams"]["OutputStreamFrameRate"] = json!(500)),
            C::InvalidParameterValue,
        ),
        (
            Box::new(|v| v["OutputParams"]["OutputAudioSampleRate"] = json!(44_000)),
            C::InvalidParameterValue,
        ),
        (
            Box::new(|v| {
                v.as_object_mut().map(|m| m.remove("OutputParams"));
            }),
            C::MissingParameter,
        ),
        (
            Box::new(|v| {
                v.as_object_mut().map(|m| m.remove("MixStreamSessionId"));
            }),
            C::MissingParameter,
        ),
        (
            Box::new(|v| {
                v["InputStreamList"][1]
                    .as_object_mut()
                    .map(|m| m.remove("LayoutParams"));
            }),
            C::MissingParameter,
        ),
    ];
    for (i, (change, want)) in cases.into_iter().enumerate() {
        let mut v = base();
        change(&mut v);
        let (got, message) = code(v);
        assert_eq!(got, want, "case {i}: {message}");
        assert!(!message.is_empty());
    }
    // A+B=A: the output named after an input replaces it.
    let mut v = base();
    v["OutputParams"]["OutputStreamType"] = json!(0);
    v["OutputParams"]["OutputStreamName"] = json!("a");
    let s = parse_spec(request(v)).expect("valid");
    assert!(s.output.replace);
    assert_eq!(s.output.name, "a");
    assert!(!parse_spec(request(base())).expect("valid").output.replace);
    // A template with the right number of inputs is accepted.
    let mut v = base();
    v["MixStreamTemplateId"] = json!(20);
    assert_eq!(
        parse_spec(request(v)).expect("valid").template,
        Template::SideBySide
    );
}

#[test]
fn canvas_layers_and_crops_are_read() {
    let mut v = base();
    v["InputStreamList"][0]["LayoutParams"]["InputType"] = json!(3);
    v["InputStreamList"][1]["LayoutParams"]["InputType"] = json!(0);
    v["InputStreamList"][1]["CropParams"] = json!({
        "CropWidth": 160, "CropHeight": 0.5, "CropStartLocationX": "0.25", "CropStartLocationY": 0
    });
    let s = parse_spec(request(v.clone())).expect("valid");
    assert_eq!(s.inputs[0].kind, InputKind::Canvas);
    assert_eq!(s.inputs[0].colour, parse_colour("0x0000FF"));
    assert_eq!(
        s.inputs[1].crop,
        Some(Crop {
            x: Dim::Frac(0.25),
            y: Dim::Px(0),
            width: Some(Dim::Px(160)),
            height: Some(Dim::Frac(0.5)),
        })
    );
    // A crop of nothing is no crop; canvases alone mix nothing; pictures
    // are refused by name.
    v["InputStreamList"][1]["CropParams"] = json!({"CropWidth": 0});
    assert_eq!(
        parse_spec(request(v.clone())).expect("valid").inputs[1].crop,
        None
    );
    v["InputStreamList"][1]["LayoutParams"]["InputType"] = json!(3);
    let (c, m) = code(v.clone());
    assert_eq!(c, C::InvalidParameterInvalidMixInputParam, "{m}");
    v["InputStreamList"][1]["LayoutParams"]["InputType"] = json!(2);
    let (c, m) = code(v.clone());
    assert_eq!(c, C::InvalidParameterInvalidMixInputParam);
    assert!(m.contains("picture"), "{m}");
    v["InputStreamList"][1]["LayoutParams"]["InputType"] = json!(0);
    v["InputStreamList"][1]["CropParams"] = json!({"CropWidth": -5});
    assert_eq!(code(v).0, C::InvalidParameterInvalidMixInputParam);
}
