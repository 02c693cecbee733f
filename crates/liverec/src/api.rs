//! The HTTP surface: the Tencent Cloud API 3.0 endpoint (`POST /`, `GET /`),
//! the file server (`/files/...`), `/healthz` and `/metrics`. The endpoint
//! verifies and decodes requests with `tcapi`, enforces replay protection
//! and rate limits, and dispatches to one handler per action family. Every
//! API reply is HTTP 200 with `Content-Type: application/json` and a
//! RequestId, as the official SDKs require.

mod action;
mod callbacks;
mod create_lock;
mod domains;
mod endpoint;
mod error;
mod files;
mod guard;
mod http_files;
mod legacy;
mod mix;
mod params;
mod push_auth;
mod streams;
mod task_ops;
mod tasks;
mod templates;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::clock::Clock;
use crate::config::Settings;
use crate::hub::Hub;
use crate::recorder::Scheduler;
use crate::storage::Storage;
use crate::store::Store;

pub use create_lock::CreateLocks;
pub use guard::Guard;

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// Database.
    pub store: Store,
    /// File storage.
    pub storage: Storage,
    /// Live streams.
    pub hub: Arc<Hub>,
    /// Live streams on every node, and reaching their publishers.
    pub cluster: crate::cluster::Cluster,
    /// Task scheduler.
    pub scheduler: Scheduler,
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub settings: Arc<Settings>,
    /// Base of VideoUrl (`<public>/files/<key>`), no trailing slash.
    pub public_base: String,
    /// Replay protection and rate limits.
    pub guard: Guard,
    /// Serializes each account's task creation (retry de-duplication and
    /// quotas).
    pub create_locks: CreateLocks,
    /// Set once both listeners are bound.
    pub ready: AtomicBool,
    /// Prometheus exposition.
    pub metrics: Option<PrometheusHandle>,
    /// A+B=C mix sessions.
    pub mixer: Arc<crate::mixer::Mixer>,
}

impl AppState {
    /// VideoUrl of a storage key: liverec's `/files` URL.
    pub fn video_url(&self, key: &str) -> String {
        format!("{}/files/{}", self.public_base, key)
    }

    /// VideoUrl as DescribeRecordFiles reports it: a presigned bucket URL
    /// when `s3_presign_seconds` is set, else [`video_url`](Self::video_url).
    pub async fn listed_video_url(&self, key: &str) -> String {
        if let Some(b) = self.storage.bucket()
            && let Some(url) = b.presigned_url(key).await
        {
            return url;
        }
        self.video_url(key)
    }
}

/// All routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(endpoint::handle).post(endpoint::handle))
        .route(
            "/files/{*key}",
            get(http_files::serve)
                .head(http_files::serve)
                .options(http_files::preflight),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    if !state.ready.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "listeners not bound\n").into_response();
    }
    if let Err(e) = state.store.ping().await {
        tracing::warn!(error = %e, "health check: database");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response();
    }
    if let Err(e) = state.storage.check().await {
        tracing::warn!(error = %e, "health check: storage");
        return (StatusCode::SERVICE_UNAVAILABLE, "storage unreachable\n").into_response();
    }
    (StatusCode::OK, "ok\n").into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    match &state.metrics {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics disabled\n").into_response(),
    }
}
