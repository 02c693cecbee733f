//! Callback templates and rules (reference §3.1):
//! Create/Modify/Delete/DescribeLiveCallbackTemplate(s) and
//! Create/Delete/DescribeLiveCallbackRules, scoped to the caller's account.
//! Fields are validated before any effect ([`fields`]). Rules apply at once:
//! the event sender asks [`crate::store::Store::callback_target`] for every
//! event, so nothing is cached here.
//!
//! Error codes follow the lists of these actions in Tencent's Go SDK
//! (`live/v20180801/client.go`, "可能返回的错误码"): a template that does
//! not exist is `FailedOperation.NotFound` for Describe/Modify/Delete (all
//! three lists have it; it is also what DescribeLiveRecordTemplate answers);
//! a rule naming one is `InvalidParameter.ConfNotFound` (the
//! CreateLiveCallbackRule list has it and `InternalError.ConfNotFound`; the
//! fault is the caller's parameter, and an `InternalError` code would read as
//! a server failure); a template a rule uses is `FailedOperation.ConfInUsed`
//! (in the Delete list: Tencent refuses); the 51st template is
//! `InternalError.ConfOutLimit` (Tencent: "数量上限：50"); a bad URL, key,
//! name or level is `InvalidParameterValue` naming the field; a second rule
//! for one (domain, app) is `FailedOperation.RuleAlreadyExist` (the record
//! rules' code: the SDK lists no duplicate code for callback rules); a rule
//! for a domain the caller does not own is `ResourceNotFound.DomainNotExist`,
//! as for recording rules; DeleteLiveCallbackRule without a match is
//! `FailedOperation.NotFound`. Another account's template or rule is
//! answered exactly as one that does not exist.
//!
//! AppName: absent means `live` (the documented default); "" binds the
//! template to every app of the domain, and a rule of the exact app wins
//! over it.

mod deliveries;
mod fields;

pub(super) use deliveries::describe_deliveries;

use super::AppState;
use super::domains::owns;
use super::endpoint::{ActionResult, Call};
use super::error::Error;
use super::params::{check_name, missing};
use super::templates::rule_domain;
use super::wire::{
    CallBackRuleInfo, CallBackTemplateInfo, CallbackTemplateFields, CreateLiveCallbackRuleRequest,
    CreateLiveCallbackRuleResponse, CreateLiveCallbackTemplateRequest,
    CreateLiveCallbackTemplateResponse, DeleteLiveCallbackRuleRequest,
    DeleteLiveCallbackRuleResponse, DeleteLiveCallbackTemplateRequest,
    DeleteLiveCallbackTemplateResponse, DescribeLiveCallbackRulesRequest,
    DescribeLiveCallbackRulesResponse, DescribeLiveCallbackTemplateRequest,
    DescribeLiveCallbackTemplateResponse, DescribeLiveCallbackTemplatesRequest,
    DescribeLiveCallbackTemplatesResponse, ModifyLiveCallbackTemplateRequest,
    ModifyLiveCallbackTemplateResponse, reply,
};
use crate::store::{CallbackFields, CallbackRule, CallbackTemplate, NewCallbackRule, Refused};

/// Callback templates per account (Tencent: "数量上限：50").
const MAX_TEMPLATES: i64 = 50;
/// Callback rules per account. Tencent documents no limit; liverec bounds
/// it like the recording rules.
const MAX_RULES: i64 = 1000;

fn template_id(value: Option<i64>) -> Result<i64, Error> {
    value.ok_or_else(|| missing("TemplateId"))
}

/// `CallBackTemplateInfo`.
fn template_info(t: &CallbackTemplate) -> CallBackTemplateInfo {
    let f = &t.fields;
    CallBackTemplateInfo {
        template_id: t.id,
        template_name: t.name.clone(),
        description: f.description.clone(),
        stream_begin_notify_url: f.stream_begin_url.clone(),
        stream_mix_notify_url: f.stream_mix_url.clone(),
        stream_end_notify_url: f.stream_end_url.clone(),
        record_notify_url: f.record_url.clone(),
        snapshot_notify_url: f.snapshot_url.clone(),
        porn_censorship_notify_url: f.porn_censorship_url.clone(),
        callback_key: f.callback_key.clone(),
        push_exception_notify_url: f.push_exception_url.clone(),
        audio_audit_notify_url: f.audio_audit_url.clone(),
        record_exception_notify_url: f.record_exception_url.clone(),
        record_exception_levels: f.record_exception_levels.clone(),
        record_status_notify_url: f.record_status_url.clone(),
    }
}

