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

impl Template {
    /// The formats this template records (those with `Enable` = 1).
    pub fn outputs(&self) -> Vec<OutputPlan> {
        let b = &self.body;
        [
            (FileFormat::Flv, &b.flv_param),
            (FileFormat::Hls, &b.hls_param),
            (FileFormat::Mp4, &b.mp4_param),
            (FileFormat::Aac, &b.aac_param),
            (FileFormat::Mp3, &b.mp3_param),
        ]
        .into_iter()
        .filter_map(|(format, p)| {
            let p = p.as_ref().filter(|p| p.enable == 1)?;
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
            .map_or(0, |h| h.flow_continue_duration.min(1800));
        i64::try_from(s).unwrap_or(0) * 1000
    }
}

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

impl Store {
    /// A template of `account_id` that is not deleted.
    pub async fn template(&self, account_id: &str, id: i64) -> Result<Option<Template>> {
        let row = sqlx::query(
            "SELECT id, account_id, name, body FROM templates WHERE id = $1 AND account_id = $2 AND deleted_ms IS NULL",
        )
        .bind(id)
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(template_from_row).transpose()
    }

    /// Every rule of every account, oldest first (the scheduler arms them).
    pub async fn all_rules(&self) -> Result<Vec<Rule>> {
        let rows = sqlx::query(
            "SELECT id, account_id, domain, app, stream, template_id, created_ms, updated_ms FROM rules ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rule_from_row).collect()
    }
}
