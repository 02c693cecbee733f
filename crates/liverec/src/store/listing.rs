//! The one way a filtered listing is queried: a WHERE clause built from
//! optional filters with numbered placeholders and the values bound to
//! them, then the total count and one page (`LIMIT`/`OFFSET`) of rows.
//! Used by the file list, the publish event list and the callback
//! deliveries, which differ only in their filters, table and order. The
//! file list, the busiest, is read on the calling thread on SQLite
//! ([`Store::page_direct`], see `direct`), else takes the total and the
//! page in one row ([`Store::page_json`]).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Dialect, Result, Store, dynamic};

/// A value for a placeholder.
#[derive(Clone, Debug)]
enum Arg {
    Text(String),
    Int(i64),
}

/// The WHERE clause of a listing and its bound values, in placeholder order.
#[derive(Debug, Default)]
pub(super) struct Filter {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Filter {
    /// A condition without a value.
    pub(super) fn push(&mut self, clause: &str) {
        self.clauses.push(clause.to_string());
    }

    /// A condition on a text value; `clause` gets the value's placeholder
    /// number.
    pub(super) fn text(&mut self, value: &str, clause: impl FnOnce(usize) -> String) {
        self.args.push(Arg::Text(value.to_string()));
        self.clauses.push(clause(self.args.len()));
    }

    /// A condition on an integer value; see [`Filter::text`].
    pub(super) fn int(&mut self, value: i64, clause: impl FnOnce(usize) -> String) {
        self.args.push(Arg::Int(value));
        self.clauses.push(clause(self.args.len()));
    }

    /// `col = $n` when `value` is given.
    pub(super) fn eq_text(&mut self, col: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.text(v, |n| format!("{col} = ${n}"));
        }
    }

    /// Binds the values to a statement of the direct reads, by
    /// placeholder name (`$n`; a name used twice is one parameter).
    fn bind_direct(&self, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<()> {
        for (i, a) in self.args.iter().enumerate() {
            let Some(index) = stmt.parameter_index(&format!("${}", i + 1))? else {
                continue;
            };
            match a {
                Arg::Text(t) => stmt.raw_bind_parameter(index, t.as_str())?,
                Arg::Int(v) => stmt.raw_bind_parameter(index, *v)?,
            }
        }
        Ok(())
    }

    fn query(
        &self,
        sql: String,
    ) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(dynamic(sql));
        for a in &self.args {
            q = match a {
                Arg::Text(t) => q.bind(t.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

/// One listing: which rows of which table, in which order, which page.
pub(super) struct PageQuery<'a> {
    pub(super) table: &'a str,
    /// The columns read, comma-separated.
    pub(super) columns: &'a str,
    pub(super) filter: &'a Filter,
    /// The ORDER BY terms.
    pub(super) order: &'a str,
    pub(super) limit: i64,
    pub(super) offset: i64,
}

impl PageQuery<'_> {
    fn where_sql(&self) -> String {
        self.filter.clauses.join(" AND ")
    }

    /// The total's SELECT.
    fn count_sql(&self, where_sql: &str) -> String {
        format!("SELECT COUNT(*) FROM {} WHERE {where_sql}", self.table)
    }

    /// The page's SELECT. LIMIT and OFFSET are written as numbers: SQLite
    /// re-prepares a statement whose LIMIT is a parameter every time it is
    /// bound.
    fn page_sql(&self, where_sql: &str) -> String {
        format!(
            "SELECT {} FROM {} WHERE {where_sql} ORDER BY {} {}",
            self.columns,
            self.table,
            self.order,
            super::limit_offset(self.limit, self.offset)
        )
    }
}

impl Store {
    /// How many rows match `q`, and its page.
    pub(super) async fn page(&self, q: &PageQuery<'_>) -> Result<(i64, Vec<AnyRow>)> {
        let where_sql = q.where_sql();
        // Both queries on one connection: one pool checkout (and, on
        // SQLite, one release round trip) instead of two.
        let mut conn = self.pool().acquire().await?;
        let total: i64 = q
            .filter
            .query(q.count_sql(&where_sql))
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let rows = q
            .filter
            .query(q.page_sql(&where_sql))
            .fetch_all(&mut *conn)
            .await?;
        Ok((total, rows))
    }

    /// [`page`](Self::page) in one statement and one row: the total, and
    /// the page as a JSON array of arrays of the columns in order (or None
    /// for an empty page). The driver then hands over one row per request
    /// instead of one per listed row (on SQLite each is a hand-off between
    /// threads, and the row's columns are copied into the generic row);
    /// the aggregate may reorder, so callers sort the decoded page.
    pub(super) async fn page_json(&self, q: &PageQuery<'_>) -> Result<(i64, Option<String>)> {
        let where_sql = q.where_sql();
        let columns = q.columns;
        let aggregate = match self.dialect() {
            Dialect::Sqlite => format!("json_group_array(json_array({columns}))"),
            Dialect::Postgres => format!("json_agg(json_build_array({columns}))::text"),
        };
        // Both sub-selects use the same numbered placeholders, bound once.
        let sql = format!(
            "SELECT ({}), (SELECT {aggregate} FROM ({}) AS page)",
            q.count_sql(&where_sql),
            q.page_sql(&where_sql)
        );
        let row = q.filter.query(sql).fetch_one(self.pool()).await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// [`page`](Self::page) read on the calling thread, both statements in
    /// one read transaction (one snapshot), each row through `row`; None
    /// when this store has no direct reads or the read failed (the caller
    /// then reads through the pool).
    pub(super) fn page_direct<T>(
        &self,
        q: &PageQuery<'_>,
        row: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<(i64, Vec<T>)> {
        let direct = self.direct()?;
        let where_sql = q.where_sql();
        let (count, page) = (q.count_sql(&where_sql), q.page_sql(&where_sql));
        let read = direct.with_conn(|conn| {
            let tx = conn.unchecked_transaction()?;
            let mut stmt = tx.prepare_cached(&count)?;
            q.filter.bind_direct(&mut stmt)?;
            let total = match stmt.raw_query().next()? {
                Some(r) => r.get(0)?,
                None => 0,
            };
            drop(stmt);
            let mut stmt = tx.prepare_cached(&page)?;
            q.filter.bind_direct(&mut stmt)?;
            let mut rows = stmt.raw_query();
            let mut out = Vec::with_capacity(usize::try_from(q.limit.clamp(0, 100)).unwrap_or(0));
            while let Some(r) = rows.next()? {
                out.push(row(r)?);
            }
            drop(rows);
            drop(stmt);
            tx.commit()?;
            Ok((total, out))
        });
        match read {
            Ok(v) => Some(v),
            Err(e) => {
                metrics::counter!("liverec_store_direct_read_failures_total").increment(1);
                tracing::debug!(error = %e, "direct SQLite read failed; reading through the pool");
                None
            }
        }
    }
}
