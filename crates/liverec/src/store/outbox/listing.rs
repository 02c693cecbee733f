//! Reading the outbox for people: DescribeCallbackDeliveries' filtered,
//! paged listing of one account's events and the pending statistics of the
//! metrics. Changes nothing.

use sqlx::Row;

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
        let mut clauses = vec!["account_id = $1".to_string()];
        let mut texts: Vec<String> = Vec::new();
        if let Some(s) = &filter.stream {
            texts.push(s.clone());
            clauses.push(format!("stream = ${}", 1 + texts.len()));
        }
        if let Some(s) = filter.status {
            texts.push(s.as_str().to_string());
            clauses.push(format!("status = ${}", 1 + texts.len()));
        }
        let mut n = 1 + texts.len();
        if filter.event_type.is_some() {
            n += 1;
            clauses.push(format!("event_type = ${n}"));
        }
        let where_sql = clauses.join(" AND ");
        let bind_all = |sql: String| {
            let mut q = sqlx::query(super::super::dynamic(sql)).bind(account_id.to_string());
            for t in &texts {
                q = q.bind(t.clone());
            }
            if let Some(t) = filter.event_type {
                q = q.bind(t);
            }
            q
        };
        let total: i64 = bind_all(format!(
            "SELECT COUNT(*) FROM callback_outbox WHERE {where_sql}"
        ))
        .fetch_one(self.pool())
        .await?
        .try_get(0)?;
        let rows = bind_all(format!(
            "SELECT {COLUMNS} FROM callback_outbox WHERE {where_sql} \
             ORDER BY seq DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        ))
        .bind(filter.limit)
        .bind(filter.offset)
        .fetch_all(self.pool())
        .await?;
        Ok((
            total,
            rows.iter().map(delivery_from_row).collect::<Result<_>>()?,
        ))
    }
}
