//! Validation of a callback template's fields, before any effect: the
//! TemplateName, the Description, every notify URL, the CallbackKey and the
//! RecordExceptionLevels. A refusal is `InvalidParameterValue` (or
//! `MissingParameter`) naming the field.

use crate::api::error::Error;
use crate::api::params::invalid_value;
use crate::api::wire::CallbackTemplateFields;
use crate::store::CallbackFields;

/// TemplateName, bytes (Tencent: "长度上限：255字节").
pub(super) const MAX_NAME_BYTES: usize = 255;
/// Description, bytes (Tencent: "长度上限：1024字节").
pub(super) const MAX_DESCRIPTION_BYTES: usize = 1024;
/// A notify URL, bytes. Tencent documents no limit; 512 bounds what every
/// event delivery carries and stores.
pub(super) const MAX_URL_BYTES: usize = 512;
/// CallbackKey, bytes. Tencent documents no limit.
pub(super) const MAX_KEY_BYTES: usize = 256;
/// The RecordExceptionLevels values: the request models name error,
/// warning and info; `CallBackTemplateInfo` names error and alarm.
const LEVELS: [&str; 4] = ["error", "warning", "info", "alarm"];

/// Validates a TemplateName: 1–255 bytes of Chinese characters, ASCII
/// letters and digits, `_` and `-` (the characters Tencent allows).
pub(super) fn template_name(raw: &str) -> Result<String, Error> {
    let name = raw.trim();
    if name.is_empty() {
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
    if name.len() > MAX_NAME_BYTES || !name.chars().all(ok_char) {
        return Err(invalid_value(format!(
            "TemplateName must be at most {MAX_NAME_BYTES} bytes of Chinese characters, letters, digits, '_' or '-'"
        )));
    }
    Ok(name.to_string())
}

fn no_control(field: &str, v: &str) -> Result<(), Error> {
    if v.chars().any(char::is_control) {
        return Err(invalid_value(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

/// Validates a notify URL; "" (unset: that event is not sent) is allowed.
/// Otherwise an absolute `http` or `https` URL with a host, at most
/// [`MAX_URL_BYTES`], without control characters or spaces, without
/// credentials and without a fragment.
pub(super) fn notify_url(field: &str, raw: &str) -> Result<String, Error> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    if v.len() > MAX_URL_BYTES {
        return Err(invalid_value(format!(
            "{field} must be at most {MAX_URL_BYTES} bytes, got {}",
            v.len()
        )));
    }
    no_control(field, v)?;
    let bad = |why: &str| invalid_value(format!("{field} {why}"));
    if v.contains(' ') {
        return Err(bad("must not contain spaces"));
    }
    let url = url::Url::parse(v).map_err(|e| bad(&format!("is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must be an http:// or https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a #fragment"));
    }
    Ok(v.to_string())
}

/// A tenant's receiver must be on a public address (see
/// `callbacks::address`): `localhost` and non-public IP literals are
/// refused here; names are checked again after DNS at each delivery.
fn receiver_allowed(field: &str, url: &str) -> Result<(), Error> {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    match crate::callbacks::address::host_problem(&host) {
        Some(why) => Err(invalid_value(format!(
            "{field} {why}; the server does not send callbacks there \
             (its operator can allow it with callback_allow_private)"
        ))),
        None => Ok(()),
    }
}

/// Validates a CallbackKey: at most [`MAX_KEY_BYTES`], no control characters.
pub(super) fn callback_key(raw: &str) -> Result<String, Error> {
    if raw.len() > MAX_KEY_BYTES {
        return Err(invalid_value(format!(
            "CallbackKey must be at most {MAX_KEY_BYTES} bytes, got {}",
            raw.len()
        )));
    }
    no_control("CallbackKey", raw)?;
    Ok(raw.to_string())
}

/// Validates RecordExceptionLevels: each one of [`LEVELS`] (any case),
/// duplicates dropped, order kept.
pub(super) fn levels(raw: &[String]) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = Vec::new();
    for l in raw {
        let v = l.trim().to_ascii_lowercase();
        if !LEVELS.contains(&v.as_str()) {
            return Err(invalid_value(format!(
                "RecordExceptionLevels values must be one of {}",
                LEVELS.join(", ")
            )));
        }
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// The stored URL of `wire` (a notify-URL wire name) in `f`.
fn url_slot<'a>(f: &'a mut CallbackFields, wire: &str) -> Option<&'a mut String> {
    Some(match wire {
        "StreamBeginNotifyUrl" => &mut f.stream_begin_url,
        "StreamEndNotifyUrl" => &mut f.stream_end_url,
        "RecordNotifyUrl" => &mut f.record_url,
        "RecordStatusNotifyUrl" => &mut f.record_status_url,
        "SnapshotNotifyUrl" => &mut f.snapshot_url,
        "PornCensorshipNotifyUrl" => &mut f.porn_censorship_url,
        "StreamMixNotifyUrl" => &mut f.stream_mix_url,
        "PushExceptionNotifyUrl" => &mut f.push_exception_url,
        "AudioAuditNotifyUrl" => &mut f.audio_audit_url,
        "RecordExceptionNotifyUrl" => &mut f.record_exception_url,
        _ => return None,
    })
}

/// Whether `f` has at least one notify URL (Tencent: "至少填写一个回调 URL").
fn has_url(f: &CallbackFields) -> bool {
    [
        &f.stream_begin_url,
        &f.stream_end_url,
        &f.record_url,
        &f.record_status_url,
        &f.snapshot_url,
        &f.porn_censorship_url,
        &f.stream_mix_url,
        &f.push_exception_url,
        &f.audio_audit_url,
        &f.record_exception_url,
    ]
    .iter()
    .any(|u| !u.is_empty())
}

/// Applies the fields of a Create or Modify request to `f` (absent fields
/// keep their value; "" clears a URL), validating each; the result must
/// still name at least one notify URL.
pub(super) fn apply(
    r: CallbackTemplateFields,
    f: &mut CallbackFields,
    allow_private: bool,
) -> Result<(), Error> {
    if let Some(d) = r.description {
        if d.len() > MAX_DESCRIPTION_BYTES {
            return Err(invalid_value(format!(
                "Description must be at most {MAX_DESCRIPTION_BYTES} bytes, got {}",
                d.len()
            )));
        }
        no_control("Description", &d)?;
        f.description = d;
    }
    for (wire, value) in r.urls {
        if let Some(v) = value {
            let checked = notify_url(wire, &v)?;
            if !allow_private {
                receiver_allowed(wire, &checked)?;
            }
            let slot =
                url_slot(f, wire).ok_or_else(|| Error::internal(format!("no slot for {wire}")))?;
            *slot = checked;
        }
    }
    if let Some(k) = r.callback_key {
        f.callback_key = callback_key(&k)?;
    }
    if let Some(l) = r.record_exception_levels {
        f.record_exception_levels = levels(&l)?;
    }
    if !has_url(f) {
        return Err(Error::Missing(
            "At least one notify URL (StreamBeginNotifyUrl, StreamEndNotifyUrl, RecordNotifyUrl, …)"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn value_error(e: Error) -> String {
        match e {
            Error::InvalidValue(m) => m,
            other => panic!("expected InvalidValue, got {other:?}"),
        }
    }

    #[test]
    fn urls_are_absolute_http_with_a_host() {
        for ok in [
            "http://127.0.0.1:8080/cb",
            "https://example.com/a?b=c&d=e",
            "HTTP://Example.com",
            "http://[::1]:9/x",
            " http://trimmed.example/ ",
        ] {
            assert!(notify_url("RecordNotifyUrl", ok).is_ok(), "{ok}");
        }
        assert_eq!(notify_url("RecordNotifyUrl", "").unwrap(), "");
        assert_eq!(notify_url("RecordNotifyUrl", "  ").unwrap(), "");
        for bad in [
            "ftp://example.com/x",
            "example.com/cb",
            "/relative",
            "http://",
            "http://user:pw@example.com/",
            "http://example.com/#frag",
            "http://exa mple.com/",
            "http://example.com/\u{7}",
            "http://example.com:99999/",
            "javascript:alert(1)",
            "file:///etc/passwd",
        ] {
            let m = value_error(notify_url("RecordNotifyUrl", bad).unwrap_err());
            assert!(m.starts_with("RecordNotifyUrl"), "{bad}: {m}");
        }
        let long = format!("http://example.com/{}", "a".repeat(MAX_URL_BYTES));
        let m = value_error(notify_url("StreamEndNotifyUrl", &long).unwrap_err());
        assert!(m.contains("StreamEndNotifyUrl") && m.contains("512"), "{m}");
        let edge = format!("http://e.com/{}", "a".repeat(MAX_URL_BYTES - 13));
        assert_eq!(edge.len(), MAX_URL_BYTES);
        assert!(notify_url("RecordNotifyUrl", &edge).is_ok());
    }

    #[test]
    fn names_keys_and_levels() {
        assert_eq!(template_name(" 回调_cb-1 ").unwrap(), "回调_cb-1");
        assert_eq!(
            template_name("").unwrap_err(),
            Error::Missing("TemplateName".into())
        );
        assert!(template_name(&"n".repeat(255)).is_ok());
        for bad in ["a b".to_string(), "x/y".into(), "n".repeat(256)] {
            let m = value_error(template_name(&bad).unwrap_err());
            assert!(m.contains("TemplateName"), "{m}");
        }
        assert_eq!(callback_key("k3y!").unwrap(), "k3y!");
        assert!(callback_key(&"k".repeat(MAX_KEY_BYTES)).is_ok());
        for bad in ["k".repeat(MAX_KEY_BYTES + 1), "a\nb".into()] {
            let m = value_error(callback_key(&bad).unwrap_err());
            assert!(m.contains("CallbackKey"), "{m}");
        }
        let l = |v: &[&str]| levels(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(l(&["Error", "info", "error"]).unwrap(), ["error", "info"]);
        assert_eq!(l(&[]).unwrap(), Vec::<String>::new());
        let m = value_error(l(&["fatal"]).unwrap_err());
        assert!(m.contains("RecordExceptionLevels"), "{m}");
    }

    #[test]
    fn apply_keeps_absent_fields_and_needs_one_url() {
        let mut f = CallbackFields::default();
        let create = CallbackTemplateFields {
            description: Some("d".into()),
            urls: vec![
                ("RecordNotifyUrl", Some("http://h/r".into())),
                ("StreamBeginNotifyUrl", None),
            ],
            callback_key: Some("key".into()),
            record_exception_levels: Some(vec!["warning".into()]),
        };
        apply(create, &mut f, false).unwrap();
        assert_eq!(
            (
                f.description.as_str(),
                f.record_url.as_str(),
                f.callback_key.as_str()
            ),
            ("d", "http://h/r", "key")
        );
        assert_eq!(f.record_exception_levels, ["warning"]);
        // Modify: only the given fields change.
        let modify = CallbackTemplateFields {
            urls: vec![("StreamEndNotifyUrl", Some("https://h/e".into()))],
            ..Default::default()
        };
        apply(modify, &mut f, false).unwrap();
        assert_eq!(
            (f.record_url.as_str(), f.stream_end_url.as_str()),
            ("http://h/r", "https://h/e")
        );
        assert_eq!(f.callback_key, "key");
        // Clearing every URL is refused; nothing is required of a name here.
        let mut g = f.clone();
        let clear = CallbackTemplateFields {
            urls: vec![
                ("StreamEndNotifyUrl", Some(String::new())),
                ("RecordNotifyUrl", Some(String::new())),
            ],
            ..Default::default()
        };
        assert!(
            matches!(apply(clear, &mut g, false), Err(Error::Missing(m)) if m.contains("notify URL"))
        );
        assert!(matches!(
            apply(
                CallbackTemplateFields::default(),
                &mut CallbackFields::default(),
                false
            ),
            Err(Error::Missing(_))
        ));
        let long = CallbackTemplateFields {
            description: Some("d".repeat(MAX_DESCRIPTION_BYTES + 1)),
            ..Default::default()
        };
        let m = value_error(apply(long, &mut f.clone(), false).unwrap_err());
        assert!(m.contains("Description"), "{m}");
        let bad = CallbackTemplateFields {
            urls: vec![("PushExceptionNotifyUrl", Some("nope".into()))],
            ..Default::default()
        };
        let m = value_error(apply(bad, &mut f, false).unwrap_err());
        assert!(m.starts_with("PushExceptionNotifyUrl"), "{m}");
    }

    #[test]
    fn receivers_inside_the_operators_network_need_the_operators_consent() {
        let to = |url: &str| CallbackTemplateFields {
            urls: vec![("RecordNotifyUrl", Some(url.into()))],
            ..Default::default()
        };
        for url in [
            "http://127.0.0.1:9/cb",
            "http://localhost/cb",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/cb",
            "https://[::1]:8443/cb",
            "http://[::ffff:192.168.0.1]/cb",
        ] {
            let mut f = CallbackFields::default();
            let m = value_error(apply(to(url), &mut f, false).unwrap_err());
            assert!(
                m.starts_with("RecordNotifyUrl") && m.contains("callback_allow_private"),
                "{url}: {m}"
            );
            assert_eq!(f, CallbackFields::default(), "nothing applied");
            // Allowed by the operator.
            apply(to(url), &mut f, true).unwrap();
            assert_eq!(f.record_url, url);
        }
        let mut f = CallbackFields::default();
        apply(to("https://hooks.example.com/cb"), &mut f, false).unwrap();
        apply(to("http://8.8.8.8/cb"), &mut f, false).unwrap();
    }
}
