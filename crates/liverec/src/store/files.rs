//! Recorded files: one row per file (or HLS playlist), inserted when the
//! recording opens it (status `recording`) and completed when it is
//! finalized or recovered.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::listing::{Filter, PageQuery};
use super::outbox::{NewEvent, enqueue_all};
use super::{Result, Store, parsed};
use crate::task::{FileFormat, RecordType};

/// Where a file is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileStatus {
    /// Being written.
    Recording,
    /// Finalized normally.
    Finished,
    /// Finalized by crash recovery.
    Recovered,
}

impl FileStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Recording => "recording",
            FileStatus::Finished => "finished",
            FileStatus::Recovered => "recovered",
        }
    }

    fn parse(s: &str) -> Option<FileStatus> {
        [
            FileStatus::Recording,
            FileStatus::Finished,
            FileStatus::Recovered,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }
}

/// One recorded file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    /// FileId.
    pub id: String,
    /// Owning account.
    pub account_id: String,
    /// TaskId of the task that made it (decimal for legacy tasks).
    pub task_id: String,
    /// Publish session it comes from.
    pub session_id: String,
    /// Push domain.
    pub domain: String,
    /// AppName.
    pub app: String,
    /// StreamName.
    pub stream: String,
    /// Container.
    pub format: FileFormat,
    /// What it holds.
    pub record_type: RecordType,
    /// Wall-clock time of the first frame, ms.
    pub start_ms: i64,
    /// Wall-clock end (start + duration), ms.
    pub end_ms: i64,
    /// Media duration, ms.
    pub duration_ms: i64,
    /// Size in bytes as served.
    pub file_size: i64,
    /// Storage key (`/files/<key>`).
    pub storage_key: String,
    /// Where it is written while open.
    pub spool_path: String,
    /// Status.
    pub status: FileStatus,
    /// Publish query string of the session.
    pub stream_param: String,
    /// JSON object with codec and resolution (callback_ext).
    pub media_info: String,
    /// Retention of the task, seconds (0 = forever).
    pub storage_time_s: i64,
    /// When retention deletes it, ms.
    pub expire_ms: Option<i64>,
}

/// DescribeRecordFiles filters.
#[derive(Clone, Debug, Default)]
pub struct FileFilter {
    /// TaskId.
    pub task_id: Option<String>,
    /// DomainName.
    pub domain: Option<String>,
    /// AppName.
    pub app: Option<String>,
    /// StreamName.
    pub stream: Option<String>,
    /// Files ending at or after this time, ms.
    pub from_ms: Option<i64>,
    /// Files starting at or before this time, ms.
    pub to_ms: Option<i64>,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
}

const COLUMNS: &str = "id, account_id, task_id, session_id, domain, app, stream, file_format, record_type, \
                       start_ms, end_ms, duration_ms, file_size, storage_key, spool_path, status, stream_param, \
                       media_info, storage_time_s, expire_ms";

fn file_from_row(r: &AnyRow) -> Result<FileRow> {
    Ok(FileRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        task_id: r.try_get("task_id")?,
        session_id: r.try_get("session_id")?,
        domain: r.try_get("domain")?,
        app: r.try_get("app")?,
        stream: r.try_get("stream")?,
        format: parsed(r, "file_format", "format", FileFormat::parse)?,
        record_type: parsed(r, "record_type", "record_type", RecordType::parse)?,
        start_ms: r.try_get("start_ms")?,
        end_ms: r.try_get("end_ms")?,
        duration_ms: r.try_get("duration_ms")?,
        file_size: r.try_get("file_size")?,
        storage_key: r.try_get("storage_key")?,
        spool_path: r.try_get("spool_path")?,
        status: parsed(r, "status", "status", FileStatus::parse)?,
        stream_param: r.try_get("stream_param")?,
        media_info: r.try_get("media_info")?,
        storage_time_s: r.try_get("storage_time_s")?,
        expire_ms: r.try_get("expire_ms")?,
    })
}

/// One file row as a tuple of [`COLUMNS`] in order: as
/// [`Store::page_json`] aggregates it, or as a direct read returns it.
#[derive(serde::Deserialize)]
struct Columns(
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
);

impl Columns {
    /// The row of a direct read of [`COLUMNS`].
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Columns> {
        Ok(Columns(
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
            r.get(11)?,
            r.get(12)?,
            r.get(13)?,
            r.get(14)?,
            r.get(15)?,
            r.get(16)?,
            r.get(17)?,
            r.get(18)?,
            r.get(19)?,
        ))
    }
}

