//! The armed plans, indexed twice: by key, and by the times at which the
//! scheduler must wake for them (StartTime and EndTime), so that arming a
//! plan and finding the next wake-up do not grow with the number of armed
//! plans.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::plan::{Plan, PlanKey};

/// See the module doc.
#[derive(Debug, Default)]
pub(super) struct Armed {
    plans: HashMap<PlanKey, Arc<Plan>>,
    /// (time, plan) for each plan's start and end.
    times: BTreeSet<(i64, PlanKey)>,
}

/// The smallest key, to start a range of `times` at a given time.
const FIRST_KEY: PlanKey = PlanKey::Task(i64::MIN);

impl Armed {
    pub(super) fn new(plans: impl IntoIterator<Item = Plan>) -> Armed {
        let mut a = Armed::default();
        for p in plans {
            a.insert(Arc::new(p));
        }
        a
    }

    /// Arms `plan`, replacing an armed plan with the same key.
    pub(super) fn insert(&mut self, plan: Arc<Plan>) {
        self.times.insert((plan.start_ms, plan.key));
        self.times.insert((plan.end_ms, plan.key));
        if let Some(old) = self.plans.insert(plan.key, plan) {
            self.forget_times(&old);
        }
    }

    /// Disarms `key`.
    pub(super) fn remove(&mut self, key: &PlanKey) -> Option<Arc<Plan>> {
        let old = self.plans.remove(key)?;
        self.forget_times(&old);
        Some(old)
    }

    fn forget_times(&mut self, old: &Plan) {
        // A replacement with the same times keeps its entries.
        let current = self.plans.get(&old.key);
        for t in [old.start_ms, old.end_ms] {
            if current.is_none_or(|c| c.start_ms != t && c.end_ms != t) {
                self.times.remove(&(t, old.key));
            }
        }
    }

    /// Keeps the plans for which `keep` is true.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&Plan) -> bool) {
        let gone: Vec<PlanKey> = self
            .plans
            .values()
            .filter(|p| !keep(p))
            .map(|p| p.key)
            .collect();
        for k in gone {
            self.remove(&k);
        }
    }

    pub(super) fn clear(&mut self) {
        self.plans.clear();
        self.times.clear();
    }

    pub(super) fn contains_key(&self, key: &PlanKey) -> bool {
        self.plans.contains_key(key)
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &PlanKey> {
        self.plans.keys()
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &Arc<Plan>> {
        self.plans.values()
    }

    /// The first StartTime or EndTime of an armed plan after `now`.
    pub(super) fn next_time_after(&self, now: i64) -> Option<i64> {
        let from = now.checked_add(1)?;
        self.times
            .range((from, FIRST_KEY)..)
            .next()
            .map(|(t, _)| *t)
    }

    #[cfg(test)]
    pub(super) fn time_entries(&self) -> usize {
        self.times.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Family, default_outputs};
    use crate::task::RecordType;

    fn plan(id: i64, start_ms: i64, end_ms: i64) -> Plan {
        Plan {
            key: PlanKey::Task(id),
            family: Family::Task,
            account_id: "a".into(),
            task_id: id.to_string(),
            domain: String::new(),
            app: "live".into(),
            stream: "s".into(),
            start_ms,
            end_ms,
            record_type: RecordType::Video,
            outputs: default_outputs(),
            hls_continue_ms: 0,
            created_ms: 0,
        }
    }

    #[test]
    fn next_time_follows_inserts_removals_and_replacements() {
        let mut a = Armed::new([plan(1, 100, 200), plan(2, 150, 300)]);
        assert_eq!(a.next_time_after(0), Some(100));
        assert_eq!(a.next_time_after(100), Some(150));
        assert_eq!(a.next_time_after(250), Some(300));
        assert_eq!(a.next_time_after(300), None);
        // Replacing plan 1 moves its times.
        a.insert(Arc::new(plan(1, 120, 150)));
        assert_eq!(a.next_time_after(0), Some(120));
        assert_eq!(a.time_entries(), 4, "old times of plan 1 are gone");
        a.remove(&PlanKey::Task(1));
        assert_eq!(a.next_time_after(0), Some(150));
        assert_eq!(a.time_entries(), 2);
        a.retain(|p| p.end_ms > 300);
        assert_eq!((a.next_time_after(0), a.time_entries()), (None, 0));
        assert!(a.remove(&PlanKey::Task(2)).is_none());
    }

    #[test]
    fn a_zero_length_plan_and_extreme_times() {
        let mut a = Armed::new([plan(1, 5, 5)]);
        assert_eq!(a.time_entries(), 1);
        assert_eq!(a.next_time_after(i64::MAX), None);
        a.insert(Arc::new(plan(2, i64::MIN, i64::MAX)));
        assert_eq!(a.next_time_after(0), Some(5));
        a.clear();
        assert_eq!(a.next_time_after(i64::MIN), None);
    }
}
