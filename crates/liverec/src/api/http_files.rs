//! `GET`/`HEAD /files/<key>`: serves recorded files, from local disk or
//! streamed from the bucket, with single-range support (`Range: bytes=a-b`,
//! `a-`, `-n`) and per-format content types.
//! No authentication: keys carry a random component (SPEC §3.4). Every
//! answer carries CORS headers and `OPTIONS` answers the preflight, so
//! browser players on other origins can fetch ranges.

use std::io::SeekFrom;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::AppState;

/// Content type by file extension.
pub(super) fn content_type(key: &str) -> &'static str {
    let ext = key
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    crate::storage::CONTENT_TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map_or("application/octet-stream", |(_, t)| *t)
}

/// The byte range asked for, if any and satisfiable; Err(()) if
/// unsatisfiable. Malformed or multi-range headers are ignored (full body).
pub(super) fn parse_range(value: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.is_empty(), b.is_empty()) {
        (true, false) => {
            let Ok(n) = b.parse::<u64>() else {
                return Ok(None);
            };
            if n == 0 || len == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len - 1)
        }
        (false, _) => {
            let Ok(start) = a.parse::<u64>() else {
                return Ok(None);
            };
            let end = if b.is_empty() {
                len.saturating_sub(1)
            } else {
                match b.parse::<u64>() {
                    Ok(e) if e >= start => e.min(len.saturating_sub(1)),
                    _ => return Ok(None),
                }
            };
            if start >= len {
                return Err(());
            }
            (start, end)
        }
        (true, true) => return Ok(None),
    };
    Ok(Some(range))
}

/// Adds the CORS headers every `/files` answer carries (errors included),
/// so a browser player (hls.js, a `<video>` element on another origin) can
/// read the body and the range headers.
fn cors(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Content-Range, Content-Length, Accept-Ranges"),
    );
    r
}

/// `OPTIONS /files/<key>`: the CORS preflight of a ranged GET.
pub(super) async fn preflight() -> Response {
    let mut r = cors(StatusCode::NO_CONTENT.into_response());
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Range, If-Range, Accept, Origin"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    r
}

pub(super) async fn serve(
    state: State<Arc<AppState>>,
    method: Method,
    key: Path<String>,
    headers: HeaderMap,
) -> Response {
    cors(serve_file(state, method, key, headers).await)
}

/// Where the bytes of an answer come from.
enum Source {
    Local(tokio::fs::File),
    Bucket,
}

async fn serve_file(
    State(state): State<Arc<AppState>>,
    method: Method,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let opened = match state.storage.bucket() {
        // Keys are checked as for local files (no escaping, no `.part`).
        Some(b) => match state.storage.path_of(&key) {
            Ok(_) => b
                .size(&key)
                .await
                .map(|o| o.map(|len| (Source::Bucket, len))),
            Err(e) => Err(e),
        },
        None => state
            .storage
            .open_read(&key)
            .await
            .map(|o| o.map(|(f, len)| (Source::Local(f), len))),
    };
    let (source, len) = match opened {
        Ok(Some(x)) => x,
        Ok(None) => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return (StatusCode::NOT_FOUND, "not found\n").into_response();
        }
        Err(e) => {
            tracing::error!(%key, error = %e, "cannot open file");
            return (StatusCode::SERVICE_UNAVAILABLE, "cannot read file\n").into_response();
        }
    };
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, count) = match parse_range(range_header, len) {
        Ok(None) => (StatusCode::OK, 0, len),
        Ok(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b - a + 1),
        Err(()) => {
            let mut r =
                (StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable\n").into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let mut resp = if method == Method::HEAD || count == 0 {
        Response::new(Body::empty())
    } else {
        match source {
            Source::Local(mut file) => {
                if start > 0
                    && let Err(e) = file.seek(SeekFrom::Start(start)).await
                {
                    tracing::error!(%key, error = %e, "cannot seek file");
                    return (StatusCode::INTERNAL_SERVER_ERROR, "cannot read file\n")
                        .into_response();
                }
                Response::new(Body::from_stream(ReaderStream::new(file.take(count))))
            }
            Source::Bucket => {
                // Streamed through as the bucket sends it, never buffered whole.
                let stream = match state.storage.bucket() {
                    Some(b) => b.read(&key, Some(start..start + count)).await,
                    None => Err(std::io::Error::other("no bucket")),
                };
                match stream {
                    Ok(s) => Response::new(Body::from_stream(s)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return (StatusCode::NOT_FOUND, "not found\n").into_response();
                    }
                    Err(e) => {
                        tracing::error!(%key, error = %e, "cannot read object");
                        return (StatusCode::SERVICE_UNAVAILABLE, "cannot read file\n")
                            .into_response();
                    }
                }
            }
        }
    };
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&key)),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&count.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) =
            HeaderValue::from_str(&format!("bytes {}-{}/{len}", start, start + count - 1))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-500"), 100), Ok(Some((0, 99))));
        assert_eq!(parse_range(Some("bytes=50-500"), 100), Ok(Some((50, 99))));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=-0"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=5-1"), 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(parse_range(Some("items=0-1"), 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=x-1"), 100), Ok(None));
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("a/b.FLV"), "video/x-flv");
        assert_eq!(content_type("a/b.m3u8"), "application/vnd.apple.mpegurl");
        assert_eq!(content_type("a/b.ts"), "video/mp2t");
        assert_eq!(content_type("a/b"), "application/octet-stream");
    }
}

#[cfg(test)]
mod props;
