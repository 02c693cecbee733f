//! Push domains and their owners (SPEC §2 "Ownership"): a claimed domain
//! belongs to exactly one account; a domain nobody claimed belongs to the
//! bootstrap account ([`BOOTSTRAP_ACCOUNT`]). Names are stored normalized
//! (`task::normalize_domain`); callers normalize once before asking.

use sqlx::Row;

use super::{Result, Store};

/// The account the configured (or first generated) credential belongs to;
/// it owns every domain nobody claimed.
pub const BOOTSTRAP_ACCOUNT: &str = "default";

/// A claimed domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain {
    /// Normalized name.
    pub name: String,
    /// Owning account.
    pub account_id: String,
    /// 0: push (the only type liverec keeps).
    pub domain_type: i64,
    /// When it was claimed, ms.
    pub created_ms: i64,
}

/// The result of claiming a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The domain is now the caller's.
    Added,
    /// The caller already owned it.
    AlreadyMine,
    /// Another account owns it (its id).
    Taken(String),
}

fn domain_row(r: &sqlx::any::AnyRow) -> Result<Domain> {
    Ok(Domain {
        name: r.try_get("name")?,
        account_id: r.try_get("account_id")?,
        domain_type: r.try_get("domain_type")?,
        created_ms: r.try_get("created_ms")?,
    })
}

impl Store {
    /// Claims `name` for `account_id` unless some account owns it already
    /// (atomically: of two concurrent claims one wins).
    pub async fn claim_domain(&self, name: &str, account_id: &str, now_ms: i64) -> Result<Claim> {
        let done = sqlx::query(
            "INSERT INTO domains (name, account_id, domain_type, created_ms) VALUES ($1, $2, 0, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(account_id)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        self.lookups_changed();
        if done.rows_affected() > 0 {
            return Ok(Claim::Added);
        }
        match self.domain(name).await? {
            Some(d) if d.account_id == account_id => Ok(Claim::AlreadyMine),
            Some(d) => Ok(Claim::Taken(d.account_id)),
            // Released in between: claim again.
            None => Box::pin(self.claim_domain(name, account_id, now_ms)).await,
        }
    }

    /// Reads the claim of `name` from the database.
    pub(super) async fn fetch_domain(&self, name: &str) -> Result<Option<Domain>> {
        let row = sqlx::query(
            "SELECT name, account_id, domain_type, created_ms FROM domains WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(domain_row).transpose()
    }

    /// The account `name` belongs to: its claimant, else the bootstrap
    /// account.
    pub async fn domain_owner(&self, name: &str) -> Result<String> {
        Ok(self
            .domain(name)
            .await?
            .map_or_else(|| BOOTSTRAP_ACCOUNT.to_string(), |d| d.account_id))
    }

    /// Whether `name` was claimed by anyone.
    pub async fn domain_claimed(&self, name: &str) -> Result<bool> {
        Ok(self.domain(name).await?.is_some())
    }

    /// The domains `account_id` claimed (every claim when None), by name.
    pub async fn domains(&self, account_id: Option<&str>) -> Result<Vec<Domain>> {
        let rows =
            match account_id {
                Some(a) => {
                    sqlx::query(
                        "SELECT name, account_id, domain_type, created_ms FROM domains \
                     WHERE account_id = $1 ORDER BY name",
                    )
                    .bind(a)
                    .fetch_all(self.pool())
                    .await?
                }
                None => sqlx::query(
                    "SELECT name, account_id, domain_type, created_ms FROM domains ORDER BY name",
                )
                .fetch_all(self.pool())
                .await?,
            };
        rows.iter().map(domain_row).collect()
    }

    /// Releases the claim of `name` (only `account_id`'s when given); the
    /// domain then belongs to the bootstrap account again. False when there
    /// was no such claim.
    pub async fn release_domain(&self, name: &str, account_id: Option<&str>) -> Result<bool> {
        let done = match account_id {
            Some(a) => {
                sqlx::query("DELETE FROM domains WHERE name = $1 AND account_id = $2")
                    .bind(name)
                    .bind(a)
                    .execute(self.pool())
                    .await?
            }
            None => {
                sqlx::query("DELETE FROM domains WHERE name = $1")
                    .bind(name)
                    .execute(self.pool())
                    .await?
            }
        };
        self.lookups_changed();
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{stores, two_accounts};
    use super::*;

    #[tokio::test]
    async fn a_domain_has_one_owner() {
        for (s, _d) in stores().await {
            two_accounts(&s).await;
            assert_eq!(s.domain_owner("a.com").await.unwrap(), BOOTSTRAP_ACCOUNT);
            assert!(!s.domain_claimed("a.com").await.unwrap());
            assert_eq!(
                s.claim_domain("a.com", "a", 10).await.unwrap(),
                Claim::Added
            );
            assert_eq!(
                s.claim_domain("a.com", "a", 11).await.unwrap(),
                Claim::AlreadyMine
            );
            assert_eq!(
                s.claim_domain("a.com", "b", 12).await.unwrap(),
                Claim::Taken("a".into())
            );
            assert_eq!(s.domain_owner("a.com").await.unwrap(), "a");
            assert!(s.domain_claimed("a.com").await.unwrap());
            let d = s.domain("a.com").await.unwrap().unwrap();
            assert_eq!(
                (d.account_id.as_str(), d.domain_type, d.created_ms),
                ("a", 0, 10)
            );
            assert_eq!(
                s.claim_domain("b.com", "b", 13).await.unwrap(),
                Claim::Added
            );
            let names = |v: Vec<Domain>| v.into_iter().map(|d| d.name).collect::<Vec<_>>();
            assert_eq!(names(s.domains(Some("a")).await.unwrap()), ["a.com"]);
            assert_eq!(names(s.domains(Some("b")).await.unwrap()), ["b.com"]);
            assert_eq!(names(s.domains(None).await.unwrap()), ["a.com", "b.com"]);
            // Only the owner releases (or the operator, without an account).
            assert!(!s.release_domain("a.com", Some("b")).await.unwrap());
            assert!(s.release_domain("a.com", Some("a")).await.unwrap());
            assert!(!s.release_domain("a.com", Some("a")).await.unwrap());
            assert_eq!(s.domain_owner("a.com").await.unwrap(), BOOTSTRAP_ACCOUNT);
            assert_eq!(
                s.claim_domain("a.com", "b", 14).await.unwrap(),
                Claim::Added
            );
            assert!(s.release_domain("b.com", None).await.unwrap());
            assert_eq!(names(s.domains(None).await.unwrap()), ["a.com"]);
        }
    }
}
