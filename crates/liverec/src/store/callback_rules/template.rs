//! The callback templates of [`super`]: the stored row and its CRUD. A
//! template is deleted for good once no rule uses it (the never-reused
//! integer key keeps its id unique).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::super::templates::{Outcome, Refused, lock_account};
use super::super::{Result, Store};

/// The settable fields of a callback template (all but its name), as the
/// API validated them. Empty strings are unset URLs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallbackFields {
    /// Description.
    pub description: String,
    /// StreamBeginNotifyUrl.
    pub stream_begin_url: String,
    /// StreamEndNotifyUrl.
    pub stream_end_url: String,
    /// RecordNotifyUrl.
    pub record_url: String,
    /// RecordStatusNotifyUrl.
    pub record_status_url: String,
    /// SnapshotNotifyUrl (stored and shown; liverec takes no snapshots).
    pub snapshot_url: String,
    /// PornCensorshipNotifyUrl (stored and shown only).
    pub porn_censorship_url: String,
    /// StreamMixNotifyUrl (deprecated by Tencent; stored and shown only).
    pub stream_mix_url: String,
    /// PushExceptionNotifyUrl.
    pub push_exception_url: String,
    /// AudioAuditNotifyUrl (stored and shown only).
    pub audio_audit_url: String,
    /// RecordExceptionNotifyUrl.
    pub record_exception_url: String,
    /// RecordExceptionLevels; no value contains a comma.
    pub record_exception_levels: Vec<String>,
    /// CallbackKey.
    pub callback_key: String,
}

/// A stored callback template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackTemplate {
    /// TemplateId.
    pub id: i64,
    /// Owning account.
    pub account_id: String,
    /// TemplateName.
    pub name: String,
    /// Everything else.
    pub fields: CallbackFields,
}

/// The template columns after id, account_id and name, in the order
/// [`bind_fields`] binds them.
const FIELD_COLUMNS: [&str; 13] = [
    "description",
    "stream_begin_url",
    "stream_end_url",
    "record_url",
    "record_status_url",
    "snapshot_url",
    "porn_censorship_url",
    "stream_mix_url",
    "push_exception_url",
    "audio_audit_url",
    "record_exception_url",
    "record_exception_levels",
    "callback_key",
];

fn template_columns() -> String {
    format!("id, account_id, name, {}", FIELD_COLUMNS.join(", "))
}

pub(super) fn levels_from(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn template_from_row(r: &AnyRow) -> Result<CallbackTemplate> {
    let levels: String = r.try_get("record_exception_levels")?;
    Ok(CallbackTemplate {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        name: r.try_get("name")?,
        fields: CallbackFields {
            description: r.try_get("description")?,
            stream_begin_url: r.try_get("stream_begin_url")?,
            stream_end_url: r.try_get("stream_end_url")?,
            record_url: r.try_get("record_url")?,
            record_status_url: r.try_get("record_status_url")?,
            snapshot_url: r.try_get("snapshot_url")?,
            porn_censorship_url: r.try_get("porn_censorship_url")?,
            stream_mix_url: r.try_get("stream_mix_url")?,
            push_exception_url: r.try_get("push_exception_url")?,
            audio_audit_url: r.try_get("audio_audit_url")?,
            record_exception_url: r.try_get("record_exception_url")?,
            record_exception_levels: levels_from(&levels),
            callback_key: r.try_get("callback_key")?,
        },
    })
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds the [`FIELD_COLUMNS`] values of `f`, in order.
fn bind_fields<'q>(q: AnyQuery<'q>, f: &CallbackFields) -> AnyQuery<'q> {
    q.bind(f.description.clone())
        .bind(f.stream_begin_url.clone())
        .bind(f.stream_end_url.clone())
        .bind(f.record_url.clone())
        .bind(f.record_status_url.clone())
        .bind(f.snapshot_url.clone())
        .bind(f.porn_censorship_url.clone())
        .bind(f.stream_mix_url.clone())
        .bind(f.push_exception_url.clone())
        .bind(f.audio_audit_url.clone())
        .bind(f.record_exception_url.clone())
        .bind(f.record_exception_levels.join(","))
        .bind(f.callback_key.clone())
}

