//! Accounts and their API keys. Each key belongs to exactly one account;
//! everything an account creates is scoped by `account_id`.

use sqlx::Row;

use super::{Result, Store};

/// A credential as the API needs it for verification.
#[derive(Clone, Debug)]
pub struct ApiKey {
    /// SecretId.
    pub secret_id: String,
    /// SecretKey (kept in clear: HMAC verification needs it).
    pub secret_key: String,
    /// Owning account.
    pub account_id: String,
    /// When a rotated-out key stops working, ms (None: no end).
    pub expires_ms: Option<i64>,
}

impl ApiKey {
    /// Whether the key may sign requests at `now_ms`.
    pub fn valid_at(&self, now_ms: i64) -> bool {
        self.expires_ms.is_none_or(|e| now_ms < e)
    }
}

/// One row of `liverec keys list` (never includes the SecretKey).
#[derive(Clone, Debug)]
pub struct KeyListing {
    /// SecretId.
    pub secret_id: String,
    /// Owning account id.
    pub account_id: String,
    /// Owning account name.
    pub account_name: String,
    /// Creation time, ms.
    pub created_ms: i64,
    /// When a rotated-out key stops working, ms.
    pub expires_ms: Option<i64>,
}

async fn insert_key(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    secret_id: &str,
    secret_key: &str,
    account_id: &str,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (secret_id, secret_key, account_id, created_ms) VALUES ($1, $2, $3, $4)",
    )
    .bind(secret_id)
    .bind(secret_key)
    .bind(account_id)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Creates a new account holding one new key.
    pub async fn create_account_with_key(
        &self,
        account_id: &str,
        name: &str,
        secret_id: &str,
        secret_key: &str,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO accounts (id, name, created_ms) VALUES ($1, $2, $3)")
            .bind(account_id)
            .bind(name)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        insert_key(&mut tx, secret_id, secret_key, account_id, now_ms).await?;
        tx.commit().await?;
        self.lookups_changed();
        Ok(())
    }

    /// Makes `secret_id` hold `secret_key` for `account_id` (the bootstrap
    /// credential from the configuration): an existing key of that id gets
    /// the new secret; a new id replaces the account's other keys (a
    /// changed `LIVEREC_SECRET_ID` rotates the key instead of failing);
    /// the account is created when it does not exist.
    pub async fn upsert_key(
        &self,
        account_id: &str,
        name: &str,
        secret_id: &str,
        secret_key: &str,
        now_ms: i64,
    ) -> Result<()> {
        match self.key(secret_id).await? {
            Some(k) if k.secret_key == secret_key && k.expires_ms.is_none() => Ok(()),
            Some(_) => {
                sqlx::query(
                    "UPDATE api_keys SET secret_key = $1, expires_ms = NULL WHERE secret_id = $2",
                )
                .bind(secret_key)
                .bind(secret_id)
                .execute(self.pool())
                .await?;
                self.lookups_changed();
                Ok(())
            }
            None if self.account_exists(account_id).await? => {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM api_keys WHERE account_id = $1")
                    .bind(account_id)
                    .execute(&mut *tx)
                    .await?;
                insert_key(&mut tx, secret_id, secret_key, account_id, now_ms).await?;
                tx.commit().await?;
                self.lookups_changed();
                Ok(())
            }
            None => {
                self.create_account_with_key(account_id, name, secret_id, secret_key, now_ms)
                    .await
            }
        }
    }

    /// Whether the account exists.
    pub async fn account_exists(&self, account_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }

    /// Deletes a key at once. False when there was none.
    pub async fn revoke_key(&self, secret_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM api_keys WHERE secret_id = $1")
            .bind(secret_id)
            .execute(self.pool())
            .await?;
        self.lookups_changed();
        Ok(done.rows_affected() > 0)
    }

    /// Gives the account of `old_id` the new key `new_id`/`new_key`; the
    /// old key keeps working until `expires_ms` (or its own earlier end).
    /// The account id, or None when `old_id` does not exist.
    pub async fn rotate_key(
        &self,
        old_id: &str,
        new_id: &str,
        new_key: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<Option<String>> {
        let Some(old) = self.key(old_id).await? else {
            return Ok(None);
        };
        let mut tx = self.begin_write().await?;
        insert_key(&mut tx, new_id, new_key, &old.account_id, now_ms).await?;
        sqlx::query(
            "UPDATE api_keys SET expires_ms = $1 WHERE secret_id = $2 \
             AND (expires_ms IS NULL OR expires_ms > $1)",
        )
        .bind(expires_ms)
        .bind(old_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.lookups_changed();
        Ok(Some(old.account_id))
    }

    /// Reads a key by SecretId from the database.
    pub(super) async fn fetch_key(&self, secret_id: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(
            "SELECT secret_id, secret_key, account_id, expires_ms FROM api_keys WHERE secret_id = $1",
        )
        .bind(secret_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(ApiKey {
                secret_id: r.try_get("secret_id")?,
                secret_key: r.try_get("secret_key")?,
                account_id: r.try_get("account_id")?,
                expires_ms: r.try_get("expires_ms")?,
            })
        })
        .transpose()
    }

    /// Every key with its account, oldest first.
    pub async fn list_keys(&self) -> Result<Vec<KeyListing>> {
        let rows = sqlx::query(
            "SELECT k.secret_id, k.account_id, a.name, k.created_ms, k.expires_ms FROM api_keys k \
             JOIN accounts a ON a.id = k.account_id ORDER BY k.created_ms, k.secret_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(KeyListing {
                    secret_id: r.try_get(0)?,
                    account_id: r.try_get(1)?,
                    account_name: r.try_get(2)?,
                    created_ms: r.try_get(3)?,
                    expires_ms: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Number of keys.
    pub async fn count_keys(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM api_keys")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::stores;

    #[tokio::test]
    async fn keys_belong_to_accounts() {
        for (s, _d) in stores().await {
            assert_eq!(s.count_keys().await.unwrap(), 0);
            s.create_account_with_key("acc1", "one", "AKID1", "k1", 1)
                .await
                .unwrap();
            s.upsert_key("acc2", "two", "AKID2", "k2", 2).await.unwrap();
            s.upsert_key("acc2", "two", "AKID2", "k2b", 3)
                .await
                .unwrap();
            let k = s.key("AKID2").await.unwrap().unwrap();
            assert_eq!(
                (k.secret_key.as_str(), k.account_id.as_str()),
                ("k2b", "acc2")
            );
            assert!(s.key("nope").await.unwrap().is_none());
            let l = s.list_keys().await.unwrap();
            assert_eq!(l.len(), 2);
            assert_eq!(l[0].account_name, "one");
            // A second account with the same key id is refused.
            assert!(
                s.create_account_with_key("acc3", "x", "AKID1", "k", 4)
                    .await
                    .is_err()
            );
        }
    }

    #[tokio::test]
    async fn a_new_bootstrap_id_replaces_the_accounts_keys() {
        for (s, _d) in stores().await {
            s.upsert_key("default", "default", "AKIDold", "k1", 1)
                .await
                .unwrap();
            s.upsert_key("default", "default", "AKIDnew", "k2", 2)
                .await
                .unwrap();
            assert!(s.key("AKIDold").await.unwrap().is_none());
            let k = s.key("AKIDnew").await.unwrap().unwrap();
            assert_eq!((k.account_id.as_str(), k.expires_ms), ("default", None));
            assert_eq!(s.count_keys().await.unwrap(), 1);
        }
    }

    #[tokio::test]
    async fn rotated_keys_expire_and_revoked_keys_vanish() {
        for (s, _d) in stores().await {
            s.create_account_with_key("acc1", "one", "AKID1", "k1", 1)
                .await
                .unwrap();
            let acct = s
                .rotate_key("AKID1", "AKID2", "k2", 10, 1000)
                .await
                .unwrap();
            assert_eq!(acct.as_deref(), Some("acc1"));
            let old = s.key("AKID1").await.unwrap().unwrap();
            assert_eq!(old.expires_ms, Some(1000));
            assert!(old.valid_at(999) && !old.valid_at(1000));
            let new = s.key("AKID2").await.unwrap().unwrap();
            assert_eq!((new.account_id.as_str(), new.expires_ms), ("acc1", None));
            assert!(new.valid_at(i64::MAX));
            // A second rotation never extends the old key's life.
            s.rotate_key("AKID1", "AKID3", "k3", 20, 5000)
                .await
                .unwrap();
            assert_eq!(
                s.key("AKID1").await.unwrap().unwrap().expires_ms,
                Some(1000)
            );
            assert_eq!(
                s.rotate_key("nope", "AKID4", "k4", 30, 40).await.unwrap(),
                None
            );
            assert!(s.key("AKID4").await.unwrap().is_none());
            assert!(s.revoke_key("AKID2").await.unwrap());
            assert!(!s.revoke_key("AKID2").await.unwrap());
            assert!(s.key("AKID2").await.unwrap().is_none());
            // A configured bootstrap key that was rotated out is valid again.
            s.upsert_key("acc1", "one", "AKID1", "k1", 50)
                .await
                .unwrap();
            assert_eq!(s.key("AKID1").await.unwrap().unwrap().expires_ms, None);
        }
    }
}
