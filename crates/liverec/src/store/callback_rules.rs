//! Callback templates and rules (reference §3.1): a template holds the
//! notify URLs and the CallbackKey of one account; a rule binds a template
//! of the same account to (domain, app), AppName "" covering every app of
//! the domain. (account, domain, app) is unique. [`Store::callback_target`]
//! answers, for one stream, where its events go: the rule of its exact app,
//! else the domain-wide rule, in one indexed query.
//!
//! Changes are serialized per account like the recording templates'
//! (`store::templates::lock_account`), so the quotas and the "template in use"
//! check hold across API nodes; a template is deleted for good (the
//! never-reused integer key keeps its id unique).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::templates::{Outcome, Refused, lock_account};
use super::{Result, Store};
use crate::task::normalize_domain;

mod template;

pub use template::{CallbackFields, CallbackTemplate};
use template::{levels_from, template_exists};

/// Where one stream's events go, as its account's callback template says.
/// An empty URL means "do not send this kind of event".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallbackTarget {
    /// The template this came from.
    pub template_id: i64,
    /// StreamBeginNotifyUrl (event 1).
    pub stream_begin_url: String,
    /// StreamEndNotifyUrl (event 0).
    pub stream_end_url: String,
    /// RecordNotifyUrl (event 100).
    pub record_url: String,
    /// RecordStatusNotifyUrl (recording status events).
    pub record_status_url: String,
    /// RecordExceptionNotifyUrl (recording exception events).
    pub record_exception_url: String,
    /// RecordExceptionLevels (`error`, `warning`, `info`); empty = all.
    pub record_exception_levels: Vec<String>,
    /// CallbackKey: `sign = md5(key + t)`.
    pub key: String,
    /// PushExceptionNotifyUrl (publish exception events).
    pub push_exception_url: String,
    /// The AppName of the rule that matched ("" = the domain-wide rule).
    pub rule_app: String,
}

/// A stored callback rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackRule {
    /// Rule id.
    pub id: i64,
    /// Owning account.
    pub account_id: String,
    /// DomainName.
    pub domain: String,
    /// AppName; "" = every app of the domain.
    pub app: String,
    /// TemplateId.
    pub template_id: i64,
    /// Creation time, ms.
    pub created_ms: i64,
    /// Last change, ms.
    pub updated_ms: i64,
}

/// A callback rule to create.
#[derive(Clone, Debug)]
pub struct NewCallbackRule<'a> {
    /// Owning account.
    pub account_id: &'a str,
    /// DomainName (normalized).
    pub domain: &'a str,
    /// AppName ("" = every app).
    pub app: &'a str,
    /// TemplateId; must be a callback template of the account.
    pub template_id: i64,
}

const RULE_COLUMNS: &str = "id, account_id, domain, app, template_id, created_ms, updated_ms";

fn rule_from_row(r: &AnyRow) -> Result<CallbackRule> {
    Ok(CallbackRule {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        domain: r.try_get("domain")?,
        app: r.try_get("app")?,
        template_id: r.try_get("template_id")?,
        created_ms: r.try_get("created_ms")?,
        updated_ms: r.try_get("updated_ms")?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    /// The callback rules of `account_id`, oldest first.
    pub async fn callback_rules(&self, account_id: &str) -> Result<Vec<CallbackRule>> {
        let rows = sqlx::query(super::dynamic(format!(
            "SELECT {RULE_COLUMNS} FROM callback_rules WHERE account_id = $1 ORDER BY id"
        )))
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rule_from_row).collect()
    }

    /// Creates a callback rule: refused when the template is not the
    /// account's, when a rule for the same (domain, app) exists, or when
    /// the account has `max` rules.
    pub async fn create_callback_rule(
        &self,
        r: &NewCallbackRule<'_>,
        max: i64,
        now_ms: i64,
    ) -> Result<Outcome<CallbackRule>> {
        let mut tx = self.begin_write().await?;
        lock_account(&mut tx, r.account_id).await?;
        if !template_exists(&mut tx, r.account_id, r.template_id).await? {
            return Ok(Err(Refused::TemplateNotFound));
        }
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM callback_rules WHERE account_id = $1 AND domain = $2 AND app = $3",
        )
        .bind(r.account_id)
        .bind(r.domain)
        .bind(r.app)
        .fetch_one(&mut *tx)
        .await?;
        if row.try_get::<i64, _>("n")? > 0 {
            return Ok(Err(Refused::RuleExists));
        }
        let row = sqlx::query("SELECT COUNT(*) AS n FROM callback_rules WHERE account_id = $1")
            .bind(r.account_id)
            .fetch_one(&mut *tx)
            .await?;
        if row.try_get::<i64, _>("n")? >= max {
            return Ok(Err(Refused::TooMany));
        }
        let inserted = sqlx::query(super::dynamic(format!(
            "INSERT INTO callback_rules (account_id, domain, app, template_id, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {RULE_COLUMNS}"
        )))
        .bind(r.account_id)
        .bind(r.domain)
        .bind(r.app)
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

    /// Deletes the callback rule of exactly (domain, app); false if the
    /// account has none.
    pub async fn delete_callback_rule(
        &self,
        account_id: &str,
        domain: &str,
        app: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM callback_rules WHERE account_id = $1 AND domain = $2 AND app = $3",
        )
        .bind(account_id)
        .bind(domain)
        .bind(app)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The callback template that applies to `account_id`'s stream on
    /// (`domain`, `app`): the rule of exactly that app, else the account's
    /// rule for every app of the domain (AppName ""). One query on the
    /// rule index; it runs for every publish and every file.
    pub async fn callback_target(
        &self,
        account_id: &str,
        domain: &str,
        app: &str,
    ) -> Result<Option<CallbackTarget>> {
        let mut conn = self.pool().acquire().await?;
        target_on(&mut conn, account_id, domain, app).await
    }
}

/// [`Store::callback_target`] on `conn` (the outbox resolves it inside
/// the transaction that writes the event).
pub(super) async fn target_on(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    domain: &str,
    app: &str,
) -> Result<Option<CallbackTarget>> {
    let domain = normalize_domain(domain);
    let row = sqlx::query(
        "SELECT t.id, t.stream_begin_url, t.stream_end_url, t.record_url, \
                t.record_status_url, t.record_exception_url, t.record_exception_levels, \
                t.callback_key, t.push_exception_url, r.app \
         FROM callback_rules r JOIN callback_templates t \
           ON t.id = r.template_id AND t.account_id = r.account_id \
         WHERE r.account_id = $1 AND r.domain = $2 AND (r.app = $3 OR r.app = '') \
         ORDER BY r.app DESC LIMIT 1",
    )
    .bind(account_id)
    .bind(domain)
    .bind(app)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let levels: String = r.try_get("record_exception_levels")?;
    Ok(Some(CallbackTarget {
        template_id: r.try_get("id")?,
        stream_begin_url: r.try_get("stream_begin_url")?,
        stream_end_url: r.try_get("stream_end_url")?,
        record_url: r.try_get("record_url")?,
        record_status_url: r.try_get("record_status_url")?,
        record_exception_url: r.try_get("record_exception_url")?,
        record_exception_levels: levels_from(&levels),
        key: r.try_get("callback_key")?,
        push_exception_url: r.try_get("push_exception_url")?,
        rule_app: r.try_get("app")?,
    }))
}

#[cfg(test)]
mod tests;
