//! Live streams: the registry keyed by (domain, app, stream), one publisher
//! each, the keyframe-aligned pre-roll ring per stream, and the fan-out of
//! packets to subscribers (recordings). Packets are shared (`Bytes` payloads),
//! never copied per subscriber; a subscriber that falls behind loses packets
//! and resynchronizes at the next keyframe instead of stalling the publisher.
//! A mix may replace a live stream under its own name (A+B=A, `overlay`):
//! the publisher's media then goes to a hidden source stream the mixer
//! reads, and the stream's subscribers get the mix.

mod overlay;
mod ring;
mod spill;
mod subscription;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use media::{Frame, Track, Tracks};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::task::StreamKey;
pub use overlay::{Overlay, OverlayError};
use ring::Ring;
use spill::DiskRing;
use subscription::{Backlog, Queue};
pub use subscription::{Next, Subscription};

/// One frame as the hub distributes it.
#[derive(Clone, Debug)]
pub struct Packet {
    /// The frame, on the session's unwrapped timeline (ms).
    pub frame: Frame,
    /// The decoder configurations in effect for it.
    pub tracks: Tracks,
    /// Wall-clock arrival time, ms.
    pub wall_ms: i64,
}

impl Packet {
    /// A video keyframe (a place a recording may start).
    pub fn is_video_keyframe(&self) -> bool {
        self.frame.track == Track::Video && self.frame.keyframe
    }
}

/// What is known about a publish session when it starts.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    /// Unique id of the publish session.
    pub session_id: String,
    /// Wall-clock start, ms.
    pub started_ms: i64,
    /// Publisher address.
    pub client_addr: String,
    /// Query string of the publish URL.
    pub stream_param: String,
    /// The account the stream's domain belongs to (SPEC §2 "Ownership"):
    /// only its plans record the stream, only it sees and controls it.
    pub owner: String,
}

/// A stream that is live now.
#[derive(Debug)]
pub struct LiveStream {
    /// Identity.
    pub key: StreamKey,
    /// Session facts.
    pub info: SessionInfo,
    /// Cancelled to disconnect the publisher (drop, shutdown), only by
    /// [`LiveStream::disconnect`], which records why first.
    kick: CancellationToken,
    /// Why the server disconnected the publisher, set before `kick`.
    stop: OnceLock<StopReason>,
    state: Mutex<StreamState>,
}

/// Why a publish session ended (`StopReason` of DescribeLiveStreamEventList).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The publisher unpublished (normal end).
    Unpublish,
    /// The publisher closed the connection without unpublishing.
    Disconnect,
    /// The publisher sent nothing for the read timeout.
    Timeout,
    /// The publisher sent something invalid, or the socket failed.
    Error,
    /// DropLiveStream.
    Dropped,
    /// ForbidLiveStream.
    Forbidden,
    /// The server shut down.
    Shutdown,
    /// The server process died while the stream was live (found at the
    /// next start).
    Crash,
}

impl StopReason {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Unpublish => "unpublish",
            StopReason::Disconnect => "disconnect",
            StopReason::Timeout => "timeout",
            StopReason::Error => "error",
            StopReason::Dropped => "dropped",
            StopReason::Forbidden => "forbidden",
            StopReason::Shutdown => "shutdown",
            StopReason::Crash => "crash",
        }
    }
}

/// A stream's pre-roll: in memory, or on disk (`preroll_storage`).
#[derive(Debug)]
enum Preroll {
    Memory(Ring),
    Disk(DiskRing),
}

impl Preroll {
    fn is_empty(&self) -> bool {
        match self {
            Preroll::Memory(r) => r.is_empty(),
            Preroll::Disk(r) => r.is_empty(),
        }
    }

    fn clear(&mut self) {
        match self {
            Preroll::Memory(r) => r.clear(),
            Preroll::Disk(r) => r.clear(),
        }
    }

    fn last_tracks(&self) -> Tracks {
        match self {
            Preroll::Memory(r) => r.last_tracks(),
            Preroll::Disk(r) => r.last_tracks(),
        }
    }

    fn push(&mut self, p: Packet) {
        match self {
            Preroll::Memory(r) => r.push(p),
            Preroll::Disk(r) => r.push(p),
        }
    }

    /// The backlog `from` gives, read out (tests).
    #[cfg(test)]
    fn packets(&mut self, from_ms: Option<i64>) -> Vec<Packet> {
        let mut b = self.from(from_ms);
        let mut v = Vec::new();
        while let Some(subscription::Next::Packet(p)) = b.pop() {
            v.push(p);
        }
        v
    }

    fn from(&mut self, from_ms: Option<i64>) -> Backlog {
        match self {
            Preroll::Memory(r) => Backlog::Memory(r.from(from_ms).into()),
            Preroll::Disk(r) => Backlog::Disk(r.from(from_ms)),
        }
    }
}

