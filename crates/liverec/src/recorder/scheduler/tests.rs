//! Unit tests of the scheduler's decisions: plain `now` values, fake live
//! streams, parked outputs as labels.

use std::slice::from_ref;
use std::time::Duration;

use super::state::{Action, Live, MAX_OVERLAPPING_TASKS, MAX_SLEEP, State};
use crate::plan::{Family, Plan, PlanKey, default_outputs};
use crate::task::{RecordType, StreamKey};

const S: i64 = 1_000;
const MIN: i64 = 60 * S;
const DAY: i64 = 86_400 * S;
/// 2026-12-07 12:00:00 CST.
const T0: i64 = 1_796_616_000_000;

#[derive(Clone, Debug, PartialEq)]
struct Fake {
    key: StreamKey,
    session: String,
    started_ms: i64,
    kicked: bool,
    owner: String,
}

impl Live for Fake {
    fn key(&self) -> &StreamKey {
        &self.key
    }
    fn session_id(&self) -> &str {
        &self.session
    }
    fn started_ms(&self) -> i64 {
        self.started_ms
    }
    fn is_kicked(&self) -> bool {
        self.kicked
    }
    fn owner(&self) -> &str {
        &self.owner
    }
}

fn live(stream: &str, session: &str, started_ms: i64) -> Fake {
    Fake {
        key: StreamKey::new("push.example.com", "live", stream),
        session: session.into(),
        started_ms,
        kicked: false,
        owner: "a".into(),
    }
}

fn plan(key: PlanKey, family: Family, stream: &str, start_ms: i64, end_ms: i64) -> Plan {
    Plan {
        key,
        family,
        account_id: "a".into(),
        task_id: format!("{key:?}"),
        domain: "push.example.com".into(),
        app: "live".into(),
        stream: stream.into(),
        start_ms,
        end_ms,
        record_type: RecordType::Video,
        outputs: default_outputs(),
        created_ms: start_ms,
    }
}

/// A new-API task.
fn task(id: i64, stream: &str, start_ms: i64, end_ms: i64) -> Plan {
    plan(PlanKey::Task(id), Family::Task, stream, start_ms, end_ms)
}

/// A recording rule for one stream.
fn rule(id: i64, stream: &str) -> Plan {
    let mut p = plan(PlanKey::Rule(id), Family::Rule, stream, 0, i64::MAX);
    p.created_ms = T0 - DAY;
    p
}

type St = State<&'static str>;
type Act = Action<Fake, &'static str>;

/// The plans started, sorted.
fn started_keys(actions: &[Act]) -> Vec<PlanKey> {
    let mut keys: Vec<PlanKey> = starts(actions).into_iter().map(|s| s.0).collect();
    keys.sort();
    keys
}

/// The (plan, session, from_ms, resumed outputs) of each Start.
fn starts(actions: &[Act]) -> Vec<(PlanKey, String, i64, Option<&'static str>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Start(s) => {
                assert_eq!(s.key.0, s.plan.key);
                assert_eq!(s.key.1, s.stream.session);
                Some((s.plan.key, s.stream.session.clone(), s.from_ms, s.resume))
            }
            _ => None,
        })
        .collect()
}

/// The parked outputs closed.
fn closed(actions: &[Act]) -> Vec<&'static str> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Close(p) => Some(*p),
            _ => None,
        })
        .collect()
}

