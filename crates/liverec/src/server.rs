//! `liverec serve`: opens the store and storage, recovers files left open by
//! a crash, loads the TLS certificate (if configured), binds the listeners
//! (API, RTMP, RTMPS), runs ingest, scheduler, API, retention and the
//! callback worker, reloads the certificate on SIGHUP, and on SIGINT/SIGTERM
//! stops them in order so every open recording is finalized (its callbacks
//! in the outbox) before exit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::{self, AppState, Guard};
use crate::callbacks::{self, Callbacks};
use crate::clock::{Clock, SystemClock};
use crate::cluster::Cluster;
use crate::config::Settings;
use crate::credentials;
use crate::hub::Hub;
use crate::ingest::{self, IngestCtx};
use crate::recorder::{self, RecorderCtx, Scheduler};
use crate::storage::Storage;
use crate::store::Store;
use crate::tls::Tls;

/// Addresses actually bound (ports may have been chosen by the OS).
#[derive(Debug, serde::Serialize)]
struct Bound {
    api: SocketAddr,
    rtmp: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    rtmps: Option<SocketAddr>,
}

fn public_base(settings: &Settings, api: SocketAddr) -> String {
    match &settings.public_url {
        Some(u) => u.clone(),
        None => {
            let scheme = if settings.tls.is_some() {
                "https"
            } else {
                "http"
            };
            if api.ip().is_unspecified() {
                format!("{scheme}://127.0.0.1:{}", api.port())
            } else {
                format!("{scheme}://{api}")
            }
        }
    }
}

/// The `node` of publish callbacks (Tencent: the access point's IP): the
/// RTMP listen address, or when that is a wildcard the host of the public
/// base URL.
fn node_address(settings: &Settings, public_base: &str) -> String {
    let ip = settings.rtmp_listen.ip();
    if !ip.is_unspecified() {
        return ip.to_string();
    }
    url::Url::parse(public_base)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| ip.to_string())
}

