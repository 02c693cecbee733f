//! Several nodes on one database: node heartbeats (`nodes`: a node is alive
//! while its `seen_ms` is within the lease; a peer that takes over after it
//! died sets `swept_ms`), and the cluster-wide registry of live streams
//! (`live_streams`: one row per stream key naming the node that holds the
//! publisher, so a second publisher on another node is refused and any node
//! can list, query and drop any stream). Judges nothing about leases beyond
//! comparing times it is given.

use sqlx::Row;

use super::{Result, Store};

/// A stream live somewhere in the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveEntry {
    /// Push domain.
    pub domain: String,
    /// AppName.
    pub app: String,
    /// StreamName.
    pub stream: String,
    /// Owning account.
    pub account_id: String,
    /// The node holding the publisher.
    pub node_id: String,
    /// Its publish session.
    pub session_id: String,
    /// When the publish started, ms.
    pub started_ms: i64,
}

/// What a heartbeat found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Beat {
    /// The node's row was renewed (or created).
    Renewed,
    /// A peer had declared the node dead and taken over its streams and
    /// files; the row is renewed, and the node must drop what it holds.
    WasSwept,
}

impl Store {
    /// Renews this node's heartbeat at `now_ms`.
    pub async fn heartbeat(&self, now_ms: i64) -> Result<Beat> {
        let renewed =
            sqlx::query("UPDATE nodes SET seen_ms = $1 WHERE node_id = $2 AND swept_ms IS NULL")
                .bind(now_ms)
                .bind(self.node())
                .execute(self.pool())
                .await?;
        if renewed.rows_affected() > 0 {
            return Ok(Beat::Renewed);
        }
        let swept = sqlx::query(
            "UPDATE nodes SET seen_ms = $1, started_ms = $1, swept_ms = NULL WHERE node_id = $2",
        )
        .bind(now_ms)
        .bind(self.node())
        .execute(self.pool())
        .await?;
        if swept.rows_affected() > 0 {
            return Ok(Beat::WasSwept);
        }
        sqlx::query(
            "INSERT INTO nodes (node_id, started_ms, seen_ms, swept_ms) VALUES ($1, $2, $2, NULL) \
             ON CONFLICT (node_id) DO UPDATE SET seen_ms = excluded.seen_ms, swept_ms = NULL",
        )
        .bind(self.node())
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(Beat::Renewed)
    }

