//! The vocabulary of recording tasks shared by the API, the store and the
//! recorder: the creating API family, output formats, record types, stream
//! identity, and the template parameters ([`template`]).

pub mod template;

use std::fmt;

/// Which API created a task or plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// CreateLiveRecord.
    Legacy,
    /// CreateRecordTask (at most 3 overlapping tasks of a stream record).
    Task,
    /// CreateLiveRecordRule.
    Rule,
}

/// An output container (SPEC §4 "Formats").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// FLV with onMetaData.
    Flv,
    /// HLS: MPEG-TS segments and an EVENT playlist.
    Hls,
    /// Progressive MP4 (faststart).
    Mp4,
    /// ADTS AAC.
    Aac,
    /// MP3.
    Mp3,
}

impl FileFormat {
    /// Every format, in Tencent's order.
    pub const ALL: [FileFormat; 5] = [
        FileFormat::Flv,
        FileFormat::Hls,
        FileFormat::Mp4,
        FileFormat::Aac,
        FileFormat::Mp3,
    ];

    /// The wire name (`flv`, `hls`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Flv => "flv",
            FileFormat::Hls => "hls",
            FileFormat::Mp4 => "mp4",
            FileFormat::Aac => "aac",
            FileFormat::Mp3 => "mp3",
        }
    }

    /// Parses a wire name, case-insensitively.
    pub fn parse(s: &str) -> Option<FileFormat> {
        FileFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// File name extension of the reported file.
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Hls => "m3u8",
            other => other.as_str(),
        }
    }

    /// Audio-only containers (`aac`, `mp3`): they imply RecordType audio.
    pub fn audio_only(self) -> bool {
        matches!(self, FileFormat::Aac | FileFormat::Mp3)
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a task records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// Audio and video (Tencent's `video`).
    Video,
    /// Audio only.
    Audio,
}

impl RecordType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Video => "video",
            RecordType::Audio => "audio",
        }
    }

    /// Parses a wire name, case-insensitively.
    pub fn parse(s: &str) -> Option<RecordType> {
        [RecordType::Video, RecordType::Audio]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Longest AppName or StreamName, in bytes (SPEC §2).
pub const MAX_NAME_BYTES: usize = 256;

/// Why `name` cannot be an AppName or StreamName, if it cannot: empty,
/// longer than [`MAX_NAME_BYTES`], with a control character, or with `/`,
/// `\` or `..` (names become parts of storage keys and file names). The
/// one rule for the API (which refuses such a task) and ingest (which
/// refuses such a publish), so a task can never name a stream that cannot
/// be published.
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some(NAME_EMPTY)
    } else if name.len() > MAX_NAME_BYTES {
        Some("is longer than 256 bytes")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else if name.contains(['/', '\\']) {
        Some("contains / or \\")
    } else if name.contains("..") {
        Some("contains ..")
    } else {
        None
    }
}

/// [`name_problem`]'s reason for an empty name.
pub const NAME_EMPTY: &str = "is empty";

/// The identity of a live stream: (DomainName, AppName, StreamName). The
/// domain is lower-case without a port.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    /// Push domain.
    pub domain: String,
    /// AppName.
    pub app: String,
    /// StreamName.
    pub stream: String,
}

impl StreamKey {
    /// Builds a key, normalizing the domain.
    pub fn new(domain: &str, app: &str, stream: &str) -> StreamKey {
        StreamKey {
            domain: normalize_domain(domain),
            app: app.to_string(),
            stream: stream.to_string(),
        }
    }

    /// Whether a task for (`domain`, `app`, `stream`) covers this stream; an
    /// empty task domain matches every domain (Tencent: DomainName optional).
    pub fn matches(&self, domain: &str, app: &str, stream: &str) -> bool {
        (domain.is_empty() || normalize_domain(domain) == self.domain)
            && app == self.app
            && stream == self.stream
    }
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.domain, self.app, self.stream)
    }
}

/// Lower-cases a host and removes a `:port` suffix (IPv6 brackets kept)
/// and then one trailing dot (`Example.COM.:1935` is `example.com`); IDNA
/// names are left as written.
pub fn normalize_domain(host: &str) -> String {
    let h = host.trim();
    let without_port = if let Some(rest) = h.strip_prefix('[') {
        match rest.find(']') {
            Some(i) => &h[..i + 2],
            None => h,
        }
    } else {
        match h.rfind(':') {
            Some(i) if h[i + 1..].chars().all(|c| c.is_ascii_digit()) => &h[..i],
            _ => h,
        }
    };
    let without_dot = without_port.strip_suffix('.').unwrap_or(without_port);
    without_dot.to_ascii_lowercase()
}

/// Whether a normalized domain is well formed: letters, digits, `.`, `-`,
/// `_` (or an IP literal's `:`, `[`, `]`), not empty, no empty label.
pub fn is_domain_name(d: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']');
    !d.is_empty() && d.chars().all(ok) && !d.starts_with('.') && !d.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_case_insensitively() {
        assert_eq!(FileFormat::parse("FLV"), Some(FileFormat::Flv));
        assert_eq!(FileFormat::parse("Hls"), Some(FileFormat::Hls));
        assert_eq!(FileFormat::parse("avi"), None);
        assert_eq!(FileFormat::Hls.extension(), "m3u8");
        assert_eq!(RecordType::parse("AUDIO"), Some(RecordType::Audio));
        assert_eq!(RecordType::parse("both"), None);
    }

    #[test]
    fn domains_normalize() {
        assert_eq!(
            normalize_domain("Push.Example.COM:1935"),
            "push.example.com"
        );
        assert_eq!(normalize_domain("127.0.0.1"), "127.0.0.1");
        assert_eq!(normalize_domain("[::1]:1935"), "[::1]");
        assert_eq!(normalize_domain("Example.COM.:1935"), "example.com");
        assert_eq!(normalize_domain("example.com."), "example.com");
        assert_eq!(normalize_domain("example.com.."), "example.com.", "one dot");
        assert_eq!(
            normalize_domain("xn--bcher-kva.Example"),
            "xn--bcher-kva.example"
        );
        let k = StreamKey::new("A.com:1935", "live", "s");
        assert!(k.matches("", "live", "s"));
        assert!(k.matches("a.COM", "live", "s"));
        assert!(!k.matches("b.com", "live", "s"));
        assert!(!k.matches("", "live", "t"));
    }
}
