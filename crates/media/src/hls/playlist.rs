//! The EVENT media playlist (RFC 8216 §4.3): rendering it as segments
//! complete, with `#EXT-X-DISCONTINUITY` where a reconnect continued the
//! recording, and parsing it back after a crash. Only the tags liverec
//! writes are understood; other tags are skipped when parsing.

use thiserror::Error;

/// Why a playlist could not be read back.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HlsError {
    /// The text does not start with `#EXTM3U` (RFC 8216 §4.3.1.1).
    #[error("not an M3U8 playlist (no #EXTM3U)")]
    NotAPlaylist,
    /// A line could not be understood.
    #[error("playlist line {line}: {what}")]
    Invalid {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        what: &'static str,
    },
}

/// One media segment of the playlist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The segment's URI as written in the playlist (relative to it).
    pub uri: String,
    /// EXTINF duration in ms.
    pub duration_ms: i64,
    /// Preceded by `#EXT-X-DISCONTINUITY` (RFC 8216 §4.3.2.3).
    pub discontinuity: bool,
}

/// An EVENT playlist: segments are only ever appended. The segment lines
/// are rendered once, as each segment is pushed, so republishing the
/// playlist after every segment stays linear in its length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Playlist {
    target_ms: i64,
    segments: Vec<Segment>,
    /// The next pushed segment gets a discontinuity.
    pending_discontinuity: bool,
    /// The rendered lines of `segments`.
    body: String,
    /// Largest EXTINF rounded up to whole seconds.
    max_extinf_s: i64,
    /// Sum of the segments' durations, ms.
    total_ms: i64,
}

/// `ms` rounded up to whole seconds.
fn ceil_s(ms: i64) -> i64 {
    ms.max(0).saturating_add(999) / 1000
}

/// Longest EXTINF accepted when parsing, ms (a day; keeps sums in range).
const MAX_EXTINF_MS: i64 = 86_400_000;

/// `ms` as seconds with three decimals (`2.000`).
fn seconds(ms: i64) -> String {
    let ms = ms.max(0);
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Parses a non-negative decimal number of seconds into ms, rounding past
/// the third decimal.
fn parse_seconds(text: &str) -> Option<i64> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) || whole.len() > 9 {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut ms = 0i64;
    for (i, b) in frac.bytes().take(4).enumerate() {
        let d = i64::from(b - b'0');
        match i {
            0 => ms += d * 100,
            1 => ms += d * 10,
            2 => ms += d,
            _ => ms += i64::from(d >= 5),
        }
    }
    let total = whole.checked_mul(1000)?.checked_add(ms)?;
    (total <= MAX_EXTINF_MS).then_some(total)
}

impl Playlist {
    /// An empty playlist for segments of about `target_ms`.
    pub fn new(target_ms: i64) -> Self {
        Playlist {
            target_ms,
            segments: Vec::new(),
            pending_discontinuity: false,
            body: String::new(),
            max_extinf_s: 0,
            total_ms: 0,
        }
    }

    /// Appends a completed segment.
    pub fn push(&mut self, mut seg: Segment) {
        seg.discontinuity |= std::mem::take(&mut self.pending_discontinuity);
        if seg.discontinuity {
            self.body.push_str("#EXT-X-DISCONTINUITY\n");
        }
        self.body.push_str(&format!(
            "#EXTINF:{},\n{}\n",
            seconds(seg.duration_ms),
            seg.uri
        ));
        self.max_extinf_s = self.max_extinf_s.max(ceil_s(seg.duration_ms));
        self.total_ms = self.total_ms.saturating_add(seg.duration_ms);
        self.segments.push(seg);
    }

    /// The next pushed segment gets `#EXT-X-DISCONTINUITY` (a reconnect
    /// continues the recording). Ignored while the playlist is empty: there
    /// is nothing to be discontinuous with.
    pub fn mark_discontinuity(&mut self) {
        if !self.segments.is_empty() {
            self.pending_discontinuity = true;
        }
    }

    /// `#EXT-X-TARGETDURATION`: the target rounded up, and never below any
    /// rounded-up EXTINF (RFC 8216 §4.3.3.1; players reject smaller).
    pub fn target_duration_s(&self) -> i64 {
        ceil_s(self.target_ms).max(1).max(self.max_extinf_s)
    }

    /// The playlist text; `ended` appends `#EXT-X-ENDLIST` (the recording
    /// is closed).
    pub fn render(&self, ended: bool) -> String {
        let mut out = String::with_capacity(160 + self.body.len());
        out.push_str("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:EVENT\n");
        out.push_str(&format!(
            "#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n",
            self.target_duration_s()
        ));
        out.push_str(&self.body);
        if ended {
            out.push_str("#EXT-X-ENDLIST\n");
        }
        out
    }

    /// Reads back a playlist this module rendered (crash recovery): its
    /// segments, discontinuities and target (`#EXT-X-ENDLIST` is skipped:
    /// [`render`](Self::render) is told whether to end). Unknown tags are
    /// skipped; a URI line without a preceding `#EXTINF` is an error.
    pub fn parse(text: &str) -> Result<Playlist, HlsError> {
        let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
        if lines.next().map(str::trim_end) != Some("#EXTM3U") {
            return Err(HlsError::NotAPlaylist);
        }
        let mut p = Playlist::new(0);
        let mut extinf = None;
        for (i, line) in lines.enumerate() {
            let line = line.trim();
            let invalid = |what| HlsError::Invalid { line: i + 2, what };
            if let Some(v) = line.strip_prefix("#EXTINF:") {
                let secs = v.split_once(',').map_or(v, |(d, _)| d);
                extinf = Some(parse_seconds(secs).ok_or(invalid("bad #EXTINF duration"))?);
            } else if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
                let s = parse_seconds(v).ok_or(invalid("bad #EXT-X-TARGETDURATION"))?;
                p.target_ms = s;
            } else if line == "#EXT-X-DISCONTINUITY" {
                p.pending_discontinuity = true;
            } else if line.is_empty() || line.starts_with('#') {
                continue;
            } else {
                let duration_ms = extinf
                    .take()
                    .ok_or(invalid("segment URI without #EXTINF"))?;
                p.push(Segment {
                    uri: line.to_owned(),
                    duration_ms,
                    discontinuity: false,
                });
            }
        }
        Ok(p)
    }

    /// The segments in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Sum of the segments' durations, ms.
    pub fn duration_ms(&self) -> i64 {
        self.total_ms
    }

    /// The segment target given to [`new`](Self::new), or the parsed
    /// `#EXT-X-TARGETDURATION` in ms.
    pub fn target_ms(&self) -> i64 {
        self.target_ms
    }
}
