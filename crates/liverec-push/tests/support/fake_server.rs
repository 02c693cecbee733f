//! The RTMP server the push tests publish to, shared by the unit tests (an
//! in-memory pipe) and the binary's tests (a loopback socket): a
//! [`ServerSession`] that accepts one publish, or refuses it with
//! `NetStream.Publish.BadName`, and records what arrives. The caller moves
//! the bytes.

use std::collections::VecDeque;

use bytes::Bytes;
use rtmp::{ServerConfig, ServerEvent, ServerSession, StatusCode};

use super::TagKind;

/// What the server saw of one connection.
#[derive(Debug, Default)]
pub(crate) struct Received {
    pub(crate) app: String,
    pub(crate) tc_url: Option<String>,
    pub(crate) name: String,
    /// Kind and timestamp of every media message.
    pub(crate) media: Vec<(TagKind, u32)>,
    /// The bodies of the first media messages (as many as the server keeps).
    pub(crate) bodies: Vec<Bytes>,
    pub(crate) unpublished: bool,
    /// The publish was refused.
    pub(crate) refused: bool,
    /// The client broke the protocol.
    pub(crate) failed: bool,
}

pub(crate) struct FakeServer {
    session: ServerSession,
    accept: bool,
    keep_bodies: usize,
    pub(crate) got: Received,
}

impl FakeServer {
    /// A server that accepts the publish (or refuses it) and keeps the
    /// bodies of the first `keep_bodies` media messages.
    pub(crate) fn new(accept: bool, keep_bodies: usize) -> Self {
        FakeServer {
            session: ServerSession::new(ServerConfig::default(), 7),
            accept,
            keep_bodies,
            got: Received::default(),
        }
    }

    /// Takes bytes from the client and returns what to send back, or None
    /// when the client broke the protocol (`got.failed`).
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Option<Bytes> {
        let Ok(events) = self.session.feed(bytes) else {
            self.got.failed = true;
            return None;
        };
        let mut queue: VecDeque<ServerEvent> = events.into();
        while let Some(event) = queue.pop_front() {
            let (kind, timestamp, data) = match event {
                ServerEvent::Connected { app, tc_url, .. } => {
                    (self.got.app, self.got.tc_url) = (app, tc_url);
                    continue;
                }
                ServerEvent::PublishRequested {
                    stream_id, name, ..
                } => {
                    self.got.name = name;
                    if self.accept {
                        self.session.accept_publish(stream_id);
                        match self.session.feed(&[]) {
                            Ok(more) => queue.extend(more),
                            Err(_) => self.got.failed = true,
                        }
                    } else {
                        let code = StatusCode::PublishBadName;
                        self.session.reject_publish(stream_id, code, "busy");
                        self.got.refused = true;
                    }
                    continue;
                }
                ServerEvent::Unpublished { .. } => {
                    self.got.unpublished = true;
                    continue;
                }
                ServerEvent::PlayRefused { .. } => continue,
                ServerEvent::Audio {
                    timestamp, data, ..
                } => (TagKind::Audio, timestamp, data),
                ServerEvent::Video {
                    timestamp, data, ..
                } => (TagKind::Video, timestamp, data),
                ServerEvent::Data {
                    timestamp, data, ..
                } => (TagKind::Data, timestamp, data),
            };
            self.got.media.push((kind, timestamp));
            if self.got.bodies.len() < self.keep_bodies {
                self.got.bodies.push(data);
            }
        }
        Some(self.session.take_output())
    }
}
