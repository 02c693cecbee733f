//! Names of recorded files: the storage key of an output (stream directory,
//! stream name, UTC start, task and a random part) or the rendering of a
//! template's `VodFileName` with its China Standard Time placeholders.
//! Every part is made path-safe here; extensions are the caller's.

use crate::task::StreamKey;

/// Characters kept in storage keys; everything else becomes `_`.
fn key_part(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => "_".to_string(),
        _ => cleaned,
    }
}

fn random16() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_string()
}

/// `<domain>/<app>/<stream>`, the directory of a stream's files.
fn stream_dir(key: &StreamKey) -> String {
    format!(
        "{}/{}/{}",
        key_part(&key.domain),
        key_part(&key.app),
        key_part(&key.stream)
    )
}

/// `<domain>/<app>/<stream>/<stream>_<UTC yyyymmddHHMMSS>_<task>_<random>`
/// (without extension); the random part makes keys unguessable, as files
/// are served without authentication.
pub(super) fn storage_base(stream: &StreamKey, task_id: &str, start_ms: i64) -> String {
    let ts = time::OffsetDateTime::from_unix_timestamp(start_ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year][month][day][hour][minute][second]"
            ))
            .ok()
        })
        .unwrap_or_else(|| "0".into());
    let task = if task_id.is_empty() { "rule" } else { task_id };
    format!(
        "{}/{}_{}_{}_{}",
        stream_dir(stream),
        key_part(&stream.stream),
        ts,
        key_part(task),
        random16(),
    )
}

/// Renders a template `VodFileName` (China Standard Time placeholders, as
/// Tencent) under the stream's directory, with a random suffix.
pub(super) fn named_base(
    name: &str,
    stream: &StreamKey,
    task_id: &str,
    start_ms: i64,
    end_ms: i64,
) -> String {
    let cst = time::macros::offset!(+8);
    let parts = |ms: i64| {
        let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .to_offset(cst);
        [
            ("Year", format!("{:04}", t.year())),
            ("Month", format!("{:02}", u8::from(t.month()))),
            ("Day", format!("{:02}", t.day())),
            ("Hour", format!("{:02}", t.hour())),
            ("Minute", format!("{:02}", t.minute())),
            ("Second", format!("{:02}", t.second())),
            ("Millisecond", format!("{:03}", ms.rem_euclid(1000))),
        ]
    };
    let mut out = name
        .replace("{StreamID}", &stream.stream)
        .replace("{Domain}", &stream.domain)
        .replace("{AppName}", &stream.app)
        .replace("{TaskId}", task_id);
    for (prefix, ms) in [("Start", start_ms), ("End", end_ms)] {
        for (field, value) in parts(ms) {
            out = out.replace(&format!("{{{prefix}{field}}}"), &value);
        }
    }
    format!("{}/{}_{}", stream_dir(stream), key_part(&out), random16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_parts_are_path_safe() {
        assert_eq!(key_part("a b/c"), "a_b_c");
        assert_eq!(key_part(".."), "_");
        assert_eq!(key_part(""), "_");
        assert_eq!(key_part("Live-1.x_y"), "Live-1.x_y");
    }
}

#[cfg(test)]
mod props;
