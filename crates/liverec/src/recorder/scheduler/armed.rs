//! The armed plans, indexed three times: by key, by the times at which the
//! scheduler must wake for them (StartTime and EndTime), and by the stream
//! name they record (empty for rules that cover every stream of an app), so
//! that arming a plan, finding the next wake-up, handling a clock tick and
//! handling a publish do not grow with the number of armed plans.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::plan::{Plan, PlanKey};

/// See the module doc.
#[derive(Debug, Default)]
pub(super) struct Armed {
    plans: HashMap<PlanKey, Arc<Plan>>,
    /// (time, plan) for each plan's start and end.
    times: BTreeSet<(i64, PlanKey)>,
    /// Plans by StreamName ("" = every stream of the domain and app).
    by_stream: HashMap<String, HashSet<PlanKey>>,
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
        self.by_stream
            .entry(plan.stream.clone())
            .or_default()
            .insert(plan.key);
        if let Some(old) = self.plans.insert(plan.key, plan) {
            self.forget_times(&old);
            self.forget_stream(&old);
        }
    }

    /// Disarms `key`.
    pub(super) fn remove(&mut self, key: &PlanKey) -> Option<Arc<Plan>> {
        let old = self.plans.remove(key)?;
        self.forget_times(&old);
        self.forget_stream(&old);
        Some(old)
    }

    fn forget_stream(&mut self, old: &Plan) {
        if self
            .plans
            .get(&old.key)
            .is_some_and(|c| c.stream == old.stream)
        {
            return;
        }
        if let Some(keys) = self.by_stream.get_mut(&old.stream) {
            keys.remove(&old.key);
            if keys.is_empty() {
                self.by_stream.remove(&old.stream);
            }
        }
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

    pub(super) fn clear(&mut self) {
        self.plans.clear();
        self.times.clear();
        self.by_stream.clear();
    }

    #[cfg(test)]
    pub(super) fn contains_key(&self, key: &PlanKey) -> bool {
        self.plans.contains_key(key)
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &PlanKey> {
        self.plans.keys()
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &Arc<Plan>> {
        self.plans.values()
    }

    /// The armed plans that may record a stream named `stream`: those naming
    /// it and those naming no stream.
    pub(super) fn for_stream(&self, stream: &str) -> impl Iterator<Item = &Arc<Plan>> {
        let named = self.by_stream.get(stream).into_iter().flatten();
        let any = (!stream.is_empty())
            .then(|| self.by_stream.get(""))
            .flatten()
            .into_iter()
            .flatten();
        named.chain(any).filter_map(|k| self.plans.get(k))
    }

    /// The (time, plan) entries with `after < time <= upto`, in time order.
    pub(super) fn times_between(&self, after: i64, upto: i64) -> Vec<(i64, PlanKey)> {
        let Some(from) = after.checked_add(1) else {
            return Vec::new();
        };
        if from > upto {
            return Vec::new();
        }
        self.times
            .range((from, FIRST_KEY)..)
            .take_while(|(t, _)| *t <= upto)
            .copied()
            .collect()
    }

    pub(super) fn get(&self, key: &PlanKey) -> Option<&Arc<Plan>> {
        self.plans.get(key)
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

    #[cfg(test)]
    pub(super) fn stream_entries(&self) -> usize {
        self.by_stream.values().map(HashSet::len).sum()
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
        assert_eq!(
            a.times_between(0, 300),
            vec![(150, PlanKey::Task(2)), (300, PlanKey::Task(2))]
        );
        assert_eq!(a.times_between(150, 299), vec![]);
        assert_eq!(
            a.times_between(300, 100),
            vec![],
            "an empty or backward range"
        );
        assert_eq!(a.times_between(i64::MAX, i64::MAX), vec![]);
        assert!(a.remove(&PlanKey::Task(2)).is_some());
        assert_eq!((a.next_time_after(0), a.time_entries()), (None, 0));
        assert_eq!(a.stream_entries(), 0);
        assert!(a.remove(&PlanKey::Task(2)).is_none());
    }

    #[test]
    fn the_stream_index_follows_inserts_replacements_and_removals() {
        let mut wildcard = plan(3, 0, 10);
        wildcard.stream = String::new();
        let mut a = Armed::new([plan(1, 0, 10), plan(2, 0, 10), wildcard]);
        let keys = |a: &Armed, s: &str| {
            let mut k: Vec<PlanKey> = a.for_stream(s).map(|p| p.key).collect();
            k.sort();
            k
        };
        use PlanKey::Task;
        assert_eq!(keys(&a, "s"), vec![Task(1), Task(2), Task(3)]);
        assert_eq!(
            keys(&a, "other"),
            vec![Task(3)],
            "a plan naming no stream covers any"
        );
        assert_eq!(keys(&a, ""), vec![Task(3)]);
        let mut moved = plan(1, 0, 10);
        moved.stream = "t".into();
        a.insert(Arc::new(moved));
        assert_eq!(keys(&a, "s"), vec![Task(2), Task(3)]);
        assert_eq!(keys(&a, "t"), vec![Task(1), Task(3)]);
        a.insert(Arc::new(plan(2, 5, 20)));
        assert_eq!(
            keys(&a, "s"),
            vec![Task(2), Task(3)],
            "same stream, new times"
        );
        a.remove(&Task(2));
        a.remove(&Task(3));
        assert_eq!(keys(&a, "s"), vec![]);
        assert_eq!(a.stream_entries(), 1);
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
