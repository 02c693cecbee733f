//! Builds the scheduler's plans from the store: tasks (a new-API task takes
//! its formats from its template, or records HLS when it has none) and
//! rules (formats from their template).

use crate::plan::{Family, Plan, PlanKey, default_outputs};
use crate::store::{Rule, Store, StoreError, Task};
use crate::task::RecordType;

/// The plan of a task of either family.
pub async fn task_plan(store: &Store, t: &Task) -> Result<Plan, StoreError> {
    if t.family == Family::Legacy {
        return Ok(Plan::legacy(t));
    }
    let template = if t.template_id > 0 {
        store.template(&t.account_id, t.template_id).await?
    } else {
        None
    };
    let outputs = template
        .as_ref()
        .map(|t| t.outputs())
        .filter(|o| !o.is_empty());
    Ok(Plan {
        key: PlanKey::Task(t.id),
        family: Family::Task,
        account_id: t.account_id.clone(),
        task_id: t.public_id.clone().unwrap_or_default(),
        domain: t.domain.clone(),
        app: t.app.clone(),
        stream: t.stream.clone(),
        start_ms: t.start_ms,
        end_ms: t.end_ms,
        record_type: RecordType::Video,
        outputs: outputs.unwrap_or_else(default_outputs),
        hls_continue_ms: template.as_ref().map_or(0, |t| t.hls_continue_ms()),
        created_ms: t.created_ms,
    })
}

async fn rule_plan(store: &Store, r: &Rule) -> Result<Plan, StoreError> {
    let template = store.template(&r.account_id, r.template_id).await?;
    let outputs = template
        .as_ref()
        .map(|t| t.outputs())
        .filter(|o| !o.is_empty());
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
        outputs: outputs.unwrap_or_else(default_outputs),
        hls_continue_ms: template.as_ref().map_or(0, |t| t.hls_continue_ms()),
        created_ms: r.created_ms,
    })
}

/// Every rule as a plan.
pub(super) async fn rule_plans(store: &Store) -> Result<Vec<Plan>, StoreError> {
    let mut plans = Vec::new();
    for r in store.all_rules().await? {
        plans.push(rule_plan(store, &r).await?);
    }
    Ok(plans)
}

/// Everything armed at `now_ms`: tasks that may still record, and rules.
pub async fn armed_plans(store: &Store, now_ms: i64) -> Result<Vec<Plan>, StoreError> {
    let mut plans = Vec::new();
    for t in store.armed_tasks(now_ms).await? {
        plans.push(task_plan(store, &t).await?);
    }
    plans.extend(rule_plans(store).await?);
    Ok(plans)
}
