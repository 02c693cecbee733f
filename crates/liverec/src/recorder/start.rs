//! What every output file starts with, single file or HLS: the facts of
//! its start ([`FileStart`]), its `recording` database row, the muxer of
//! its format, and [`FileError`], why an output file could not be written.

use media::{AdtsWriter, FlvMuxer, Fmp4Journal, Mp3Writer, MuxError, Muxer, Tracks};

use crate::hub::LiveStream;
use crate::plan::{OutputPlan, Plan};
use crate::store::{FileRow, FileStatus};
use crate::task::{FileFormat, RecordType};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub(super) enum FileError {
    #[error("file i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("muxer: {0}")]
    Mux(#[from] MuxError),
    #[error("only {0} bytes free on the storage filesystem")]
    LowDisk(u64),
}

/// What a new file starts with.
pub(super) struct FileStart<'a> {
    /// The output it belongs to.
    pub(super) spec: &'a OutputPlan,
    /// Wall-clock time of its first frame, ms.
    pub(super) first_wall_ms: i64,
    /// Decoder configurations at its start.
    pub(super) tracks: &'a Tracks,
    /// Whether it carries video.
    pub(super) video: bool,
    /// Whether it carries audio.
    pub(super) audio: bool,
}

/// JSON with codec and resolution, for DescribeRecordFiles and callbacks.
pub(super) fn media_info(tracks: &Tracks, video: bool, audio: bool) -> String {
    let mut m = serde_json::Map::new();
    if let Some(v) = tracks.video.as_ref().filter(|_| video) {
        m.insert("video_codec".into(), v.codec.name().into());
        m.insert(
            "resolution".into(),
            format!("{}x{}", v.width, v.height).into(),
        );
    }
    if let Some(a) = tracks.audio.as_ref().filter(|_| audio) {
        m.insert("audio_codec".into(), a.codec.name().into());
        m.insert("audio_sample_rate".into(), a.sample_rate.into());
        m.insert("audio_channels".into(), a.channels.into());
    }
    serde_json::Value::Object(m).to_string()
}

/// The row of a file that starts now.
pub(super) fn new_row(
    plan: &Plan,
    stream: &LiveStream,
    start: &FileStart<'_>,
    key: String,
    spool: &std::path::Path,
) -> FileRow {
    let audio_only = start.spec.format.audio_only() || plan.record_type == RecordType::Audio;
    FileRow {
        id: uuid::Uuid::new_v4().simple().to_string(),
        account_id: plan.account_id.clone(),
        task_id: plan.task_id.clone(),
        session_id: stream.info.session_id.clone(),
        domain: stream.key.domain.clone(),
        app: stream.key.app.clone(),
        stream: stream.key.stream.clone(),
        format: start.spec.format,
        record_type: if audio_only {
            RecordType::Audio
        } else {
            RecordType::Video
        },
        start_ms: start.first_wall_ms,
        end_ms: start.first_wall_ms,
        duration_ms: 0,
        file_size: 0,
        storage_key: key,
        spool_path: spool.to_string_lossy().into_owned(),
        status: FileStatus::Recording,
        stream_param: stream.info.stream_param.clone(),
        media_info: media_info(start.tracks, start.video, start.audio),
        storage_time_s: start.spec.storage_time_s,
        expire_ms: None,
    }
}

/// The muxer of one file of `format` (for HLS, of one segment; the
/// playlist is `hls::HlsOutput`'s).
pub(super) fn muxer(format: FileFormat, video: bool, audio: bool) -> Box<dyn Muxer> {
    match format {
        FileFormat::Flv => Box::new(FlvMuxer::new(video, audio)),
        FileFormat::Mp4 => Box::new(Fmp4Journal::new(video, audio)),
        FileFormat::Aac => Box::new(AdtsWriter::new()),
        FileFormat::Mp3 => Box::new(Mp3Writer::new()),
        FileFormat::Hls => Box::new(media::TsMuxer::new(video, audio)),
    }
}
