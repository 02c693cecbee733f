//! Recording templates and rules (SPEC §3.2, reference §1.10):
//! Create/Modify/Delete/DescribeLiveRecordTemplate(s) and
//! Create/Delete/DescribeLiveRecordRule(s), scoped to the caller's account.
//! Parameters are validated before any effect ([`body`]); every change that
//! alters what gets recorded makes the scheduler re-read the rules, so it
//! applies from the next publish on.
//!
//! Error codes follow each action's list in Tencent's Go SDK
//! (`live/v20180801/client.go`, "可能返回的错误码"): an unknown template is
//! `FailedOperation.NotFound` for Describe/Modify and
//! `InternalError.ConfNotFound` for Delete and CreateLiveRecordRule (the
//! lists of those two have no other "not found" code); a template used by a
//! rule is `FailedOperation.ConfInUsed`; the 51st template is
//! `InternalError.ConfOutLimit`; an existing rule target is
//! `FailedOperation.RuleAlreadyExist`; DeleteLiveRecordRule without a match
//! is `FailedOperation.NotFound`. Another account's template or rule is
//! answered exactly as one that does not exist.

mod body;

use serde_json::{Map, Value, json};
use tcapi::Params;

use super::AppState;
use super::endpoint::{ActionResult, Call};
use super::error::Error;
use super::params::{check_name, flag, non_empty};
use crate::store::{NewRule, Refused, Rule, Template};
use crate::task::normalize_domain;
use crate::task::template::TemplateBody;

/// Templates per account (Tencent: "数量上限：50").
const MAX_TEMPLATES: i64 = 50;
/// Rules per account. Tencent documents no limit; liverec bounds it so one
/// account cannot make every publish scan an unbounded list.
const MAX_RULES: i64 = 1000;
/// Longest domain name (DNS).
const MAX_DOMAIN_LEN: usize = 253;

/// Template floor of RecordInterval: Tencent's 60 s, or the configured
/// `min_record_interval` when that is lower (tests cut short files).
fn min_interval(state: &AppState) -> i64 {
    i64::try_from(state.settings.min_record_interval_s)
        .unwrap_or(body::MIN_RECORD_INTERVAL)
        .clamp(1, body::MIN_RECORD_INTERVAL)
}

fn template_id(p: &Params) -> Result<i64, Error> {
    Ok(p.i64_req("TemplateId")?)
}

/// Unix ms as Beijing time (RuleInfo times).
fn beijing(ms: i64) -> String {
    crate::clock::cst_string(ms).unwrap_or_default()
}

/// `RecordTemplateInfo`.
fn template_json(t: &Template) -> Value {
    let mut v = serde_json::to_value(body::shown(&t.body)).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut v {
        m.insert("TemplateId".into(), t.id.into());
        m.insert("TemplateName".into(), t.name.clone().into());
    }
    v
}

/// `RuleInfo`.
fn rule_json(r: &Rule) -> Value {
    json!({
        "CreateTime": beijing(r.created_ms),
        "UpdateTime": beijing(r.updated_ms),
        "TemplateId": r.template_id,
        "DomainName": r.domain,
        "AppName": r.app,
        "StreamName": r.stream,
    })
}

fn reply(name: &str, v: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(name.into(), v);
    m
}

/// CreateLiveRecordTemplate.
pub(super) async fn create_template(state: &AppState, call: &Call) -> ActionResult {
    let p = &call.req.params;
    let name = body::template_name(&p.str_req("TemplateName")?)?;
    let mut b = TemplateBody::default();
    body::apply(p, &mut b, body::Action::Create, min_interval(state))?;
    let now = state.clock.now_ms();
    let t = state
        .store
        .create_template(&call.account_id, &name, &b, MAX_TEMPLATES, now)
        .await?
        .map_err(|r| match r {
            Refused::TooMany => Error::TooManyTemplates(MAX_TEMPLATES),
            // The store refuses a new template only for the quota.
            Refused::TemplateNotFound | Refused::TemplateInUse | Refused::RuleExists => {
                Error::internal(format!("create_template refused: {r:?}"))
            }
        })?;
    tracing::info!(template_id = t.id, "recording template created");
    Ok(reply("TemplateId", t.id.into()))
}

/// ModifyLiveRecordTemplate: absent fields keep their values.
pub(super) async fn modify_template(state: &AppState, call: &Call) -> ActionResult {
    let p = &call.req.params;
    let id = template_id(p)?;
    let name = p
        .str_opt("TemplateName")?
        .map(|n| body::template_name(&n))
        .transpose()?;
    let t = state
        .store
        .template(&call.account_id, id)
        .await?
        .ok_or(Error::TemplateNotFound(id))?;
    let mut b = t.body.clone();
    body::apply(p, &mut b, body::Action::Modify, min_interval(state))?;
    let name = name.unwrap_or(t.name);
    state
        .store
        .update_template(&call.account_id, id, &name, &b, state.clock.now_ms())
        .await?
        .map_err(|r| match r {
            // Deleted between the read and the update.
            Refused::TemplateNotFound => Error::TemplateNotFound(id),
            Refused::TooMany | Refused::TemplateInUse | Refused::RuleExists => {
                Error::internal(format!("update_template refused: {r:?}"))
            }
        })?;
    tracing::info!(template_id = id, "recording template modified");
    state.scheduler.rules_changed().await;
    Ok(Map::new())
}