/// `CallBackRuleInfo` (times in Beijing time).
fn rule_info(r: &CallbackRule) -> CallBackRuleInfo {
    CallBackRuleInfo {
        create_time: crate::clock::cst_string(r.created_ms).unwrap_or_default(),
        update_time: crate::clock::cst_string(r.updated_ms).unwrap_or_default(),
        template_id: r.template_id,
        domain_name: r.domain.clone(),
        app_name: r.app.clone(),
    }
}

/// A store refusal that the action cannot produce.
fn unexpected(what: &str, r: Refused) -> Error {
    Error::internal(format!("{what} refused: {r:?}"))
}

/// CreateLiveCallbackTemplate.
pub(super) async fn create_template(state: &AppState, call: &Call) -> ActionResult {
    let r = CreateLiveCallbackTemplateRequest::from_params(&call.req.params)?;
    let name = fields::template_name(r.template_name.as_deref().unwrap_or_default())?;
    let mut f = CallbackFields::default();
    let allow_private = state.settings.callbacks.allow_private;
    fields::apply(CallbackTemplateFields::from(r), &mut f, allow_private)?;
    let now = state.clock.now_ms();
    let t = state
        .store
        .create_callback_template(&call.account_id, &name, &f, MAX_TEMPLATES, now)
        .await?
        .map_err(|r| match r {
            Refused::TooMany => Error::TooManyCallbackTemplates(MAX_TEMPLATES),
            Refused::TemplateNotFound | Refused::TemplateInUse | Refused::RuleExists => {
                unexpected("create_callback_template", r)
            }
        })?;
    tracing::info!(template_id = t.id, "callback template created");
    reply(&CreateLiveCallbackTemplateResponse { template_id: t.id })
}

/// ModifyLiveCallbackTemplate: absent fields keep their values; "" clears
/// a URL, but at least one must remain.
pub(super) async fn modify_template(state: &AppState, call: &Call) -> ActionResult {
    let r = ModifyLiveCallbackTemplateRequest::from_params(&call.req.params)?;
    let id = template_id(r.template_id)?;
    let name = r
        .template_name
        .as_deref()
        .map(fields::template_name)
        .transpose()?;
    let t = state
        .store
        .callback_template(&call.account_id, id)
        .await?
        .ok_or(Error::CallbackTemplateNotFound(id))?;
    let mut f = t.fields.clone();
    let allow_private = state.settings.callbacks.allow_private;
    fields::apply(CallbackTemplateFields::from(r), &mut f, allow_private)?;
    let name = name.unwrap_or(t.name);
    state
        .store
        .update_callback_template(&call.account_id, id, &name, &f, state.clock.now_ms())
        .await?
        .map_err(|r| match r {
            // Deleted between the read and the update.
            Refused::TemplateNotFound => Error::CallbackTemplateNotFound(id),
            Refused::TooMany | Refused::TemplateInUse | Refused::RuleExists => {
                unexpected("update_callback_template", r)
            }
        })?;
    tracing::info!(template_id = id, "callback template modified");
    reply(&ModifyLiveCallbackTemplateResponse::default())
}

/// DeleteLiveCallbackTemplate: refused while a rule uses the template.
pub(super) async fn delete_template(state: &AppState, call: &Call) -> ActionResult {
    let r = DeleteLiveCallbackTemplateRequest::from_params(&call.req.params)?;
    let id = template_id(r.template_id)?;
    state
        .store
        .delete_callback_template(&call.account_id, id)
        .await?
        .map_err(|r| match r {
            Refused::TemplateInUse => Error::CallbackTemplateInUse(id),
            Refused::TemplateNotFound => Error::CallbackTemplateNotFound(id),
            Refused::TooMany | Refused::RuleExists => unexpected("delete_callback_template", r),
        })?;
    tracing::info!(template_id = id, "callback template deleted");
    reply(&DeleteLiveCallbackTemplateResponse::default())
}

