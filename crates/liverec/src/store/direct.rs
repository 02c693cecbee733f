//! Reads of the embedded SQLite database made on the calling thread,
//! through read-only connections of their own (rusqlite over the SQLite
//! that sqlx builds): for the busiest read, the file listing.
//!
//! sqlx's SQLite driver runs each statement on a thread of the connection's
//! own and hands the result back across threads, and pings the connection
//! whenever the pool takes it back: for a page of files, which SQLite reads
//! in tens of microseconds, the hand-offs cost more than the read. Here the
//! statement runs where it is asked for, which holds that async worker
//! for the read (as a write of a page-cache buffer does).
//!
//! The database is in WAL mode, so these readers never wait for sqlx's
//! writer; a reader that meets a lock anyway (WAL recovery after a crash)
//! waits at most [`BUSY_TIMEOUT`], and the caller then reads through the
//! pool. An in-memory database has no file other connections could open,
//! so it gets no direct reads.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Longest a direct read waits for a lock before giving up.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_millis(200);
/// Idle connections kept for reuse (more are opened under load, and closed
/// when returned beyond this).
const MAX_IDLE: usize = 4;
/// Prepared statements kept per connection (one per filter combination).
const CACHED_STATEMENTS: usize = 32;

/// Read-only connections to one SQLite file, opened on demand and reused.
#[derive(Debug)]
pub(super) struct DirectReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Reads that failed (the caller then read through the pool).
    failures: AtomicU64,
}

/// The file path of a `sqlite:` URL (as `Store::open` takes it), or None
/// for an in-memory database.
fn file_of(url: &str) -> Option<PathBuf> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

impl DirectReads {
    /// Direct reads of the database at `url`; None for an in-memory one.
    pub(super) fn new(url: &str) -> Option<DirectReads> {
        Some(DirectReads {
            path: file_of(url)?,
            idle: Mutex::new(Vec::new()),
            failures: AtomicU64::new(0),
        })
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        // NO_MUTEX: a connection is used by one thread at a time (it is
        // taken out of `idle` for the read).
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
        Ok(conn)
    }

    fn checkout(&self) -> rusqlite::Result<Connection> {
        let reused = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match reused {
            Some(c) => Ok(c),
            None => self.open(),
        }
    }

    fn checkin(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(conn);
        }
    }

    /// Runs `read` on a connection of its own (statements prepared with
    /// `prepare_cached` stay prepared on it for the next read).
    pub(super) fn with_conn<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let out = self.checkout().and_then(|conn| {
            let out = read(&conn);
            self.checkin(conn);
            out
        });
        if out.is_err() {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        out
    }

    /// How many reads failed so far.
    #[cfg(test)]
    pub(super) fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_get_direct_reads_and_memory_ones_do_not() {
        assert_eq!(
            file_of("sqlite:///var/lib/liverec/liverec.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/liverec/liverec.db"))
        );
        assert_eq!(
            file_of("sqlite:data/l.db"),
            Some(PathBuf::from("data/l.db"))
        );
        assert!(DirectReads::new("sqlite::memory:").is_none());
        assert!(DirectReads::new("sqlite://x.db?mode=memory&cache=shared").is_none());
        assert!(DirectReads::new("sqlite://").is_none());
    }

    #[test]
    fn reads_what_another_connection_committed_and_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT, v INTEGER); \
                 INSERT INTO t VALUES ('a', 1), ('b', 2);",
            )
            .unwrap();
        let direct = DirectReads::new(&format!("sqlite://{}", path.display())).unwrap();
        let sum = |k: &str| {
            direct.with_conn(|c| {
                c.prepare_cached("SELECT COALESCE(SUM(v), 0) FROM t WHERE k = $1")?
                    .query_row([k], |r| r.get::<_, i64>(0))
            })
        };
        assert_eq!(sum("b").unwrap(), 2);
        writer
            .execute("INSERT INTO t VALUES ('b', 40)", [])
            .unwrap();
        assert_eq!(sum("b").unwrap(), 42, "a later commit is seen");
        assert_eq!(sum("zz").unwrap(), 0);
        let write = direct.with_conn(|c| c.execute("DELETE FROM t", []));
        assert!(write.is_err(), "the connections are read-only");
        assert_eq!(sum("b").unwrap(), 42);
        assert_eq!(direct.failures(), 1, "the refused write");
    }
}
