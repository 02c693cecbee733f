//! Why an RTMP connection ended, as the connection task reports it: the
//! log line's reason and the `liverec_rtmp_disconnects_total` label.

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
pub(super) enum ConnError {
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("no data for {0:?}")]
    Timeout(std::time::Duration),
    #[error("no {what} within {after:?} of connecting")]
    Deadline {
        what: &'static str,
        after: std::time::Duration,
    },
    #[error("the peer took no data for {0:?} (not reading)")]
    WriteTimeout(std::time::Duration),
    #[error("protocol: {0}")]
    Protocol(#[from] rtmp::RtmpError),
    #[error("media: {0}")]
    Media(#[from] media::flv::FlvError),
    #[error("publish refused: {0}")]
    Refused(String),
    #[error("disconnected by the server")]
    Kicked,
}

impl ConnError {
    /// The peer closed or reset the connection: not worth a warning.
    pub(super) fn is_client_gone(&self) -> bool {
        match self {
            ConnError::Io(e) => matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            ),
            _ => false,
        }
    }

    /// Metric label.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            ConnError::Io(_) => "io",
            ConnError::Timeout(_) => "timeout",
            ConnError::Deadline { .. } => "deadline",
            ConnError::WriteTimeout(_) => "write_timeout",
            ConnError::Protocol(_) => "protocol",
            ConnError::Media(_) => "media",
            ConnError::Refused(_) => "refused",
            ConnError::Kicked => "kicked",
        }
    }
}