/// DescribeLiveCallbackTemplate.
pub(super) async fn describe_template(state: &AppState, call: &Call) -> ActionResult {
    let r = DescribeLiveCallbackTemplateRequest::from_params(&call.req.params)?;
    let id = template_id(r.template_id)?;
    let t = state
        .store
        .callback_template(&call.account_id, id)
        .await?
        .ok_or(Error::CallbackTemplateNotFound(id))?;
    reply(&DescribeLiveCallbackTemplateResponse {
        template: template_info(&t),
    })
}

/// DescribeLiveCallbackTemplates.
pub(super) async fn describe_templates(state: &AppState, call: &Call) -> ActionResult {
    DescribeLiveCallbackTemplatesRequest::from_params(&call.req.params)?;
    let all = state.store.callback_templates(&call.account_id).await?;
    reply(&DescribeLiveCallbackTemplatesResponse {
        templates: all.iter().map(template_info).collect(),
    })
}

/// AppName of a callback rule: absent = `live`; "" = every app.
fn rule_app(value: Option<String>) -> Result<String, Error> {
    let app = value.map_or_else(|| "live".to_string(), |s| s.trim().to_string());
    check_name("AppName", &app)?;
    Ok(app)
}

/// CreateLiveCallbackRule.
pub(super) async fn create_rule(state: &AppState, call: &Call) -> ActionResult {
    let r = CreateLiveCallbackRuleRequest::from_params(&call.req.params)?;
    let domain = rule_domain(r.domain_name)?;
    let app = rule_app(r.app_name)?;
    let id = template_id(r.template_id)?;
    // SPEC §2: a rule names only the caller's domains. A template that does
    // not exist is reported first, as for recording rules.
    if !owns(state, &call.account_id, &domain).await? {
        if state
            .store
            .callback_template(&call.account_id, id)
            .await?
            .is_none()
        {
            return Err(Error::CallbackConfNotFound(id));
        }
        tracing::info!(%domain, account = %call.account_id, "CreateLiveCallbackRule refused: the domain belongs to another account");
        return Err(Error::DomainNotFound(domain));
    }
    let new = NewCallbackRule {
        account_id: &call.account_id,
        domain: &domain,
        app: &app,
        template_id: id,
    };
    let rule = state
        .store
        .create_callback_rule(&new, MAX_RULES, state.clock.now_ms())
        .await?
        .map_err(|r| match r {
            Refused::RuleExists => Error::CallbackRuleExists(format!("{domain}/{app}")),
            Refused::TooMany => Error::TooManyCallbackRules(MAX_RULES),
            Refused::TemplateNotFound => Error::CallbackConfNotFound(id),
            Refused::TemplateInUse => unexpected("create_callback_rule", r),
        })?;
    tracing::info!(rule_id = rule.id, template_id = id, %domain, %app, "callback rule created");
    reply(&CreateLiveCallbackRuleResponse::default())
}

/// DeleteLiveCallbackRule: DomainName + AppName match exactly.
pub(super) async fn delete_rule(state: &AppState, call: &Call) -> ActionResult {
    let r = DeleteLiveCallbackRuleRequest::from_params(&call.req.params)?;
    let domain = rule_domain(r.domain_name)?;
    let app = rule_app(r.app_name)?;
    let deleted = state
        .store
        .delete_callback_rule(&call.account_id, &domain, &app)
        .await?;
    if !deleted {
        return Err(Error::CallbackRuleNotFound(format!("{domain}/{app}")));
    }
    tracing::info!(%domain, %app, "callback rule deleted");
    reply(&DeleteLiveCallbackRuleResponse::default())
}

/// DescribeLiveCallbackRules.
pub(super) async fn describe_rules(state: &AppState, call: &Call) -> ActionResult {
    DescribeLiveCallbackRulesRequest::from_params(&call.req.params)?;
    let rules = state.store.callback_rules(&call.account_id).await?;
    reply(&DescribeLiveCallbackRulesResponse {
        rules: rules.iter().map(rule_info).collect(),
    })
}
