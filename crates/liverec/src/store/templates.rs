//! Recording templates and rules (reference §1.10). A template is stored as
//! the JSON of its Tencent parameters ([`TemplateBody`], defined with the
//! task vocabulary in `task::template`); a rule binds a
//! template to (domain, app, stream). The scheduler reads every rule and
//! the templates they use ([`Store::all_rules`], [`Store::template`]).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, StoreError};
use crate::task::FileFormat;
use crate::task::template::{MAX_FLOW_CONTINUE_S, TemplateBody};

/// A stored template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// TemplateId.
    pub id: i64,
    /// Owning account.
    pub account_id: String,
    /// TemplateName.
    pub name: String,
    /// Everything else.
    pub body: TemplateBody,
}

impl Template {
    /// The reconnect window of `format`, ms: `HlsSpecialParam.
    /// FlowContinueDuration` for HLS, liverec's `ReconnectWindow` for the
    /// other formats and for HLS when FlowContinueDuration is 0; at most
    /// [`MAX_FLOW_CONTINUE_S`].
    pub fn continue_ms(&self, format: FileFormat) -> i64 {
        let hls = self
            .body
            .hls_special_param
            .as_ref()
            .map_or(0, |h| h.flow_continue_duration);
        let s = match format {
            FileFormat::Hls if hls > 0 => hls,
            _ => self.body.reconnect_window,
        };
        i64::try_from(s.min(MAX_FLOW_CONTINUE_S)).unwrap_or(0) * 1000
    }
}

pub(super) fn template_from_row(r: &AnyRow) -> Result<Template> {
    let body: String = r.try_get("body")?;
    Ok(Template {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        name: r.try_get("name")?,
        body: serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("template body: {e}")))?,
    })
}

/// Why the store refused a template or rule change (each maps to one
/// Tencent error code in the API layer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The account already has the maximum number of templates or rules.
    TooMany,
    /// No such template in the account (or it is deleted).
    TemplateNotFound,
    /// A rule of the account still uses the template.
    TemplateInUse,
    /// A rule for the same (domain, app, stream) exists.
    RuleExists,
}

/// A store change that may be refused for a reason the caller reports.
pub type Outcome<T> = std::result::Result<T, Refused>;

const TEMPLATE_COLUMNS: &str = "id, account_id, name, body";

fn body_json(body: &TemplateBody) -> Result<String> {
    serde_json::to_string(body).map_err(|e| StoreError::Corrupt(format!("template body: {e}")))
}

/// Serializes changes to one account's templates and rules (quotas and
/// "in use" checks stay true across API nodes): the first statement of the
/// transaction writes the account row, which takes SQLite's write lock and
/// PostgreSQL's row lock.
pub(super) async fn lock_account(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account_id: &str,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET name = name WHERE id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whether `account_id` has template `id` (not deleted), inside `tx`.
pub(super) async fn template_exists(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account_id: &str,
    id: i64,
) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM templates WHERE id = $1 AND account_id = $2 AND deleted_ms IS NULL",
    )
    .bind(id)
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