/// `$first, $first+1, …` for the [`FIELD_COLUMNS`].
fn placeholders(first: usize) -> String {
    (first..first + FIELD_COLUMNS.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `account_id` has callback template `id`, inside `tx`.
pub(super) async fn template_exists(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account_id: &str,
    id: i64,
) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM callback_templates WHERE id = $1 AND account_id = $2",
    )
    .bind(id)
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

impl Store {
    /// A callback template of `account_id`.
    pub async fn callback_template(
        &self,
        account_id: &str,
        id: i64,
    ) -> Result<Option<CallbackTemplate>> {
        let row = sqlx::query(super::super::dynamic(format!(
            "SELECT {} FROM callback_templates WHERE id = $1 AND account_id = $2",
            template_columns()
        )))
        .bind(id)
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(template_from_row).transpose()
    }

    /// The callback templates of `account_id`, oldest first.
    pub async fn callback_templates(&self, account_id: &str) -> Result<Vec<CallbackTemplate>> {
        let rows = sqlx::query(super::super::dynamic(format!(
            "SELECT {} FROM callback_templates WHERE account_id = $1 ORDER BY id",
            template_columns()
        )))
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(template_from_row).collect()
    }

    /// Creates a callback template unless the account already has `max`.
    pub async fn create_callback_template(
        &self,
        account_id: &str,
        name: &str,
        fields: &CallbackFields,
        max: i64,
        now_ms: i64,
    ) -> Result<Outcome<CallbackTemplate>> {
        let mut tx = self.begin_write().await?;
        lock_account(&mut tx, account_id).await?;
        let row = sqlx::query("SELECT COUNT(*) AS n FROM callback_templates WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&mut *tx)
            .await?;
        if row.try_get::<i64, _>("n")? >= max {
            return Ok(Err(Refused::TooMany));
        }
        let sql = format!(
            "INSERT INTO callback_templates (account_id, name, created_ms, updated_ms, {}) \
             VALUES ($1, $2, $3, $3, {}) RETURNING {}",
            FIELD_COLUMNS.join(", "),
            placeholders(4),
            template_columns()
        );
        let q = sqlx::query(super::super::dynamic(sql))
            .bind(account_id.to_string())
            .bind(name.to_string())
            .bind(now_ms);
        let row = bind_fields(q, fields).fetch_one(&mut *tx).await?;
        let t = template_from_row(&row)?;
        tx.commit().await?;
        Ok(Ok(t))
    }

    /// Replaces the name and fields of a callback template; refused if it
    /// is not (any more) the account's.
    pub async fn update_callback_template(
        &self,
        account_id: &str,
        id: i64,
        name: &str,
        fields: &CallbackFields,
        now_ms: i64,
    ) -> Result<Outcome<()>> {
        let sets = FIELD_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 5))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE callback_templates SET name = $1, updated_ms = $2, {sets} \
             WHERE id = $3 AND account_id = $4"
        );
        let q = sqlx::query(super::super::dynamic(sql))
            .bind(name.to_string())
            .bind(now_ms)
            .bind(id)
            .bind(account_id.to_string());
        let done = bind_fields(q, fields).execute(self.pool()).await?;
        Ok(if done.rows_affected() == 0 {
            Err(Refused::TemplateNotFound)
        } else {
            Ok(())
        })
    }

    /// Deletes a callback template that no rule of the account uses.
    pub async fn delete_callback_template(&self, account_id: &str, id: i64) -> Result<Outcome<()>> {
        let mut tx = self.begin_write().await?;
        lock_account(&mut tx, account_id).await?;
        if !template_exists(&mut tx, account_id, id).await? {
            return Ok(Err(Refused::TemplateNotFound));
        }
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM callback_rules WHERE account_id = $1 AND template_id = $2",
        )
        .bind(account_id)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if row.try_get::<i64, _>("n")? > 0 {
            return Ok(Err(Refused::TemplateInUse));
        }
        sqlx::query("DELETE FROM callback_templates WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }
}
