//! Parameter formats specific to the live API: China Standard Time strings
//! (`2017-01-01 10:10:01`, also URL-encoded), `StreamParam`
//! (`record_interval=…&storage_time=…`, URL-encoded or plain), ids given as
//! a string or a number. Errors name the field.

use serde_json::Value;
use tcapi::Params;
use time::macros::{format_description, offset};

use super::error::Error;

/// A parameter value that is not allowed (the message names the field).
pub(super) fn invalid_value(message: impl Into<String>) -> Error {
    Error::InvalidValue(message.into())
}

/// A parameter of the wrong type or format (the message names it).
pub(super) fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid(message.into())
}

/// A required parameter that is absent or empty.
pub(super) fn missing(name: &str) -> Error {
    Error::Missing(name.to_string())
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("v={}", s.replace('&', "%26").replace('=', "%3D")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Parses a China Standard Time (UTC+8) `YYYY-MM-DD HH:MM:SS`, accepting
/// the URL-encoded form (`2017-01-01+10%3a10%3a01`), into Unix ms.
pub(super) fn parse_cst(name: &str, raw: &str) -> Result<i64, Error> {
    let mut s = raw.trim().to_string();
    // Clients encode once or twice; decode until nothing encoded remains.
    for _ in 0..3 {
        if s.contains('%') || s.contains('+') {
            s = form_decode(&s);
        }
    }
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let t = time::PrimitiveDateTime::parse(s.trim(), fmt).map_err(|_| {
        invalid_value(format!(
            "{name} must be China Standard Time in the form YYYY-MM-DD HH:MM:SS, got {raw:?}"
        ))
    })?;
    let unix = t.assume_offset(offset!(+8)).unix_timestamp();
    Ok(unix * 1000)
}

/// The recognised parts of a StreamParam.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct StreamParam {
    /// The decoded text, kept on the task.
    pub(super) text: String,
    /// record_interval, seconds (0 = none).
    pub(super) record_interval_s: i64,
    /// storage_time, seconds (0 = keep).
    pub(super) storage_time_s: i64,
}

/// Longest retention accepted: 1500 days, Tencent's template maximum.
const MAX_STORAGE_TIME_S: i64 = 1500 * 86_400;

/// The longest StreamParam accepted, bytes as sent: its two keys need a
/// few dozen; the text is kept on the task.
pub(super) const MAX_STREAM_PARAM_LEN: usize = 1024;

/// Parses StreamParam. `min_interval` is the configured floor of
/// record_interval (Tencent: 1800).
pub(super) fn parse_stream_param(raw: &str, min_interval: i64) -> Result<StreamParam, Error> {
    if raw.len() > MAX_STREAM_PARAM_LEN {
        return Err(invalid_value(format!(
            "StreamParam must be at most {MAX_STREAM_PARAM_LEN} bytes, got {}",
            raw.len()
        )));
    }
    // URL-encoded once per the docs; plain `record_interval=3600` too.
    let text = if raw.contains('%') {
        form_decode(raw)
    } else {
        raw.to_string()
    };
    let mut out = StreamParam {
        text: text.clone(),
        ..Default::default()
    };
    for (k, v) in form_urlencoded::parse(text.as_bytes()) {
        let int = |what: &str| {
            v.trim().parse::<i64>().map_err(|_| {
                invalid_value(format!(
                    "StreamParam {what} must be an integer number of seconds, got {v:?}"
                ))
            })
        };
        match k.as_ref() {
            "record_interval" => {
                let n = int("record_interval")?;
                if !(min_interval..=7200).contains(&n) {
                    return Err(invalid_value(format!(
                        "StreamParam record_interval must be between {min_interval} and 7200 seconds, got {n}"
                    )));
                }
                out.record_interval_s = n;
            }
            "storage_time" => {
                let n = int("storage_time")?;
                if !(0..=MAX_STORAGE_TIME_S).contains(&n) {
                    return Err(invalid_value(format!(
                        "StreamParam storage_time must be between 0 and {MAX_STORAGE_TIME_S} seconds, got {n}"
                    )));
                }
                out.storage_time_s = n;
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A required string that must not be empty (trimmed).
pub(super) fn required(name: &str, value: Option<String>) -> Result<String, Error> {
    match value {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(_) | None => Err(missing(name)),
    }
}

/// An optional text, trimmed; empty counts as absent.
pub(super) fn trimmed(value: Option<String>) -> Option<String> {
    value
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// An optional 0/1 flag read as an integer.
pub(super) fn flag_value(name: &str, value: Option<i64>) -> Result<Option<bool>, Error> {
    match value {
        None => Ok(None),
        Some(0) => Ok(Some(false)),
        Some(1) => Ok(Some(true)),
        Some(n) => Err(invalid_value(format!("{name} must be 0 or 1, got {n}"))),
    }
}

/// An id given as a JSON string or number (legacy TaskIds are integers).
pub(super) fn id_opt(p: &Params, name: &str) -> Result<Option<String>, Error> {
    match p.as_map().get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(_) => Err(invalid(format!("{name} must be a string or an integer"))),
    }
}

/// Names are bounded; Tencent allows a few hundred characters.
pub(super) use crate::task::MAX_NAME_BYTES as MAX_NAME_LEN;

/// Refuses a name a stream could not have ([`crate::task::name_problem`],
/// the rule ingest applies to publishes) or one with `?` (the query is not
/// part of a name). Empty is left to the caller (DomainName may be empty).
pub(super) fn check_name(name: &str, value: &str) -> Result<(), Error> {
    let bad = crate::task::name_problem(value).is_some_and(|p| p != crate::task::NAME_EMPTY);
    if bad || value.contains('?') {
        return Err(invalid_value(format!(
            "{name} must be at most {MAX_NAME_LEN} bytes without '/', '\\', '..', '?' or control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cst_times() {
        let a = parse_cst("StartTime", "2018-09-11 12:04:01").unwrap();
        assert_eq!(a, 1_536_638_641_000);
        assert_eq!(
            parse_cst("StartTime", "2018-09-11+12%3a04%3a01").unwrap(),
            a
        );
        assert_eq!(
            parse_cst("StartTime", "2018-09-11+12%253a04%253a01").unwrap(),
            a,
            "double encoded"
        );
        assert_eq!(crate::clock::cst_string(a).unwrap(), "2018-09-11 12:04:01");
        let e = parse_cst("StartTime", "2018-13-11 12:04:01").unwrap_err();
        let e = e.to_api("");
        assert_eq!(e.code, tcapi::ErrorCode::InvalidParameterValue);
        assert!(e.message.contains("StartTime"));
        assert!(
            parse_cst("EndTime", "yesterday")
                .unwrap_err()
                .to_api("")
                .message
                .contains("EndTime")
        );
    }

    #[test]
    fn stream_params() {
        let p =
            parse_stream_param("record_interval%3D3600%26storage_time%3D2592000", 1800).unwrap();
        assert_eq!((p.record_interval_s, p.storage_time_s), (3600, 2_592_000));
        assert_eq!(p.text, "record_interval=3600&storage_time=2592000");
        let p = parse_stream_param("record_interval=3600", 1800).unwrap();
        assert_eq!(p.record_interval_s, 3600);
        assert_eq!(
            parse_stream_param("", 1800).unwrap(),
            StreamParam::default()
        );
        assert!(
            parse_stream_param("record_interval=10", 1800)
                .unwrap_err()
                .to_api("")
                .message
                .contains("record_interval")
        );
        assert_eq!(
            parse_stream_param("record_interval=10", 5)
                .unwrap()
                .record_interval_s,
            10
        );
        assert!(parse_stream_param("record_interval=9000", 1800).is_err());
        assert!(parse_stream_param("storage_time=-1", 1800).is_err());
        assert!(
            parse_stream_param("storage_time=abc", 1800)
                .unwrap_err()
                .to_api("")
                .message
                .contains("storage_time")
        );
        assert_eq!(parse_stream_param("foo=bar", 1800).unwrap().text, "foo=bar");
    }

    #[test]
    fn stream_param_length_is_capped() {
        let pad = |n: usize| format!("record_interval=3600&x={}", "a".repeat(n - 23));
        let ok = pad(MAX_STREAM_PARAM_LEN);
        assert_eq!(ok.len(), MAX_STREAM_PARAM_LEN);
        assert_eq!(
            parse_stream_param(&ok, 1800).unwrap().record_interval_s,
            3600
        );
        let e = parse_stream_param(&pad(MAX_STREAM_PARAM_LEN + 1), 1800)
            .unwrap_err()
            .to_api("");
        assert_eq!(e.code, tcapi::ErrorCode::InvalidParameterValue);
        assert_eq!(
            e.message,
            format!(
                "StreamParam must be at most {MAX_STREAM_PARAM_LEN} bytes, got {}",
                MAX_STREAM_PARAM_LEN + 1
            )
        );
    }
}

/// In property tests: `e` is `InvalidParameterValue` and its message
/// starts with `field`.
#[cfg(test)]
pub(super) fn check_refusal(
    e: super::error::Error,
    field: &str,
) -> Result<(), proptest::test_runner::TestCaseError> {
    let e = e.to_api("");
    proptest::prop_assert_eq!(e.code, tcapi::ErrorCode::InvalidParameterValue);
    proptest::prop_assert!(e.message.starts_with(&format!("{field} ")), "{}", e.message);
    Ok(())
}

#[cfg(test)]
mod props;
