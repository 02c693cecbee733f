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
//! answered exactly as one that does not exist. A rule for a domain the
//! caller does not own (SPEC §2) is `ResourceNotFound.DomainNotExist`;
//! deleting one's own rule needs no ownership (the domain may have changed
//! hands since).

mod body;

use super::AppState;
use super::domains::owns;
use super::endpoint::{ActionResult, Call};
use super::error::Error;
use super::params::{check_name, flag_value, missing, required};
use super::wire::{
    CreateLiveRecordRuleRequest, CreateLiveRecordRuleResponse, CreateLiveRecordTemplateRequest,
    CreateLiveRecordTemplateResponse, DeleteLiveRecordRuleRequest, DeleteLiveRecordRuleResponse,
    DeleteLiveRecordTemplateRequest, DeleteLiveRecordTemplateResponse,
    DescribeLiveRecordRulesRequest, DescribeLiveRecordRulesResponse,
    DescribeLiveRecordTemplateRequest, DescribeLiveRecordTemplateResponse,
    DescribeLiveRecordTemplatesRequest, DescribeLiveRecordTemplatesResponse,
    ModifyLiveRecordTemplateRequest, ModifyLiveRecordTemplateResponse, RecordTemplateInfo,
    RuleInfo, TemplateFields, reply,
};
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

fn template_id(value: Option<i64>) -> Result<i64, Error> {
    value.ok_or_else(|| missing("TemplateId"))
}

/// Unix ms as Beijing time (RuleInfo times).
fn beijing(ms: i64) -> String {
    crate::clock::cst_string(ms).unwrap_or_default()
}

/// A default template body as `RecordTemplateInfo` shows it (tests).
#[cfg(test)]
pub(super) fn shown_default() -> TemplateBody {
    body::shown(&TemplateBody::default())
}

/// `RecordTemplateInfo`.
fn template_info(t: &Template) -> RecordTemplateInfo {
    RecordTemplateInfo {
        template_id: t.id,
        template_name: t.name.clone(),
        body: body::shown(&t.body),
    }
}

/// `RuleInfo`.
fn rule_info(r: &Rule) -> RuleInfo {
    RuleInfo {
        create_time: beijing(r.created_ms),
        update_time: beijing(r.updated_ms),
        template_id: r.template_id,
        domain_name: r.domain.clone(),
        app_name: r.app.clone(),
        stream_name: r.stream.clone(),
    }
}

/// CreateLiveRecordTemplate.
pub(super) async fn create_template(state: &AppState, call: &Call) -> ActionResult {
    let r = CreateLiveRecordTemplateRequest::from_params(&call.req.params)?;
    let name = body::template_name(
        &r.template_name
            .clone()
            .ok_or_else(|| missing("TemplateName"))?,
    )?;
    let mut b = TemplateBody::default();
    body::apply(&TemplateFields::from(r), &mut b, min_interval(state))?;
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
    reply(&CreateLiveRecordTemplateResponse { template_id: t.id })
}

/// ModifyLiveRecordTemplate: absent fields keep their values.
pub(super) async fn modify_template(state: &AppState, call: &Call) -> ActionResult {
    let r = ModifyLiveRecordTemplateRequest::from_params(&call.req.params)?;
    let id = template_id(r.template_id)?;
    let name = r
        .template_name
        .as_deref()
        .map(body::template_name)
        .transpose()?;
    let t = state
        .store
        .template(&call.account_id, id)
        .await?
        .ok_or(Error::TemplateNotFound(id))?;
    let mut b = t.body.clone();
    body::apply(&TemplateFields::from(r), &mut b, min_interval(state))?;
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
    reply(&ModifyLiveRecordTemplateResponse::default())
}

/// DeleteLiveRecordTemplate: refused while a rule uses the template.
pub(super) async fn delete_template(state: &AppState, call: &Call) -> ActionResult {
    let r = DeleteLiveRecordTemplateRequest::from_params(&call.req.params)?;
    let id = template_id(r.template_id)?;
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
    reply(&DeleteLiveRecordTemplateResponse::default())
}

