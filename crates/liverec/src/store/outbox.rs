//! The callback outbox (SPEC §5): one `callback_outbox` row per event to
//! deliver. Rows are written by [`enqueue_on`] inside the transaction of the
//! change they announce (a publish session starting or ending, a file
//! becoming finished or recovered), so an event exists exactly when its
//! change does, across crashes. The receiver is resolved then: the
//! account's callback rule for the stream ([`super::callback_rules`]), else
//! the server-wide default URL and key; a rule whose template leaves the
//! event's URL empty means "not wanted", and nothing is written.
//!
//! Delivery state lives here too, for the worker in `crate::callbacks`:
//! [`Store::claim_deliveries`] takes due rows whose stream has no earlier
//! pending event (order per stream) with a lease (`lease_until_ms`,
//! `lease_owner`): a conditional UPDATE, so several nodes on one PostgreSQL
//! database never try the same row at once, and a node that dies mid-try
//! loses its lease when it runs out. Must not send anything or sign bodies.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::callback_rules::{CallbackTarget, target_on};
use super::{Dialect, Result, Store};

/// Which notify URL of a callback template an event goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// StreamBeginNotifyUrl (event 1).
    StreamBegin,
    /// StreamEndNotifyUrl (event 0).
    StreamEnd,
    /// RecordNotifyUrl (event 100).
    Record,
    /// RecordStatusNotifyUrl (event 332).
    RecordStatus,
    /// RecordExceptionNotifyUrl (event 341), filtered by the level.
    RecordException(&'static str),
}

/// An event to write to the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// Stable id, sent with every attempt (receivers de-duplicate on it).
    pub event_id: String,
    /// The account whose stream it concerns.
    pub account_id: String,
    /// `event_type` of the body.
    pub event_type: i64,
    /// Push domain.
    pub domain: String,
    /// AppName.
    pub app: String,
    /// StreamName.
    pub stream: String,
    /// Which URL of the template it goes to.
    pub route: Route,
    /// The JSON body without `t` and `sign` (added at each attempt).
    pub body: String,
    /// The server-wide default (URL, key), used when no rule matches.
    pub fallback: Option<(String, String)>,
    /// When it was made, ms.
    pub created_ms: i64,
    /// After this, a failed attempt is the last one, ms.
    pub expire_ms: i64,
}

/// Delivery status of an outbox row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not delivered yet; attempts continue.
    Pending,
    /// A receiver answered 200.
    Delivered,
    /// Retries ran out (`callback_retry_seconds` or the Tencent policy).
    Failed,
}

impl DeliveryStatus {
    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Parses the spelling of [`DeliveryStatus::as_str`].
    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// A stored outbox row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Order of writing (per stream, events go out in this order).
    pub seq: i64,
    /// Stable event id.
    pub event_id: String,
    /// Owning account.
    pub account_id: String,
    /// `event_type`.
    pub event_type: i64,
    /// Push domain.
    pub domain: String,
    /// AppName.
    pub app: String,
    /// StreamName.
    pub stream: String,
    /// Receiver.
    pub url: String,
    /// CallbackKey for `sign`.
    pub sign_key: String,
    /// JSON body without `t` and `sign`.
    pub body: String,
    /// Status.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due, ms.
    pub next_attempt_ms: i64,
    /// HTTP status of the last attempt (0 = no answer).
    pub last_http_status: i64,
    /// Why the last attempt failed ("" = none yet, or delivered).
    pub last_error: String,
    /// Written, ms.
    pub created_ms: i64,
    /// Retries end after this, ms.
    pub expire_ms: i64,
    /// Delivered or given up, ms.
    pub done_ms: Option<i64>,
}

pub(super) const COLUMNS: &str = "seq, event_id, account_id, event_type, domain, app, stream, url, sign_key, \
                       body, status, attempts, next_attempt_ms, last_http_status, last_error, \
                       created_ms, expire_ms, done_ms";

