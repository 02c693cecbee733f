//! A+B=C live mixing (SPEC §6, `CreateCommonMixStream` /
//! `CancelCommonMixStream`): the registry of mix sessions per account
//! ([`Mixer`]), each compositing its input streams' pictures and mixing
//! their audio into an output published into the hub: a new live stream C
//! (online list, recordings, callbacks), or, for A+B=A (`OutputStreamType`
//! 0), the input it replaces, under that input's name, until the session
//! ends. Decoding, compositing and encoding run on one dedicated thread per session, never on the
//! tokio workers; a session that cannot keep real time drops output
//! frames (counted) instead of falling behind.
//!
//! Layout: `layout` (request → canvas rectangles, templates), `canvas`
//! (I420 compositor), `audio` (resampler, jitter FIFO, saturating mix),
//! `codec` (OpenH264, symphonia AAC, FDK AAC adapters), `engine` (one
//! session's media state, clocked by its caller), `session` (the thread,
//! the feed from the hub, publishing C), `fuzz` (the fuzzing entry point of
//! input decoding, feature `fuzzing`). Must not know about the API's
//! wire format; the API validates requests into [`MixSpec`].

mod audio;
mod canvas;
pub(crate) mod codec;
mod engine;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzz;
mod layout;
mod session;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub(crate) use layout::{
    Crop, Dim, InputKind, Layout, MixInput, MixSpec, OutputSpec, Template, parse_colour,
};
use session::{Session, SessionCtx, find_input};

use crate::callbacks::Callbacks;
use crate::clock::Clock;
use crate::hub::Hub;
use crate::store::Store;
use crate::task::StreamKey;

/// Mix sessions running at once on this server, all accounts together
/// (each costs about one core at 720p30, see docs/benchmarks.md).
pub const MAX_SESSIONS: usize = 16;

/// Why a mix request could not be carried out (the API maps each to its
/// Tencent code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MixError {
    /// An input is not being published by the caller.
    #[error("input stream {0} is not live")]
    StreamNotExist(String),
    /// CancelCommonMixStream of a session the caller does not have.
    #[error("mix session {0} does not exist")]
    SessionNotExist(String),
    /// The output stream is live already (a publisher or another mix).
    #[error("output stream {0} is already live")]
    OutputTaken(String),
    /// An update named another output stream than the session has.
    #[error("session {session} outputs {was}, not {now}")]
    OutputChanged {
        session: String,
        was: String,
        now: String,
    },
    /// The server could not start or run the mix.
    #[error("{0}")]
    Process(String),
}

/// The registry of mix sessions, keyed by (account, MixStreamSessionId):
/// an account sees and changes only its own sessions.
#[derive(Debug)]
pub struct Mixer {
    ctx: SessionCtx,
    sessions: Mutex<HashMap<(String, String), Session>>,
}

impl Mixer {
    /// An empty registry.
    pub fn new(hub: Arc<Hub>, store: Store, callbacks: Callbacks, clock: Arc<dyn Clock>) -> Mixer {
        Mixer {
            ctx: SessionCtx {
                hub,
                store,
                callbacks,
                clock,
                cluster: None,
            },
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// This registry, registering each output C in `cluster`'s list of live
    /// streams (several nodes on one database).
    pub fn with_cluster(mut self, cluster: crate::cluster::Cluster) -> Mixer {
        self.ctx.cluster = Some(cluster);
        self
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<(String, String), Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts session `spec.session_id` of `owner`, or updates its layout
    /// when it runs already (the output stream must stay the same).
    pub(crate) async fn create(&self, owner: &str, spec: MixSpec) -> Result<(), MixError> {
        let hub = &self.ctx.hub;
        let mut first = None;
        for input in spec.inputs.iter().filter(|i| i.kind.is_stream()) {
            let stream = find_input(hub, owner, &input.name)
                .ok_or_else(|| MixError::StreamNotExist(input.name.clone()))?;
            first.get_or_insert(stream);
        }
        let first = first.ok_or_else(|| MixError::Process("no stream inputs".into()))?;
        let size = |name: &str| {
            find_input(hub, owner, name)
                .and_then(|s| s.tracks().video)
                .filter(|v| v.width > 0 && v.height > 0)
                .map(|v| (v.width, v.height))
        };
        let layout = Layout::resolve(&spec, size);
        let key = (owner.to_string(), spec.session_id.clone());
        let finished = {
            let mut sessions = self.sessions();
            match sessions.get_mut(&key) {
                Some(s) if !s.is_finished() => {
                    if s.spec.output.name != spec.output.name
                        || s.spec.output.replace != spec.output.replace
                    {
                        return Err(MixError::OutputChanged {
                            session: spec.session_id.clone(),
                            was: s.spec.output.name.clone(),
                            now: spec.output.name.clone(),
                        });
                    }
                    tracing::info!(session = %spec.session_id, "mix layout updated");
                    s.update(spec, layout);
                    return Ok(());
                }
                Some(_) => sessions.remove(&key),
                None => None,
            }
        };
        if let Some(old) = finished {
            old.stop().await;
        }
        // A+B=A replaces the input of that name; C is new, beside the
        // first input.
        let output = if spec.output.replace {
            find_input(hub, owner, &spec.output.name)
                .ok_or_else(|| MixError::StreamNotExist(spec.output.name.clone()))?
                .key
                .clone()
        } else {
            StreamKey::new(&first.key.domain, &first.key.app, &spec.output.name)
        };
        let mut sessions = self.sessions();
        if sessions.len() >= MAX_SESSIONS {
            return Err(MixError::Process(format!(
                "at most {MAX_SESSIONS} mix sessions run at once"
            )));
        }
        if !spec.output.replace && hub.get(&output).is_some() {
            return Err(MixError::OutputTaken(spec.output.name.clone()));
        }
        tracing::info!(
            session = %spec.session_id,
            output = %output,
            width = layout.width,
            height = layout.height,
            fps = spec.output.fps,
            inputs = spec.inputs.len(),
            "mix session starting"
        );
        let session = Session::start(&self.ctx, owner, spec, layout, output)?;
        sessions.insert(key, session);
        Ok(())
    }

    /// Ends session `session_id` of `owner`; returns once its output has
    /// ended and the end is recorded.
    pub(crate) async fn cancel(&self, owner: &str, session_id: &str) -> Result<(), MixError> {
        let session = self
            .sessions()
            .remove(&(owner.to_string(), session_id.to_string()))
            .ok_or_else(|| MixError::SessionNotExist(session_id.to_string()))?;
        session.stop().await;
        tracing::info!(session = session_id, "mix session cancelled");
        Ok(())
    }

    /// Whether `key` is the output of one of `owner`'s running sessions.
    pub(crate) fn is_output(&self, owner: &str, key: &StreamKey) -> bool {
        self.sessions()
            .iter()
            .any(|((o, _), s)| o == owner && &s.output == key && !s.is_finished())
    }

    /// Ends every session (server shutdown).
    pub async fn shutdown(&self) {
        let all: Vec<Session> = self.sessions().drain().map(|(_, s)| s).collect();
        for s in all {
            s.stop().await;
        }
    }
}

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
