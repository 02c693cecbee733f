//! The load generator: `--streams N` publishes N streams from one process
//! and one copy of the file (tag bodies are shared `Bytes`, so each
//! connection only frames them), each stream on its own connection and
//! task, their connects spread over `--ramp-ms`. Reports what every stream
//! sent — video frames above all, so a benchmark can count the frames a
//! server lost — as one JSON line.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::url::PublishUrl;
use super::{PushError, PushOptions, PushReport, connect_and_publish, load, seed};

/// What each stream of a `--streams` run did, in stream order.
#[derive(Debug)]
pub struct ManyReport {
    /// The stream name each was published as, and its outcome.
    pub streams: Vec<(String, Result<PushReport, PushError>)>,
}

impl ManyReport {
    /// Streams whose push failed.
    pub fn failed(&self) -> usize {
        self.streams.iter().filter(|(_, r)| r.is_err()).count()
    }
}

/// JSON: `{"streams":N,"failed":F,"video_frames":…,"per_stream":[{"stream":…,
/// "video_frames":…,"video_tags":…,"audio_tags":…,"bytes":…,"media_ms":…}
/// or {"stream":…,"error":…}]}`.
impl fmt::Display for ManyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let frames: u64 = self
            .streams
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .map(|r| r.video_frames)
            .sum();
        write!(
            f,
            r#"{{"streams":{},"failed":{},"video_frames":{frames},"per_stream":["#,
            self.streams.len(),
            self.failed()
        )?;
        for (i, (name, r)) in self.streams.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match r {
                Ok(r) => write!(
                    f,
                    r#"{{"stream":{},"video_frames":{},"video_tags":{},"audio_tags":{},"bytes":{},"media_ms":{}}}"#,
                    json_string(name),
                    r.video_frames,
                    r.video_tags,
                    r.audio_tags,
                    r.body_bytes,
                    r.media_ms
                )?,
                Err(e) => write!(
                    f,
                    r#"{{"stream":{},"error":{}}}"#,
                    json_string(name),
                    json_string(&e.to_string())
                )?,
            }
        }
        f.write_str("]}")
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `url` with `_<i>` after the stream name (before any `?query`).
fn nth(url: &PublishUrl, i: u32) -> PublishUrl {
    let stream = match url.stream.split_once('?') {
        Some((name, query)) => format!("{name}_{i}?{query}"),
        None => format!("{}_{i}", url.stream),
    };
    PublishUrl {
        stream,
        ..url.clone()
    }
}

/// Publishes `opts.streams` streams at once; each stream's failure is its
/// own (reported), a bad URL or file fails the whole run.
pub async fn run_many(opts: &PushOptions) -> Result<ManyReport, PushError> {
    let url = PublishUrl::parse(&opts.url)?;
    let source = Arc::new(load(opts).await?);
    let opts = Arc::new(opts.clone());
    let n = opts.streams.unwrap_or(1).max(1);
    let base_seed = seed();
    let mut set = JoinSet::new();
    for i in 0..n {
        let (url, source, opts) = (nth(&url, i), source.clone(), opts.clone());
        let delay = Duration::from_millis(opts.ramp_ms.saturating_mul(u64::from(i)) / u64::from(n));
        set.spawn(async move {
            tokio::time::sleep(delay).await;
            let seed = base_seed ^ (u64::from(i) << 20);
            let r = connect_and_publish(&url, &source, &opts, seed).await;
            (i, url.stream, r)
        });
    }
    let mut streams: Vec<Option<(String, Result<PushReport, PushError>)>> =
        (0..n).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        // A task cannot panic short of a bug; its slot then stays empty.
        if let Ok((i, name, r)) = joined
            && let Some(slot) = streams.get_mut(i as usize)
        {
            *slot = Some((name, r));
        }
    }
    Ok(ManyReport {
        streams: streams
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                s.unwrap_or_else(|| {
                    (
                        format!("#{i}"),
                        Err(PushError::Closed("(the stream's task panicked)")),
                    )
                })
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_get_their_index_before_the_query() {
        let u = PublishUrl::parse("rtmp://127.0.0.1:1935/live/load?txSecret=a").unwrap();
        assert_eq!(nth(&u, 7).stream, "load_7?txSecret=a");
        let u = PublishUrl::parse("rtmp://127.0.0.1/live/s").unwrap();
        assert_eq!(nth(&u, 0).stream, "s_0");
        assert_eq!(nth(&u, 0).tc_url, u.tc_url);
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n"), r#""a\"b\\c\u000a""#);
    }
}
