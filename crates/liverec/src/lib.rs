//! liverec: a self-hosted live-stream recording server. Publishers push RTMP;
//! applications control recording through an HTTP API wire-compatible with
//! Tencent Cloud Live's recording API.
//!
//! # Layout
//!
//! - [`config`]: the typed configuration (defaults, TOML, `LIVEREC_*`, flags).
//! - [`server`]: start-up, wiring and graceful shutdown of `liverec serve`.
//! - [`credentials`]: SecretId/SecretKey generation and the bootstrap credential.
//! - [`ingest`]: RTMP listener and connections → hub.
//! - `listener`: accepting connections under a cap (both listeners).
//! - [`hub`]: live stream registry, pre-roll ring, fan-out.
//! - [`recorder`]: recordings, scheduler, crash recovery, retention.
//! - [`api`]: the Tencent API endpoint, `/files`, `/healthz`, `/metrics`.
//! - [`callbacks`]: event bodies (1, 0, 100, 332, 341) and the outbox
//!   delivery worker.
//! - [`http_server`]: the HTTP listener under [`api`]: connection cap,
//!   header and body deadlines, graceful shutdown.
//! - [`tls`]: certificate loading and SIGHUP reload, TLS handshakes for
//!   HTTPS and RTMPS.
//! - [`store`]: the database (SQLite or PostgreSQL).
//! - [`storage`]: where finished files live.
//! - [`task`]: formats, record types, stream identity.
//! - [`plan`]: what to record (legacy task, new task, rule) as the scheduler sees it.
//! - [`clock`]: injected wall-clock time.
//! - [`cluster`]: several nodes on one database: heartbeats, the
//!   cluster-wide live-stream registry, taking over dead nodes, commands
//!   between nodes.

pub mod api;
pub mod callbacks;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod credentials;
pub mod http_server;
pub mod hub;
pub mod ingest;
mod listener;
pub mod mixer;
pub mod plan;
pub mod recorder;
pub mod server;
pub mod storage;
pub mod store;
pub mod task;
pub mod tls;