/// DeleteLiveRecordTemplate: refused while a rule uses the template.
pub(super) async fn delete_template(state: &AppState, call: &Call) -> ActionResult {
    let id = template_id(&call.req.params)?;
    let outcome = state
        .store
        .delete_template(&call.account_id, id, state.clock.now_ms())
        .await?;
    match outcome {
        Ok(()) => {}
        Err(Refused::TemplateInUse) => return Err(Error::TemplateInUse(id)),
        Err(Refused::TemplateNotFound) => return Err(Error::TemplateConfNotFound(id)),
        Err(r @ (Refused::TooMany | Refused::RuleExists)) => {
            return Err(Error::internal(format!("delete_template refused: {r:?}")));
        }
    }
    // No rule uses it (the store refuses otherwise), so no plan changes.
    tracing::info!(template_id = id, "recording template deleted");
    Ok(Map::new())
}

/// DescribeLiveRecordTemplate.
pub(super) async fn describe_template(state: &AppState, call: &Call) -> ActionResult {
    let id = template_id(&call.req.params)?;
    let t = state
        .store
        .template(&call.account_id, id)
        .await?
        .ok_or(Error::TemplateNotFound(id))?;
    Ok(reply("Template", template_json(&t)))
}

/// DescribeLiveRecordTemplates: IsDelayLive selects normal (0, the
/// documented default) or slow-live (1) templates.
pub(super) async fn describe_templates(state: &AppState, call: &Call) -> ActionResult {
    let delay = i64::from(flag(&call.req.params, "IsDelayLive")?);
    let all = state.store.templates(&call.account_id).await?;
    let list: Vec<Value> = all
        .iter()
        .filter(|t| t.body.is_delay_live == delay)
        .map(template_json)
        .collect();
    Ok(reply("Templates", list.into()))
}

/// DomainName of a rule: lower-case, without a port.
fn rule_domain(p: &Params) -> Result<String, Error> {
    let raw = non_empty(p, "DomainName")?;
    let d = normalize_domain(&raw);
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']');
    if d.is_empty() || d.len() > MAX_DOMAIN_LEN || !d.chars().all(ok) {
        return Err(Error::DomainFormat(format!(
            "DomainName {raw:?} is not a valid domain name"
        )));
    }
    Ok(d)
}

/// AppName and StreamName of a rule, as given (AppName defaults to `live`,
/// StreamName to "" = every stream).
fn rule_target(p: &Params) -> Result<(String, String), Error> {
    let app = p
        .str_opt("AppName")?
        .map_or_else(|| "live".to_string(), |s| s.trim().to_string());
    check_name("AppName", &app)?;
    let stream = p
        .str_opt("StreamName")?
        .unwrap_or_default()
        .trim()
        .to_string();
    check_name("StreamName", &stream)?;
    Ok((app, stream))
}

/// CreateLiveRecordRule.
pub(super) async fn create_rule(state: &AppState, call: &Call) -> ActionResult {
    let p = &call.req.params;
    let domain = rule_domain(p)?;
    let id = template_id(p)?;
    let (app, stream) = rule_target(p)?;
    let new = NewRule {
        account_id: &call.account_id,
        domain: &domain,
        app: &app,
        stream: &stream,
        template_id: id,
    };
    let outcome = state
        .store
        .create_rule(&new, MAX_RULES, state.clock.now_ms())
        .await?;
    let rule = match outcome {
        Ok(r) => r,
        Err(Refused::RuleExists) => {
            return Err(Error::RuleExists(format!("{domain}/{app}/{stream}")));
        }
        Err(Refused::TooMany) => return Err(Error::TooManyRules(MAX_RULES)),
        Err(Refused::TemplateNotFound) => return Err(Error::TemplateConfNotFound(id)),
        Err(r @ Refused::TemplateInUse) => {
            return Err(Error::internal(format!("create_rule refused: {r:?}")));
        }
    };
    tracing::info!(rule_id = rule.id, template_id = id, %domain, %app, %stream, "recording rule created");
    state.scheduler.rules_changed().await;
    Ok(Map::new())
}

/// DeleteLiveRecordRule: DomainName + AppName + StreamName match exactly.
pub(super) async fn delete_rule(state: &AppState, call: &Call) -> ActionResult {
    let p = &call.req.params;
    let domain = rule_domain(p)?;
    let (app, stream) = rule_target(p)?;
    let deleted = state
        .store
        .delete_rule(&call.account_id, &domain, &app, &stream)
        .await?;
    if !deleted {
        return Err(Error::RuleNotFound(format!("{domain}/{app}/{stream}")));
    }
    tracing::info!(%domain, %app, %stream, "recording rule deleted");
    state.scheduler.rules_changed().await;
    Ok(Map::new())
}

/// DescribeLiveRecordRules.
pub(super) async fn describe_rules(state: &AppState, call: &Call) -> ActionResult {
    let rules = state.store.rules(&call.account_id).await?;
    Ok(reply("Rules", rules.iter().map(rule_json).collect()))
}
