//! The in-process copy of the rows every API request reads: API keys by
//! SecretId, domain claims by name and stream forbids by stream key. Each
//! of them was a database round trip per request (through sqlx's SQLite
//! worker thread: two thread hand-offs each), most of a signed read's cost.
//!
//! Freshness: every change to `api_keys`, `domains` or `stream_forbids`, by
//! any process or node, bumps `lookup_revision.n` (database triggers,
//! migration 10). A server polls that number every [`POLL`]; a changed value
//! empties the copy. Writes through this process's [`Store`] empty it at
//! once. A copy is served only while the last successful poll started less
//! than [`MAX_STALE`] ago; a database that does not answer polls turns the
//! copy off, it never serves old rows. So a change made elsewhere (another
//! node, `liverec keys revoke`) is seen everywhere within [`MAX_STALE`],
//! and the CLI waits that long before it reports a change done.
//!
//! Bounds: each map holds at most [`MAX_ENTRIES`] and is emptied when full.
//! Unknown SecretIds are not remembered (they arrive before
//! authentication), only keys that exist.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::Row;

use super::{Domain, Forbid, Result, Store};
use crate::store::ApiKey;

/// How often a server reads `lookup_revision`.
pub const POLL: Duration = Duration::from_millis(100);

/// How old the start of the last successful poll may be for the copy to be
/// served; also how long the CLI waits after a change.
pub const MAX_STALE: Duration = Duration::from_millis(300);

/// Entries per map before it is emptied.
const MAX_ENTRIES: usize = 8192;

/// A stream key: (domain, app, stream).
type StreamKey = (String, String, String);

#[derive(Debug, Default)]
struct Maps {
    /// Bumped whenever the maps are emptied: a read that started before
    /// does not store what it read.
    epoch: u64,
    /// The revision the maps belong to (None until the first poll).
    revision: Option<i64>,
    /// When the last successful poll started.
    fresh_at: Option<Instant>,
    keys: HashMap<String, ApiKey>,
    domains: HashMap<String, Option<Domain>>,
    /// The forbid row of a stream, in force or not (the caller checks the
    /// time), or None.
    forbids: HashMap<StreamKey, Option<Forbid>>,
}

impl Maps {
    fn clear(&mut self) {
        self.epoch += 1;
        self.keys.clear();
        self.domains.clear();
        self.forbids.clear();
    }

    fn serving(&self) -> bool {
        self.fresh_at.is_some_and(|t| t.elapsed() < MAX_STALE)
    }
}

/// The copy; off (every read goes to the database) until
/// [`Store::run_lookup_cache`] polls for it.
#[derive(Debug, Default)]
pub(super) struct Lookups {
    maps: Mutex<Maps>,
}

/// What a lookup found in the copy: a value, or the epoch to store a
/// database answer under.
enum Cached<T> {
    Hit(T),
    Miss(Option<u64>),
}

impl Lookups {
    fn with<R>(&self, f: impl FnOnce(&mut Maps) -> R) -> R {
        // A panic while holding the lock cannot leave the maps half-updated
        // in a way that matters: each is a plain cache.
        let mut maps = self.maps.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut maps)
    }

    fn get<T: Clone>(&self, pick: impl FnOnce(&Maps) -> Option<&T>) -> Cached<T> {
        self.with(|m| {
            if !m.serving() {
                return Cached::Miss(None);
            }
            match pick(m) {
                Some(v) => Cached::Hit(v.clone()),
                None => Cached::Miss(Some(m.epoch)),
            }
        })
    }

    fn put(&self, epoch: Option<u64>, store: impl FnOnce(&mut Maps)) {
        let Some(epoch) = epoch else { return };
        self.with(|m| {
            if m.epoch == epoch && m.serving() {
                store(m);
            }
        });
    }

    /// Empties the copy (a write through this process).
    pub(super) fn invalidate(&self) {
        self.with(Maps::clear);
    }

    /// Records a poll that started at `started` and read `revision`.
    fn polled(&self, started: Instant, revision: i64) {
        self.with(|m| {
            if m.revision != Some(revision) {
                m.clear();
                m.revision = Some(revision);
            }
            m.fresh_at = Some(started);
        });
    }

    /// A poll failed: serve nothing until one succeeds.
    fn lost(&self) {
        self.with(|m| {
            m.clear();
            m.revision = None;
            m.fresh_at = None;
        });
    }
}

