//! What `liverec-push` publishes: the tags of an FLV file, read whole into
//! memory, and the [`Schedule`] that replays them once or in a loop with
//! the timestamp each tag goes out with. Owns the file-size cap and the
//! loop arithmetic; knows nothing of sockets or clocks.

use std::path::Path;

use bytes::{Bytes, BytesMut};
use media::flv::{self, tag_type};
use tokio::io::AsyncReadExt;

use super::PushError;

/// Largest file `liverec-push` reads (it holds the whole file in memory).
pub const MAX_FILE_BYTES: u64 = 512 << 20;
/// Rounds of `--loop` before the push ends on its own (a 10 s file loops
/// for more than 11 days).
pub const MAX_LOOPS: u64 = 100_000;
/// Frame interval assumed for the loop gap when no track shows two
/// timestamps (ms).
const DEFAULT_FRAME_MS: u64 = 40;
/// AMF0 string `onMetaData`, how an FLV file's script tag starts.
const ON_METADATA: &[u8] = b"\x02\x00\x0aonMetaData";
/// AMF0 string `@setDataFrame`, which ffmpeg puts in front of `onMetaData`
/// when it publishes (the server's FLV demuxer reads both forms).
const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";

/// The RTMP message a tag becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagKind {
    /// Audio message (type 8).
    Audio,
    /// Video message (type 9).
    Video,
    /// AMF0 data message (type 18).
    Data,
}

/// One tag of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceTag {
    /// Message kind.
    pub kind: TagKind,
    /// Timestamp in the file (ms).
    pub timestamp: u32,
    /// Body as sent: the file's bytes, except that `onMetaData` gets the
    /// `@setDataFrame` prefix.
    pub body: Bytes,
}

/// The tags of one FLV file.
#[derive(Clone, Debug)]
pub struct Source {
    tags: Vec<SourceTag>,
    /// Timestamp of the first tag.
    first_ms: u64,
    /// Timestamp offset between two loop rounds.
    period_ms: u64,
    /// Bytes after the last complete tag (a truncated file).
    trailing: usize,
}

impl Source {
    /// Reads `path` (at most [`MAX_FILE_BYTES`]) and scans its tags.
    pub async fn load(path: &Path) -> Result<Source, PushError> {
        let read_err = |source| PushError::Read {
            path: path.to_owned(),
            source,
        };
        let file = tokio::fs::File::open(path).await.map_err(read_err)?;
        let mut data = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut data)
            .await
            .map_err(read_err)?;
        if data.len() as u64 > MAX_FILE_BYTES {
            return Err(PushError::FileTooLarge(path.to_owned()));
        }
        Source::from_bytes(Bytes::from(data))
    }

    /// Scans FLV file bytes. Tags other than audio, video and script data
    /// are skipped; a file with none of those is an error.
    pub fn from_bytes(data: Bytes) -> Result<Source, PushError> {
        flv::read_header(&data).map_err(|e| PushError::Flv(e.to_string()))?;
        let scanned = flv::scan(&data);
        let tags: Vec<SourceTag> = scanned
            .tags
            .iter()
            .filter_map(|t| {
                let body = data.slice(t.body.clone());
                let (kind, body) = match t.tag_type {
                    tag_type::AUDIO => (TagKind::Audio, body),
                    tag_type::VIDEO => (TagKind::Video, body),
                    tag_type::SCRIPT => (TagKind::Data, with_set_data_frame(body)),
                    _ => return None,
                };
                Some(SourceTag {
                    kind,
                    timestamp: t.timestamp,
                    body,
                })
            })
            .collect();
        let first = tags
            .first()
            .ok_or_else(|| PushError::Flv("no audio, video or script tag".into()))?;
        let first_ms = u64::from(first.timestamp);
        let (lo, hi) = tags.iter().fold((u32::MAX, 0), |(lo, hi), t| {
            (lo.min(t.timestamp), hi.max(t.timestamp))
        });
        Ok(Source {
            period_ms: u64::from(hi - lo) + frame_interval(&tags),
            first_ms,
            trailing: data.len().saturating_sub(scanned.valid_len),
            tags,
        })
    }

    /// The tags in file order.
    pub fn tags(&self) -> &[SourceTag] {
        &self.tags
    }

    /// Timestamp offset between loop rounds: the file's duration (last
    /// minus first timestamp) plus one frame, so DTS keeps increasing.
    pub fn period_ms(&self) -> u64 {
        self.period_ms
    }

    /// Bytes after the last complete tag, which are not sent.
    pub fn trailing_bytes(&self) -> usize {
        self.trailing
    }

    /// The tags of `rounds` passes over the file (at least one); rounds
    /// after the first leave out script data, as a looping encoder does.
    pub fn schedule(&self, rounds: u64) -> Schedule<'_> {
        Schedule {
            source: self,
            rounds: rounds.max(1),
            round: 0,
            index: 0,
        }
    }
}