/// DescribeLiveRecordTemplate.
pub(super) async fn describe_template(state: &AppState, call: &Call) -> ActionResult {
    let r = DescribeLiveRecordTemplateRequest::from_params(&call.req.params)?;
    let id = template_id(r.template_id)?;
    let t = state
        .store
        .template(&call.account_id, id)
        .await?
        .ok_or(Error::TemplateNotFound(id))?;
    reply(&DescribeLiveRecordTemplateResponse {
        template: template_info(&t),
    })
}

/// DescribeLiveRecordTemplates: IsDelayLive selects normal (0, the
/// documented default) or slow-live (1) templates.
pub(super) async fn describe_templates(state: &AppState, call: &Call) -> ActionResult {
    let r = DescribeLiveRecordTemplatesRequest::from_params(&call.req.params)?;
    let delay = i64::from(flag_value("IsDelayLive", r.is_delay_live)?.unwrap_or(false));
    let all = state.store.templates(&call.account_id).await?;
    let templates = all
        .iter()
        .filter(|t| t.body.is_delay_live == delay)
        .map(template_info)
        .collect();
    reply(&DescribeLiveRecordTemplatesResponse { templates })
}

/// DomainName of a rule: lower-case, without a port.
pub(super) fn rule_domain(value: Option<String>) -> Result<String, Error> {
    let raw = required("DomainName", value)?;
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
fn rule_target(app: Option<String>, stream: Option<String>) -> Result<(String, String), Error> {
    let app = app.map_or_else(|| "live".to_string(), |s| s.trim().to_string());
    check_name("AppName", &app)?;
    let stream = stream.unwrap_or_default().trim().to_string();
    check_name("StreamName", &stream)?;
    Ok((app, stream))
}

/// CreateLiveRecordRule.
pub(super) async fn create_rule(state: &AppState, call: &Call) -> ActionResult {
    let r = CreateLiveRecordRuleRequest::from_params(&call.req.params)?;
    let domain = rule_domain(r.domain_name)?;
    let id = template_id(r.template_id)?;
    let (app, stream) = rule_target(r.app_name, r.stream_name)?;
    // SPEC §2: a rule names only the caller's domains. A template that does
    // not exist is reported first, as before ownership was checked.
    if !owns(state, &call.account_id, &domain).await? {
        if state.store.template(&call.account_id, id).await?.is_none() {
            return Err(Error::TemplateConfNotFound(id));
        }
        tracing::info!(%domain, account = %call.account_id, "CreateLiveRecordRule refused: the domain belongs to another account");
        return Err(Error::DomainNotFound(domain));
    }
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
    reply(&CreateLiveRecordRuleResponse::default())
}

/// DeleteLiveRecordRule: DomainName + AppName + StreamName match exactly.
pub(super) async fn delete_rule(state: &AppState, call: &Call) -> ActionResult {
    let r = DeleteLiveRecordRuleRequest::from_params(&call.req.params)?;
    let domain = rule_domain(r.domain_name)?;
    let (app, stream) = rule_target(r.app_name, r.stream_name)?;
    let deleted = state
        .store
        .delete_rule(&call.account_id, &domain, &app, &stream)
        .await?;
    if !deleted {
        return Err(Error::RuleNotFound(format!("{domain}/{app}/{stream}")));
    }
    tracing::info!(%domain, %app, %stream, "recording rule deleted");
    state.scheduler.rules_changed().await;
    reply(&DeleteLiveRecordRuleResponse::default())
}

/// DescribeLiveRecordRules.
pub(super) async fn describe_rules(state: &AppState, call: &Call) -> ActionResult {
    DescribeLiveRecordRulesRequest::from_params(&call.req.params)?;
    let rules = state.store.rules(&call.account_id).await?;
    reply(&DescribeLiveRecordRulesResponse {
        rules: rules.iter().map(rule_info).collect(),
    })
}
