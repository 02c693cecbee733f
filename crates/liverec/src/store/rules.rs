//! Recording rules (reference §1.10): a rule binds a template of its account
//! to (domain, app, stream); an empty stream covers every stream of the
//! domain and app. (account, domain, app, stream) is unique. The scheduler
//! reads every rule ([`Store::all_rules`]); the API reads one account's.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::templates::{Outcome, Refused, lock_account, template_exists};
use super::{Result, Store};

/// A stored rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Rule id.
    pub id: i64,
    /// Owning account.
    pub account_id: String,
    /// DomainName.
    pub domain: String,
    /// AppName.
    pub app: String,
    /// StreamName; empty = every stream of the domain and app.
    pub stream: String,
    /// TemplateId.
    pub template_id: i64,
    /// Creation time, ms.
    pub created_ms: i64,
    /// Last change, ms.
    pub updated_ms: i64,
}

/// A rule to create.
#[derive(Clone, Debug)]
pub struct NewRule<'a> {
    /// Owning account.
    pub account_id: &'a str,
    /// DomainName (normalized).
    pub domain: &'a str,
    /// AppName.
    pub app: &'a str,
    /// StreamName ("" = every stream).
    pub stream: &'a str,
    /// TemplateId; must be a template of the account.
    pub template_id: i64,
}

const COLUMNS: &str = "id, account_id, domain, app, stream, template_id, created_ms, updated_ms";