#[derive(Debug)]
struct StreamState {
    ring: Preroll,
    /// The subscribers' queues (dropped subscriptions are pruned on push).
    subscribers: Vec<Weak<Queue>>,
    /// The publisher is gone: new subscriptions get only the backlog.
    ended: bool,
    /// Whether the stream carries video, once known (metadata or first
    /// frame); recordings wait for it before choosing their start.
    has_video: Option<bool>,
    has_audio: Option<bool>,
    /// While a mix replaces this stream (A+B=A): the hidden stream that
    /// gets the publisher's own media (the mixer's input).
    source: Option<Arc<LiveStream>>,
}

impl StreamState {
    fn new(ring: Preroll) -> StreamState {
        StreamState {
            ring,
            subscribers: Vec::new(),
            ended: false,
            has_video: None,
            has_audio: None,
            source: None,
        }
    }

    /// Appends a packet to the pre-roll and sends it to every subscriber.
    fn deliver(&mut self, packet: Packet) {
        match packet.frame.track {
            Track::Video => {
                self.has_video = Some(true);
                self.has_audio.get_or_insert(packet.tracks.audio.is_some());
            }
            Track::Audio => {
                self.has_audio = Some(true);
                self.has_video.get_or_insert(packet.tracks.video.is_some());
            }
        }
        self.subscribers.retain(|w| match w.upgrade() {
            Some(q) => {
                q.push(packet.clone());
                true
            }
            None => false,
        });
        self.ring.push(packet);
    }

    /// The publisher is gone: subscribers see the end after what they
    /// have queued, the pre-roll goes.
    fn end(&mut self) {
        self.ended = true;
        for q in self.subscribers.drain(..).filter_map(|w| w.upgrade()) {
            q.close();
        }
        self.ring.clear();
    }
}