/// The smallest positive timestamp step between consecutive video tags,
/// else audio tags, else [`DEFAULT_FRAME_MS`].
fn frame_interval(tags: &[SourceTag]) -> u64 {
    let step = |kind| {
        let ts = tags.iter().filter(|t| t.kind == kind).map(|t| t.timestamp);
        ts.clone()
            .zip(ts.skip(1))
            .filter_map(|(a, b)| b.checked_sub(a).filter(|&d| d > 0))
            .min()
    };
    step(TagKind::Video)
        .or_else(|| step(TagKind::Audio))
        .map_or(DEFAULT_FRAME_MS, u64::from)
}

fn with_set_data_frame(body: Bytes) -> Bytes {
    if !body.starts_with(ON_METADATA) {
        return body;
    }
    let mut out = BytesMut::with_capacity(SET_DATA_FRAME.len() + body.len());
    out.extend_from_slice(SET_DATA_FRAME);
    out.extend_from_slice(&body);
    out.freeze()
}

/// One tag as it goes out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scheduled<'a> {
    /// The tag.
    pub tag: &'a SourceTag,
    /// RTMP timestamp: the file's, plus `round` × the loop period, wrapping
    /// at 2^32 ms as RTMP timestamps do.
    pub timestamp: u32,
    /// Media time since the first tag of the first round (ms, unwrapped);
    /// `--realtime` sends the tag this long after publishing started.
    pub media_ms: u64,
    /// Loop round, from 0.
    pub round: u64,
}

/// Iterator over the tags of one or more passes over a [`Source`].
#[derive(Clone, Debug)]
pub struct Schedule<'a> {
    source: &'a Source,
    rounds: u64,
    round: u64,
    index: usize,
}

impl<'a> Iterator for Schedule<'a> {
    type Item = Scheduled<'a>;

