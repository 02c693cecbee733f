//! Recording tasks of both API families. The integer row id is the legacy
//! TaskId (AUTOINCREMENT / BIGSERIAL, so never reused); new-API tasks also
//! have an opaque string `public_id`. The families never see each other's
//! tasks.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, StoreError, parsed};
use crate::task::Family;
use crate::task::{FileFormat, RecordType};

fn family_name(f: Family) -> &'static str {
    match f {
        Family::Legacy => "legacy",
        Family::Task | Family::Rule => "task",
    }
}

/// What a task records, and when: all of a task but its row id, its
/// request hash and its stop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskSpec {
    /// Legacy (CreateLiveRecord) or new (CreateRecordTask).
    pub family: Family,
    /// The string TaskId of a new-API task.
    pub public_id: Option<String>,
    /// TemplateId of a new-API task (0 = none).
    pub template_id: i64,
    /// Owning account.
    pub account_id: String,
    /// Push domain; empty matches any domain.
    pub domain: String,
    /// AppName.
    pub app: String,
    /// StreamName.
    pub stream: String,
    /// Start of the wanted window (wall clock, ms).
    pub start_ms: i64,
    /// End of the window (wall clock, ms).
    pub end_ms: i64,
    /// Highlight (real-time) mode.
    pub highlight: bool,
    /// What to record.
    pub record_type: RecordType,
    /// Output formats.
    pub formats: Vec<FileFormat>,
    /// StreamParam as given (decoded).
    pub stream_param: String,
    /// Segment length, seconds (0 = one file per session).
    pub record_interval_s: i64,
    /// Retention, seconds (0 = forever).
    pub storage_time_s: i64,
    /// Creation time, ms.
    pub created_ms: i64,
}

/// A task to insert.
#[derive(Clone, Debug)]
pub struct NewTask {
    /// The task.
    pub spec: TaskSpec,
    /// Hash of the request, for retry de-duplication.
    pub request_hash: String,
}

/// DescribeRecordTask filters and paging.
#[derive(Clone, Debug, Default)]
pub struct TaskQuery {
    /// Window start, ms.
    pub from_ms: i64,
    /// Window end, ms.
    pub to_ms: i64,
    /// StreamName filter ("" = any).
    pub stream: String,
    /// DomainName filter ("" = any).
    pub domain: String,
    /// AppName filter ("" = any).
    pub app: String,
    /// Only rows after this id (ScrollToken).
    pub after_id: i64,
    /// Page size.
    pub limit: i64,
}

/// A stored task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// Row id (the legacy TaskId).
    pub id: i64,
    /// The task as created.
    pub spec: TaskSpec,
    /// When StopLiveRecord ended it.
    pub stopped_ms: Option<i64>,
}

const COLUMNS: &str = "id, family, public_id, template_id, account_id, domain, app, stream, start_ms, end_ms, highlight, record_type, \
                       formats, stream_param, record_interval_s, storage_time_s, created_ms, stopped_ms";

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// `SELECT` of every task column `WHERE` `condition` (a constant).
/// What [`Store::insert_task_unless_retry`] did.
#[derive(Debug)]
pub enum Inserted {
    /// The new task.
    New(Task),
    /// The task of the identical earlier call; nothing was inserted.
    Retry(Task),
}

/// `INSERT … SELECT $1…$17 <condition> RETURNING` the task's columns.
fn insert_sql(condition: &str) -> sqlx::AssertSqlSafe<String> {
    super::dynamic(format!(
        "INSERT INTO tasks (account_id, domain, app, stream, start_ms, end_ms, highlight, \
         record_type, formats, stream_param, record_interval_s, storage_time_s, request_hash, created_ms, \
         family, public_id, template_id) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 {condition} \
         RETURNING {COLUMNS}"
    ))
}

