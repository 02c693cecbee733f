//! The delivery worker: its own task, so a slow, hanging or dead receiver
//! never holds up recording, ingest or the API. Each round it leases due
//! outbox rows (`Store::claim_deliveries`: oldest first, one per stream at
//! a time, so a stream's events arrive in order), and runs one delivery
//! task per row, at most [`MAX_IN_FLIGHT`] at once and
//! `max_per_host` per receiver host (a row whose host is busy is handed
//! back, due a second later). A delivery signs the body, POSTs it with the
//! hyper-util client (HTTP/1.1; `https://` over `https`; redirects not
//! followed, `timeout` for the whole answer) and records 200 as delivered, anything else as a failed
//! attempt scheduled by the [`RetryPolicy`](super::RetryPolicy) or given
//! up (`failed`, kept and listed). Delivered rows are deleted after 7 days.
//!
//! Metrics: `liverec_callback_outbox_depth`,
//! `liverec_callback_oldest_pending_age_seconds`,
//! `liverec_callback_deliveries_total{outcome=delivered|retry|failed}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::address;
use super::backoff::unit_random;
use super::event::{SIGN_VALIDITY_S, signed_body};
use super::https::Https;
use super::{Callbacks, DeliverySettings};
use crate::clock::Clock;
use crate::store::{Delivery, Store};

/// Deliveries in flight at once, all receivers together.
const MAX_IN_FLIGHT: usize = 64;
/// How often the outbox is looked at when nobody wakes the worker (other
/// nodes' events, retries coming due).
const POLL: Duration = Duration::from_millis(500);
/// A row whose receiver host has no free slot is due again after this, ms.
const BUSY_HOST_DELAY_MS: i64 = 1000;
/// Receiver hosts remembered with their slot count before idle ones are
/// forgotten.
const MAX_HOSTS: usize = 1024;
/// Delivered events are listed this long, then deleted, ms (failed ones
/// stay).
const DELIVERED_KEPT_MS: i64 = 7 * 86_400_000;
/// How often delivered events past [`DELIVERED_KEPT_MS`] are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(600);
/// The header that repeats the body's `event_id`.
pub const EVENT_ID_HEADER: &str = "x-liverec-event-id";

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// What every delivery task shares.
struct Shared {
    store: Store,
    https: Https,
    clock: Arc<dyn Clock>,
    settings: DeliverySettings,
    client: HttpClient,
    callbacks: Callbacks,
}

impl Shared {
    fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        settings: DeliverySettings,
        callbacks: Callbacks,
    ) -> Shared {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(settings.timeout));
        connector.set_nodelay(true);
        let client: HttpClient = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(settings.max_per_host.max(1))
            .build(connector);
        Shared {
            store,
            https: Https::load(settings.ca_file.as_deref()),
            clock,
            settings,
            client,
            callbacks,
        }
    }
}

/// Why an attempt failed: the HTTP status (0 = no answer) and a reason.
#[derive(Debug, PartialEq, Eq)]
struct Failure {
    status: i64,
    reason: String,
}

