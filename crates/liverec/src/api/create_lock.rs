//! Per-account serialisation of task creation ([`CreateLocks`]): the
//! retry de-duplication and the quota checks of CreateLiveRecord and
//! CreateRecordTask read and then insert, so two creates of one account must
//! not interleave; creates of different accounts do not wait for each other.
//!
//! With several nodes on PostgreSQL the lock is also taken cluster-wide
//! (an advisory lock named after the account), so quotas hold across nodes.
//!
//! One async mutex per account, held weakly by the map: an account's entry
//! lives while a create holds or waits for it, and dead entries are swept
//! when the map has doubled since the last sweep, so the map stays bounded
//! by the number of accounts creating at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::OwnedMutexGuard;

/// Sweep dead entries no earlier than at this many entries.
const MIN_SWEEP_AT: usize = 64;

/// The per-account create locks.
#[derive(Debug)]
pub struct CreateLocks {
    inner: Mutex<Inner>,
    /// The shared database, for the cluster-wide part (None: this node only).
    store: Option<crate::store::Store>,
}

/// A held create lock of one account.
#[derive(Debug)]
pub struct CreateGuard {
    _local: OwnedMutexGuard<()>,
    _cluster: Option<crate::store::ClusterLock>,
}

#[derive(Debug)]
struct Inner {
    locks: HashMap<String, Weak<tokio::sync::Mutex<()>>>,
    sweep_at: usize,
}

impl Default for CreateLocks {
    fn default() -> CreateLocks {
        CreateLocks {
            inner: Mutex::new(Inner {
                locks: HashMap::new(),
                sweep_at: MIN_SWEEP_AT,
            }),
            store: None,
        }
    }
}

impl CreateLocks {
    /// Locks that also hold across the nodes sharing `store`'s database.
    pub fn cluster_wide(store: crate::store::Store) -> CreateLocks {
        CreateLocks {
            store: Some(store),
            ..CreateLocks::default()
        }
    }

    /// Waits until no other create of `account_id` runs (on any node); the
    /// create holds the returned guard until it has inserted its task (or
    /// refused).
    pub async fn lock(&self, account_id: &str) -> Result<CreateGuard, crate::store::StoreError> {
        let local = self.mutex(account_id).lock_owned().await;
        let cluster = match &self.store {
            Some(s) => s.cluster_lock(&format!("create:{account_id}")).await?,
            None => None,
        };
        Ok(CreateGuard {
            _local: local,
            _cluster: cluster,
        })
    }

    fn mutex(&self, account_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = inner.locks.get(account_id).and_then(Weak::upgrade) {
            return m;
        }
        if inner.locks.len() >= inner.sweep_at {
            inner.locks.retain(|_, w| w.strong_count() > 0);
            inner.sweep_at = (inner.locks.len() * 2).max(MIN_SWEEP_AT);
        }
        let m = Arc::new(tokio::sync::Mutex::new(()));
        inner
            .locks
            .insert(account_id.to_string(), Arc::downgrade(&m));
        m
    }

    /// Entries in the map, live or dead (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .locks
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::time::timeout;

    const SHORT: Duration = Duration::from_millis(50);

    #[tokio::test]
    async fn accounts_do_not_block_each_other() {
        let locks = CreateLocks::default();
        let _a = locks.lock("a").await;
        let b = timeout(SHORT, locks.lock("b")).await;
        assert!(b.is_ok(), "account b waited for account a");
    }

    #[tokio::test]
    async fn one_accounts_creates_are_serialised() {
        let locks = Arc::new(CreateLocks::default());
        let first = locks.lock("a").await;
        assert!(
            timeout(SHORT, locks.lock("a")).await.is_err(),
            "a second create of account a ran while the first held the lock"
        );
        let waiter = {
            let locks = locks.clone();
            tokio::spawn(async move {
                let _g = locks.lock("a").await;
            })
        };
        tokio::time::sleep(SHORT).await;
        assert!(!waiter.is_finished(), "the waiter must wait");
        drop(first);
        timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiter gets the lock once the first create ends")
            .unwrap();
    }

    #[tokio::test]
    async fn dead_entries_are_swept() {
        let locks = CreateLocks::default();
        for i in 0..(MIN_SWEEP_AT * 4) {
            let _g = locks.lock(&format!("acct{i}")).await;
        }
        assert!(locks.len() <= MIN_SWEEP_AT + 1, "{}", locks.len());
        // A held entry survives a sweep and keeps serialising.
        let held = locks.lock("keep").await;
        for i in 0..(MIN_SWEEP_AT * 4) {
            let _g = locks.lock(&format!("other{i}")).await;
        }
        assert!(timeout(SHORT, locks.lock("keep")).await.is_err());
        drop(held);
        assert!(timeout(SHORT, locks.lock("keep")).await.is_ok());
    }

    /// Two nodes (two lock sets on one PostgreSQL database) serialise one
    /// account's creates; with SQLite the local lock is all there is.
    #[tokio::test]
    async fn nodes_on_one_database_serialise_an_accounts_creates() {
        for (store, _dir) in crate::store::test_support::stores().await {
            let postgres = store.dialect() == crate::store::Dialect::Postgres;
            let n1 = CreateLocks::cluster_wide(store.for_node("n1"));
            let n2 = Arc::new(CreateLocks::cluster_wide(store.for_node("n2")));
            let held = n1.lock("a").await.unwrap();
            let other = timeout(Duration::from_secs(2), n2.lock("b")).await;
            assert!(matches!(other, Ok(Ok(_))), "account b waited");
            let same = timeout(Duration::from_millis(300), n2.lock("a")).await;
            assert_eq!(same.is_err(), postgres, "node 2 waits only on PostgreSQL");
            drop(same);
            let waiter = {
                let n2 = n2.clone();
                tokio::spawn(async move { n2.lock("a").await.map(|_| ()) })
            };
            drop(held);
            timeout(Duration::from_secs(5), waiter)
                .await
                .expect("node 2 gets the lock once node 1 releases it")
                .unwrap()
                .unwrap();
        }
    }
}
