//! Several nodes on one PostgreSQL database (SPEC §7): this node's identity
//! and heartbeat, the cluster-wide view of live streams (which node holds
//! each publisher), taking over a dead peer (its publish sessions end as
//! crashed with their callbacks; on storage both can read, its open files
//! are recovered, and with S3 storage the ones whose parts are in the
//! bucket), and the commands nodes send each other (`peers`: a task
//! created on one node arms on every node, a stop or drop reaches the node
//! that holds the stream).
//!
//! With SQLite there is one node: the live view is the local hub, nothing
//! is written per publish and no messages are sent. With PostgreSQL every
//! node takes part, even alone.

mod peers;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::callbacks::Callbacks;
use crate::clock::Clock;
use crate::hub::{Hub, LiveStream, StopReason};
use crate::recorder::{RecorderCtx, Scheduler};
use crate::store::{Beat, Dialect, LiveEntry, Store, StoreError};
use crate::task::StreamKey;
pub use peers::{Message, Peers};

/// Name of the file in the data directory that keeps a generated node id.
const NODE_ID_FILE: &str = "node-id";
/// Directory under the storage root where each node leaves a marker, so a
/// peer can tell whether it sees the same storage (a shared volume).
const MARKERS: &str = ".liverec-nodes";

/// Whether `id` may name a node.
pub fn valid_node_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// This node's id: the configured one, else the one kept in `data_dir`
/// (generated and written the first time).
pub fn node_id(configured: Option<&str>, data_dir: &Path) -> std::io::Result<String> {
    if let Some(id) = configured {
        return Ok(id.to_string());
    }
    let path = data_dir.join(NODE_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) if valid_node_id(s.trim()) => return Ok(s.trim().to_string()),
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} does not hold a valid node id", path.display()),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let id = format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    std::fs::write(&path, format!("{id}\n"))?;
    Ok(id)
}

/// Ends the publish sessions `node` left open when its process died, as
/// crashed, with their events 0 (at this node's start for its own, or when
/// a peer takes a dead node over); returns how many.
pub async fn end_crashed_sessions(
    store: &Store,
    callbacks: &Callbacks,
    node: &str,
    now: i64,
) -> Result<u64, StoreError> {
    store
        .end_open_sessions(node, now, StopReason::Crash.as_str(), |row| {
            let end = row.end_ms.unwrap_or(now);
            vec![callbacks.stream_end(&row.session, end, &row.stop_reason, &row.resolution, now)]
        })
        .await
}

/// A stream as the API sees it, wherever it is published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveView {
    /// Identity.
    pub key: StreamKey,
    /// Owning account.
    pub owner: String,
    /// Publish start, ms.
    pub started_ms: i64,
    /// Whether it carries audio (known only for streams on this node).
    pub has_audio: Option<bool>,
}

impl LiveView {
    fn local(s: &LiveStream) -> LiveView {
        LiveView {
            key: s.key.clone(),
            owner: s.info.owner.clone(),
            started_ms: s.info.started_ms,
            has_audio: s.has_audio(),
        }
    }

    fn remote(e: LiveEntry) -> LiveView {
        LiveView {
            key: StreamKey {
                domain: e.domain,
                app: e.app,
                stream: e.stream,
            },
            owner: e.account_id,
            started_ms: e.started_ms,
            has_audio: None,
        }
    }
}

/// This node's place in the cluster; cheap to clone.
#[derive(Clone, Debug)]
pub struct Cluster {
    store: Store,
    hub: Arc<Hub>,
    clock: Arc<dyn Clock>,
    lease_ms: i64,
    /// Several nodes may share the database (PostgreSQL).
    shared: bool,
    peers: Option<Peers>,
    storage_root: PathBuf,
}

impl Cluster {
    /// This node (`store` writes as it: see [`Store::for_node`]), with a
    /// lease of `lease_ms`; `storage_root` is the local records directory,
    /// `database_url` the database `store` was opened on.
    pub fn new(
        store: Store,
        hub: Arc<Hub>,
        clock: Arc<dyn Clock>,
        lease_ms: i64,
        storage_root: PathBuf,
        database_url: &str,
    ) -> Cluster {
        let shared = store.dialect() == Dialect::Postgres;
        let peers = shared.then(|| Peers::new(store.clone(), database_url));
        Cluster {
            store,
            hub,
            clock,
            lease_ms,
            shared,
            peers,
            storage_root,
        }
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        self.store.node()
    }