impl LiveStream {
    fn new(key: StreamKey, info: SessionInfo, ring: Preroll) -> LiveStream {
        LiveStream {
            key,
            info,
            kick: CancellationToken::new(),
            stop: OnceLock::new(),
            state: Mutex::new(StreamState::new(ring)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, StreamState> {
        // A panic while holding this lock cannot leave the ring half-updated
        // in a way that matters more than losing the stream, so recover it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Subscribes, starting from the keyframe at or before `from_ms` (wall
    /// clock) if the pre-roll still holds it, else from the oldest buffered
    /// keyframe; `None` starts from the newest keyframe. Audio-only streams
    /// start at the first packet at or after `from_ms`.
    pub fn subscribe(&self, from_ms: Option<i64>) -> Subscription {
        let mut st = self.lock();
        let st = &mut *st;
        let backlog = st.ring.from(from_ms);
        let queue = (!st.ended).then(|| {
            let q = Arc::new(Queue::default());
            st.subscribers.push(Arc::downgrade(&q));
            q
        });
        Subscription::new(backlog, queue)
    }

    /// Whether the stream has video; None until the publisher said or sent it.
    pub fn has_video(&self) -> Option<bool> {
        self.lock().has_video
    }

    /// Whether the stream has audio; None until known.
    pub fn has_audio(&self) -> Option<bool> {
        self.lock().has_audio
    }

    /// The configurations of the newest packet.
    pub fn tracks(&self) -> Tracks {
        self.lock().ring.last_tracks()
    }

    /// Disconnects the publisher, remembering why (the first reason given
    /// wins); the stream then ends as on any disconnect.
    pub fn disconnect(&self, reason: StopReason) {
        let _ = self.stop.set(reason);
        self.kick.cancel();
    }

    /// Whether the server disconnected the publisher.
    pub fn is_kicked(&self) -> bool {
        self.kick.is_cancelled()
    }

    /// Completes when the server disconnects the publisher.
    pub fn kicked(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.kick.clone().cancelled_owned()
    }

    /// Why the server disconnected the publisher, if it did.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stop.get().copied()
    }
}

/// Events about streams going live and ending.
#[derive(Clone, Debug)]
pub enum HubEvent {
    /// A publisher started and sent its first media.
    Live(Arc<LiveStream>),
    /// A publisher stopped; its subscribers see the end of their stream.
    Ended(Arc<LiveStream>),
}

/// The registry of live streams.
#[derive(Debug)]
pub struct Hub {
    streams: Mutex<HashMap<StreamKey, Arc<LiveStream>>>,
    events: broadcast::Sender<HubEvent>,
    preroll_ms: i64,
    /// Keep pre-rolls on disk in this directory (None: in memory).
    spill: Option<std::path::PathBuf>,
}

/// Why a publish was refused.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// Another publisher has the stream.
    #[error("stream {0} is already being published")]
    Busy(StreamKey),
}

impl Hub {
    /// An empty hub keeping `preroll_ms` of media per stream in memory.
    pub fn new(preroll_ms: i64) -> Arc<Hub> {
        Hub::with_spill(preroll_ms, None)
    }

    /// An empty hub keeping `preroll_ms` of media per stream, on disk in
    /// `spill` when given (the directory must exist; files are named after
    /// the publish session).
    pub fn with_spill(preroll_ms: i64, spill: Option<std::path::PathBuf>) -> Arc<Hub> {
        let (events, _) = broadcast::channel(1024);
        Arc::new(Hub {
            streams: Mutex::new(HashMap::new()),
            events,
            preroll_ms,
            spill,
        })
    }

    fn streams(&self) -> MutexGuard<'_, HashMap<StreamKey, Arc<LiveStream>>> {
        self.streams.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims `key` for a new publisher.
    pub fn publish(
        self: &Arc<Self>,
        key: StreamKey,
        info: SessionInfo,
    ) -> Result<Publisher, HubError> {
        let mut streams = self.streams();
        if streams.contains_key(&key) {
            return Err(HubError::Busy(key));
        }
        let ring = self.preroll(&info.session_id);
        let stream = Arc::new(LiveStream::new(key.clone(), info, ring));
        streams.insert(key, stream.clone());
        metrics::gauge!("liverec_live_streams").set(streams.len() as f64);
        Ok(Publisher {
            hub: self.clone(),
            stream,
            announced: false,
        })
    }

    /// A new, empty pre-roll; a disk one names its files after `prefix`.
    fn preroll(&self, prefix: &str) -> Preroll {
        match &self.spill {
            Some(dir) => Preroll::Disk(DiskRing::new(self.preroll_ms, dir, prefix)),
            None => Preroll::Memory(Ring::new(self.preroll_ms)),
        }
    }

    /// Receives Live/Ended events.
    pub fn events(&self) -> broadcast::Receiver<HubEvent> {
        self.events.subscribe()
    }

    /// The live stream with exactly this key.
    pub fn get(&self, key: &StreamKey) -> Option<Arc<LiveStream>> {
        self.streams().get(key).cloned()
    }

    /// Live streams matching a task's (domain, app, stream); an empty domain
    /// matches every domain.
    pub fn find(&self, domain: &str, app: &str, stream: &str) -> Vec<Arc<LiveStream>> {
        let mut v: Vec<_> = self
            .streams()
            .values()
            .filter(|s| s.key.matches(domain, app, stream))
            .cloned()
            .collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    /// Every live stream.
    pub fn list(&self) -> Vec<Arc<LiveStream>> {
        self.streams().values().cloned().collect()
    }

    /// Disconnects every publisher (shutdown).
    pub fn kick_all(&self) {
        for s in self.streams().values() {
            s.disconnect(StopReason::Shutdown);
        }
    }
}

/// The publishing side of a live stream. Dropping it ends the stream.
#[derive(Debug)]
pub struct Publisher {
    hub: Arc<Hub>,
    stream: Arc<LiveStream>,
    announced: bool,
}

impl Publisher {
    /// The stream being published.
    pub fn stream(&self) -> &Arc<LiveStream> {
        &self.stream
    }

    /// Records what the publisher's metadata says about its tracks.
    pub fn declare_tracks(&self, has_video: bool, has_audio: bool) {
        let mut st = self.stream.lock();
        if st.ring.is_empty() {
            st.has_video = Some(has_video);
            st.has_audio = Some(has_audio);
        }
    }

    /// Appends a packet to the pre-roll and sends it to every subscriber.
    /// While a mix replaces the stream (A+B=A) the packet goes to the
    /// mixer's hidden source stream instead.
    pub fn push(&mut self, packet: Packet) {
        {
            // Lock order: the stream, then its source (as `overlay` does).
            let mut st = self.stream.lock();
            match st.source.clone() {
                Some(source) => source.lock().deliver(packet),
                None => st.deliver(packet),
            }
        }
        if !self.announced {
            self.announced = true;
            let _ = self.hub.events.send(HubEvent::Live(self.stream.clone()));
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        {
            let mut st = self.stream.lock();
            st.end();
            // A mix replacing the stream loses its input with it.
            if let Some(source) = st.source.take() {
                source.lock().end();
            }
        }
        let mut streams = self.hub.streams();
        if let Some(s) = streams.get(&self.stream.key)
            && Arc::ptr_eq(s, &self.stream)
        {
            streams.remove(&self.stream.key);
        }
        metrics::gauge!("liverec_live_streams").set(streams.len() as f64);
        drop(streams);
        let _ = self.hub.events.send(HubEvent::Ended(self.stream.clone()));
    }
}

#[cfg(test)]
mod tests;
