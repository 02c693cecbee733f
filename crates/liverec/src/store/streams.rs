//! Stream bookkeeping and controls (reference §1.9, §4.2): publish sessions
//! (`stream_sessions`, one row per accepted publish, closed with a stop
//! reason), forbidden streams (`stream_forbids`, global per stream key) and
//! push-authentication settings (`push_auth`, per account and domain).
//! Times are Unix ms. Must not judge txSecret or decide admission: ingest
//! does that with what these queries return.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::listing::{Filter, PageQuery};
use super::outbox::{NewEvent, enqueue_all};
use super::{Dialect, Result, Store};

/// A publish session as it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    /// Session id (the hub's `SessionInfo::session_id`).
    pub id: String,
    /// Push domain.
    pub domain: String,
    /// AppName.
    pub app: String,
    /// StreamName.
    pub stream: String,
    /// Publisher address, `ip:port`.
    pub client_addr: String,
    /// Query string of the publish URL.
    pub stream_param: String,
    /// Start, ms.
    pub start_ms: i64,
    /// The account the domain belonged to when the publish started.
    pub account_id: String,
}

/// A stored publish session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// What was known at the start.
    pub session: NewSession,
    /// End, ms; `None` while live (or when the server died with it open).
    pub end_ms: Option<i64>,
    /// Why it ended (`unpublish`, `disconnect`, `timeout`, `error`,
    /// `dropped`, `forbidden`, `shutdown`); empty while live.
    pub stop_reason: String,
    /// `WxH` of the video, empty when unknown or audio-only.
    pub resolution: String,
}

/// DescribeLiveStreamEventList filters and paging.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionQuery {
    /// Sessions overlapping [from_ms, to_ms].
    pub from_ms: i64,
    /// See `from_ms`.
    pub to_ms: i64,
    /// Sessions of streams this account owned when they started.
    pub account_id: Option<String>,
    /// Exact domain.
    pub domain: Option<String>,
    /// Exact AppName.
    pub app: Option<String>,
    /// StreamName: substring, or exact with `strict`.
    pub stream: Option<String>,
    /// Exact StreamName match.
    pub strict: bool,
    /// Only sessions that have ended.
    pub ended_only: bool,
    /// Oldest end first (live sessions last); default newest first.
    pub ascending: bool,
    /// Rows skipped.
    pub offset: i64,
    /// Rows returned at most.
    pub limit: i64,
}

/// Push-authentication settings of one account for one domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushAuth {
    /// Owning account.
    pub account_id: String,
    /// Push domain.
    pub domain: String,
    /// Whether publishes to the domain must carry txSecret/txTime.
    pub enabled: bool,
    /// MasterAuthKey ("" = none).
    pub master_key: String,
    /// BackupAuthKey ("" = none).
    pub backup_key: String,
    /// AuthDelta: grace after txTime, seconds.
    pub auth_delta_s: i64,
}

/// A forbidden stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forbid {
    /// Push domain.
    pub domain: String,
    /// AppName.
    pub app: String,
    /// StreamName.
    pub stream: String,
    /// The account that forbade it.
    pub account_id: String,
    /// When publishing is allowed again, ms; `None` = until ResumeLiveStream.
    pub resume_ms: Option<i64>,
    /// Reason given.
    pub reason: String,
    /// When it was forbidden, ms.
    pub created_ms: i64,
}

impl Forbid {
    /// Whether it is in force at `now_ms` (one whose ResumeTime has passed
    /// is not).
    pub fn in_force(&self, now_ms: i64) -> bool {
        self.resume_ms.is_none_or(|r| r > now_ms)
    }
}

const SESSION_COLUMNS: &str = "id, domain, app, stream, client_addr, stream_param, start_ms, end_ms, stop_reason, resolution, account_id";

fn session_from_row(r: &AnyRow) -> Result<SessionRow> {
    Ok(SessionRow {
        session: NewSession {
            id: r.try_get("id")?,
            domain: r.try_get("domain")?,
            app: r.try_get("app")?,
            stream: r.try_get("stream")?,
            client_addr: r.try_get("client_addr")?,
            stream_param: r.try_get("stream_param")?,
            start_ms: r.try_get("start_ms")?,
            account_id: r.try_get("account_id")?,
        },
        end_ms: r.try_get("end_ms")?,
        stop_reason: r.try_get("stop_reason")?,
        resolution: r.try_get("resolution")?,
    })
}