pub(super) fn delivery_from_row(r: &AnyRow) -> Result<Delivery> {
    Ok(Delivery {
        seq: r.try_get("seq")?,
        event_id: r.try_get("event_id")?,
        account_id: r.try_get("account_id")?,
        event_type: r.try_get("event_type")?,
        domain: r.try_get("domain")?,
        app: r.try_get("app")?,
        stream: r.try_get("stream")?,
        url: r.try_get("url")?,
        sign_key: r.try_get("sign_key")?,
        body: r.try_get("body")?,
        status: super::parsed(r, "status", "delivery status", DeliveryStatus::parse)?,
        attempts: r.try_get("attempts")?,
        next_attempt_ms: r.try_get("next_attempt_ms")?,
        last_http_status: r.try_get("last_http_status")?,
        last_error: r.try_get("last_error")?,
        created_ms: r.try_get("created_ms")?,
        expire_ms: r.try_get("expire_ms")?,
        done_ms: r.try_get("done_ms")?,
    })
}

/// The (URL, key) `e` goes to, or None when it is not wanted.
fn receiver(e: &NewEvent, target: Option<CallbackTarget>) -> Option<(String, String)> {
    let Some(t) = target else {
        return e.fallback.clone();
    };
    let url = match e.route {
        Route::StreamBegin => t.stream_begin_url,
        Route::StreamEnd => t.stream_end_url,
        Route::Record => t.record_url,
        Route::RecordStatus => t.record_status_url,
        Route::RecordException(level) => {
            // No levels chosen means every level.
            let wanted = t.record_exception_levels.is_empty()
                || t.record_exception_levels.iter().any(|l| l == level);
            if wanted {
                t.record_exception_url
            } else {
                String::new()
            }
        }
    };
    (!url.is_empty()).then_some((url, t.key))
}

/// The ordering key of a stream's events.
fn stream_key(e: &NewEvent) -> String {
    format!("{}/{}/{}/{}", e.account_id, e.domain, e.app, e.stream)
}