    /// Starts this node's life at `now_ms` (its previous process, if any, is
    /// over: what it left is this node's to recover).
    pub async fn node_started(&self, now_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO nodes (node_id, started_ms, seen_ms, swept_ms) VALUES ($1, $2, $2, NULL) \
             ON CONFLICT (node_id) DO UPDATE SET started_ms = excluded.started_ms, \
             seen_ms = excluded.seen_ms, swept_ms = NULL",
        )
        .bind(self.node())
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        self.forget_live_streams_of(self.node()).await
    }

    /// Marks this node as gone after a clean stop (nothing left for a peer
    /// to take over).
    pub async fn node_left(&self, now_ms: i64) -> Result<()> {
        sqlx::query("UPDATE nodes SET swept_ms = $1 WHERE node_id = $2")
            .bind(now_ms)
            .bind(self.node())
            .execute(self.pool())
            .await?;
        self.forget_live_streams_of(self.node()).await
    }

    /// Removes the live streams `node` held from the registry.
    async fn forget_live_streams_of(&self, node: &str) -> Result<()> {
        sqlx::query("DELETE FROM live_streams WHERE node_id = $1")
            .bind(node)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Nodes alive at `alive_after` (seen since then), this one included.
    pub async fn alive_nodes(&self, alive_after: i64) -> Result<u64> {
        let r =
            sqlx::query("SELECT COUNT(*) AS n FROM nodes WHERE seen_ms >= $1 AND swept_ms IS NULL")
                .bind(alive_after)
                .fetch_one(self.pool())
                .await?;
        let n: i64 = r.try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Nodes last seen before `dead_before` that no peer has taken over yet.
    pub async fn dead_nodes(&self, dead_before: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT node_id FROM nodes WHERE seen_ms < $1 AND swept_ms IS NULL AND node_id <> $2 \
             ORDER BY node_id",
        )
        .bind(dead_before)
        .bind(self.node())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get("node_id").map_err(Into::into))
            .collect()
    }

    /// Takes over dead `node` (once across the cluster: true for the one
    /// caller that marked it) and removes its live streams.
    pub async fn sweep_node(&self, node: &str, dead_before: i64, now_ms: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let marked = sqlx::query(
            "UPDATE nodes SET swept_ms = $1 WHERE node_id = $2 AND swept_ms IS NULL AND seen_ms < $3",
        )
        .bind(now_ms)
        .bind(node)
        .bind(dead_before)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM live_streams WHERE node_id = $1")
            .bind(node)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Claims a stream for a publisher on this node: taken unless a live
    /// node other than this one holds it (a node counts as live when seen
    /// at or after `alive_after`). Returns the holder when refused.
    pub async fn claim_stream(
        &self,
        entry: &LiveEntry,
        alive_after: i64,
    ) -> Result<std::result::Result<(), LiveEntry>> {
        let done = sqlx::query(
            "INSERT INTO live_streams (domain, app, stream, account_id, node_id, session_id, started_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (domain, app, stream) DO UPDATE SET account_id = excluded.account_id, \
             node_id = excluded.node_id, session_id = excluded.session_id, started_ms = excluded.started_ms \
             WHERE live_streams.node_id = excluded.node_id OR NOT EXISTS (SELECT 1 FROM nodes n \
             WHERE n.node_id = live_streams.node_id AND n.seen_ms >= $8 AND n.swept_ms IS NULL)",
        )
        .bind(&entry.domain)
        .bind(&entry.app)
        .bind(&entry.stream)
        .bind(&entry.account_id)
        .bind(&entry.node_id)
        .bind(&entry.session_id)
        .bind(entry.started_ms)
        .bind(alive_after)
        .execute(self.pool())
        .await?;
        if done.rows_affected() > 0 {
            return Ok(Ok(()));
        }
        let holder = self
            .live_stream(&entry.domain, &entry.app, &entry.stream, i64::MIN)
            .await?;
        Ok(Err(holder.unwrap_or_else(|| entry.clone())))
    }

    /// Releases this session's claim on its stream (a newer claim stays).
    pub async fn release_stream(
        &self,
        domain: &str,
        app: &str,
        stream: &str,
        session_id: &str,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM live_streams WHERE domain = $1 AND app = $2 AND stream = $3 AND session_id = $4",
        )
        .bind(domain)
        .bind(app)
        .bind(stream)
        .bind(session_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The stream `domain/app/stream` if a node alive at `alive_after` holds it.
    pub async fn live_stream(
        &self,
        domain: &str,
        app: &str,
        stream: &str,
        alive_after: i64,
    ) -> Result<Option<LiveEntry>> {
        let r = sqlx::query(
            "SELECT l.domain, l.app, l.stream, l.account_id, l.node_id, l.session_id, l.started_ms \
             FROM live_streams l JOIN nodes n ON n.node_id = l.node_id \
             WHERE l.domain = $1 AND l.app = $2 AND l.stream = $3 AND n.seen_ms >= $4 AND n.swept_ms IS NULL",
        )
        .bind(domain)
        .bind(app)
        .bind(stream)
        .bind(alive_after)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(entry_from_row).transpose()
    }

    /// The streams of `account_id` held by nodes alive at `alive_after`,
    /// ordered by (domain, app, stream).
    pub async fn live_streams(&self, account_id: &str, alive_after: i64) -> Result<Vec<LiveEntry>> {
        let rows = sqlx::query(
            "SELECT l.domain, l.app, l.stream, l.account_id, l.node_id, l.session_id, l.started_ms \
             FROM live_streams l JOIN nodes n ON n.node_id = l.node_id \
             WHERE l.account_id = $1 AND n.seen_ms >= $2 AND n.swept_ms IS NULL \
             ORDER BY l.domain, l.app, l.stream",
        )
        .bind(account_id)
        .bind(alive_after)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Sends `payload` on PostgreSQL notification `channel` (to every node
    /// listening, this one included).
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Takes the cluster-wide lock named `name` (PostgreSQL: a session
    /// advisory lock on a connection of its own; SQLite: None, one node
    /// serializes writes anyway). Held until the returned value is dropped.
    pub async fn cluster_lock(&self, name: &str) -> Result<Option<ClusterLock>> {
        if self.dialect != super::Dialect::Postgres {
            return Ok(None);
        }
        // Waiting for the lock runs in a task of its own: a caller that
        // gives up (a client that went away) must not leave a connection
        // that is granted the lock later and goes back to the pool holding
        // it. If the caller is gone, the lock is dropped, so released.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let pool = self.pool().clone();
        let name = name.to_string();
        tokio::spawn(async move {
            let taken = async {
                let mut conn = pool.acquire().await?;
                sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                Ok(ClusterLock {
                    conn: Some(conn),
                    name,
                })
            }
            .await;
            let _ = tx.send(taken);
        });
        match rx.await {
            Ok(taken) => taken.map(Some),
            Err(_) => Err(super::StoreError::Corrupt(
                "the task taking a cluster lock ended".into(),
            )),
        }
    }

    /// Files of the task with row id `task_row` still being written,
    /// wherever they are recorded.
    pub async fn task_files_recording(&self, task_row: i64) -> Result<u64> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n FROM files f JOIN tasks t ON f.account_id = t.account_id \
             AND f.task_id = COALESCE(t.public_id, CAST(t.id AS TEXT)) \
             WHERE t.id = $1 AND f.status = 'recording' AND f.deleted_ms IS NULL",
        )
        .bind(task_row)
        .fetch_one(self.pool())
        .await?;
        let n: i64 = r.try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// A held cluster-wide lock (see [`Store::cluster_lock`]).
#[derive(Debug)]
pub struct ClusterLock {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Any>>,
    name: String,
}

impl Drop for ClusterLock {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            // No runtime to unlock on: closing the connection releases it.
            conn.close_on_drop();
            return;
        };
        let name = std::mem::take(&mut self.name);
        // Unlocked on the connection that holds it; should that fail, the
        // connection is closed, which releases every lock it held.
        let unlock = async move {
            let done = sqlx::query("SELECT pg_advisory_unlock(hashtext($1))")
                .bind(&name)
                .execute(&mut *conn)
                .await;
            if let Err(e) = done {
                tracing::warn!(lock = %name, error = %e, "advisory unlock failed; closing its connection");
                conn.close_on_drop();
            }
        };
        rt.spawn(unlock);
    }
}

fn entry_from_row(r: &sqlx::any::AnyRow) -> Result<LiveEntry> {
    Ok(LiveEntry {
        domain: r.try_get("domain")?,
        app: r.try_get("app")?,
        stream: r.try_get("stream")?,
        account_id: r.try_get("account_id")?,
        node_id: r.try_get("node_id")?,
        session_id: r.try_get("session_id")?,
        started_ms: r.try_get("started_ms")?,
    })
}

impl Store {
    /// Records a v1 request's (SecretId, Nonce, Timestamp) for the whole
    /// cluster until `expires_ms`; false when a node recorded it already
    /// and it has not expired (a replay).
    pub async fn claim_nonce(
        &self,
        secret_id: &str,
        nonce: u64,
        timestamp: i64,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<bool> {
        // BIGINT is signed: the nonce's bits, reinterpreted.
        let nonce = i64::from_ne_bytes(nonce.to_ne_bytes());
        let done = sqlx::query(
            "INSERT INTO api_nonces (secret_id, nonce, ts, expires_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (secret_id, nonce, ts) DO UPDATE SET expires_ms = excluded.expires_ms \
             WHERE api_nonces.expires_ms <= $5",
        )
        .bind(secret_id)
        .bind(nonce)
        .bind(timestamp)
        .bind(expires_ms)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Forgets the nonces that expired by `now_ms`.
    pub async fn sweep_nonces(&self, now_ms: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM api_nonces WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::stores;

    fn entry(node: &str, session: &str) -> LiveEntry {
        LiveEntry {
            domain: "d".into(),
            app: "live".into(),
            stream: "s".into(),
            account_id: "acct".into(),
            node_id: node.into(),
            session_id: session.into(),
            started_ms: 100,
        }
    }

    #[tokio::test]
    async fn a_stream_is_held_by_one_live_node() {
        for (store, _dir) in stores().await {
            let a = store.for_node("a");
            let b = store.for_node("b");
            a.node_started(1_000).await.unwrap();
            b.node_started(1_000).await.unwrap();
            assert_eq!(a.claim_stream(&entry("a", "s1"), 0).await.unwrap(), Ok(()));
            // b may not take it while a is alive.
            let refused = b.claim_stream(&entry("b", "s2"), 500).await.unwrap();
            assert_eq!(refused.unwrap_err().node_id, "a");
            assert_eq!(b.live_streams("acct", 500).await.unwrap().len(), 1);
            assert_eq!(b.live_streams("other", 500).await.unwrap().len(), 0);
            assert_eq!(b.alive_nodes(500).await.unwrap(), 2);
            // a stops beating: past its lease, b may take the stream.
            b.heartbeat(5_000).await.unwrap();
            assert_eq!(b.live_stream("d", "live", "s", 2_000).await.unwrap(), None);
            assert_eq!(b.dead_nodes(2_000).await.unwrap(), vec!["a".to_string()]);
            assert!(b.sweep_node("a", 2_000, 5_000).await.unwrap());
            assert!(
                !b.sweep_node("a", 2_000, 5_001).await.unwrap(),
                "swept once"
            );
            assert!(b.dead_nodes(2_000).await.unwrap().is_empty());
            assert_eq!(
                b.claim_stream(&entry("b", "s2"), 2_000).await.unwrap(),
                Ok(())
            );
            // a comes back and learns it was taken over.
            assert_eq!(a.heartbeat(6_000).await.unwrap(), Beat::WasSwept);
            assert_eq!(a.heartbeat(6_001).await.unwrap(), Beat::Renewed);
            // Releasing an old session leaves the newer claim.
            a.release_stream("d", "live", "s", "s1").await.unwrap();
            let held = a
                .live_stream("d", "live", "s", 2_000)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(held.session_id, "s2");
            b.release_stream("d", "live", "s", "s2").await.unwrap();
            assert_eq!(a.live_stream("d", "live", "s", 0).await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn a_nonce_is_claimed_once_until_it_expires() {
        for (s, _dir) in stores().await {
            assert!(s.claim_nonce("AK", u64::MAX, 100, 0, 1_000).await.unwrap());
            assert!(
                !s.claim_nonce("AK", u64::MAX, 100, 500, 1_500)
                    .await
                    .unwrap()
            );
            assert!(
                s.claim_nonce("AK", u64::MAX, 101, 500, 1_500)
                    .await
                    .unwrap()
            );
            assert!(
                s.claim_nonce("AK2", u64::MAX, 100, 500, 1_500)
                    .await
                    .unwrap()
            );
            // Expired: the same triple is new again.
            assert!(
                s.claim_nonce("AK", u64::MAX, 100, 1_000, 2_000)
                    .await
                    .unwrap()
            );
            assert_eq!(s.sweep_nonces(1_600).await.unwrap(), 2);
            assert!(
                !s.claim_nonce("AK", u64::MAX, 100, 1_700, 2_700)
                    .await
                    .unwrap()
            );
        }
    }
}