pub(super) fn rule_from_row(r: &AnyRow) -> Result<Rule> {
    Ok(Rule {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        domain: r.try_get("domain")?,
        app: r.try_get("app")?,
        stream: r.try_get("stream")?,
        template_id: r.try_get("template_id")?,
        created_ms: r.try_get("created_ms")?,
        updated_ms: r.try_get("updated_ms")?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    /// Every rule of every account, oldest first (the scheduler arms them).
    pub async fn all_rules(&self) -> Result<Vec<Rule>> {
        let rows = sqlx::query(super::dynamic(format!(
            "SELECT {COLUMNS} FROM rules ORDER BY id"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rule_from_row).collect()
    }

    /// The rules of `account_id`, oldest first.
    pub async fn rules(&self, account_id: &str) -> Result<Vec<Rule>> {
        let rows = sqlx::query(super::dynamic(format!(
            "SELECT {COLUMNS} FROM rules WHERE account_id = $1 ORDER BY id"
        )))
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rule_from_row).collect()
    }

    /// Creates a rule: refused when the template is not the account's, when
    /// a rule for the same target exists, or when the account has `max`.
    pub async fn create_rule(
        &self,
        r: &NewRule<'_>,
        max: i64,
        now_ms: i64,
    ) -> Result<Outcome<Rule>> {
        let mut tx = self.begin_write().await?;
        lock_account(&mut tx, r.account_id).await?;
        if !template_exists(&mut tx, r.account_id, r.template_id).await? {
            return Ok(Err(Refused::TemplateNotFound));
        }
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM rules WHERE account_id = $1 AND domain = $2 AND app = $3 AND stream = $4",
        )
        .bind(r.account_id)
        .bind(r.domain)
        .bind(r.app)
        .bind(r.stream)
        .fetch_one(&mut *tx)
        .await?;
        if row.try_get::<i64, _>("n")? > 0 {
            return Ok(Err(Refused::RuleExists));
        }
        let row = sqlx::query("SELECT COUNT(*) AS n FROM rules WHERE account_id = $1")
            .bind(r.account_id)
            .fetch_one(&mut *tx)
            .await?;
        if row.try_get::<i64, _>("n")? >= max {
            return Ok(Err(Refused::TooMany));
        }
        let inserted = sqlx::query(super::dynamic(format!(
            "INSERT INTO rules (account_id, domain, app, stream, template_id, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {COLUMNS}"
        )))
        .bind(r.account_id)
        .bind(r.domain)
        .bind(r.app)
        .bind(r.stream)
        .bind(r.template_id)
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await;
        let row = match inserted {
            Ok(row) => row,
            // The account lock makes this unreachable in practice; the
            // unique index is the last word.
            Err(e) if is_unique_violation(&e) => return Ok(Err(Refused::RuleExists)),
            Err(e) => return Err(e.into()),
        };
        let rule = rule_from_row(&row)?;
        tx.commit().await?;
        Ok(Ok(rule))
    }

    /// Deletes the rule of exactly (domain, app, stream); false if there is
    /// none in the account.
    pub async fn delete_rule(
        &self,
        account_id: &str,
        domain: &str,
        app: &str,
        stream: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM rules WHERE account_id = $1 AND domain = $2 AND app = $3 AND stream = $4",
        )
        .bind(account_id)
        .bind(domain)
        .bind(app)
        .bind(stream)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{stores, two_accounts};
    use super::*;
    use crate::task::template::TemplateBody;

    fn rule<'a>(account_id: &'a str, stream: &'a str, template_id: i64) -> NewRule<'a> {
        NewRule {
            account_id,
            domain: "push.example.com",
            app: "live",
            stream,
            template_id,
        }
    }

    #[tokio::test]
    async fn rules_bind_own_templates_once_per_target() {
        for (s, _d) in stores().await {
            two_accounts(&s).await;
            let ta = s
                .create_template("a", "t", &TemplateBody::default(), 50, 1)
                .await
                .unwrap()
                .unwrap();
            let tb = s
                .create_template("b", "t", &TemplateBody::default(), 50, 1)
                .await
                .unwrap()
                .unwrap();
            let r1 = s
                .create_rule(&rule("a", "s1", ta.id), 3, 100)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                (
                    r1.stream.as_str(),
                    r1.template_id,
                    r1.created_ms,
                    r1.updated_ms
                ),
                ("s1", ta.id, 100, 100)
            );
            assert_eq!(
                s.create_rule(&rule("a", "s1", ta.id), 3, 101)
                    .await
                    .unwrap(),
                Err(Refused::RuleExists)
            );
            assert_eq!(
                s.create_rule(&rule("a", "s2", tb.id), 3, 101)
                    .await
                    .unwrap(),
                Err(Refused::TemplateNotFound),
                "B's template"
            );
            assert_eq!(
                s.create_rule(&rule("a", "s2", 999_999), 3, 101)
                    .await
                    .unwrap(),
                Err(Refused::TemplateNotFound)
            );
            // Same target in another account is independent.
            s.create_rule(&rule("b", "s1", tb.id), 3, 102)
                .await
                .unwrap()
                .unwrap();
            // Empty stream = every stream: a target of its own.
            s.create_rule(&rule("a", "", ta.id), 3, 103)
                .await
                .unwrap()
                .unwrap();
            s.create_rule(&rule("a", "s3", ta.id), 3, 104)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                s.create_rule(&rule("a", "s4", ta.id), 3, 105)
                    .await
                    .unwrap(),
                Err(Refused::TooMany)
            );
            let streams: Vec<String> = s
                .rules("a")
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.stream)
                .collect();
            assert_eq!(streams, ["s1", "", "s3"]);
            assert_eq!(s.all_rules().await.unwrap().len(), 4);

            // A template in use cannot be deleted.
            assert_eq!(
                s.delete_template("a", ta.id, 200).await.unwrap(),
                Err(Refused::TemplateInUse)
            );
            // Deleting matches exactly, within the account.
            assert!(
                !s.delete_rule("b", "push.example.com", "live", "s3")
                    .await
                    .unwrap()
            );
            assert!(
                !s.delete_rule("a", "push.example.com", "other", "s3")
                    .await
                    .unwrap()
            );
            for stream in ["s1", "", "s3"] {
                assert!(
                    s.delete_rule("a", "push.example.com", "live", stream)
                        .await
                        .unwrap()
                );
            }
            assert!(s.rules("a").await.unwrap().is_empty());
            assert_eq!(s.rules("b").await.unwrap().len(), 1);
            s.delete_template("a", ta.id, 201).await.unwrap().unwrap();
        }
    }
}