/// Binds a new task's values as $1…$17 of [`insert_sql`].
fn bind_task<'q>(query: Query<'q>, new: &'q NewTask) -> Query<'q> {
    let t = &new.spec;
    let formats: Vec<&str> = t.formats.iter().map(|f| f.as_str()).collect();
    query
        .bind(&t.account_id)
        .bind(&t.domain)
        .bind(&t.app)
        .bind(&t.stream)
        .bind(t.start_ms)
        .bind(t.end_ms)
        .bind(i64::from(t.highlight))
        .bind(t.record_type.as_str())
        .bind(formats.join(","))
        .bind(&t.stream_param)
        .bind(t.record_interval_s)
        .bind(t.storage_time_s)
        .bind(&new.request_hash)
        .bind(t.created_ms)
        .bind(family_name(t.family))
        .bind(t.public_id.clone())
        .bind(t.template_id)
}

fn select(condition: &str) -> sqlx::AssertSqlSafe<String> {
    super::dynamic(format!("SELECT {COLUMNS} FROM tasks WHERE {condition}"))
}

fn task_from_row(r: &AnyRow) -> Result<Task> {
    let formats: String = r.try_get("formats")?;
    let formats = formats
        .split(',')
        .map(|f| FileFormat::parse(f).ok_or_else(|| StoreError::Corrupt(format!("format {f:?}"))))
        .collect::<Result<Vec<_>>>()?;
    let spec = TaskSpec {
        family: parsed(r, "family", "task family", |f| match f {
            "legacy" => Some(Family::Legacy),
            "task" => Some(Family::Task),
            _ => None,
        })?,
        public_id: r.try_get("public_id")?,
        template_id: r.try_get("template_id")?,
        account_id: r.try_get("account_id")?,
        domain: r.try_get("domain")?,
        app: r.try_get("app")?,
        stream: r.try_get("stream")?,
        start_ms: r.try_get("start_ms")?,
        end_ms: r.try_get("end_ms")?,
        highlight: r.try_get::<i64, _>("highlight")? != 0,
        record_type: parsed(r, "record_type", "record_type", RecordType::parse)?,
        formats,
        stream_param: r.try_get("stream_param")?,
        record_interval_s: r.try_get("record_interval_s")?,
        storage_time_s: r.try_get("storage_time_s")?,
        created_ms: r.try_get("created_ms")?,
    };
    Ok(Task {
        id: r.try_get("id")?,
        spec,
        stopped_ms: r.try_get("stopped_ms")?,
    })
}

impl Store {
    /// Inserts a task and returns it with its new id.
    pub async fn insert_task(&self, new: &NewTask) -> Result<Task> {
        let row = bind_task(sqlx::query(insert_sql("")), new)
            .fetch_one(self.pool())
            .await?;
        task_from_row(&row)
    }

    /// Inserts a task unless the account made one with the same request
    /// hash at or after `since_ms` that is not deleted (a retry of the same
    /// call), in one statement: the common case costs one round trip.
    pub async fn insert_task_unless_retry(&self, new: &NewTask, since_ms: i64) -> Result<Inserted> {
        let sql = insert_sql(
            "WHERE NOT EXISTS (SELECT 1 FROM tasks WHERE account_id = $1 AND request_hash = $13 \
             AND created_ms >= $18 AND deleted_ms IS NULL)",
        );
        let row = bind_task(sqlx::query(sql), new)
            .bind(since_ms)
            .fetch_optional(self.pool())
            .await?;
        if let Some(row) = row {
            return Ok(Inserted::New(task_from_row(&row)?));
        }
        let account = &new.spec.account_id;
        match self
            .find_duplicate(account, &new.request_hash, since_ms)
            .await?
        {
            Some(t) => Ok(Inserted::Retry(t)),
            // Deleted in between: nothing to repeat any more.
            None => Ok(Inserted::New(self.insert_task(new).await?)),
        }
    }

    /// The newest live (not deleted) task of `account_id` with this request
    /// hash created at or after `since_ms`.
    pub async fn find_duplicate(
        &self,
        account_id: &str,
        request_hash: &str,
        since_ms: i64,
    ) -> Result<Option<Task>> {
        let sql = select(
            "account_id = $1 AND request_hash = $2 AND created_ms >= $3 \
             AND deleted_ms IS NULL ORDER BY id DESC LIMIT 1",
        );
        let query = sqlx::query(sql).bind(account_id).bind(request_hash);
        self.first_task(query.bind(since_ms)).await
    }