/// A page of file rows from [`Store::page_json`], newest first.
fn files_from_json(page: Option<&str>) -> Result<Vec<FileRow>> {
    let Some(text) = page else {
        return Ok(Vec::new());
    };
    let rows: Vec<Columns> = serde_json::from_str(text)
        .map_err(|e| super::StoreError::Corrupt(format!("file listing: {e}")))?;
    files_from_columns(rows)
}

/// File rows from their column tuples, newest first.
fn files_from_columns(rows: Vec<Columns>) -> Result<Vec<FileRow>> {
    let parse = |what: &str, text: &str| super::StoreError::Corrupt(format!("{what} {text:?}"));
    let mut files = rows
        .into_iter()
        .map(|r| {
            Ok(FileRow {
                format: FileFormat::parse(&r.7).ok_or_else(|| parse("format", &r.7))?,
                record_type: RecordType::parse(&r.8).ok_or_else(|| parse("record_type", &r.8))?,
                status: FileStatus::parse(&r.15).ok_or_else(|| parse("status", &r.15))?,
                id: r.0,
                account_id: r.1,
                task_id: r.2,
                session_id: r.3,
                domain: r.4,
                app: r.5,
                stream: r.6,
                start_ms: r.9,
                end_ms: r.10,
                duration_ms: r.11,
                file_size: r.12,
                storage_key: r.13,
                spool_path: r.14,
                stream_param: r.16,
                media_info: r.17,
                storage_time_s: r.18,
                expire_ms: r.19,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // The listing's order, whatever order the aggregate kept.
    files.sort_by(|a, b| b.start_ms.cmp(&a.start_ms).then_with(|| b.id.cmp(&a.id)));
    Ok(files)
}

impl Store {
    /// Inserts a file row (normally with status `recording`).
    pub async fn insert_file(&self, f: &FileRow, now_ms: i64) -> Result<()> {
        sqlx::query(super::dynamic(format!(
            "INSERT INTO files ({COLUMNS}, created_ms, node_id) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
        )))
        .bind(&f.id)
        .bind(&f.account_id)
        .bind(&f.task_id)
        .bind(&f.session_id)
        .bind(&f.domain)
        .bind(&f.app)
        .bind(&f.stream)
        .bind(f.format.as_str())
        .bind(f.record_type.as_str())
        .bind(f.start_ms)
        .bind(f.end_ms)
        .bind(f.duration_ms)
        .bind(f.file_size)
        .bind(&f.storage_key)
        .bind(&f.spool_path)
        .bind(f.status.as_str())
        .bind(&f.stream_param)
        .bind(&f.media_info)
        .bind(f.storage_time_s)
        .bind(f.expire_ms)
        .bind(now_ms)
        .bind(self.node())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records the final state of a file and, in the same transaction, the
    /// events that announce it and the end of its upload rows. Only a file
    /// still `recording` is changed: false (and no events) when another
    /// process (a peer that took this node over, or this node's restart)
    /// made it final first.
    pub async fn complete_file(&self, f: &FileRow, events: &[NewEvent]) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE files SET status = $1, start_ms = $2, end_ms = $3, duration_ms = $4, file_size = $5, \
             media_info = $6, expire_ms = $7, storage_key = $8 WHERE id = $9 AND status = 'recording'",
        )
        .bind(f.status.as_str())
        .bind(f.start_ms)
        .bind(f.end_ms)
        .bind(f.duration_ms)
        .bind(f.file_size)
        .bind(&f.media_info)
        .bind(f.expire_ms)
        .bind(&f.storage_key)
        .bind(&f.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        enqueue_all(&mut tx, events).await?;
        super::uploads::forget_upload_in(&mut tx, &f.id).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes the row of a file that produced no media (with its upload
    /// rows).
    pub async fn discard_file(&self, id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM files WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        super::uploads::forget_upload_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the open file `id` of the dead node `from` over for this node,
    /// as long as `from` is still marked swept (a restart clears the mark,
    /// and then the file is its own again). True when taken.
    pub async fn claim_file(&self, id: &str, from: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE files SET node_id = $1 WHERE id = $2 AND node_id = $3 AND status = 'recording' \
             AND EXISTS (SELECT 1 FROM nodes WHERE node_id = $3 AND swept_ms IS NOT NULL)",
        )
        .bind(self.node())
        .bind(id)
        .bind(from)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Hands the open file `id` this node claimed back to `to` (finishing
    /// it from the bucket failed; `to`'s restart may still have its spool).
    pub async fn release_file(&self, id: &str, to: &str) -> Result<()> {
        sqlx::query(
            "UPDATE files SET node_id = $1 WHERE id = $2 AND node_id = $3 AND status = 'recording'",
        )
        .bind(to)
        .bind(id)
        .bind(self.node())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Status and writing node of the (not deleted) file stored under `key`.
    pub async fn file_by_key(&self, key: &str) -> Result<Option<(FileStatus, String)>> {
        let row = sqlx::query(
            "SELECT status, node_id FROM files WHERE storage_key = $1 AND deleted_ms IS NULL \
             ORDER BY created_ms DESC LIMIT 1",
        )
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => Ok(Some((
                parsed(&r, "status", "status", FileStatus::parse)?,
                r.try_get("node_id")?,
            ))),
            None => Ok(None),
        }
    }

    /// Files still marked `recording` that `node` wrote (open when that
    /// node's process stopped); this node's own also include rows written
    /// before files carried their node.
    pub async fn open_files(&self, node: &str) -> Result<Vec<FileRow>> {
        let rows = sqlx::query(super::dynamic(format!(
            "SELECT {COLUMNS} FROM files WHERE status = 'recording' AND deleted_ms IS NULL \
             AND (node_id = $1 OR ($1 = $2 AND node_id = ''))"
        )))
        .bind(node)
        .bind(self.node())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(file_from_row).collect()
    }

    /// Files of `account_id` matching `filter`, newest first, and the total.
    pub async fn list_files(
        &self,
        account_id: &str,
        filter: &FileFilter,
    ) -> Result<(i64, Vec<FileRow>)> {
        let mut f = Filter::default();
        f.text(account_id, |n| format!("account_id = ${n}"));
        f.push("deleted_ms IS NULL");
        f.eq_text("task_id", filter.task_id.as_deref());
        f.eq_text("domain", filter.domain.as_deref());
        f.eq_text("app", filter.app.as_deref());
        f.eq_text("stream", filter.stream.as_deref());
        if let Some(from) = filter.from_ms {
            f.int(from, |n| {
                format!("(end_ms >= ${n} OR status = 'recording')")
            });
        }
        if let Some(to) = filter.to_ms {
            f.int(to, |n| format!("start_ms <= ${n}"));
        }
        let q = PageQuery {
            table: "files",
            columns: COLUMNS,
            filter: &f,
            order: "start_ms DESC, id DESC",
            limit: filter.limit,
            offset: filter.offset,
        };
        if let Some((total, rows)) = self.page_direct(&q, Columns::read) {
            return Ok((total, files_from_columns(rows)?));
        }
        let (total, page) = self.page_json(&q).await?;
        Ok((total, files_from_json(page.as_deref())?))
    }

    /// A file of `account_id` by id.
    pub async fn file(&self, account_id: &str, id: &str) -> Result<Option<FileRow>> {
        let row = sqlx::query(super::dynamic(format!(
            "SELECT {COLUMNS} FROM files WHERE id = $1 AND account_id = $2 AND deleted_ms IS NULL"
        )))
        .bind(id)
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(file_from_row).transpose()
    }

    /// Marks a file deleted (its bytes are removed by the caller).
    pub async fn delete_file(&self, id: &str, now_ms: i64) -> Result<()> {
        sqlx::query("UPDATE files SET deleted_ms = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Finished files whose retention has run out.
    pub async fn expired_files(&self, now_ms: i64, limit: i64) -> Result<Vec<FileRow>> {
        let rows = sqlx::query(super::dynamic(format!(
            "SELECT {COLUMNS} FROM files WHERE deleted_ms IS NULL AND status <> 'recording' \
             AND expire_ms IS NOT NULL AND expire_ms <= $1 ORDER BY expire_ms LIMIT $2"
        )))
        .bind(now_ms)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(file_from_row).collect()
    }

    /// The earliest pending expiry, if any.
    pub async fn next_expiry(&self) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(expire_ms) FROM files WHERE deleted_ms IS NULL AND status <> 'recording' AND expire_ms IS NOT NULL",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get(0)?)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::test_support::{stores, two_accounts};
    use super::*;

    pub(crate) fn file(id: &str, account: &str, task: &str, start: i64) -> FileRow {
        FileRow {
            id: id.into(),
            account_id: account.into(),
            task_id: task.into(),
            session_id: "sess".into(),
            domain: "d.com".into(),
            app: "live".into(),
            stream: "s".into(),
            format: FileFormat::Flv,
            record_type: RecordType::Video,
            start_ms: start,
            end_ms: start,
            duration_ms: 0,
            file_size: 0,
            storage_key: format!("k/{id}.flv"),
            spool_path: format!("/tmp/{id}.part"),
            status: FileStatus::Recording,
            stream_param: String::new(),
            media_info: "{}".into(),
            storage_time_s: 0,
            expire_ms: None,
        }
    }

    /// Lists account "a" through the store as it is (on SQLite, the
    /// direct reads) and through the pool alone; both must read the same.
    async fn listed(s: &Store, f: &FileFilter) -> (i64, Vec<FileRow>) {
        let got = s.list_files("a", f).await.unwrap();
        let pooled = s.without_direct_reads().list_files("a", f).await.unwrap();
        assert_eq!(got, pooled, "direct and pooled reads agree");
        got
    }

    #[tokio::test]
    async fn file_lifecycle_and_filters() {
        for (s, _d) in stores().await {
            assert_eq!(
                s.direct().is_some(),
                s.dialect() == super::super::Dialect::Sqlite,
                "file-backed SQLite reads listings directly"
            );
            two_accounts(&s).await;
            let mut f1 = file("f1", "a", "1", 1000);
            // Text that JSON must escape survives the page's aggregate.
            f1.stream_param = "k=\"v\"&ü=1\\n".into();
            f1.media_info = r#"{"video":{"codec":"h264"}}"#.into();
            s.insert_file(&f1, 0).await.unwrap();
            s.insert_file(&file("f2", "a", "2", 2000), 0).await.unwrap();
            s.insert_file(&file("f3", "b", "1", 3000), 0).await.unwrap();
            assert_eq!(s.open_files("").await.unwrap().len(), 3);
            f1.status = FileStatus::Finished;
            f1.end_ms = 5000;
            f1.duration_ms = 4000;
            f1.file_size = 123;
            f1.expire_ms = Some(10_000);
            s.complete_file(&f1, &[]).await.unwrap();
            assert_eq!(s.file("a", "f1").await.unwrap().unwrap(), f1);
            assert!(s.file("b", "f1").await.unwrap().is_none());

            let all = FileFilter {
                limit: 20,
                ..Default::default()
            };
            let (n, rows) = listed(&s, &all).await;
            assert_eq!(n, 2);
            assert_eq!(rows[0].id, "f2", "newest first");
            assert_eq!(rows[1], f1, "every column as stored");
            assert_eq!(rows[0].expire_ms, None);
            let by_task = FileFilter {
                task_id: Some("1".into()),
                limit: 20,
                ..Default::default()
            };
            assert_eq!(listed(&s, &by_task).await.0, 1);
            let window = FileFilter {
                from_ms: Some(5500),
                to_ms: Some(9000),
                limit: 20,
                ..Default::default()
            };
            let (n, rows) = listed(&s, &window).await;
            assert_eq!(
                (n, rows[0].id.as_str()),
                (1, "f2"),
                "f1 ended before the window"
            );
            let paged = FileFilter {
                limit: 1,
                offset: 1,
                ..Default::default()
            };
            assert_eq!(listed(&s, &paged).await.1[0].id, "f1");

            assert_eq!(s.next_expiry().await.unwrap(), Some(10_000));
            assert!(s.expired_files(9_999, 10).await.unwrap().is_empty());
            assert_eq!(s.expired_files(10_000, 10).await.unwrap()[0].id, "f1");
            s.delete_file("f1", 11_000).await.unwrap();
            assert!(s.file("a", "f1").await.unwrap().is_none());
            assert_eq!(s.next_expiry().await.unwrap(), None);
            s.discard_file("f2").await.unwrap();
            assert_eq!(listed(&s, &all).await.0, 0);
            assert_eq!(
                s.direct().map_or(0, |d| d.failures()),
                0,
                "no direct read fell back to the pool"
            );
        }
    }
}