/// Runs the service until a shutdown signal; returns after a clean stop.
pub async fn serve(
    settings: Settings,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
) -> anyhow::Result<()> {
    let settings = Arc::new(settings);
    // A bad certificate or key stops start-up before anything is opened.
    let tls = match &settings.tls {
        Some(paths) => Some(Tls::load(paths.clone())?),
        None => None,
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    credentials::create_data_dir(&settings.data_dir)?;
    let node = crate::cluster::node_id(settings.node_id.as_deref(), &settings.data_dir)
        .context("reading this node's id")?;
    let store = Store::open(&settings.database_url)
        .await
        .with_context(|| format!("opening database {}", settings.database_url))?
        .for_node(&node);
    credentials::bootstrap(&store, &settings, clock.now_ms()).await?;
    let lookups_stop = CancellationToken::new();
    let lookups_task = tokio::spawn({
        let store = store.clone();
        let stop = lookups_stop.clone();
        async move { store.run_lookup_cache(stop).await }
    });
    let mut storage = Storage::open(&settings.storage_root)
        .with_context(|| format!("opening storage {}", settings.storage_root.display()))?;
    if let Some(b) = &settings.bucket {
        let bucket = crate::storage::Bucket::open(b)
            .with_context(|| format!("configuring bucket {}", b.bucket))?;
        // Not fatal: files wait on the spool until the bucket answers.
        if let Err(e) = bucket.check().await {
            tracing::warn!(bucket = %b.bucket, error = %e, "the bucket does not answer yet; uploads will retry");
        }
        tracing::info!(bucket = %b.bucket, prefix = %b.prefix, spool = %settings.storage_root.display(), "S3 storage");
        storage = storage.with_bucket(bucket);
    }
    // Bound before recovery: the callbacks of recovered files carry
    // `video_url`, whose base may come from the bound port. Nothing is
    // served until the listeners all run.
    let api_listener = TcpListener::bind(settings.api_listen)
        .await
        .with_context(|| format!("binding API listener {}", settings.api_listen))?;
    let public = public_base(&settings, api_listener.local_addr()?);
    let callbacks = Callbacks::new(
        &settings.callbacks,
        &public,
        &node_address(&settings, &public),
    );

    let rctx = Arc::new(RecorderCtx {
        store: store.clone(),
        storage: storage.clone(),
        clock: clock.clone(),
        max_jump_ms: settings.max_timestamp_jump_ms,
        retention_wake: tokio::sync::Notify::new(),
        hls_target_ms: settings.hls_target_ms,
        min_free_bytes: settings.min_free_bytes,
        reconnect_window_ms: settings.reconnect_window_ms,
        callbacks: callbacks.clone(),
        uploads: Default::default(),
    });
    let spill = if settings.preroll_on_disk {
        Some(preroll_dir(&settings.data_dir)?)
    } else {
        None
    };
    let hub = Hub::with_spill(settings.preroll_ms, spill);
    let cluster = Cluster::new(
        store.clone(),
        hub.clone(),
        clock.clone(),
        settings.node_lease_ms,
        settings.storage_root.clone(),
        &settings.database_url,
    );
    cluster.start().await?;
    tracing::info!(node = %node, "node started");
    let upload_stop = CancellationToken::new();
    let upload_task = tokio::spawn(recorder::run_uploads(rctx.clone(), upload_stop.clone()));
    let recovered = recorder::recover_open_files(&rctx, &node).await?;
    if recovered > 0 {
        tracing::warn!(
            recovered,
            "recovered recordings left open by the previous run"
        );
    }
    // Spool copies of files a peer finished from the bucket while this
    // node was dead.
    let dropped = recorder::drop_finished_spool(&rctx).await?;
    if dropped > 0 {
        tracing::warn!(dropped, "spool files finished by a peer removed");
    }
    // Publish sessions this node's previous process left open end now
    // (a dead peer's are ended by the cluster task, after its lease).
    let now = clock.now_ms();
    let closed = crate::cluster::end_crashed_sessions(&store, &callbacks, &node, now).await?;
    if closed > 0 {
        tracing::warn!(
            closed,
            "publish sessions of the previous run closed as crashed"
        );
    }
    let armed = recorder::armed_plans(&store, clock.now_ms()).await?;
    tracing::info!(armed = armed.len(), "tasks and rules armed");
    let scheduler =
        Scheduler::start(rctx.clone(), hub.clone(), armed).with_peers(cluster.peers().cloned());

    let rtmp_listener = TcpListener::bind(settings.rtmp_listen)
        .await
        .with_context(|| format!("binding RTMP listener {}", settings.rtmp_listen))?;
    let rtmps_listener = match settings.rtmps_listen {
        Some(a) => Some(
            TcpListener::bind(a)
                .await
                .with_context(|| format!("binding RTMPS listener {a}"))?,
        ),
        None => None,
    };
    let bound = Bound {
        api: api_listener.local_addr()?,
        rtmp: rtmp_listener.local_addr()?,
        rtmps: match &rtmps_listener {
            Some(l) => Some(l.local_addr()?),
            None => None,
        },
    };
    std::fs::write(
        settings.data_dir.join("listen.json"),
        serde_json::to_vec(&bound)?,
    )?;
    tracing::info!(api = %bound.api, rtmp = %bound.rtmp, rtmps = ?bound.rtmps, tls = tls.is_some(), "listening");

    let mixer = Arc::new(
        crate::mixer::Mixer::new(hub.clone(), store.clone(), callbacks.clone(), clock.clone())
            .with_cluster(cluster.clone()),
    );
    let state = Arc::new(AppState {
        store: store.clone(),
        storage,
        hub: hub.clone(),
        cluster: cluster.clone(),
        scheduler: scheduler.clone(),
        clock: clock.clone(),
        settings: settings.clone(),
        public_base: public,
        guard: Guard::new(&settings.rates),
        create_locks: api::CreateLocks::cluster_wide(store.clone()),
        ready: Default::default(),
        metrics,
        mixer: mixer.clone(),
    });

    let shutdown = CancellationToken::new();
    let ingest_ctx = IngestCtx {
        hub: hub.clone(),
        clock: clock.clone(),
        limits: settings.rtmp.clone(),
        store: store.clone(),
        strict_domains: settings.strict_domains,
        callbacks: callbacks.clone(),
        cluster: cluster.clone(),
    };
    let ingest_task = tokio::spawn(ingest::run(
        rtmp_listener,
        ingest_ctx,
        rtmps_listener
            .zip(tls.clone())
            .map(|(listener, tls)| ingest::Rtmps { listener, tls }),
        shutdown.clone(),
    ));
    let reload_task = tokio::spawn(crate::tls::reload_on_sighup(tls.clone(), shutdown.clone()));
    let http_stop = CancellationToken::new();
    let http_task = tokio::spawn(crate::http_server::serve(
        api_listener,
        api::router(state.clone()),
        settings.http.clone(),
        tls,
        http_stop.clone(),
        std::time::Duration::from_secs(2),
    ));
    let retention_task = tokio::spawn(recorder::run_retention(rctx.clone(), shutdown.clone()));
    let callback_task = tokio::spawn(callbacks::run(
        store.clone(),
        clock.clone(),
        settings.callbacks.clone(),
        callbacks.clone(),
        shutdown.clone(),
    ));
    let cluster_task = tokio::spawn(cluster.clone().run(
        state.guard.nodes(),
        scheduler.clone(),
        rctx.clone(),
        callbacks.clone(),
        shutdown.clone(),
    ));
    state.ready.store(true, Ordering::SeqCst);

    wait_for_signal().await;
    tracing::info!("shutting down: finalizing recordings");
    state.ready.store(false, Ordering::SeqCst);
    shutdown.cancel();
    let stopping = std::time::Instant::now();
    // Mix outputs end first, so their recordings finalize with the rest.
    mixer.shutdown().await;
    scheduler.shutdown(settings.shutdown_grace).await;
    // Uploads still running get what is left of the grace period; what
    // does not make it stays on the spool for the next start.
    let left = settings
        .shutdown_grace
        .saturating_sub(stopping.elapsed())
        .max(std::time::Duration::from_secs(1));
    if !rctx.uploads.drain(left).await {
        tracing::warn!(
            pending = rctx.uploads.pending(),
            "uploads unfinished at shutdown; they resume at the next start"
        );
    }
    upload_stop.cancel();
    let _ = upload_task.await;
    hub.kick_all();
    http_stop.cancel();
    let _ = ingest_task.await;
    let _ = reload_task.await;
    let _ = retention_task.await;
    let _ = callback_task.await;
    let _ = cluster_task.await;
    cluster.stop().await;
    let _ = http_task.await;
    lookups_stop.cancel();
    let _ = lookups_task.await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The disk pre-roll directory, emptied: what a previous process left
/// there belongs to publish sessions that are over.
fn preroll_dir(data_dir: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    let dir = data_dir.join("preroll");
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("emptying {}", dir.display())),
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
