//! Builds the scheduler's plans from the store: tasks (a new-API task takes
//! its formats from its template, or records HLS when it has none) and
//! rules (formats from their template).

use std::collections::HashMap;

use crate::plan::{Family, OutputPlan, Plan, PlanKey, default_outputs};
use crate::store::{Rule, Store, StoreError, Task, Template};
use crate::task::RecordType;

/// Templates read once per (account, TemplateId) while plans are built.
#[derive(Default)]
struct Templates(HashMap<(String, i64), Option<Template>>);

impl Templates {
    async fn get(
        &mut self,
        store: &Store,
        account_id: &str,
        id: i64,
    ) -> Result<Option<&Template>, StoreError> {
        if id <= 0 {
            return Ok(None);
        }
        let key = (account_id.to_string(), id);
        if !self.0.contains_key(&key) {
            let t = store.template(account_id, id).await?;
            self.0.insert(key.clone(), t);
        }
        Ok(self.0.get(&key).and_then(Option::as_ref))
    }
}

/// A template's enabled outputs (HLS when it has none, or there is no
/// template), each with its reconnect window.
fn outputs_of(template: Option<&Template>) -> Vec<OutputPlan> {
    template
        .map(Template::outputs)
        .filter(|o| !o.is_empty())
        .unwrap_or_else(default_outputs)
}

/// The plan of a task of either family.
pub async fn task_plan(store: &Store, t: &Task) -> Result<Plan, StoreError> {
    task_plan_with(store, t, &mut Templates::default()).await
}

async fn task_plan_with(
    store: &Store,
    t: &Task,
    templates: &mut Templates,
) -> Result<Plan, StoreError> {
    let s = &t.spec;
    if s.family == Family::Legacy {
        return Ok(Plan::legacy(t));
    }
    let outputs = outputs_of(templates.get(store, &s.account_id, s.template_id).await?);
    // Stream, window and creation as for a legacy task; the string TaskId,
    // and the outputs of the template.
    Ok(Plan {
        family: Family::Task,
        task_id: s.public_id.clone().unwrap_or_default(),
        record_type: RecordType::Video,
        outputs,
        ..Plan::legacy(t)
    })
}

async fn rule_plan(store: &Store, r: &Rule, templates: &mut Templates) -> Result<Plan, StoreError> {
    let outputs = outputs_of(templates.get(store, &r.account_id, r.template_id).await?);
    Ok(Plan {
        key: PlanKey::Rule(r.id),
        family: Family::Rule,
        account_id: r.account_id.clone(),
        task_id: String::new(),
        domain: r.domain.clone(),
        app: r.app.clone(),
        stream: r.stream.clone(),
        start_ms: 0,
        end_ms: i64::MAX,
        record_type: RecordType::Video,
        outputs,
        created_ms: r.created_ms,
    })
}

/// Every rule as a plan.
pub(super) async fn rule_plans(store: &Store) -> Result<Vec<Plan>, StoreError> {
    rule_plans_with(store, &mut Templates::default()).await
}

async fn rule_plans_with(
    store: &Store,
    templates: &mut Templates,
) -> Result<Vec<Plan>, StoreError> {
    let mut plans = Vec::new();
    for r in store.all_rules().await? {
        plans.push(rule_plan(store, &r, templates).await?);
    }
    Ok(plans)
}

/// Everything armed at `now_ms`: tasks that may still record, and rules.
pub async fn armed_plans(store: &Store, now_ms: i64) -> Result<Vec<Plan>, StoreError> {
    let mut templates = Templates::default();
    let mut plans = Vec::new();
    for t in store.armed_tasks(now_ms).await? {
        plans.push(task_plan_with(store, &t, &mut templates).await?);
    }
    plans.extend(rule_plans_with(store, &mut templates).await?);
    Ok(plans)
}