    fn next(&mut self) -> Option<Scheduled<'a>> {
        // At most `rounds` × tags steps in all.
        while self.round < self.rounds {
            let Some(tag) = self.source.tags.get(self.index) else {
                self.round += 1;
                self.index = 0;
                continue;
            };
            self.index += 1;
            if self.round > 0 && tag.kind == TagKind::Data {
                continue;
            }
            let unwrapped =
                u64::from(tag.timestamp).saturating_add(self.round * self.source.period_ms);
            return Some(Scheduled {
                tag,
                // Truncation is the 32-bit wrap.
                timestamp: unwrapped as u32,
                media_ms: unwrapped.saturating_sub(self.source.first_ms),
                round: self.round,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal FLV: header, then (type, timestamp, body) tags.
    pub(crate) fn flv(tags: &[(u8, u32, &[u8])]) -> Bytes {
        let mut out = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
        for &(kind, ts, body) in tags {
            let len = (body.len() as u32).to_be_bytes();
            let t = ts.to_be_bytes();
            out.extend_from_slice(&[kind, len[1], len[2], len[3], t[1], t[2], t[3], t[0]]);
            out.extend_from_slice(&[0, 0, 0]);
            out.extend_from_slice(body);
            out.extend_from_slice(&(11 + body.len() as u32).to_be_bytes());
        }
        Bytes::from(out)
    }

    fn sample() -> Source {
        let meta = [ON_METADATA, b"\x08\x00\x00\x00\x00\x00\x00\x09"].concat();
        Source::from_bytes(flv(&[
            (18, 0, &meta),
            (9, 0, b"\x17\x00seq"),
            (9, 0, b"\x17\x01key"),
            (8, 10, b"\xaf\x01a0"),
            (9, 33, b"\x27\x01p1"),
            (8, 33, b"\xaf\x01a1"),
            (9, 67, b"\x27\x01p2"),
        ]))
        .unwrap()
    }

    #[test]
    fn reads_tags_and_wraps_metadata() {
        let s = sample();
        assert_eq!(s.tags().len(), 7);
        assert_eq!(s.trailing_bytes(), 0);
        assert!(s.tags()[0].body.starts_with(SET_DATA_FRAME));
        assert_eq!(&s.tags()[0].body[SET_DATA_FRAME.len()..][..13], ON_METADATA);
        assert_eq!(&s.tags()[2].body[..], b"\x17\x01key");
        // Video steps 33 and 34: the loop gap is one 33 ms frame.
        assert_eq!(s.period_ms(), 67 + 33);
    }

    #[test]
    fn loops_keep_dts_increasing() {
        let s = sample();
        let out: Vec<_> = s
            .schedule(3)
            .map(|t| (t.tag.kind, t.timestamp, t.media_ms, t.round))
            .collect();
        // Rounds 2 and 3 leave out the script tag.
        assert_eq!(out.len(), 7 + 6 + 6);
        assert_eq!(out[6], (TagKind::Video, 67, 67, 0));
        assert_eq!(out[7], (TagKind::Video, 100, 100, 1));
        assert_eq!(out[18], (TagKind::Video, 267, 267, 2));
        for kind in [TagKind::Video, TagKind::Audio] {
            let ts: Vec<_> = out.iter().filter(|t| t.0 == kind).map(|t| t.1).collect();
            assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{kind:?} {ts:?}");
        }
        assert_eq!(s.schedule(0).count(), 7);
    }

    #[test]
    fn timestamps_wrap_at_32_bits() {
        let s = Source::from_bytes(flv(&[(9, u32::MAX - 10, b"\x17\x01k")])).unwrap();
        assert_eq!(s.period_ms(), DEFAULT_FRAME_MS);
        let out: Vec<_> = s.schedule(2).map(|t| (t.timestamp, t.media_ms)).collect();
        assert_eq!(out, [(u32::MAX - 10, 0), (29, 40)]);
    }

    #[test]
    fn rejects_what_is_not_flv() {
        for data in [
            &b""[..],
            b"FLX\x01\x05\x00\x00\x00\x09",
            b"FLV\x01\x05\x00\x00\x00\x09",
        ] {
            let got = Source::from_bytes(Bytes::copy_from_slice(data));
            assert!(matches!(got, Err(PushError::Flv(_))), "{data:?}");
        }
        let mut truncated = flv(&[(9, 0, b"\x17\x01k"), (9, 33, b"\x27\x01p")]).to_vec();
        truncated.truncate(truncated.len() - 2);
        let s = Source::from_bytes(Bytes::from(truncated)).unwrap();
        assert_eq!((s.tags().len(), s.trailing_bytes()), (1, 16));
    }

    #[tokio::test]
    async fn load_caps_and_reports_io_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.flv");
        let got = Source::load(&missing).await;
        assert!(matches!(got, Err(PushError::Read { .. })));
        let path = dir.path().join("ok.flv");
        std::fs::write(&path, flv(&[(8, 0, b"\xaf\x01a")])).unwrap();
        assert_eq!(Source::load(&path).await.unwrap().tags().len(), 1);
    }
}
