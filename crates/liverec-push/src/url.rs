//! The publish URL: `rtmp://host[:port]/app/stream[?query]` split the way
//! ffmpeg splits it into the TCP address, `tcUrl`, app and stream name.
//! Owns nothing but the parsing.

use super::PushError;

/// Port when the URL names none (RTMP 1.0 §1, IANA).
const DEFAULT_PORT: u16 = 1935;

/// A parsed publish URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishUrl {
    /// `host:port` to connect to (IPv6 hosts keep their brackets).
    pub address: String,
    /// `rtmp://host:port/app`, sent as `tcUrl` in `connect` (ffmpeg always
    /// includes the port).
    pub tc_url: String,
    /// The application: every path segment but the last.
    pub app: String,
    /// The last path segment plus `?query`, sent as-is in `publish`.
    pub stream: String,
}

impl PublishUrl {
    /// Parses `rtmp://host[:port]/app[/more]/stream[?query]`. The query
    /// (which may contain `/`) stays with the stream name, where Tencent
    /// style push keys (`txSecret`, `txTime`) are expected.
    pub fn parse(url: &str) -> Result<Self, PushError> {
        let bad = |why: &str| PushError::Url(format!("{url}: {why}"));
        let rest = url
            .strip_prefix("rtmp://")
            .ok_or_else(|| bad("only rtmp:// is supported"))?;
        let (authority, path_query) = rest
            .split_once('/')
            .ok_or_else(|| bad("no /app/stream path"))?;
        let (path, query) = match path_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_query, None),
        };
        let (app, name) = path
            .rsplit_once('/')
            .ok_or_else(|| bad("no stream name after the app"))?;
        if app.is_empty() || name.is_empty() {
            return Err(bad("app and stream name must not be empty"));
        }
        let address = with_port(authority).ok_or_else(|| bad("bad host or port"))?;
        let stream = match query {
            Some(q) => format!("{name}?{q}"),
            None => name.to_owned(),
        };
        Ok(PublishUrl {
            tc_url: format!("rtmp://{address}/{app}"),
            address,
            app: app.to_owned(),
            stream,
        })
    }
}

/// `authority` with the default port added when it has none; `None` if
/// the host is empty or the port is not a number.
fn with_port(authority: &str) -> Option<String> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{inside}]"), port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return None;
    }
    let port = match port {
        Some(p) => p.parse::<u16>().ok()?,
        None => DEFAULT_PORT,
    };
    Some(format!("{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> (String, String, String, String) {
        let u = PublishUrl::parse(url).unwrap();
        (u.address, u.tc_url, u.app, u.stream)
    }

    #[test]
    fn splits_like_ffmpeg() {
        assert_eq!(
            parse("rtmp://127.0.0.1:1936/live/s1?txSecret=ab/c&txTime=1"),
            (
                "127.0.0.1:1936".into(),
                "rtmp://127.0.0.1:1936/live".into(),
                "live".into(),
                "s1?txSecret=ab/c&txTime=1".into()
            )
        );
        assert_eq!(
            parse("rtmp://example.com/app/inst/stream"),
            (
                "example.com:1935".into(),
                "rtmp://example.com:1935/app/inst".into(),
                "app/inst".into(),
                "stream".into()
            )
        );
        assert_eq!(parse("rtmp://[::1]:99/live/s").0, "[::1]:99");
        assert_eq!(parse("rtmp://[::1]/live/s").0, "[::1]:1935");
    }

    #[test]
    fn rejects_bad_urls() {
        for url in [
            "http://h/live/s",
            "rtmp://h",
            "rtmp://h/live",
            "rtmp://h/live/",
            "rtmp://h//s",
            "rtmp://:1935/live/s",
            "rtmp://h:port/live/s",
            "rtmp://h:99999/live/s",
            "rtmp://[::1/live/s",
            "rtmp://[::1]x/live/s",
        ] {
            assert!(
                matches!(PublishUrl::parse(url), Err(PushError::Url(_))),
                "{url}"
            );
        }
    }
}