    /// A legacy task of `account_id` that is not deleted.
    pub async fn task(&self, account_id: &str, id: i64) -> Result<Option<Task>> {
        let sql =
            select("id = $1 AND account_id = $2 AND deleted_ms IS NULL AND family = 'legacy'");
        self.first_task(sqlx::query(sql).bind(id).bind(account_id))
            .await
    }

    /// The task (either family, any account) with row id `id`, not deleted:
    /// a peer node arming what another node created.
    pub async fn task_by_row(&self, id: i64) -> Result<Option<Task>> {
        let sql = select("id = $1 AND deleted_ms IS NULL");
        self.first_task(sqlx::query(sql).bind(id)).await
    }

    /// A new-API task of `account_id` by its string TaskId, not deleted.
    pub async fn task_by_public_id(
        &self,
        account_id: &str,
        public_id: &str,
    ) -> Result<Option<Task>> {
        let sql =
            select("public_id = $1 AND account_id = $2 AND deleted_ms IS NULL AND family = 'task'");
        self.first_task(sqlx::query(sql).bind(public_id).bind(account_id))
            .await
    }

    /// The first task `query` (a [`select`]) finds.
    async fn first_task(&self, query: Query<'_>) -> Result<Option<Task>> {
        let row = query.fetch_optional(self.pool()).await?;
        row.as_ref().map(task_from_row).transpose()
    }

    /// New-API tasks of `account_id` whose start and end lie in
    /// [`from_ms`, `to_ms`], optionally filtered by stream identity, with
    /// row ids above `after_id`, oldest first, at most `limit`.
    pub async fn new_tasks_in_window(&self, account_id: &str, q: &TaskQuery) -> Result<Vec<Task>> {
        let rows = sqlx::query(select(&format!(
            "account_id = $1 AND family = 'task' AND deleted_ms IS NULL \
             AND start_ms >= $2 AND end_ms <= $3 AND id > $4 \
             AND ($5 = '' OR stream = $5) AND ($6 = '' OR domain = $6) AND ($7 = '' OR app = $7) \
             ORDER BY id {}",
            super::limit_offset(q.limit, 0)
        )))
        .bind(account_id)
        .bind(q.from_ms)
        .bind(q.to_ms)
        .bind(q.after_id)
        .bind(&q.stream)
        .bind(&q.domain)
        .bind(&q.app)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(task_from_row).collect()
    }

