//! Recording templates and rules (reference §1.10). A template is stored as
//! the JSON of its Tencent parameters ([`TemplateBody`]); a rule binds a
//! template to (domain, app, stream). The scheduler reads every rule and
//! the templates they use ([`Store::all_rules`], [`Store::template`]).

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, StoreError};
use crate::plan::OutputPlan;
use crate::task::FileFormat;

/// `RecordParam`: one format of a template.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RecordParam {
    /// Segment length, seconds (FLV/MP4 60–43200, AAC/MP3 60–7200; ignored for HLS).
    pub record_interval: i64,
    /// Retention, seconds (0 = forever).
    pub storage_time: i64,
    /// 1 = this format is recorded.
    pub enable: i64,
    /// VOD sub-application (kept, unused).
    pub vod_sub_app_id: i64,
    /// File name with placeholders.
    pub vod_file_name: String,
    /// VOD task flow (kept, unused).
    pub procedure: String,
    /// `normal` | `cold` (kept, unused).
    pub storage_mode: String,
    /// VOD category (kept, unused).
    pub class_id: i64,
    /// COS bucket (kept, unused).
    pub cos_bucket_name: String,
    /// COS region (kept, unused).
    pub cos_bucket_region: String,
    /// COS path (kept, unused).
    pub cos_bucket_path: String,
}

/// `HlsSpecialParam`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HlsSpecialParam {
    /// Seconds a publisher may be gone and still continue the playlist (0–1800).
    pub flow_continue_duration: u64,
}

/// `FlvSpecialParam`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FlvSpecialParam {
    /// Upload while recording (kept, unused).
    pub upload_in_recording: bool,
}

/// The parameters of a template, as the API takes and returns them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TemplateBody {
    /// Description.
    pub description: String,
    /// FLV.
    pub flv_param: Option<RecordParam>,
    /// HLS.
    pub hls_param: Option<RecordParam>,
    /// MP4.
    pub mp4_param: Option<RecordParam>,
    /// AAC.
    pub aac_param: Option<RecordParam>,
    /// MP3.
    pub mp3_param: Option<RecordParam>,
    /// 0 normal, 1 slow live.
    pub is_delay_live: i64,
    /// HLS options.
    pub hls_special_param: Option<HlsSpecialParam>,
    /// 1 = store to COS (kept, unused).
    pub cos_store: i64,
    /// Remove watermark (kept, unused).
    pub remove_watermark: bool,
    /// FLV options.
    pub flv_special_param: Option<FlvSpecialParam>,
}

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

/// Longest HLS reconnect window (FlowContinueDuration), seconds.
pub const MAX_FLOW_CONTINUE_S: u64 = 1800;

impl TemplateBody {
    /// The RecordParam of `format`.
    pub fn param(&self, format: FileFormat) -> &Option<RecordParam> {
        match format {
            FileFormat::Flv => &self.flv_param,
            FileFormat::Hls => &self.hls_param,
            FileFormat::Mp4 => &self.mp4_param,
            FileFormat::Aac => &self.aac_param,
            FileFormat::Mp3 => &self.mp3_param,
        }
    }

    /// The RecordParam of `format`, to change.
    pub fn param_mut(&mut self, format: FileFormat) -> &mut Option<RecordParam> {
        match format {
            FileFormat::Flv => &mut self.flv_param,
            FileFormat::Hls => &mut self.hls_param,
            FileFormat::Mp4 => &mut self.mp4_param,
            FileFormat::Aac => &mut self.aac_param,
            FileFormat::Mp3 => &mut self.mp3_param,
        }
    }
}

impl Template {
    /// The formats this template records (those with `Enable` = 1).
    pub fn outputs(&self) -> Vec<OutputPlan> {
        FileFormat::ALL
            .into_iter()
            .filter_map(|format| {
                let p = self.body.param(format).as_ref().filter(|p| p.enable == 1)?;
                Some(OutputPlan {
                    format,
                    record_interval_s: if format == FileFormat::Hls {
                        0
                    } else {
                        p.record_interval.max(0)
                    },
                    storage_time_s: p.storage_time.max(0),
                    file_name: Some(p.vod_file_name.clone()).filter(|n| !n.is_empty()),
                })
            })
            .collect()
    }

    /// The HLS reconnect window, ms.
    pub fn hls_continue_ms(&self) -> i64 {
        let s = self
            .body
            .hls_special_param
            .as_ref()
            .map_or(0, |h| h.flow_continue_duration.min(MAX_FLOW_CONTINUE_S));
        i64::try_from(s).unwrap_or(0) * 1000
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
        let mut tx = self.pool().begin().await?;
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
        let mut tx = self.pool().begin().await?;
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

    fn param(enable: i64, interval: i64, storage: i64) -> Option<RecordParam> {
        Some(RecordParam {
            enable,
            record_interval: interval,
            storage_time: storage,
            ..RecordParam::default()
        })
    }

    fn body() -> TemplateBody {
        TemplateBody {
            description: "d".into(),
            flv_param: param(1, 600, 86_400),
            hls_param: param(1, 1800, 0),
            mp4_param: param(0, 1800, 0),
            mp3_param: Some(RecordParam {
                enable: 1,
                record_interval: 300,
                vod_file_name: "{StreamID}_{StartYear}".into(),
                ..RecordParam::default()
            }),
            hls_special_param: Some(HlsSpecialParam {
                flow_continue_duration: 30,
            }),
            ..TemplateBody::default()
        }
    }

    #[test]
    fn outputs_are_the_enabled_formats() {
        let t = Template {
            id: 1,
            account_id: "a".into(),
            name: "n".into(),
            body: body(),
        };
        let o = t.outputs();
        let got: Vec<_> = o
            .iter()
            .map(|p| {
                (
                    p.format,
                    p.record_interval_s,
                    p.storage_time_s,
                    p.file_name.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (FileFormat::Flv, 600, 86_400, None),
                // HLS: one file per session whatever the interval.
                (FileFormat::Hls, 0, 0, None),
                (
                    FileFormat::Mp3,
                    300,
                    0,
                    Some("{StreamID}_{StartYear}".to_string())
                ),
            ]
        );
        assert_eq!(t.hls_continue_ms(), 30_000);
        let none = Template {
            body: TemplateBody::default(),
            ..t.clone()
        };
        assert!(none.outputs().is_empty());
        assert_eq!(none.hls_continue_ms(), 0);
        let capped = Template {
            body: TemplateBody {
                hls_special_param: Some(HlsSpecialParam {
                    flow_continue_duration: 99_999,
                }),
                ..TemplateBody::default()
            },
            ..t
        };
        assert_eq!(capped.hls_continue_ms(), 1_800_000);
    }

    #[test]
    fn body_is_stored_in_tencent_shape() {
        let v = serde_json::to_value(body()).unwrap();
        assert_eq!(v["FlvParam"]["RecordInterval"], 600);
        assert_eq!(v["Mp3Param"]["VodFileName"], "{StreamID}_{StartYear}");
        assert_eq!(v["HlsSpecialParam"]["FlowContinueDuration"], 30);
        assert_eq!(v["AacParam"], serde_json::Value::Null);
        let back: TemplateBody = serde_json::from_value(v).unwrap();
        assert_eq!(back, body());
    }

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