/// Writes `e` on `conn` (inside the caller's transaction); false when no
/// receiver wants it.
pub(super) async fn enqueue_on(conn: &mut sqlx::AnyConnection, e: &NewEvent) -> Result<bool> {
    let target = target_on(conn, &e.account_id, &e.domain, &e.app).await?;
    let Some((url, key)) = receiver(e, target) else {
        return Ok(false);
    };
    sqlx::query(
        "INSERT INTO callback_outbox (event_id, account_id, event_type, stream_key, domain, app, \
         stream, url, sign_key, body, status, attempts, next_attempt_ms, lease_until_ms, \
         lease_owner, last_http_status, last_error, created_ms, expire_ms, done_ms) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', 0, $11, 0, '', 0, '', $11, $12, NULL)",
    )
    .bind(&e.event_id)
    .bind(&e.account_id)
    .bind(e.event_type)
    .bind(stream_key(e))
    .bind(&e.domain)
    .bind(&e.app)
    .bind(&e.stream)
    .bind(url)
    .bind(key)
    .bind(&e.body)
    .bind(e.created_ms)
    .bind(e.expire_ms)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// Writes every event of `events` on `conn`; how many were wanted.
pub(super) async fn enqueue_all(
    conn: &mut sqlx::AnyConnection,
    events: &[NewEvent],
) -> Result<usize> {
    let mut n = 0;
    for e in events {
        if enqueue_on(conn, e).await? {
            n += 1;
        }
    }
    Ok(n)
}

impl Store {
    /// Writes events that announce no other change (recording status and
    /// exceptions) in a transaction of their own; how many were wanted.
    pub async fn enqueue_events(&self, events: &[NewEvent]) -> Result<usize> {
        if events.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let n = enqueue_all(&mut tx, events).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Leases up to `limit` due rows to `owner` until `now_ms + lease_ms`:
    /// pending, due, not leased by anyone, and the first pending row of
    /// their stream (a stream's events go out in order). Oldest first.
    pub async fn claim_deliveries(
        &self,
        now_ms: i64,
        limit: i64,
        owner: &str,
        lease_ms: i64,
    ) -> Result<Vec<Delivery>> {
        let candidates = sqlx::query(super::dynamic(format!(
            "SELECT o.seq FROM callback_outbox o \
             WHERE o.status = 'pending' AND o.next_attempt_ms <= $1 AND o.lease_until_ms <= $1 \
             AND NOT EXISTS (SELECT 1 FROM callback_outbox p WHERE p.stream_key = o.stream_key \
                             AND p.status = 'pending' AND p.seq < o.seq) \
             ORDER BY o.seq {}",
            super::limit_offset(limit, 0)
        )))
        .bind(now_ms)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(candidates.len());
        for c in candidates {
            let seq: i64 = c.try_get("seq")?;
            // The lease is taken only if nobody took it since the SELECT.
            let row = sqlx::query(super::dynamic(format!(
                "UPDATE callback_outbox SET lease_until_ms = $1, lease_owner = $2 \
                 WHERE seq = $3 AND status = 'pending' AND lease_until_ms <= $4 RETURNING {COLUMNS}"
            )))
            .bind(now_ms + lease_ms)
            .bind(owner)
            .bind(seq)
            .bind(now_ms)
            .fetch_optional(self.pool())
            .await?;
            if let Some(r) = row {
                out.push(delivery_from_row(&r)?);
            }
        }
        Ok(out)
    }

    /// Gives a leased row back untried, due at `next_ms` (its receiver had
    /// no free connection slot).
    pub async fn release_delivery(&self, seq: i64, owner: &str, next_ms: i64) -> Result<()> {
        sqlx::query(
            "UPDATE callback_outbox SET lease_until_ms = 0, next_attempt_ms = $1 \
             WHERE seq = $2 AND lease_owner = $3 AND status = 'pending'",
        )
        .bind(next_ms)
        .bind(seq)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a delivered event (HTTP 200).
    pub async fn delivery_done(&self, seq: i64, now_ms: i64) -> Result<()> {
        sqlx::query(
            "UPDATE callback_outbox SET status = 'delivered', attempts = attempts + 1, \
             last_http_status = 200, last_error = '', lease_until_ms = 0, done_ms = $1 \
             WHERE seq = $2 AND status = 'pending'",
        )
        .bind(now_ms)
        .bind(seq)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a failed attempt: due again at `next_ms`, or `failed` for
    /// good when `next_ms` is None.
    pub async fn delivery_failed(
        &self,
        seq: i64,
        now_ms: i64,
        http_status: i64,
        error: &str,
        next_ms: Option<i64>,
    ) -> Result<()> {
        let (status, next, done) = match next_ms {
            Some(n) => (DeliveryStatus::Pending, n, None),
            None => (DeliveryStatus::Failed, now_ms, Some(now_ms)),
        };
        sqlx::query(
            "UPDATE callback_outbox SET status = $1, attempts = attempts + 1, \
             last_http_status = $2, last_error = $3, next_attempt_ms = $4, lease_until_ms = 0, \
             done_ms = $5 WHERE seq = $6 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(http_status)
        .bind(error)
        .bind(next)
        .bind(done)
        .bind(seq)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Drops every lease (start-up of a single node: the leases are the
    /// dead process's). Not done on PostgreSQL, where other nodes may be
    /// delivering; there leases run out on their own.
    pub async fn release_stale_leases(&self) -> Result<u64> {
        if self.dialect != Dialect::Sqlite {
            return Ok(0);
        }
        let r = sqlx::query(
            "UPDATE callback_outbox SET lease_until_ms = 0 WHERE status = 'pending' AND lease_until_ms > 0",
        )
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected())
    }

    /// Deletes delivered rows finished before `before_ms` (failed ones
    /// stay, for people to see); how many went.
    pub async fn purge_delivered(&self, before_ms: i64) -> Result<u64> {
        let r =
            sqlx::query("DELETE FROM callback_outbox WHERE status = 'delivered' AND done_ms < $1")
                .bind(before_ms)
                .execute(self.pool())
                .await?;
        Ok(r.rows_affected())
    }

    /// Gives back the leases of `owner` (graceful stop).
    pub async fn release_leases_of(&self, owner: &str) -> Result<()> {
        sqlx::query(
            "UPDATE callback_outbox SET lease_until_ms = 0 WHERE lease_owner = $1 AND status = 'pending'",
        )
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

mod listing;
#[cfg(test)]
mod tests;

pub use listing::{DeliveryFilter, OutboxStats};