fn push_auth_from_row(r: &AnyRow) -> Result<PushAuth> {
    Ok(PushAuth {
        account_id: r.try_get("account_id")?,
        domain: r.try_get("domain")?,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        master_key: r.try_get("master_key")?,
        backup_key: r.try_get("backup_key")?,
        auth_delta_s: r.try_get("auth_delta_s")?,
    })
}

/// `resume_ms` column value meaning "until ResumeLiveStream".
const UNTIL_RESUMED: i64 = 0;

impl Store {
    /// Records the start of a publish session, with the events that
    /// announce it (one transaction).
    pub async fn insert_session(&self, s: &NewSession, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(super::dynamic(format!(
            "INSERT INTO stream_sessions ({SESSION_COLUMNS}, node_id) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, '', '', $8, $9)"
        )))
        .bind(&s.id)
        .bind(&s.domain)
        .bind(&s.app)
        .bind(&s.stream)
        .bind(&s.client_addr)
        .bind(&s.stream_param)
        .bind(s.start_ms)
        .bind(&s.account_id)
        .bind(self.node())
        .execute(&mut *tx)
        .await?;
        enqueue_all(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the end of a session (once: a second call changes nothing)
    /// and, in the same transaction, the events that announce it.
    pub async fn end_session(
        &self,
        id: &str,
        end_ms: i64,
        stop_reason: &str,
        resolution: &str,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE stream_sessions SET end_ms = $1, stop_reason = $2, resolution = $3 WHERE id = $4 AND end_ms IS NULL",
        )
        .bind(end_ms)
        .bind(stop_reason)
        .bind(resolution)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() > 0 {
            enqueue_all(&mut tx, events).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of `node` still open: that node's process died
    /// (found by the node itself at its next start, or by a peer once its
    /// heartbeat stopped); this node's own also include sessions written
    /// before sessions carried their node. `events` gives the events
    /// announcing each end, written in the same transaction. Returns how
    /// many were closed.
    pub async fn end_open_sessions(
        &self,
        node: &str,
        now_ms: i64,
        stop_reason: &str,
        events: impl Fn(&SessionRow) -> Vec<NewEvent>,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let open = sqlx::query(super::dynamic(format!(
            "SELECT {SESSION_COLUMNS} FROM stream_sessions WHERE end_ms IS NULL \
             AND (node_id = $1 OR ($1 = $2 AND node_id = ''))"
        )))
        .bind(node)
        .bind(self.node())
        .fetch_all(&mut *tx)
        .await?;
        let mut closed = 0;
        for r in &open {
            let mut row = session_from_row(r)?;
            let done = sqlx::query(
                "UPDATE stream_sessions SET end_ms = $1, stop_reason = $2 WHERE id = $3 AND end_ms IS NULL",
            )
            .bind(now_ms)
            .bind(stop_reason)
            .bind(&row.session.id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue;
            }
            closed += 1;
            row.end_ms = Some(now_ms);
            row.stop_reason = stop_reason.to_string();
            enqueue_all(&mut tx, &events(&row)).await?;
        }
        tx.commit().await?;
        Ok(closed)
    }

    /// Sessions matching `q`, and how many match in all.
    pub async fn list_sessions(&self, q: &SessionQuery) -> Result<(i64, Vec<SessionRow>)> {
        let mut f = Filter::default();
        f.int(q.to_ms, |n| format!("start_ms <= ${n}"));
        f.int(q.from_ms, |n| format!("(end_ms IS NULL OR end_ms >= ${n})"));
        if q.ended_only {
            f.push("end_ms IS NOT NULL");
        }
        f.eq_text("account_id", q.account_id.as_deref());
        f.eq_text("domain", q.domain.as_deref());
        f.eq_text("app", q.app.as_deref());
        if let Some(v) = &q.stream {
            // Case-sensitive substring in both dialects (LIKE is not: SQLite
            // folds ASCII case, and `%`/`_` in names would need escaping).
            let dialect = self.dialect();
            f.text(v, |n| match (q.strict, dialect) {
                (true, _) => format!("stream = ${n}"),
                (false, Dialect::Sqlite) => format!("instr(stream, ${n}) > 0"),
                (false, Dialect::Postgres) => format!("strpos(stream, ${n}) > 0"),
            });
        }
        // By end time (Tencent's IsAsc), live sessions counting as the newest.
        let order = if q.ascending {
            "CASE WHEN end_ms IS NULL THEN 1 ELSE 0 END ASC, end_ms ASC, start_ms ASC, id ASC"
        } else {
            "CASE WHEN end_ms IS NULL THEN 1 ELSE 0 END DESC, end_ms DESC, start_ms DESC, id DESC"
        };
        let (total, rows) = self
            .page(&PageQuery {
                table: "stream_sessions",
                columns: SESSION_COLUMNS,
                filter: &f,
                order,
                limit: q.limit,
                offset: q.offset,
            })
            .await?;
        Ok((
            total,
            rows.iter().map(session_from_row).collect::<Result<_>>()?,
        ))
    }

    /// The push-auth settings of `account_id` for `domain`, if ever written.
    pub async fn push_auth(&self, account_id: &str, domain: &str) -> Result<Option<PushAuth>> {
        let row = sqlx::query(
            "SELECT account_id, domain, enabled, master_key, backup_key, auth_delta_s FROM push_auth WHERE account_id = $1 AND domain = $2",
        )
        .bind(account_id)
        .bind(domain)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(push_auth_from_row).transpose()
    }

    /// Writes the push-auth settings of an account for a domain.
    pub async fn put_push_auth(&self, p: &PushAuth, now_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO push_auth (account_id, domain, enabled, master_key, backup_key, auth_delta_s, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (account_id, domain) DO UPDATE SET enabled = excluded.enabled, \
             master_key = excluded.master_key, backup_key = excluded.backup_key, \
             auth_delta_s = excluded.auth_delta_s, updated_ms = excluded.updated_ms",
        )
        .bind(&p.account_id)
        .bind(&p.domain)
        .bind(i64::from(p.enabled))
        .bind(&p.master_key)
        .bind(&p.backup_key)
        .bind(p.auth_delta_s)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every account's enabled push-auth settings for `domain` (a publish
    /// to it must satisfy one of them).
    pub async fn enabled_push_auth(&self, domain: &str) -> Result<Vec<PushAuth>> {
        let rows = sqlx::query(
            "SELECT account_id, domain, enabled, master_key, backup_key, auth_delta_s FROM push_auth \
             WHERE domain = $1 AND enabled <> 0 ORDER BY account_id",
        )
        .bind(domain)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(push_auth_from_row).collect()
    }

    /// Forbids a stream (replacing an earlier forbid of it).
    pub async fn forbid_stream(&self, f: &Forbid) -> Result<()> {
        sqlx::query(
            "INSERT INTO stream_forbids (domain, app, stream, account_id, resume_ms, reason, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (domain, app, stream) DO UPDATE SET account_id = excluded.account_id, \
             resume_ms = excluded.resume_ms, reason = excluded.reason, created_ms = excluded.created_ms",
        )
        .bind(&f.domain)
        .bind(&f.app)
        .bind(&f.stream)
        .bind(&f.account_id)
        .bind(f.resume_ms.unwrap_or(UNTIL_RESUMED))
        .bind(&f.reason)
        .bind(f.created_ms)
        .execute(self.pool())
        .await?;
        self.lookups_changed();
        Ok(())
    }

    /// Lifts a forbid; whether there was one.
    pub async fn resume_stream(&self, domain: &str, app: &str, stream: &str) -> Result<bool> {
        let r = sqlx::query(
            "DELETE FROM stream_forbids WHERE domain = $1 AND app = $2 AND stream = $3",
        )
        .bind(domain)
        .bind(app)
        .bind(stream)
        .execute(self.pool())
        .await?;
        self.lookups_changed();
        Ok(r.rows_affected() > 0)
    }

    /// Reads the forbid row of a stream from the database, in force or not.
    pub(super) async fn fetch_forbid(
        &self,
        domain: &str,
        app: &str,
        stream: &str,
    ) -> Result<Option<Forbid>> {
        let row = sqlx::query(
            "SELECT domain, app, stream, account_id, resume_ms, reason, created_ms FROM stream_forbids \
             WHERE domain = $1 AND app = $2 AND stream = $3",
        )
        .bind(domain)
        .bind(app)
        .bind(stream)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| -> Result<Forbid> {
            let resume: i64 = r.try_get("resume_ms")?;
            Ok(Forbid {
                domain: r.try_get("domain")?,
                app: r.try_get("app")?,
                stream: r.try_get("stream")?,
                account_id: r.try_get("account_id")?,
                resume_ms: (resume != UNTIL_RESUMED).then_some(resume),
                reason: r.try_get("reason")?,
                created_ms: r.try_get("created_ms")?,
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{stores, two_accounts};
    use super::*;

    fn session(id: &str, stream: &str, start_ms: i64) -> NewSession {
        NewSession {
            id: id.into(),
            domain: "d.com".into(),
            app: "live".into(),
            stream: stream.into(),
            client_addr: "10.0.0.1:5000".into(),
            stream_param: "a=b".into(),
            start_ms,
            account_id: "a".into(),
        }
    }

    fn ids(rows: &[SessionRow]) -> Vec<&str> {
        rows.iter().map(|r| r.session.id.as_str()).collect()
    }

    #[tokio::test]
    async fn sessions_lifecycle_filters_and_order() {
        for (s, _d) in stores().await {
            s.insert_session(&session("s1", "Cam_A", 1000), &[])
                .await
                .unwrap();
            s.insert_session(&session("s2", "cam_b", 2000), &[])
                .await
                .unwrap();
            s.insert_session(&session("s3", "other", 3000), &[])
                .await
                .unwrap();
            s.end_session("s1", 5000, "unpublish", "1280x720", &[])
                .await
                .unwrap();
            s.end_session("s2", 4000, "dropped", "", &[]).await.unwrap();
            // Once ended, a second end changes nothing.
            s.end_session("s2", 9000, "shutdown", "", &[])
                .await
                .unwrap();
            let all = SessionQuery {
                from_ms: 0,
                to_ms: 10_000,
                limit: 10,
                ..Default::default()
            };
            let (n, rows) = s.list_sessions(&all).await.unwrap();
            assert_eq!(n, 3);
            assert_eq!(
                ids(&rows),
                ["s3", "s1", "s2"],
                "live first, then by end desc"
            );
            assert_eq!(rows[1].end_ms, Some(5000));
            assert_eq!(rows[1].stop_reason, "unpublish");
            assert_eq!(rows[1].session.account_id, "a");
            // Only the sessions of the account's streams.
            for (account, n) in [("a", 3), ("b", 0)] {
                let q = SessionQuery {
                    account_id: Some(account.into()),
                    ..all.clone()
                };
                assert_eq!(s.list_sessions(&q).await.unwrap().0, n, "{account}");
            }
            assert_eq!(rows[1].resolution, "1280x720");
            assert_eq!(rows[2].end_ms, Some(4000));
            assert_eq!(rows[2].stop_reason, "dropped");
            assert_eq!(rows[0].end_ms, None);
            assert_eq!(rows[0].session, session("s3", "other", 3000));
            let asc = SessionQuery {
                ascending: true,
                ..all.clone()
            };
            assert_eq!(
                ids(&s.list_sessions(&asc).await.unwrap().1),
                ["s2", "s1", "s3"]
            );
            let ended = SessionQuery {
                ended_only: true,
                ..all.clone()
            };
            assert_eq!(s.list_sessions(&ended).await.unwrap().0, 2);
            // Substring match is case-sensitive; strict is exact.
            let fuzzy = SessionQuery {
                stream: Some("am_".into()),
                ..all.clone()
            };
            assert_eq!(s.list_sessions(&fuzzy).await.unwrap().0, 2);
            let fuzzy = SessionQuery {
                stream: Some("cam".into()),
                ..all.clone()
            };
            assert_eq!(ids(&s.list_sessions(&fuzzy).await.unwrap().1), ["s2"]);
            let strict = SessionQuery {
                stream: Some("cam".into()),
                strict: true,
                ..all.clone()
            };
            assert_eq!(s.list_sessions(&strict).await.unwrap().0, 0);
            let strict = SessionQuery {
                stream: Some("Cam_A".into()),
                strict: true,
                domain: Some("d.com".into()),
                app: Some("live".into()),
                ..all.clone()
            };
            assert_eq!(ids(&s.list_sessions(&strict).await.unwrap().1), ["s1"]);
            let other_app = SessionQuery {
                app: Some("x".into()),
                ..all.clone()
            };
            assert_eq!(s.list_sessions(&other_app).await.unwrap().0, 0);
            // Window overlap: s2 ended at 4000, s1 at 5000, s3 is live.
            let late = SessionQuery {
                from_ms: 4500,
                to_ms: 10_000,
                ..all.clone()
            };
            assert_eq!(ids(&s.list_sessions(&late).await.unwrap().1), ["s3", "s1"]);
            let early = SessionQuery {
                from_ms: 0,
                to_ms: 1500,
                ..all.clone()
            };
            assert_eq!(ids(&s.list_sessions(&early).await.unwrap().1), ["s1"]);
            // Paging.
            let page2 = SessionQuery {
                offset: 2,
                limit: 2,
                ..all.clone()
            };
            let (n, rows) = s.list_sessions(&page2).await.unwrap();
            assert_eq!((n, ids(&rows)), (3, vec!["s2"]));
        }
    }

    #[tokio::test]
    async fn push_auth_per_account_and_domain() {
        for (s, _d) in stores().await {
            two_accounts(&s).await;
            assert_eq!(s.push_auth("a", "d.com").await.unwrap(), None);
            let mut p = PushAuth {
                account_id: "a".into(),
                domain: "d.com".into(),
                enabled: true,
                master_key: "m1".into(),
                backup_key: String::new(),
                auth_delta_s: 60,
            };
            s.put_push_auth(&p, 1).await.unwrap();
            assert_eq!(s.push_auth("a", "d.com").await.unwrap(), Some(p.clone()));
            assert_eq!(s.push_auth("b", "d.com").await.unwrap(), None);
            assert_eq!(s.push_auth("a", "e.com").await.unwrap(), None);
            p.backup_key = "b1".into();
            s.put_push_auth(&p, 2).await.unwrap();
            assert_eq!(s.push_auth("a", "d.com").await.unwrap(), Some(p.clone()));
            let q = PushAuth {
                account_id: "b".into(),
                enabled: false,
                ..p.clone()
            };
            s.put_push_auth(&q, 3).await.unwrap();
            assert_eq!(s.enabled_push_auth("d.com").await.unwrap(), vec![p.clone()]);
            assert!(s.enabled_push_auth("e.com").await.unwrap().is_empty());
            let q = PushAuth { enabled: true, ..q };
            s.put_push_auth(&q, 4).await.unwrap();
            assert_eq!(s.enabled_push_auth("d.com").await.unwrap(), vec![p, q]);
        }
    }

    #[tokio::test]
    async fn forbids_expire_and_resume() {
        for (s, _d) in stores().await {
            two_accounts(&s).await;
            let f = Forbid {
                domain: "d.com".into(),
                app: "live".into(),
                stream: "x".into(),
                account_id: "a".into(),
                resume_ms: Some(5000),
                reason: "spam".into(),
                created_ms: 1000,
            };
            s.forbid_stream(&f).await.unwrap();
            assert_eq!(
                s.active_forbid("d.com", "live", "x", 4999).await.unwrap(),
                Some(f.clone())
            );
            assert_eq!(
                s.active_forbid("d.com", "live", "x", 5000).await.unwrap(),
                None
            );
            assert_eq!(
                s.active_forbid("d.com", "live", "y", 0).await.unwrap(),
                None
            );
            // A new forbid replaces the old one; None lasts until resumed.
            let forever = Forbid {
                account_id: "b".into(),
                resume_ms: None,
                ..f.clone()
            };
            s.forbid_stream(&forever).await.unwrap();
            assert_eq!(
                s.active_forbid("d.com", "live", "x", i64::MAX / 2)
                    .await
                    .unwrap(),
                Some(forever)
            );
            assert!(s.resume_stream("d.com", "live", "x").await.unwrap());
            assert!(!s.resume_stream("d.com", "live", "x").await.unwrap());
            assert_eq!(
                s.active_forbid("d.com", "live", "x", 0).await.unwrap(),
                None
            );
        }
    }
}