fn bounded<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, k: K, v: V) {
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(k, v);
}

impl Store {
    /// Keeps the lookup copy fresh until `stop`; without this task running
    /// the copy stays off.
    pub async fn run_lookup_cache(&self, stop: tokio_util::sync::CancellationToken) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            let started = Instant::now();
            match self.lookup_revision().await {
                Ok(n) => self.lookups.polled(started, n),
                Err(e) => {
                    tracing::warn!(error = %e, "reading lookup_revision failed; lookups go to the database");
                    self.lookups.lost();
                }
            }
        }
        self.lookups.lost();
    }

    async fn lookup_revision(&self) -> Result<i64> {
        let row = sqlx::query("SELECT n FROM lookup_revision WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Empties the lookup copy after a write through this handle.
    pub(super) fn lookups_changed(&self) {
        self.lookups.invalidate();
    }

    /// Looks a key up by SecretId.
    pub async fn key(&self, secret_id: &str) -> Result<Option<ApiKey>> {
        let epoch = match self.lookups.get(|m| m.keys.get(secret_id)) {
            Cached::Hit(k) => return Ok(Some(k)),
            Cached::Miss(epoch) => epoch,
        };
        let key = self.fetch_key(secret_id).await?;
        if let Some(k) = &key {
            self.lookups.put(epoch, |m| {
                bounded(&mut m.keys, secret_id.to_string(), k.clone())
            });
        }
        Ok(key)
    }

    /// The claim of `name`, if any.
    pub async fn domain(&self, name: &str) -> Result<Option<Domain>> {
        let epoch = match self.lookups.get(|m| m.domains.get(name)) {
            Cached::Hit(d) => return Ok(d),
            Cached::Miss(epoch) => epoch,
        };
        let domain = self.fetch_domain(name).await?;
        self.lookups.put(epoch, |m| {
            bounded(&mut m.domains, name.to_string(), domain.clone())
        });
        Ok(domain)
    }

    /// The forbid in force on a stream at `now_ms` (one whose ResumeTime has
    /// passed is not).
    pub async fn active_forbid(
        &self,
        domain: &str,
        app: &str,
        stream: &str,
        now_ms: i64,
    ) -> Result<Option<Forbid>> {
        let k = (domain.to_string(), app.to_string(), stream.to_string());
        let epoch = match self.lookups.get(|m| m.forbids.get(&k)) {
            Cached::Hit(f) => return Ok(f.filter(|f| f.in_force(now_ms))),
            Cached::Miss(epoch) => epoch,
        };
        let forbid = self.fetch_forbid(domain, app, stream).await?;
        self.lookups
            .put(epoch, |m| bounded(&mut m.forbids, k, forbid.clone()));
        Ok(forbid.filter(|f| f.in_force(now_ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{store, stores, two_accounts};

    /// A store whose copy is served, polled by hand.
    async fn polled(s: &Store) {
        let n = s.lookup_revision().await.unwrap();
        s.lookups.polled(Instant::now(), n);
    }

    #[tokio::test]
    async fn a_change_by_another_handle_empties_the_copy_at_the_next_poll() {
        let (s, _dir) = store().await;
        two_accounts(&s).await;
        // Another process on the same database (the CLI): its own handle.
        let other = Store::open(&format!("sqlite://{}/t.db", _dir.path().display()))
            .await
            .unwrap();
        polled(&s).await;
        assert!(s.key("AKa").await.unwrap().is_some());
        assert!(s.lookups.with(|m| m.keys.contains_key("AKa")));
        assert!(other.revoke_key("AKa").await.unwrap());
        // Still the copy until the poll sees the new revision.
        assert!(s.key("AKa").await.unwrap().is_some());
        polled(&s).await;
        assert!(s.key("AKa").await.unwrap().is_none());
        assert!(!s.lookups.with(|m| m.keys.contains_key("AKa")));
    }

    #[tokio::test]
    async fn every_change_of_a_looked_up_table_bumps_the_revision() {
        for (s, _dir) in stores().await {
            let mut last = s.lookup_revision().await.unwrap();
            let mut bumped = |n: i64, what: &str| {
                assert!(
                    n > last,
                    "{what} did not bump lookup_revision ({:?})",
                    s.dialect()
                );
                last = n;
            };
            two_accounts(&s).await;
            bumped(s.lookup_revision().await.unwrap(), "a new key");
            s.rotate_key("AKa", "AKa2", "k2", 1, 100).await.unwrap();
            bumped(s.lookup_revision().await.unwrap(), "a rotation");
            s.revoke_key("AKa2").await.unwrap();
            bumped(s.lookup_revision().await.unwrap(), "a revocation");
            s.claim_domain("d.example", "a", 1).await.unwrap();
            bumped(s.lookup_revision().await.unwrap(), "a claim");
            s.release_domain("d.example", None).await.unwrap();
            bumped(s.lookup_revision().await.unwrap(), "a release");
            let f = Forbid {
                domain: "d.example".into(),
                app: "live".into(),
                stream: "x".into(),
                account_id: "a".into(),
                resume_ms: None,
                reason: String::new(),
                created_ms: 1,
            };
            s.forbid_stream(&f).await.unwrap();
            bumped(s.lookup_revision().await.unwrap(), "a forbid");
            s.forbid_stream(&f).await.unwrap();
            bumped(s.lookup_revision().await.unwrap(), "a forbid replaced");
            s.resume_stream("d.example", "live", "x").await.unwrap();
            bumped(s.lookup_revision().await.unwrap(), "a resume");
        }
    }

    #[tokio::test]
    async fn own_writes_are_seen_at_once_and_stale_copies_are_not_served() {
        let (s, _dir) = store().await;
        two_accounts(&s).await;
        polled(&s).await;
        assert_eq!(s.domain("d.example").await.unwrap(), None);
        assert!(s.lookups.with(|m| m.domains.contains_key("d.example")));
        s.claim_domain("d.example", "a", 1).await.unwrap();
        assert_eq!(
            s.domain("d.example").await.unwrap().map(|d| d.account_id),
            Some("a".to_string())
        );
        assert_eq!(
            s.active_forbid("d.example", "live", "x", 5).await.unwrap(),
            None
        );
        s.forbid_stream(&Forbid {
            domain: "d.example".into(),
            app: "live".into(),
            stream: "x".into(),
            account_id: "a".into(),
            resume_ms: Some(10),
            reason: String::new(),
            created_ms: 1,
        })
        .await
        .unwrap();
        assert!(
            s.active_forbid("d.example", "live", "x", 5)
                .await
                .unwrap()
                .is_some()
        );
        // Expiry is checked against the caller's clock, not when cached.
        assert!(
            s.active_forbid("d.example", "live", "x", 11)
                .await
                .unwrap()
                .is_none()
        );
        // A copy whose last poll is too old is not served.
        s.lookups
            .with(|m| m.fresh_at = Some(Instant::now() - MAX_STALE));
        assert!(matches!(
            s.lookups.get(|m| m.domains.get("d.example")),
            Cached::Miss(None)
        ));
    }

    #[tokio::test]
    async fn unknown_keys_are_not_remembered_and_maps_stay_bounded() {
        let (s, _dir) = store().await;
        polled(&s).await;
        for i in 0..3 {
            assert!(s.key(&format!("AKnone{i}")).await.unwrap().is_none());
        }
        assert!(s.lookups.with(|m| m.keys.is_empty()));
        let mut map = HashMap::new();
        for i in 0..(MAX_ENTRIES + 5) {
            bounded(&mut map, i, ());
        }
        assert!(map.len() <= MAX_ENTRIES);
    }
}