impl Store {
    /// A template of `account_id` that is not deleted.
    pub async fn template(&self, account_id: &str, id: i64) -> Result<Option<Template>> {
        let row = sqlx::query(super::dynamic(format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE id = $1 AND account_id = $2 AND deleted_ms IS NULL"
        )))
        .bind(id)
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(template_from_row).transpose()
    }

    /// The templates of `account_id` that are not deleted, oldest first.
    pub async fn templates(&self, account_id: &str) -> Result<Vec<Template>> {
        let rows = sqlx::query(super::dynamic(format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE account_id = $1 AND deleted_ms IS NULL ORDER BY id"
        )))
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(template_from_row).collect()
    }

    /// Creates a template unless the account already has `max` of them.
    pub async fn create_template(
        &self,
        account_id: &str,
        name: &str,
        body: &TemplateBody,
        max: i64,
        now_ms: i64,
    ) -> Result<Outcome<Template>> {
        let body = body_json(body)?;
        let mut tx = self.begin_write().await?;
        lock_account(&mut tx, account_id).await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM templates WHERE account_id = $1 AND deleted_ms IS NULL",
        )
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
        let n: i64 = row.try_get("n")?;
        if n >= max {
            return Ok(Err(Refused::TooMany));
        }
        let row = sqlx::query(super::dynamic(format!(
            "INSERT INTO templates (account_id, name, body, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $4) RETURNING {TEMPLATE_COLUMNS}"
        )))
        .bind(account_id)
        .bind(name)
        .bind(&body)
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        let t = template_from_row(&row)?;
        tx.commit().await?;
        Ok(Ok(t))
    }

    /// Replaces the name and body of a template; refused if it does not
    /// exist (any more) in the account.
    pub async fn update_template(
        &self,
        account_id: &str,
        id: i64,
        name: &str,
        body: &TemplateBody,
        now_ms: i64,
    ) -> Result<Outcome<()>> {
        let done = sqlx::query(
            "UPDATE templates SET name = $1, body = $2, updated_ms = $3 \
             WHERE id = $4 AND account_id = $5 AND deleted_ms IS NULL",
        )
        .bind(name)
        .bind(body_json(body)?)
        .bind(now_ms)
        .bind(id)
        .bind(account_id)
        .execute(self.pool())
        .await?;
        Ok(if done.rows_affected() == 0 {
            Err(Refused::TemplateNotFound)
        } else {
            Ok(())
        })
    }

    /// Deletes a template that no rule of the account uses. The row is
    /// kept (marked deleted) so its id is never reused.
    pub async fn delete_template(
        &self,
        account_id: &str,
        id: i64,
        now_ms: i64,
    ) -> Result<Outcome<()>> {
        let mut tx = self.begin_write().await?;
        lock_account(&mut tx, account_id).await?;
        if !template_exists(&mut tx, account_id, id).await? {
            return Ok(Err(Refused::TemplateNotFound));
        }
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM rules WHERE account_id = $1 AND template_id = $2",
        )
        .bind(account_id)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if row.try_get::<i64, _>("n")? > 0 {
            return Ok(Err(Refused::TemplateInUse));
        }
        sqlx::query("UPDATE templates SET deleted_ms = $1, updated_ms = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{stores, two_accounts};
    use super::*;
    use crate::task::template::test_support::body;

    #[tokio::test]
    async fn templates_are_per_account_limited_and_soft_deleted() {
        for (s, _d) in stores().await {
            two_accounts(&s).await;
            let t = s
                .create_template("a", "one", &body(), 2, 10)
                .await
                .unwrap()
                .unwrap();
            assert_eq!((t.name.as_str(), t.body.clone()), ("one", body()));
            assert_eq!(s.template("a", t.id).await.unwrap(), Some(t.clone()));
            assert_eq!(s.template("b", t.id).await.unwrap(), None, "isolated");
            // Same name again is fine; a third is over the limit of 2.
            let t2 = s
                .create_template("a", "one", &TemplateBody::default(), 2, 11)
                .await
                .unwrap()
                .unwrap();
            assert!(t2.id > t.id);
            assert_eq!(
                s.create_template("a", "three", &body(), 2, 12)
                    .await
                    .unwrap(),
                Err(Refused::TooMany)
            );
            // B has its own quota.
            s.create_template("b", "b1", &body(), 2, 12)
                .await
                .unwrap()
                .unwrap();
            let ids: Vec<i64> = s
                .templates("a")
                .await
                .unwrap()
                .iter()
                .map(|t| t.id)
                .collect();
            assert_eq!(ids, vec![t.id, t2.id]);

            let mut changed = body();
            changed.description = "changed".into();
            s.update_template("a", t.id, "renamed", &changed, 20)
                .await
                .unwrap()
                .unwrap();
            let got = s.template("a", t.id).await.unwrap().unwrap();
            assert_eq!((got.name.as_str(), got.body), ("renamed", changed.clone()));
            assert_eq!(
                s.update_template("b", t.id, "x", &changed, 21)
                    .await
                    .unwrap(),
                Err(Refused::TemplateNotFound),
                "another account's template"
            );

            assert_eq!(
                s.delete_template("b", t.id, 30).await.unwrap(),
                Err(Refused::TemplateNotFound)
            );
            s.delete_template("a", t.id, 30).await.unwrap().unwrap();
            assert_eq!(s.template("a", t.id).await.unwrap(), None);
            assert_eq!(
                s.delete_template("a", t.id, 31).await.unwrap(),
                Err(Refused::TemplateNotFound),
                "already deleted"
            );
            assert_eq!(
                s.update_template("a", t.id, "x", &changed, 32)
                    .await
                    .unwrap(),
                Err(Refused::TemplateNotFound)
            );
            // The freed slot can be used; ids are never reused.
            let t3 = s
                .create_template("a", "three", &body(), 2, 40)
                .await
                .unwrap()
                .unwrap();
            assert!(t3.id > t2.id);
            assert_eq!(s.templates("a").await.unwrap().len(), 2);
        }
    }

    #[tokio::test]
    async fn concurrent_creates_respect_the_template_limit() {
        for (s, _d) in stores().await {
            two_accounts(&s).await;
            let tasks: Vec<_> = (0..8)
                .map(|i| {
                    let s = s.clone();
                    tokio::spawn(async move {
                        s.create_template("a", &format!("t{i}"), &TemplateBody::default(), 5, i)
                            .await
                            .unwrap()
                    })
                })
                .collect();
            let mut created = 0;
            for t in tasks {
                if t.await.unwrap().is_ok() {
                    created += 1;
                }
            }
            assert_eq!(created, 5);
            assert_eq!(s.templates("a").await.unwrap().len(), 5);
        }
    }
}