/// Delivers outbox events until `shutdown`; then gives back its leases.
pub async fn run(
    store: Store,
    clock: Arc<dyn Clock>,
    settings: DeliverySettings,
    callbacks: Callbacks,
    shutdown: CancellationToken,
) {
    let owner = uuid::Uuid::new_v4().simple().to_string();
    match store.release_stale_leases().await {
        Ok(n) if n > 0 => {
            tracing::info!(released = n, "callback leases of the previous run released")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "releasing stale callback leases failed"),
    }
    // The lease outlives the longest attempt, so no other node takes a
    // row while it is being tried.
    let lease_ms = i64::try_from(settings.timeout.as_millis()).unwrap_or(i64::MAX / 4) + 30_000;
    let shared = Arc::new(Shared::new(
        store.clone(),
        clock,
        settings,
        callbacks.clone(),
    ));
    if let Some(why) = shared.https.unavailable() {
        tracing::info!(
            reason = why,
            "https callback receivers cannot be verified; only http:// is sent"
        );
    }
    let global = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let hosts: Mutex<HashMap<String, Arc<Semaphore>>> = Mutex::new(HashMap::new());
    let mut tasks = JoinSet::new();
    let mut purged: Option<tokio::time::Instant> = None;
    loop {
        while tasks.try_join_next().is_some() {}
        publish_stats(&store, shared.clock.now_ms()).await;
        if purged.is_none_or(|t| t.elapsed() >= PURGE_EVERY) {
            purged = Some(tokio::time::Instant::now());
            let before = shared.clock.now_ms() - DELIVERED_KEPT_MS;
            match store.purge_delivered(before).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "old delivered callbacks deleted"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "deleting old delivered callbacks failed"),
            }
        }
        let free = global.available_permits();
        if free > 0 {
            let now = shared.clock.now_ms();
            match store
                .claim_deliveries(now, free as i64, &owner, lease_ms)
                .await
            {
                Ok(rows) => {
                    for row in rows {
                        let slots = (
                            global.clone().try_acquire_owned(),
                            host_slot(&hosts, &row.url, shared.settings.max_per_host),
                        );
                        match slots {
                            (Ok(all), Some(host)) => {
                                let span = tracing::info_span!("cb", event_id = %row.event_id, attempt = row.attempts + 1);
                                tasks.spawn(
                                    deliver(shared.clone(), row, (all, host)).instrument(span),
                                );
                            }
                            _ => {
                                let next = now + BUSY_HOST_DELAY_MS;
                                if let Err(e) = store.release_delivery(row.seq, &owner, next).await
                                {
                                    tracing::warn!(error = %e, "handing back a callback lease failed");
                                }
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading the callback outbox failed"),
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = callbacks.woken().notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    if let Err(e) = store.release_leases_of(&owner).await {
        tracing::warn!(error = %e, "giving back callback leases failed");
    }
}

/// A slot for one delivery to the host of `url`, if one is free.
fn host_slot(
    hosts: &Mutex<HashMap<String, Arc<Semaphore>>>,
    url: &str,
    per_host: usize,
) -> Option<OwnedSemaphorePermit> {
    let host = url::Url::parse(url)
        .ok()
        .map(|u| {
            format!(
                "{}:{}",
                u.host_str().unwrap_or_default(),
                u.port_or_known_default().unwrap_or(0)
            )
        })
        .unwrap_or_default();
    let mut map = hosts.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= MAX_HOSTS {
        map.retain(|_, s| s.available_permits() < per_host.max(1));
    }
    let sem = map
        .entry(host)
        .or_insert_with(|| Arc::new(Semaphore::new(per_host.max(1))))
        .clone();
    sem.try_acquire_owned().ok()
}

/// Updates the outbox gauges.
async fn publish_stats(store: &Store, now_ms: i64) {
    match store.outbox_stats().await {
        Ok(s) => {
            metrics::gauge!("liverec_callback_outbox_depth").set(s.pending as f64);
            let age = s
                .oldest_pending_ms
                .map_or(0.0, |t| (now_ms - t).max(0) as f64 / 1000.0);
            metrics::gauge!("liverec_callback_oldest_pending_age_seconds").set(age);
        }
        Err(e) => tracing::debug!(error = %e, "outbox statistics unavailable"),
    }
}

/// One attempt at `row`; the permits are held until it is recorded.
async fn deliver(
    shared: Arc<Shared>,
    row: Delivery,
    _slots: (OwnedSemaphorePermit, OwnedSemaphorePermit),
) {
    let sent_ms = shared.clock.now_ms();
    let t = sent_ms.div_euclid(1000) + SIGN_VALIDITY_S;
    let outcome = match signed_body(&row.body, &row.event_id, &row.sign_key, t) {
        Some(body) => post(&shared, &row, body).await,
        None => Err(Failure {
            status: 0,
            reason: "stored body is not a JSON object".into(),
        }),
    };
    let now = shared.clock.now_ms();
    let recorded = match &outcome {
        Ok(()) => {
            metrics::counter!("liverec_callback_deliveries_total", "outcome" => "delivered")
                .increment(1);
            tracing::info!(url = %row.url, event_type = row.event_type, "callback delivered");
            shared.store.delivery_done(row.seq, now).await
        }
        Err(f) => {
            let failures = row.attempts + 1;
            let next =
                shared
                    .settings
                    .policy
                    .next_attempt(failures, now, row.expire_ms, unit_random());
            let outcome = if next.is_some() { "retry" } else { "failed" };
            metrics::counter!("liverec_callback_deliveries_total", "outcome" => outcome)
                .increment(1);
            if next.is_some() {
                tracing::info!(url = %row.url, status = f.status, reason = %f.reason, next_ms = next, "callback attempt failed");
            } else {
                tracing::warn!(url = %row.url, status = f.status, reason = %f.reason, attempts = failures, "callback given up");
            }
            shared
                .store
                .delivery_failed(row.seq, now, f.status, &f.reason, next)
                .await
        }
    };
    if let Err(e) = recorded {
        // The lease runs out and the row is tried again: at least once.
        tracing::error!(error = %e, "recording a callback attempt failed");
    }
    // The stream's next event may be due now.
    shared.callbacks.wake();
}

/// POSTs `body` to the row's URL; Ok on HTTP 200.
async fn post(shared: &Shared, row: &Delivery, body: Vec<u8>) -> Result<(), Failure> {
    let no_answer = |reason: String| Failure { status: 0, reason };
    let uri: hyper::Uri = row
        .url
        .parse()
        .map_err(|e| no_answer(format!("invalid URL: {e}")))?;
    let tls = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err(no_answer("the URL is neither http:// nor https://".into())),
    };
    // A tenant's receiver is reached only at a public address it resolves
    // to (`address`); the operator's default receiver anywhere.
    let trusted = shared.settings.allow_private
        || shared
            .settings
            .default
            .as_ref()
            .is_some_and(|(url, _)| *url == row.url);
    let pinned = if trusted {
        None
    } else {
        let host = uri.host().unwrap_or_default();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Some(
            address::resolve_public(host, port)
                .await
                .map_err(no_answer)?,
        )
    };
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .unwrap_or_default();
    let uri = match pinned {
        // Connect to the checked address; the Host header keeps the name.
        Some(addr) if !tls => {
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            format!("http://{addr}{path}")
                .parse()
                .map_err(|e| no_answer(format!("invalid URL: {e}")))?
        }
        _ => uri,
    };
    let req = hyper::Request::post(uri)
        .header(hyper::header::HOST, authority.as_str())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::USER_AGENT, "liverec")
        .header(EVENT_ID_HEADER, row.event_id.as_str())
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| no_answer(format!("request: {e}")))?;
    let timeout = shared.settings.timeout;
    let sent = async {
        if tls {
            shared.https.send(req, pinned).await
        } else {
            match shared.client.request(req).await {
                Ok(resp) => Ok(resp.status()),
                Err(e) => Err(error_chain(&e)),
            }
        }
    };
    match tokio::time::timeout(timeout, sent).await {
        Err(_) => Err(no_answer(format!(
            "no answer within {} s",
            timeout.as_secs()
        ))),
        Ok(Err(e)) => Err(no_answer(e)),
        Ok(Ok(hyper::StatusCode::OK)) => Ok(()),
        Ok(Ok(status)) => Err(Failure {
            status: i64::from(status.as_u16()),
            reason: format!("HTTP {status}"),
        }),
    }
}

/// An error and its causes, `a: b: c`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests;
