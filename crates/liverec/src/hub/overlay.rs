//! A mix replacing a live stream under its own name (A+B=A,
//! `OutputStreamType` 0): while an [`Overlay`] lives, the publisher's own
//! media goes to a hidden source stream (not in the registry; the mixer
//! subscribes to it) and what the mix pushes goes to the stream's
//! subscribers and pre-roll, so recordings, the online list and every
//! other reader of the name see the mix. The stream keeps its identity
//! (session, owner, start time, kick token): it never goes offline.
//!
//! At each change of source the stream's subscribers get
//! [`Next::Switch`](super::Next::Switch) (a recording starts a new file:
//! the two sources have different codec settings and timelines) and the
//! pre-roll changes hands: the publisher's goes to the source at the start
//! (so the mixer starts at its newest keyframe) and comes back at the end,
//! when the subscribers are also given its newest GOP, so that the
//! publisher's picture resumes at once. Must not know about the mixer.

use std::sync::Arc;

use super::subscription::Next;
use super::{Hub, LiveStream, Packet, Preroll, Ring, StreamState};
use crate::task::StreamKey;

/// The mix's side of a stream it replaces. Dropping it gives the stream
/// back to its publisher.
#[derive(Debug)]
pub struct Overlay {
    stream: Arc<LiveStream>,
    source: Arc<LiveStream>,
}

/// Why a stream could not be replaced.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OverlayError {
    /// It is not live (or its publisher is being disconnected).
    #[error("stream {0} is not live")]
    NotLive(StreamKey),
    /// A mix replaces it already.
    #[error("stream {0} is already replaced by a mix")]
    Busy(StreamKey),
}

impl Hub {
    /// Replaces the live stream `key` by what the returned [`Overlay`]
    /// pushes, until it is dropped. `Busy` when a mix replaces it already.
    pub fn overlay(self: &Arc<Self>, key: &StreamKey) -> Result<Overlay, OverlayError> {
        let stream = self
            .get(key)
            .ok_or_else(|| OverlayError::NotLive(key.clone()))?;
        let mut st = stream.lock();
        if st.ended || stream.is_kicked() {
            return Err(OverlayError::NotLive(key.clone()));
        }
        if st.source.is_some() {
            return Err(OverlayError::Busy(key.clone()));
        }
        // Disk pre-rolls are named per session: the mix's needs a name of
        // its own next to the publisher's.
        let prefix = format!("{}-mix-{}", stream.info.session_id, uuid::Uuid::now_v7());
        let own = std::mem::replace(&mut st.ring, self.preroll(&prefix));
        let mut source_state = StreamState::new(own);
        source_state.has_video = st.has_video;
        source_state.has_audio = st.has_audio;
        let source = Arc::new(LiveStream {
            key: stream.key.clone(),
            info: stream.info.clone(),
            kick: Default::default(),
            stop: Default::default(),
            state: std::sync::Mutex::new(source_state),
        });
        switch(&mut st);
        st.source = Some(source.clone());
        drop(st);
        tracing::info!(stream = %key, "a mix replaces the stream");
        Ok(Overlay { stream, source })
    }
}

/// Tells every subscriber that the source changes here.
fn switch(st: &mut StreamState) {
    st.subscribers.retain(|w| match w.upgrade() {
        Some(q) => {
            q.switch();
            true
        }
        None => false,
    });
}

impl Overlay {
    /// The stream replaced (its name is the mix's output).
    pub fn stream(&self) -> &Arc<LiveStream> {
        &self.stream
    }

    /// The publisher's own media while the overlay lives (the mixer's
    /// input); it ends when the publisher leaves.
    pub fn source(&self) -> &Arc<LiveStream> {
        &self.source
    }

    /// Whether the publisher left or was disconnected (the mix then has
    /// nothing to replace).
    pub fn is_ended(&self) -> bool {
        self.stream.is_kicked() || self.stream.lock().ended
    }

    /// Sends a packet of the mix to the stream's subscribers and pre-roll.
    pub fn push(&self, packet: Packet) {
        let mut st = self.stream.lock();
        let ours = st
            .source
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, &self.source));
        if ours && !st.ended {
            st.deliver(packet);
        }
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        let mut st = self.stream.lock();
        let ours = st
            .source
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, &self.source));
        if !ours {
            // The publisher left first and ended both.
            return;
        }
        st.source = None;
        let mut src = self.source.lock();
        let own = std::mem::replace(&mut src.ring, Preroll::Memory(Ring::new(0)));
        let (video, audio) = (src.has_video, src.has_audio);
        src.end();
        drop(src);
        if st.ended {
            return;
        }
        st.ring = own;
        st.has_video = video;
        st.has_audio = audio;
        switch(&mut st);
        // The publisher's newest GOP, so its picture resumes at once.
        let mut backlog = st.ring.from(None);
        let queues: Vec<_> = st.subscribers.iter().filter_map(|w| w.upgrade()).collect();
        while let Some(next) = backlog.pop() {
            if let Next::Packet(p) = next {
                for q in &queues {
                    q.push(p.clone());
                }
            }
        }
        tracing::info!(stream = %self.stream.key, "the stream is its publisher's again");
    }
}
