//! What a publisher says about itself before and while publishing: the
//! publish name and its query (`stream?txSecret=…`), the host of its tcUrl
//! (the stream's domain) and the tracks its onMetaData declares. Pure
//! parsing; admission decisions live in `auth` and `session`.

use std::net::IpAddr;

use media::amf0;

use crate::task::{name_problem, normalize_domain};

#[cfg(test)]
pub(super) use crate::task::MAX_NAME_BYTES;

/// Refuses an AppName or StreamName that could not be a stream's name
/// ([`name_problem`]); the message names the field and the reason.
pub(super) fn check_name(field: &str, name: &str) -> Result<(), String> {
    let Some(why) = name_problem(name) else {
        return Ok(());
    };
    let shown: String = name.chars().take(64).collect();
    Err(format!("{field} {shown:?} {why}"))
}

/// Splits `name?query` into its parts.
pub(super) fn split_query(s: &str) -> (&str, &str) {
    match s.split_once('?') {
        Some((a, b)) => (a, b),
        None => (s, ""),
    }
}

/// The host of an RTMP URL (`rtmp://Host:1935/app` → `host`).
pub(super) fn tc_url_host(tc_url: &str) -> Option<String> {
    let rest = tc_url.split_once("://").map(|(_, r)| r).unwrap_or(tc_url);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let h = normalize_domain(host);
    (!h.is_empty()).then_some(h)
}

/// The domain of a publish, normalised exactly once: the tcUrl's host, or
/// the address the publisher connected to when the tcUrl has none (an IPv6
/// address in brackets, as in a URL).
pub(super) fn publish_domain(tc_url: Option<&str>, local: Option<IpAddr>) -> String {
    tc_url.and_then(tc_url_host).unwrap_or_else(|| match local {
        Some(IpAddr::V6(ip)) => normalize_domain(&format!("[{ip}]")),
        Some(ip) => normalize_domain(&ip.to_string()),
        None => String::new(),
    })
}

/// Whether onMetaData declares video / audio (codec ids or hasVideo/hasAudio).
pub(super) fn declared_tracks(meta: &amf0::Value) -> Option<(bool, bool)> {
    let flag = |has: &str, codec: &str| match meta.get(has) {
        Some(amf0::Value::Boolean(b)) => Some(*b),
        _ => meta
            .get(codec)
            .map(|v| !matches!(v, amf0::Value::Null | amf0::Value::Undefined)),
    };
    let v = flag("hasVideo", "videocodecid");
    let a = flag("hasAudio", "audiocodecid");
    (v.is_some() || a.is_some()).then(|| (v.unwrap_or(false), a.unwrap_or(false)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("StreamName", "cam-1_A.b"), Ok(()));
        assert_eq!(check_name("StreamName", &"s".repeat(256)), Ok(()));
        assert_eq!(check_name("StreamName", "流"), Ok(()));
        for (bad, why) in [
            ("", "is empty"),
            ("a/b", "contains / or \\"),
            ("a\\b", "contains / or \\"),
            ("..", "contains .."),
            ("a..b", "contains .."),
            ("a\0b", "contains a control character"),
            ("a\nb", "contains a control character"),
        ] {
            let e = check_name("AppName", bad).unwrap_err();
            assert!(
                e.starts_with("AppName ") && e.ends_with(why),
                "{bad:?}: {e}"
            );
        }
        let long = "s".repeat(257);
        let e = check_name("StreamName", &long).unwrap_err();
        assert!(e.ends_with("is longer than 256 bytes"), "{e}");
        assert!(e.len() < 120, "the message quotes a bounded prefix: {e}");
    }

    use super::*;

    #[test]
    fn publish_identity() {
        assert_eq!(
            tc_url_host("rtmp://Push.Example.com:1935/live").as_deref(),
            Some("push.example.com")
        );
        assert_eq!(tc_url_host("rtmp://u:p@h/live?x=1").as_deref(), Some("h"));
        assert_eq!(tc_url_host("rtmp:///live"), None);
        assert_eq!(
            split_query("s1?txSecret=a&txTime=b"),
            ("s1", "txSecret=a&txTime=b")
        );
        assert_eq!(split_query("s1"), ("s1", ""));
    }

    #[test]
    fn metadata_declares_tracks() {
        let m = amf0::Value::EcmaArray(vec![("videocodecid".into(), amf0::Value::Number(7.0))]);
        assert_eq!(declared_tracks(&m), Some((true, false)));
        let m = amf0::Value::Object(vec![
            ("hasVideo".into(), amf0::Value::Boolean(false)),
            ("audiocodecid".into(), amf0::Value::Number(10.0)),
        ]);
        assert_eq!(declared_tracks(&m), Some((false, true)));
        assert_eq!(declared_tracks(&amf0::Value::Object(vec![])), None);
    }
}

#[cfg(test)]
mod props;