    /// Tasks of one family created by `account_id` at or after `since_ms`
    /// (deleted ones excluded, as Tencent counts them), counted up to `cap`
    /// (the quota): the answer is `min(count, cap)`, so the cost is bounded
    /// by the quota, not by how many tasks the account holds.
    pub async fn count_tasks_created_since(
        &self,
        account_id: &str,
        family: Family,
        since_ms: i64,
        cap: i64,
    ) -> Result<i64> {
        let row = sqlx::query(super::dynamic(format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE account_id = $1 AND family = $3 \
             AND created_ms >= $2 AND deleted_ms IS NULL {}) AS capped",
            super::limit_offset(cap, 0)
        )))
        .bind(account_id)
        .bind(since_ms)
        .bind(family_name(family))
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Tasks of one family of `account_id` that are armed at some moment of
    /// [`start_ms`, `end_ms`) (not stopped, not deleted), counted up to
    /// `cap` as [`Store::count_tasks_created_since`] does; only tasks that
    /// end after `start_ms` are visited (index on the end time).
    pub async fn count_tasks_overlapping(
        &self,
        account_id: &str,
        family: Family,
        (start_ms, end_ms): (i64, i64),
        cap: i64,
    ) -> Result<i64> {
        let row = sqlx::query(super::dynamic(format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE account_id = $1 AND family = $4 \
             AND end_ms > $2 AND start_ms < $3 AND deleted_ms IS NULL AND stopped_ms IS NULL \
             {}) AS capped",
            super::limit_offset(cap, 0)
        )))
        .bind(account_id)
        .bind(start_ms)
        .bind(end_ms)
        .bind(family_name(family))
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Marks a task stopped (first stop wins).
    pub async fn stop_task(&self, id: i64, now_ms: i64) -> Result<()> {
        self.set_task_time(
            "UPDATE tasks SET stopped_ms = $1 WHERE id = $2 AND stopped_ms IS NULL",
            id,
            now_ms,
        )
        .await
    }

    /// Marks a task deleted.
    pub async fn delete_task(&self, id: i64, now_ms: i64) -> Result<()> {
        self.set_task_time("UPDATE tasks SET deleted_ms = $1 WHERE id = $2", id, now_ms)
            .await
    }

    /// Runs `sql` (an UPDATE binding the time as $1 and the task id as $2).
    async fn set_task_time(&self, sql: &'static str, id: i64, now_ms: i64) -> Result<()> {
        sqlx::query(sql)
            .bind(now_ms)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every task that may still record: not stopped, not deleted, ending
    /// after `now_ms`.
    pub async fn armed_tasks(&self, now_ms: i64) -> Result<Vec<Task>> {
        let rows = sqlx::query(select(
            "deleted_ms IS NULL AND stopped_ms IS NULL AND end_ms > $1 ORDER BY id",
        ))
        .bind(now_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(task_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{stores, two_accounts};
    use super::*;

    pub(crate) fn new_task(account: &str, start: i64, end: i64) -> NewTask {
        NewTask {
            spec: TaskSpec {
                family: Family::Legacy,
                public_id: None,
                template_id: 0,
                account_id: account.into(),
                domain: String::new(),
                app: "live".into(),
                stream: "s".into(),
                start_ms: start,
                end_ms: end,
                highlight: false,
                record_type: RecordType::Video,
                formats: vec![FileFormat::Flv],
                stream_param: String::new(),
                record_interval_s: 0,
                storage_time_s: 0,
                created_ms: start,
            },
            request_hash: "h".into(),
        }
    }

    #[tokio::test]
    async fn task_lifecycle() {
        for (s, _d) in stores().await {
            two_accounts(&s).await;
            let t1 = s.insert_task(&new_task("a", 1000, 5000)).await.unwrap();
            let t2 = s.insert_task(&new_task("a", 2000, 9000)).await.unwrap();
            assert!(t2.id > t1.id);
            assert_eq!(s.task("a", t1.id).await.unwrap().unwrap(), t1);
            assert!(s.task("b", t1.id).await.unwrap().is_none(), "other account");
            assert_eq!(
                s.find_duplicate("a", "h", 1500).await.unwrap().unwrap().id,
                t2.id
            );
            assert!(s.find_duplicate("b", "h", 0).await.unwrap().is_none());
            let since = |f, cap| s.count_tasks_created_since("a", f, 0, cap);
            assert_eq!(since(Family::Legacy, 100).await.unwrap(), 2);
            assert_eq!(since(Family::Legacy, 1).await.unwrap(), 1, "capped");
            assert_eq!(since(Family::Task, 100).await.unwrap(), 0);
            let overlapping =
                |window, cap| s.count_tasks_overlapping("a", Family::Legacy, window, cap);
            assert_eq!(overlapping((6000, 7000), 100).await.unwrap(), 1);
            assert_eq!(overlapping((0, 10_000), 100).await.unwrap(), 2);
            assert_eq!(overlapping((0, 10_000), 1).await.unwrap(), 1, "capped");
            assert_eq!(overlapping((9000, 10_000), 100).await.unwrap(), 0, "ended");
            s.stop_task(t2.id, 3000).await.unwrap();
            s.stop_task(t2.id, 4000).await.unwrap();
            assert_eq!(
                s.task("a", t2.id).await.unwrap().unwrap().stopped_ms,
                Some(3000)
            );
            assert_eq!(s.armed_tasks(0).await.unwrap().len(), 1);
            s.delete_task(t1.id, 5000).await.unwrap();
            assert!(s.task("a", t1.id).await.unwrap().is_none());
            // Ids are never reused, even after deletion.
            let t3 = s.insert_task(&new_task("a", 1, 2)).await.unwrap();
            assert!(t3.id > t2.id);
        }
    }
}
