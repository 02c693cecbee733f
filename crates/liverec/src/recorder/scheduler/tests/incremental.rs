//! The incremental paths ([`State::tick`] on the timer, [`State::published`]
//! on a publish) decide exactly what a full reconciliation of every armed
//! plan decides, on random sequences of creates, stops, publishes, unpublishes
//! and the passing of time.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

#[derive(Clone, Debug)]
enum Op {
    /// Arm a task (or, with `wild`, a rule covering every stream) on stream
    /// `stream`, opening `start` seconds from now for `len` seconds.
    Arm {
        stream: usize,
        start: i64,
        len: i64,
        wild: bool,
    },
    Stop(usize),
    Publish(usize),
    Unpublish(usize),
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize, 0..20i64, 1..20i64, prop::bool::weighted(0.15))
            .prop_map(|(stream, start, len, wild)| Op::Arm { stream, start, len, wild }),
        1 => (0..40usize).prop_map(Op::Stop),
        2 => (0..3usize).prop_map(Op::Publish),
        1 => (0..3usize).prop_map(Op::Unpublish),
        3 => (0..6i64).prop_map(Op::Advance),
    ]
}

/// What an action list started and stopped, comparable across the two.
#[derive(Debug, Default, PartialEq)]
struct Effect {
    started: Vec<(PlanKey, String, i64)>,
    stopped: Vec<(PlanKey, String)>,
}

fn effect(actions: Vec<Act>) -> Effect {
    let mut e = Effect::default();
    for a in actions {
        match a {
            Action::Start(s) => e.started.push((s.plan.key, s.key.1, s.from_ms)),
            Action::Stop(keys) => e.stopped.extend(keys),
            Action::Close(_) => {}
        }
    }
    e.started.sort();
    e.stopped.sort();
    e
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn incremental_decisions_equal_full_reconciliation(ops in prop::collection::vec(op(), 1..60)) {
        let mut fast = St::new(Vec::new());
        let mut full = St::new(Vec::new());
        let mut now = T0;
        prop_assert_eq!(effect(fast.reconcile(now, &[])), effect(full.reconcile(now, &[])));
        let mut online: BTreeMap<usize, Fake> = BTreeMap::new();
        let mut next_id = 0i64;
        let mut sessions = 0;
        for op in ops {
            let streams: Vec<Fake> = online.values().cloned().collect();
            let (a, b) = match op {
                Op::Arm { stream, start, len, wild } => {
                    next_id += 1;
                    let name = format!("s{stream}");
                    let mut p = task(next_id, &name, now + start * S, now + (start + len) * S);
                    if wild {
                        p.key = PlanKey::Rule(next_id);
                        p.family = Family::Rule;
                        p.stream = String::new();
                    }
                    p.created_ms = now;
                    (fast.arm(p.clone(), now, &streams), full.arm(p, now, &streams))
                }
                Op::Stop(i) => {
                    let key = PlanKey::Task(i as i64);
                    (fast.stop(key), full.stop(key))
                }
                Op::Publish(i) => {
                    if online.contains_key(&i) {
                        continue;
                    }
                    sessions += 1;
                    let s = live(&format!("s{i}"), &format!("p{sessions}"), now);
                    online.insert(i, s.clone());
                    (fast.published(now, &s), full.reconcile(now, std::slice::from_ref(&s)))
                }
                Op::Unpublish(i) => {
                    let Some(s) = online.remove(&i) else { continue };
                    fast.session_ended(&s.session);
                    full.session_ended(&s.session);
                    continue;
                }
                Op::Advance(secs) => {
                    now += secs * S;
                    (fast.tick(now, &streams), full.reconcile(now, &streams))
                }
            };
            prop_assert_eq!(effect(a), effect(b));
            prop_assert_eq!(fast.next_wakeup(now), full.next_wakeup(now));
        }
        for id in 0..=next_id {
            for key in [PlanKey::Task(id), PlanKey::Rule(id)] {
                prop_assert_eq!(fast.is_recording(key), full.is_recording(key));
            }
        }
    }
}
