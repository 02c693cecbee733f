//! Reading the outbox for people: DescribeCallbackDeliveries' filtered,
//! paged listing of one account's events and the pending statistics of the
//! metrics. Changes nothing.

use sqlx::Row;

use super::super::listing::{Filter, PageQuery};
use super::super::{Result, Store};
use super::{COLUMNS, Delivery, DeliveryStatus, delivery_from_row};

/// DescribeCallbackDeliveries filters and paging.
#[derive(Clone, Debug, Default)]
pub struct DeliveryFilter {
    /// `event_type`.
    pub event_type: Option<i64>,
    /// StreamName (exact).
    pub stream: Option<String>,
    /// Status.
    pub status: Option<DeliveryStatus>,
    /// Rows skipped.
    pub offset: i64,
    /// Rows returned at most.
    pub limit: i64,
}

/// Pending rows and the age of the oldest (metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Rows still pending.
    pub pending: i64,
    /// Creation time of the oldest pending row, ms.
    pub oldest_pending_ms: Option<i64>,
}

impl Store {
    /// Pending rows and the oldest one's creation time.
    pub async fn outbox_stats(&self) -> Result<OutboxStats> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(created_ms) AS oldest FROM callback_outbox WHERE status = 'pending'",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(OutboxStats {
            pending: r.try_get("n")?,
            oldest_pending_ms: r.try_get("oldest")?,
        })
    }

    /// The outbox rows of `account_id` matching `filter`, newest first,
    /// and how many match in all.
    pub async fn list_deliveries(
        &self,
        account_id: &str,
        filter: &DeliveryFilter,
    ) -> Result<(i64, Vec<Delivery>)> {
        let mut f = Filter::default();
        f.text(account_id, |n| format!("account_id = ${n}"));
        f.eq_text("stream", filter.stream.as_deref());
        f.eq_text("status", filter.status.map(DeliveryStatus::as_str));
        if let Some(t) = filter.event_type {
            f.int(t, |n| format!("event_type = ${n}"));
        }
        let (total, rows) = self
            .page(&PageQuery {
                table: "callback_outbox",
                columns: COLUMNS,
                filter: &f,
                order: "seq DESC",
                limit: filter.limit,
                offset: filter.offset,
            })
            .await?;
        Ok((
            total,
            rows.iter().map(delivery_from_row).collect::<Result<_>>()?,
        ))
    }
}
