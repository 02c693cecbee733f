//! Event callbacks (SPEC §5, reference §3): what liverec tells receivers
//! and how it gets there.
//!
//! - [`Callbacks`] is the producers' handle (ingest, recorder, start-up):
//!   it turns a publish session, a file row or a recording problem into a
//!   [`NewEvent`] (body of reference §3.3/§3.4, Tencent's 332 status and
//!   341 exception events) that the caller writes with its own change in
//!   one transaction (`store::outbox`), then [`Callbacks::wake`]s the
//!   worker. Nothing here waits on a receiver.
//! - `worker` is the delivery task: it leases due outbox rows, signs each
//!   attempt (`t` = now + 600, `sign = md5(key + t)`), POSTs the JSON with
//!   the hyper-util client (`https` for TLS receivers; no redirects, a
//!   per-request timeout, a cap per receiver host) and records the
//!   outcome; `backoff` decides the next attempt or the end.
//!
//! Must not touch the hub, recordings or files: it reads rows and sends.

pub mod address;
mod backoff;
mod event;
mod https;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

pub use backoff::RetryPolicy;
pub use event::{RecordSubject, SIGN_VALIDITY_S, signed_body, stop_code};
pub use worker::{EVENT_ID_HEADER, run};

use crate::store::{FileRow, FileStatus, NewEvent, NewSession, Route};

/// How events are delivered (configuration `callback_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliverySettings {
    /// Server-wide default receiver (URL, CallbackKey) for streams without
    /// a callback rule; every event type goes there.
    pub default: Option<(String, String)>,
    /// How long an event is retried after it is written, ms.
    pub retry_ms: i64,
    /// When to try again after a failure.
    pub policy: RetryPolicy,
    /// Longest wait for a receiver's answer (Tencent: 20 s).
    pub timeout: Duration,
    /// Deliveries at once to one receiver host.
    pub max_per_host: usize,
    /// PEM CA bundle trusted for `https://` receivers (None: the system
    /// bundle, `/etc/ssl/certs/ca-certificates.crt`).
    pub ca_file: Option<std::path::PathBuf>,
    /// Whether callback templates may send to loopback, private and
    /// link-local receivers (`address`); the default receiver always may.
    pub allow_private: bool,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            default: None,
            retry_ms: 86_400_000,
            policy: RetryPolicy::Backoff {
                first_ms: 1000,
                max_ms: 600_000,
            },
            timeout: Duration::from_secs(20),
            max_per_host: 4,
            ca_file: None,
            allow_private: false,
        }
    }
}

/// The producers' handle: builds events and wakes the worker. Cheap to
/// clone.
#[derive(Clone, Debug)]
pub struct Callbacks {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fallback: Option<(String, String)>,
    retry_ms: i64,
    public_base: String,
    node: String,
    wake: Notify,
}

impl Callbacks {
    /// A handle for `settings`; `public_base` prefixes `video_url`, `node`
    /// is reported as the access point of publishes.
    pub fn new(settings: &DeliverySettings, public_base: &str, node: &str) -> Callbacks {
        Callbacks {
            inner: Arc::new(Inner {
                fallback: settings.default.clone(),
                retry_ms: settings.retry_ms,
                public_base: public_base.trim_end_matches('/').to_string(),
                node: node.to_string(),
                wake: Notify::new(),
            }),
        }
    }

    /// A handle with no default receiver (events go only where a callback
    /// rule sends them).
    pub fn without_default() -> Callbacks {
        Callbacks::new(&DeliverySettings::default(), "", "")
    }

    /// Tells the worker that events were written.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    fn woken(&self) -> &Notify {
        &self.inner.wake
    }

    /// An event of `event_type` about the stream (account, domain, app,
    /// stream) `of`, going to `route`, made at `now_ms`.
    fn event(
        &self,
        of: [&str; 4],
        event_type: i64,
        route: Route,
        body: serde_json::Map<String, serde_json::Value>,
        now_ms: i64,
    ) -> NewEvent {
        let [account_id, domain, app, stream] = of;
        NewEvent {
            event_id: uuid::Uuid::now_v7().simple().to_string(),
            account_id: account_id.to_string(),
            event_type,
            domain: domain.to_string(),
            app: app.to_string(),
            stream: stream.to_string(),
            route,
            body: serde_json::Value::Object(body).to_string(),
            fallback: self.inner.fallback.clone(),
            created_ms: now_ms,
            expire_ms: now_ms.saturating_add(self.inner.retry_ms),
        }
    }

    /// Event 1: the publish session `s` started.
    pub fn stream_begin(&self, s: &NewSession, now_ms: i64) -> NewEvent {
        let body = event::stream_begin(s, &self.inner.node);
        self.event(
            [&s.account_id, &s.domain, &s.app, &s.stream],
            event::STREAM_BEGIN,
            Route::StreamBegin,
            body,
            now_ms,
        )
    }

    /// Event 0: the publish session `s` ended at `end_ms` for `reason` (a
    /// stored stop reason); `resolution` is `WxH` or "".
    pub fn stream_end(
        &self,
        s: &NewSession,
        end_ms: i64,
        reason: &str,
        resolution: &str,
        now_ms: i64,
    ) -> NewEvent {
        let body = event::stream_end(s, &self.inner.node, end_ms, reason, resolution);
        self.event(
            [&s.account_id, &s.domain, &s.app, &s.stream],
            event::STREAM_END,
            Route::StreamEnd,
            body,
            now_ms,
        )
    }

    /// The events of a file that became finished or recovered: event 100,
    /// and for a recovered file an exception event (341, warning).
    pub fn file_done(&self, f: &FileRow, now_ms: i64) -> Vec<NewEvent> {
        let video_url = format!("{}/files/{}", self.inner.public_base, f.storage_key);
        let body = event::record_file(f, &video_url);
        let mut out = vec![self.event(
            [&f.account_id, &f.domain, &f.app, &f.stream],
            event::RECORD_FILE,
            Route::Record,
            body,
            now_ms,
        )];
        if f.status == FileStatus::Recovered {
            out.push(self.record_exception(
                &RecordSubject::of_file(f),
                event::Exception::Recovered,
                now_ms,
            ));
        }
        out
    }

    /// A recording status event (332): `record_event` is Tencent's name
    /// (`record_start_succeeded`, `record_start_failed`, `record_error`).
    pub fn record_status(
        &self,
        subject: &RecordSubject,
        record_event: &str,
        now_ms: i64,
    ) -> NewEvent {
        let body = event::record_status(subject, record_event, now_ms);
        self.event(
            [
                &subject.account_id,
                &subject.domain,
                &subject.app,
                &subject.stream,
            ],
            event::RECORD_STATUS,
            Route::RecordStatus,
            body,
            now_ms,
        )
    }

    /// A recording exception event (341).
    pub fn record_exception(
        &self,
        subject: &RecordSubject,
        exception: event::Exception,
        now_ms: i64,
    ) -> NewEvent {
        let body = event::record_exception(subject, exception, now_ms);
        self.event(
            [
                &subject.account_id,
                &subject.domain,
                &subject.app,
                &subject.stream,
            ],
            event::RECORD_EXCEPTION,
            Route::RecordException(exception.level()),
            body,
            now_ms,
        )
    }
}

pub use event::Exception;