/// The sessions stopped.
fn stopped(actions: &[Act]) -> Vec<(PlanKey, String)> {
    let mut v: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Stop(keys) => Some(keys.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    v.sort();
    v
}

fn key_of(s: &Fake) -> StreamKey {
    s.key.clone()
}

#[test]
fn a_start_time_in_the_past_records_at_once_from_the_later_of_start_and_publish() {
    let mut st = St::new(vec![]);
    let early = live("s", "p1", T0 - 10 * MIN);
    let a = st.arm(
        task(1, "s", T0 - 5 * MIN, T0 + 10 * MIN),
        T0,
        from_ref(&early),
    );
    assert_eq!(
        starts(&a),
        vec![(PlanKey::Task(1), "p1".into(), T0 - 5 * MIN, None)],
        "pre-roll reaches back to StartTime, not to the publish"
    );
    let late = live("t", "p2", T0 - MIN);
    let a = st.arm(
        task(2, "t", T0 - 5 * MIN, T0 + 10 * MIN),
        T0,
        &[early, late],
    );
    assert_eq!(
        starts(&a),
        vec![(PlanKey::Task(2), "p2".into(), T0 - MIN, None)],
        "a stream published after StartTime records from its publish; task 1 is not started twice"
    );
    assert!(st.is_recording(PlanKey::Task(1)) && st.is_recording(PlanKey::Task(2)));
}

#[test]
fn a_future_start_time_waits_for_its_deadline() {
    let mut st = St::new(vec![task(1, "s", T0 + 10 * S, T0 + MIN)]);
    let s = [live("s", "p1", T0 - MIN)];
    assert!(st.reconcile(T0, &s).is_empty());
    assert_eq!(st.next_wakeup(T0), Duration::from_secs(10));
    assert!(st.reconcile(T0 + 10 * S - 1, &s).is_empty());
    assert_eq!(st.next_wakeup(T0 + 10 * S - 1), Duration::from_millis(1));
    let a = st.reconcile(T0 + 10 * S, &s);
    assert_eq!(
        starts(&a),
        vec![(PlanKey::Task(1), "p1".into(), T0 + 10 * S, None)]
    );
    // Next: EndTime, in sleeps of at most MAX_SLEEP.
    assert_eq!(st.next_wakeup(T0 + 10 * S), MAX_SLEEP);
    assert_eq!(st.next_wakeup(T0 + 50 * S), Duration::from_secs(10));
}

#[test]
fn an_end_time_passing_while_offline_disarms_the_task() {
    let mut st = St::new(vec![task(1, "s", T0, T0 + MIN)]);
    let none: [Fake; 0] = [];
    assert!(st.reconcile(T0, &none).is_empty());
    assert_eq!(
        st.next_wakeup(T0),
        Duration::from_secs(30),
        "at most MAX_SLEEP"
    );
    assert_eq!(st.next_wakeup(T0 + 50 * S), Duration::from_secs(10));
    assert!(st.reconcile(T0 + MIN, &none).is_empty());
    assert!(!st.is_armed(PlanKey::Task(1)), "the window is over");
    assert_eq!(st.next_wakeup(T0 + MIN), MAX_SLEEP);
    // The publisher arriving after EndTime records nothing.
    assert!(
        st.reconcile(T0 + MIN + 1, &[live("s", "p1", T0 + MIN)])
            .is_empty()
    );
}

#[test]
fn an_end_time_one_ms_later_still_records() {
    let mut st = St::new(vec![task(1, "s", T0, T0 + MIN)]);
    let a = st.reconcile(T0 + MIN - 1, &[live("s", "p1", T0)]);
    assert_eq!(starts(&a).len(), 1);
}

#[test]
fn two_publishes_in_one_window_record_twice_and_each_session_once() {
    let mut st = St::new(vec![task(1, "s", T0, T0 + 10 * MIN)]);
    let p1 = live("s", "p1", T0 + S);
    assert_eq!(starts(&st.reconcile(T0 + S, from_ref(&p1))).len(), 1);
    // Reconciling again while it runs starts nothing.
    assert!(st.reconcile(T0 + 2 * S, from_ref(&p1)).is_empty());
    // The recording ends (the publisher left) before the hub says so: the
    // same session is not recorded again.
    assert!(
        st.finished::<Fake>((PlanKey::Task(1), "p1".into()), key_of(&p1), None)
            .is_empty()
    );
    assert!(!st.is_recording(PlanKey::Task(1)));
    assert!(st.reconcile(T0 + 3 * S, from_ref(&p1)).is_empty());
    st.session_ended("p1");
    let p2 = live("s", "p2", T0 + MIN);
    assert_eq!(
        starts(&st.reconcile(T0 + MIN, &[p2])),
        vec![(PlanKey::Task(1), "p2".into(), T0 + MIN, None)]
    );
}

#[test]
fn a_rule_and_a_task_on_one_stream_record_twice() {
    let mut st = St::new(vec![rule(7, "s"), task(1, "s", T0, T0 + MIN)]);
    let a = st.reconcile(T0 + S, &[live("s", "p1", T0)]);
    let mut got = starts(&a);
    got.sort();
    assert_eq!(
        got,
        vec![
            (PlanKey::Task(1), "p1".into(), T0, None),
            (PlanKey::Rule(7), "p1".into(), T0, None),
        ]
    );
    // At EndTime the task is disarmed; the rule goes on.
    assert!(st.reconcile(T0 + MIN, &[live("s", "p1", T0)]).is_empty());
    assert!(!st.is_armed(PlanKey::Task(1)));
    assert!(st.is_armed(PlanKey::Rule(7)));
}

#[test]
fn a_seven_day_task_stays_armed_for_seven_days() {
    let end = T0 + 7 * DAY;
    let mut st = St::new(vec![task(1, "s", T0, end)]);
    let none: [Fake; 0] = [];
    let mut now = T0;
    let mut wakeups = 0;
    while now < end {
        assert!(st.reconcile(now, &none).is_empty());
        assert!(st.is_armed(PlanKey::Task(1)));
        let wait = st.next_wakeup(now);
        assert!(wait <= MAX_SLEEP && !wait.is_zero());
        now += i64::try_from(wait.as_millis()).unwrap();
        wakeups += 1;
    }
    assert_eq!(now, end, "the last wake-up falls exactly on EndTime");
    assert_eq!(wakeups, 7 * 86_400 / 30);
    // A publish on day 6 records from its publish.
    let mut st = St::new(vec![task(1, "s", T0, end)]);
    let day6 = T0 + 6 * DAY;
    assert_eq!(
        starts(&st.reconcile(day6, &[live("s", "p", day6)])),
        vec![(PlanKey::Task(1), "p".into(), day6, None)]
    );
    assert!(st.reconcile(end, &none).is_empty());
    assert!(!st.is_armed(PlanKey::Task(1)));
}

#[test]
fn at_most_three_overlapping_new_api_tasks_record_a_session_oldest_first() {
    // Created in reverse id order: 4 is the oldest.
    let mut plans: Vec<Plan> = (1..=5)
        .map(|id| {
            let mut t = task(id, "s", T0, T0 + MIN);
            t.created_ms = T0 - id * S;
            t
        })
        .collect();
    // Task 5 was created first but starts later.
    plans[4].start_ms = T0 + 10 * S;
    let mut legacy = plan(PlanKey::Task(9), Family::Legacy, "s", T0, T0 + MIN);
    legacy.created_ms = T0;
    plans.push(legacy);
    plans.push(rule(7, "s"));
    let mut st = St::new(plans);
    let p1 = live("s", "p1", T0);
    assert_eq!(
        started_keys(&st.reconcile(T0, from_ref(&p1))),
        vec![
            PlanKey::Task(2),
            PlanKey::Task(3),
            PlanKey::Task(4),
            PlanKey::Task(9),
            PlanKey::Rule(7),
        ],
        "the 3 oldest active tasks; legacy tasks and rules do not count"
    );
    assert_eq!(MAX_OVERLAPPING_TASKS, 3);
    // Task 5 becomes active while 3 tasks record: refused for this session,
    // even after one of them ends.
    assert!(st.reconcile(T0 + 10 * S, from_ref(&p1)).is_empty());
    st.finished::<Fake>((PlanKey::Task(2), "p1".into()), key_of(&p1), None);
    assert!(st.reconcile(T0 + 11 * S, from_ref(&p1)).is_empty());
    // A new session: the oldest three of the active tasks again.
    st.session_ended("p1");
    let p2 = live("s", "p2", T0 + 20 * S);
    assert_eq!(
        started_keys(&st.reconcile(T0 + 20 * S, &[p2])),
        vec![
            PlanKey::Task(3),
            PlanKey::Task(4),
            PlanKey::Task(5),
            PlanKey::Task(9),
            PlanKey::Rule(7),
        ]
    );
}

#[test]
fn the_overlap_limit_is_per_session() {
    let plans = (1..=4)
        .map(|id| task(id, if id < 4 { "s" } else { "t" }, T0, T0 + MIN))
        .collect();
    let mut st = St::new(plans);
    let a = st.reconcile(T0, &[live("s", "p1", T0), live("t", "p2", T0)]);
    assert_eq!(starts(&a).len(), 4);
}

#[test]
fn a_kicked_stream_is_not_recorded() {
    let mut st = St::new(vec![task(1, "s", T0, T0 + MIN)]);
    let mut s = live("s", "p1", T0);
    s.kicked = true;
    assert!(st.reconcile(T0, &[s]).is_empty());
    assert_eq!(starts(&st.reconcile(T0, &[live("s", "p2", T0)])).len(), 1);
}

#[test]
fn a_new_rule_skips_the_sessions_already_live() {
    let mut st = St::new(vec![rule(1, "s")]);
    let p1 = live("s", "p1", T0);
    assert_eq!(starts(&st.reconcile(T0, from_ref(&p1))).len(), 1);
    let other = live("t", "p9", T0);
    let a = st.reload_rules(vec![rule(1, "s"), rule(2, "t")], T0 + S, &[p1, other]);
    assert!(
        a.is_empty(),
        "rule 1 already records; rule 2 waits for a new publish"
    );
    st.session_ended("p9");
    assert_eq!(
        starts(&st.reconcile(T0 + 2 * S, &[live("t", "p10", T0 + 2 * S)])),
        vec![(PlanKey::Rule(2), "p10".into(), T0 + 2 * S, None)]
    );
    // A reload without rule 1 disarms it; tasks stay.
    st.arm::<Fake>(task(5, "x", T0 + DAY, T0 + 2 * DAY), T0, &[]);
    assert!(
        st.reload_rules::<Fake>(vec![rule(2, "t")], T0 + 3 * S, &[])
            .is_empty()
    );
    assert!(!st.is_armed(PlanKey::Rule(1)));
    assert!(st.is_armed(PlanKey::Rule(2)) && st.is_armed(PlanKey::Task(5)));
}

#[test]
fn parked_outputs_resume_with_the_next_session_within_the_window() {
    let mut st = St::new(vec![rule(1, "s")]);
    let p1 = live("s", "p1", T0);
    st.reconcile(T0, from_ref(&p1));
    let until = T0 + MIN + 30 * S;
    st.finished::<Fake>(
        (PlanKey::Rule(1), "p1".into()),
        key_of(&p1),
        Some(("hls-1", until)),
    );
    st.session_ended("p1");
    assert_eq!(st.next_wakeup(T0 + MIN), Duration::from_secs(30));
    let p2 = live("s", "p2", T0 + MIN + 29 * S);
    assert_eq!(
        starts(&st.reconcile(T0 + MIN + 29 * S, from_ref(&p2))),
        vec![(
            PlanKey::Rule(1),
            "p2".into(),
            T0 + MIN + 29 * S,
            Some("hls-1")
        )]
    );
    // Parked again; this time the window passes: closed exactly at its end.
    st.finished::<Fake>(
        (PlanKey::Rule(1), "p2".into()),
        key_of(&p2),
        Some(("hls-1", until + MIN)),
    );
    let none: [Fake; 0] = [];
    assert!(closed(&st.reconcile(until + MIN - 1, &none)).is_empty());
    assert_eq!(closed(&st.reconcile(until + MIN, &none)), vec!["hls-1"]);
    assert_eq!(st.next_wakeup(until + MIN), MAX_SLEEP);
}

#[test]
fn parking_over_older_parked_outputs_closes_them() {
    let mut st = St::new(vec![rule(1, "s")]);
    let s = live("s", "p1", T0);
    st.finished::<Fake>(
        (PlanKey::Rule(1), "p1".into()),
        key_of(&s),
        Some(("old", T0 + MIN)),
    );
    let a = st.finished::<Fake>(
        (PlanKey::Rule(1), "p2".into()),
        key_of(&s),
        Some(("new", T0 + MIN)),
    );
    assert_eq!(closed(&a), vec!["old"]);
}

#[test]
fn stop_disarms_and_stops_every_session_of_the_plan() {
    let mut st = St::new(vec![rule(1, ""), task(2, "s", T0, T0 + MIN)]);
    let a = live("s", "p1", T0);
    let b = live("t", "p2", T0);
    assert_eq!(starts(&st.reconcile(T0, &[a.clone(), b.clone()])).len(), 3);
    st.finished::<Fake>(
        (PlanKey::Rule(1), "p2".into()),
        key_of(&b),
        Some(("hls", T0 + MIN)),
    );
    let acts = st.stop::<Fake>(PlanKey::Rule(1));
    assert_eq!(stopped(&acts), vec![(PlanKey::Rule(1), "p1".into())]);
    assert_eq!(closed(&acts), vec!["hls"]);
    assert!(!st.is_armed(PlanKey::Rule(1)) && !st.is_recording(PlanKey::Rule(1)));
    assert!(st.is_recording(PlanKey::Task(2)));
    assert!(st.reconcile(T0 + S, &[a, b]).is_empty());
}

#[test]
fn delete_refuses_a_recording_plan_unless_it_keeps_running() {
    let mut st = St::new(vec![task(1, "s", T0, T0 + MIN)]);
    st.reconcile(T0, &[live("s", "p1", T0)]);
    assert!(st.delete::<Fake>(PlanKey::Task(1), false).is_none());
    assert!(st.is_armed(PlanKey::Task(1)));
    let a = st.delete::<Fake>(PlanKey::Task(1), true).unwrap();
    assert!(a.is_empty());
    assert!(!st.is_armed(PlanKey::Task(1)));
    assert!(
        st.is_recording(PlanKey::Task(1)),
        "DeleteRecordTask lets it finish"
    );
    // An idle plan is deleted at once.
    let mut st = St::new(vec![task(2, "s", T0 + MIN, T0 + 2 * MIN)]);
    assert!(st.delete::<Fake>(PlanKey::Task(2), false).is_some());
    assert!(!st.is_armed(PlanKey::Task(2)));
}

#[test]
fn shutdown_stops_everything() {
    let mut st = St::new(vec![rule(1, "s"), task(2, "s", T0, T0 + MIN)]);
    let s = live("s", "p1", T0);
    st.reconcile(T0, from_ref(&s));
    st.finished::<Fake>(
        (PlanKey::Task(2), "p1".into()),
        key_of(&s),
        Some(("hls", T0 + MIN)),
    );
    let a = st.shutdown::<Fake>();
    assert_eq!(stopped(&a), vec![(PlanKey::Rule(1), "p1".into())]);
    assert_eq!(closed(&a), vec!["hls"]);
    assert!(!st.is_armed(PlanKey::Rule(1)));
    assert_eq!(st.next_wakeup(T0), MAX_SLEEP);
}

#[test]
fn a_domainless_task_matches_every_domain() {
    let mut t = task(1, "s", T0, T0 + MIN);
    t.domain.clear();
    let mut st = St::new(vec![t]);
    let mut s = live("s", "p1", T0);
    s.key = StreamKey::new("other.example.com", "live", "s");
    assert_eq!(starts(&st.reconcile(T0, &[s])).len(), 1);
}

#[test]
fn a_plan_records_only_streams_of_its_account() {
    // With or without a DomainName, a task, a legacy task and a rule of
    // account "b" never start on a stream whose domain "a" owns.
    let mut domainless = task(1, "s", T0, T0 + MIN);
    domainless.domain.clear();
    let mut plans = vec![
        domainless,
        task(2, "s", T0, T0 + MIN),
        plan(PlanKey::Task(3), Family::Legacy, "s", T0, T0 + MIN),
        rule(4, "s"),
    ];
    for p in &mut plans {
        p.account_id = "b".into();
    }
    let mut st = St::new(plans.clone());
    let a_stream = live("s", "p1", T0);
    assert!(starts(&st.reconcile(T0, from_ref(&a_stream))).is_empty());
    // The same plans of the owner do start.
    for p in &mut plans {
        p.account_id = "a".into();
    }
    let mut st = St::new(plans);
    assert_eq!(starts(&st.reconcile(T0, &[a_stream])).len(), 4);
}

/// What one create costs the scheduler with 1,000 to 100,000 plans armed
/// and 100 live streams: arming the new plan plus the actor's next wake-up
/// computation, against one full reconcile (what every create cost before).
/// Prints figures; run by `bench/scheduler.sh`.
#[test]
#[ignore = "benchmark: run by bench/scheduler.sh"]
fn bench_arm_cost_by_armed_plans() {
    use std::time::Instant;
    let streams: Vec<Fake> = (0..100)
        .map(|i| live(&format!("s{i}"), &format!("p{i}"), T0))
        .collect();
    for n in [1_000_i64, 10_000, 100_000] {
        // Armed, not yet started: their windows open in a minute.
        let plans = (0..n).map(|i| task(i, &format!("s{}", i % 1000), T0 + MIN, T0 + DAY));
        let mut st = St::new(plans.collect());
        let rounds = 1_000_i64;
        let t = Instant::now();
        for i in 0..rounds {
            let stream = format!("s{}", i % 100);
            let started = st.arm(task(n + i, &stream, T0, T0 + MIN), T0 + 1, &streams);
            assert!(started.len() <= 1);
            assert!(st.next_wakeup(T0 + 1) <= MAX_SLEEP);
        }
        let per_create = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
        // A publish: the plans of that stream name are looked at.
        let t = Instant::now();
        for i in 0..rounds {
            let s = live(&format!("s{}", 100 + i % 900), &format!("q{i}"), T0 + 2);
            let _ = st.published(T0 + 2, &s);
        }
        let per_publish = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
        // A timer tick with nothing due.
        let t = Instant::now();
        for i in 0..rounds {
            let _ = st.tick(T0 + 3 + i, &streams);
        }
        let per_tick = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
        let t = Instant::now();
        let _ = st.reconcile(T0 + 3 + rounds, &streams);
        let reconcile = t.elapsed().as_secs_f64() * 1e6;
        println!(
            "armed {n:>6}: one create {per_create:>6.1} us (arm + next wake-up); one publish {per_publish:>6.1} us; one idle tick {per_tick:>6.1} us; one full reconcile {reconcile:>9.1} us"
        );
    }
}

mod incremental;
