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
        let mut tx = self.pool().begin().await?;
        sqlx::query("INSERT INTO accounts (id, name, created_ms) VALUES ($1, $2, $3)")
            .bind(account_id)
            .bind(name)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO api_keys (secret_id, secret_key, account_id, created_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(secret_id)
        .bind(secret_key)
        .bind(account_id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes `secret_id` hold `secret_key`, creating its account when the key
    /// is new (the bootstrap credential from the configuration wins over an
    /// older stored key with the same id).
    pub async fn upsert_key(
        &self,
        account_id: &str,
        name: &str,
        secret_id: &str,
        secret_key: &str,
        now_ms: i64,
    ) -> Result<()> {
        match self.key(secret_id).await? {
            Some(k) if k.secret_key == secret_key => Ok(()),
            Some(_) => {
                sqlx::query("UPDATE api_keys SET secret_key = $1 WHERE secret_id = $2")
                    .bind(secret_key)
                    .bind(secret_id)
                    .execute(self.pool())
                    .await?;
                Ok(())
            }
            None => {
                self.create_account_with_key(account_id, name, secret_id, secret_key, now_ms)
                    .await
            }
        }
    }

    /// Looks a key up by SecretId.
    pub async fn key(&self, secret_id: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(
            "SELECT secret_id, secret_key, account_id FROM api_keys WHERE secret_id = $1",
        )
        .bind(secret_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(ApiKey {
                secret_id: r.try_get("secret_id")?,
                secret_key: r.try_get("secret_key")?,
                account_id: r.try_get("account_id")?,
            })
        })
        .transpose()
    }

    /// Every key with its account, oldest first.
    pub async fn list_keys(&self) -> Result<Vec<KeyListing>> {
        let rows = sqlx::query(
            "SELECT k.secret_id, k.account_id, a.name, k.created_ms FROM api_keys k \
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
}
