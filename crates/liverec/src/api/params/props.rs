//! Property tests of the live API's own parameter formats: China Standard
//! Time strings, StreamParam and names. Arbitrary text never panics; CST
//! times and StreamParams round-trip through their formatters; accepted
//! values are within the documented ranges; refusals name the field.

use proptest::prelude::*;
use tcapi::ErrorCode;

use super::*;
use crate::clock::cst_string;

/// Unix ms from 0001-01-01 to 9999-12-31 (the four-digit years).
const CALENDAR_MS: std::ops::RangeInclusive<i64> = -62_135_596_800_000..=253_402_300_799_999;

/// Encodes like a form value (`' '` → `+`, `:` → `%3A`).
fn form_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

proptest! {
    #[test]
    fn cst_never_panics_and_refusals_name_the_field(raw in any::<String>()) {
        if let Err(e) = parse_cst("StartTime", &raw) {
            crate::api::params::check_refusal(e, "StartTime")?;
        }
    }

    #[test]
    fn cst_near_misses_never_panic(raw in "[0-9+%:aA -]{0,40}") {
        let _ = parse_cst("EndTime", &raw);
    }

    #[test]
    fn cst_round_trips_plain_and_encoded(ms in CALENDAR_MS) {
        let text = cst_string(ms).expect("a four-digit year formats");
        let whole = ms.div_euclid(1000) * 1000;
        prop_assert_eq!(parse_cst("StartTime", &text).unwrap(), whole);
        let once = form_encode(&text);
        prop_assert_eq!(parse_cst("StartTime", &once).unwrap(), whole, "{}", once);
        let twice = form_encode(&once);
        prop_assert_eq!(parse_cst("StartTime", &twice).unwrap(), whole, "{}", twice);
        let padded = format!("  {text}\t");
        prop_assert_eq!(parse_cst("StartTime", &padded).unwrap(), whole);
    }

    #[test]
    fn stream_param_never_panics_and_stays_in_range(
        raw in any::<String>(),
        min in 1i64..=7200,
    ) {
        match parse_stream_param(&raw, min) {
            Ok(p) => {
                prop_assert!(
                    p.record_interval_s == 0 || (min..=7200).contains(&p.record_interval_s),
                    "{:?}", p
                );
                prop_assert!((0..=MAX_STORAGE_TIME_S).contains(&p.storage_time_s), "{:?}", p);
            }
            Err(e) => {
                let e = e.to_api("");
                prop_assert_eq!(e.code, ErrorCode::InvalidParameterValue);
                prop_assert!(
                    e.message.starts_with("StreamParam record_interval ")
                        || e.message.starts_with("StreamParam storage_time "),
                    "{}", e.message
                );
            }
        }
    }

    #[test]
    fn stream_param_shaped_text_never_panics(
        raw in "((record_interval|storage_time|x)(=|%3D)[-+0-9a%]{0,12}(&|%26)?){0,4}",
    ) {
        let _ = parse_stream_param(&raw, 1800);
    }

    #[test]
    fn stream_param_round_trips(
        interval in 1800i64..=7200,
        storage in 0i64..=MAX_STORAGE_TIME_S,
        extra in "[a-z_]{1,12}",
        extra_value in any::<String>(),
    ) {
        prop_assume!(extra != "record_interval" && extra != "storage_time");
        let built = form_urlencoded::Serializer::new(String::new())
            .append_pair("record_interval", &interval.to_string())
            .append_pair(&extra, &extra_value)
            .append_pair("storage_time", &storage.to_string())
            .finish();
        // As the docs ask (URL-encoded once), and plain when nothing needs it.
        let encoded = form_encode(&built);
        let p = parse_stream_param(&encoded, 1800).unwrap();
        prop_assert_eq!((p.record_interval_s, p.storage_time_s), (interval, storage));
        prop_assert_eq!(&p.text, &built);
        if !built.contains('%') {
            let plain = parse_stream_param(&built, 1800).unwrap();
            prop_assert_eq!(plain, p);
        }
    }

    #[test]
    fn stream_param_out_of_range_names_the_field(
        interval in prop_oneof![i64::MIN..1800, 7201..=i64::MAX],
        storage in prop_oneof![i64::MIN..0, MAX_STORAGE_TIME_S + 1..=i64::MAX],
    ) {
        let e = parse_stream_param(&format!("record_interval={interval}"), 1800)
            .unwrap_err()
            .to_api("");
        prop_assert_eq!(e.code, ErrorCode::InvalidParameterValue);
        prop_assert!(e.message.contains("record_interval"), "{}", e.message);
        let e = parse_stream_param(&format!("storage_time={storage}"), 1800)
            .unwrap_err()
            .to_api("");
        prop_assert!(e.message.contains("storage_time"), "{}", e.message);
    }

    #[test]
    fn names_accepted_are_bounded(value in any::<String>()) {
        match check_name("StreamName", &value) {
            Ok(()) => {
                prop_assert!(value.len() <= MAX_NAME_LEN);
                prop_assert!(!value.chars().any(|c| c.is_control() || c == '/' || c == '?'));
                prop_assert!(!value.contains('\\') && !value.contains(".."));
            }
            Err(e) => {
                let e = e.to_api("");
                prop_assert_eq!(e.code, ErrorCode::InvalidParameterValue);
                prop_assert!(e.message.starts_with("StreamName "), "{}", e.message);
            }
        }
    }
}