    /// The sender of commands to peers (None with one node).
    pub fn peers(&self) -> Option<&Peers> {
        self.peers.as_ref()
    }

    fn alive_after(&self) -> i64 {
        self.clock.now_ms() - self.lease_ms
    }

    /// Registers this node's start: its heartbeat row, and its marker in
    /// the storage root.
    pub async fn start(&self) -> Result<(), StoreError> {
        if let Err(e) = std::fs::create_dir_all(self.storage_root.join(MARKERS))
            .and_then(|()| std::fs::write(self.marker(self.node()), b""))
        {
            tracing::warn!(error = %e, "could not write this node's storage marker");
        }
        self.store.node_started(self.clock.now_ms()).await
    }

    fn marker(&self, node: &str) -> PathBuf {
        self.storage_root.join(MARKERS).join(node)
    }

    /// Records a clean stop of this node (after its recordings were
    /// finalized and its publishers disconnected): peers have nothing to
    /// take over.
    pub async fn stop(&self) {
        if !self.shared {
            return;
        }
        if let Err(e) = self.store.node_left(self.clock.now_ms()).await {
            tracing::warn!(error = %e, "could not record this node's stop");
        }
    }

    /// Claims `stream` for its publisher on this node; refused (with the
    /// holder's node) while another live node holds it. Always granted with
    /// one node (the hub already refused a second local publisher).
    pub async fn claim(&self, stream: &LiveStream) -> Result<(), String> {
        if !self.shared {
            return Ok(());
        }
        let entry = LiveEntry {
            domain: stream.key.domain.clone(),
            app: stream.key.app.clone(),
            stream: stream.key.stream.clone(),
            account_id: stream.info.owner.clone(),
            node_id: self.node().to_string(),
            session_id: stream.info.session_id.clone(),
            started_ms: stream.info.started_ms,
        };
        match self.store.claim_stream(&entry, self.alive_after()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(holder)) => Err(holder.node_id),
            Err(e) => {
                // A database that cannot answer must not stop publishing on
                // this node; the claim is retried by nobody, so the stream
                // is missing from other nodes' lists until it republishes.
                tracing::error!(stream = %stream.key, error = %e, "could not register the live stream");
                Ok(())
            }
        }
    }

    /// Releases the claim of `stream`'s session (it ended).
    pub async fn release(&self, stream: &LiveStream) {
        if !self.shared {
            return;
        }
        let k = &stream.key;
        if let Err(e) = self
            .store
            .release_stream(&k.domain, &k.app, &k.stream, &stream.info.session_id)
            .await
        {
            tracing::error!(stream = %k, error = %e, "could not unregister the live stream");
        }
    }

    /// The live streams of `account`, ordered by key.
    pub async fn live(&self, account: &str) -> Result<Vec<LiveView>, StoreError> {
        if !self.shared {
            let mut v: Vec<_> = self
                .hub
                .list()
                .iter()
                .filter(|s| s.info.owner == account)
                .map(|s| LiveView::local(s))
                .collect();
            v.sort_by(|a, b| a.key.cmp(&b.key));
            return Ok(v);
        }
        let rows = self.store.live_streams(account, self.alive_after()).await?;
        Ok(rows
            .into_iter()
            .map(|e| {
                match self.hub.get(&StreamKey {
                    domain: e.domain.clone(),
                    app: e.app.clone(),
                    stream: e.stream.clone(),
                }) {
                    Some(s) if s.info.session_id == e.session_id => LiveView::local(&s),
                    _ => LiveView::remote(e),
                }
            })
            .collect())
    }

    /// Whether `key` is live on some node.
    pub async fn is_live(&self, key: &StreamKey) -> Result<bool, StoreError> {
        if self.hub.get(key).is_some() {
            return Ok(true);
        }
        if !self.shared {
            return Ok(false);
        }
        Ok(self
            .store
            .live_stream(&key.domain, &key.app, &key.stream, self.alive_after())
            .await?
            .is_some())
    }

    /// Disconnects the publisher of `key` for `reason`, on whichever node
    /// holds it; true when it was live.
    pub async fn disconnect(&self, key: &StreamKey, reason: StopReason) -> bool {
        if let Some(s) = self.hub.get(key) {
            s.disconnect(reason);
            return true;
        }
        let Some(peers) = &self.peers else {
            return false;
        };
        match self
            .store
            .live_stream(&key.domain, &key.app, &key.stream, self.alive_after())
            .await
        {
            Ok(Some(holder)) => {
                peers
                    .send(&Message::Disconnect {
                        from: self.node().to_string(),
                        node: holder.node_id,
                        domain: key.domain.clone(),
                        app: key.app.clone(),
                        stream: key.stream.clone(),
                        reason: reason.as_str().to_string(),
                    })
                    .await;
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::error!(stream = %key, error = %e, "could not look up the live stream");
                false
            }
        }
    }

    /// Runs the heartbeat, keeps `nodes` (the live node count) current,
    /// takes over dead peers, and carries out peers' commands, until
    /// `shutdown`.
    pub async fn run(
        self,
        nodes: Arc<AtomicU32>,
        scheduler: Scheduler,
        rctx: Arc<RecorderCtx>,
        callbacks: Callbacks,
        shutdown: CancellationToken,
    ) {
        if !self.shared {
            return;
        }
        let listener = match &self.peers {
            Some(p) => Some(tokio::spawn(p.clone().listen(
                self.node().to_string(),
                self.hub.clone(),
                scheduler.local(),
                shutdown.clone(),
            ))),
            None => None,
        };
        let beat = Duration::from_millis(u64::try_from(self.lease_ms / 4).unwrap_or(1000).max(100));
        let mut tick = tokio::time::interval(beat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            match self.store.heartbeat(self.clock.now_ms()).await {
                Ok(Beat::Renewed) => {}
                Ok(Beat::WasSwept) => {
                    // Peers ended this node's sessions while it could not
                    // reach the database: its publishers must reconnect.
                    tracing::error!(
                        "peers took this node over while it was unreachable; disconnecting its publishers"
                    );
                    for s in self.hub.list() {
                        s.disconnect(StopReason::Error);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "node heartbeat failed");
                    continue;
                }
            }
            if let Err(e) = self.store.sweep_nonces(self.clock.now_ms()).await {
                tracing::warn!(error = %e, "forgetting expired v1 nonces failed");
            }
            match self.store.alive_nodes(self.alive_after()).await {
                Ok(n) => {
                    metrics::gauge!("liverec_cluster_nodes").set(n as f64);
                    nodes.store(
                        u32::try_from(n).unwrap_or(u32::MAX).max(1),
                        Ordering::Relaxed,
                    );
                }
                Err(e) => tracing::error!(error = %e, "could not count live nodes"),
            }
            if let Err(e) = self.take_over_dead(&rctx, &callbacks).await {
                tracing::error!(error = %e, "could not take over dead nodes");
            }
        }
        if let Some(l) = listener {
            let _ = l.await;
        }
    }

    /// Takes over every peer whose lease ran out: ends its publish
    /// sessions as crashed (events 0), and recovers its open files when
    /// its storage marker shows this node sees the same storage, else with
    /// S3 storage those the bucket holds (`recorder::recover_from_bucket`).
    async fn take_over_dead(
        &self,
        rctx: &Arc<RecorderCtx>,
        callbacks: &Callbacks,
    ) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let dead_before = now - self.lease_ms;
        for node in self.store.dead_nodes(dead_before).await? {
            if !self.store.sweep_node(&node, dead_before, now).await? {
                continue;
            }
            let closed = end_crashed_sessions(&self.store, callbacks, &node, now).await?;
            callbacks.wake();
            let shared_storage = self.marker(&node).exists();
            let recovered = if shared_storage {
                Some(crate::recorder::recover_open_files(rctx, &node).await?)
            } else if rctx.storage.bucket().is_some() {
                // Off the heartbeat: an MP4 journal to read back and
                // finalize can take longer than a lease.
                let (rctx, node) = (rctx.clone(), node.clone());
                tokio::spawn(async move {
                    match crate::recorder::recover_from_bucket(&rctx, &node).await {
                        Ok(n) => tracing::warn!(node = %node, files_recovered = n,
                            "recovered a dead node's open files from the bucket"),
                        Err(e) => tracing::error!(node = %node, error = %e,
                            "could not recover a dead node's open files from the bucket"),
                    }
                });
                None
            } else {
                Some(0)
            };
            tracing::warn!(
                node = %node,
                sessions_closed = closed,
                files_recovered = ?recovered,
                shared_storage,
                "took over a dead node"
            );
        }
        Ok(())
    }
}
