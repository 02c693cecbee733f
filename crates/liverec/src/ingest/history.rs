//! The publish history: one `stream_sessions` row per accepted publish,
//! written when it starts and closed with its stop reason and resolution
//! when it ends (DescribeLiveStreamEventList reads them).
//!
//! Each write carries the session's callback event (1 at the start, 0 at
//! the end) into the outbox in the same transaction.
//!
//! Bookkeeping only: the writes run off the media path, and a database
//! failure is logged, never refusing or ending a publish.

use media::Tracks;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::callbacks::Callbacks;
use crate::hub::{LiveStream, StopReason};
use crate::store::{NewSession, Store};

/// The history row of one publish session.
#[derive(Debug)]
pub(crate) struct SessionLog {
    /// Writes the row; the end is written after it.
    insert: JoinHandle<()>,
    /// The row as it started.
    row: NewSession,
}

impl SessionLog {
    /// Starts writing the row of the session `stream` just began.
    pub(crate) fn start(store: &Store, callbacks: &Callbacks, stream: &LiveStream) -> SessionLog {
        let row = NewSession {
            id: stream.info.session_id.clone(),
            domain: stream.key.domain.clone(),
            app: stream.key.app.clone(),
            stream: stream.key.stream.clone(),
            client_addr: stream.info.client_addr.clone(),
            stream_param: stream.info.stream_param.clone(),
            start_ms: stream.info.started_ms,
            account_id: stream.info.owner.clone(),
        };
        let store = store.clone();
        let callbacks = callbacks.clone();
        let started = row.clone();
        let insert = tokio::spawn(
            async move {
                let begin = callbacks.stream_begin(&row, row.start_ms);
                match store.insert_session(&row, &[begin]).await {
                    Ok(()) => callbacks.wake(),
                    Err(e) => {
                        tracing::error!(session = %row.id, error = %e, "recording a publish session failed");
                    }
                }
            }
            .in_current_span(),
        );
        SessionLog {
            insert,
            row: started,
        }
    }

    /// Closes the row of `stream`'s session, which ended at `end_ms`.
    pub(crate) async fn end(
        self,
        store: &Store,
        callbacks: &Callbacks,
        stream: &LiveStream,
        end_ms: i64,
        reason: StopReason,
        tracks: &Tracks,
    ) {
        tracing::info!(
            stream = %stream.key,
            session = %stream.info.session_id,
            reason = reason.as_str(),
            duration_ms = end_ms - stream.info.started_ms,
            "publish ended"
        );
        let _ = self.insert.await;
        let id = &stream.info.session_id;
        let size = resolution(tracks);
        let end = callbacks.stream_end(&self.row, end_ms, reason.as_str(), &size, end_ms);
        match store
            .end_session(id, end_ms, reason.as_str(), &size, &[end])
            .await
        {
            Ok(()) => callbacks.wake(),
            Err(e) => {
                tracing::error!(session = %id, error = %e, "recording the end of a publish session failed");
            }
        }
    }
}

/// `WxH` of the video, empty when there is none or its size is unknown.
fn resolution(tracks: &Tracks) -> String {
    tracks
        .video
        .as_ref()
        .filter(|v| v.width > 0 && v.height > 0)
        .map(|v| format!("{}x{}", v.width, v.height))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_of_tracks() {
        assert_eq!(resolution(&Tracks::default()), "");
        let video = |width, height| Tracks {
            video: Some(std::sync::Arc::new(media::VideoConfig {
                codec: media::VideoCodec::H264,
                record: bytes::Bytes::new(),
                width,
                height,
                nal_length_size: 4,
            })),
            audio: None,
        };
        assert_eq!(resolution(&video(640, 360)), "640x360");
        assert_eq!(resolution(&video(0, 0)), "", "SPS not read");
    }
}
