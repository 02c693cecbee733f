//! The scheduler's decisions, without I/O: the armed plans, the sessions
//! recording or already recorded and the parked outputs, changed by
//! commands, hub events and the passing of time, each answered with the
//! [`Action`]s the actor carries out (start a recording, stop some, close
//! parked outputs) and the time of the next wake-up. "Now" is always an
//! argument and the live streams are whatever the caller passes, so every
//! decision can be tested with plain numbers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::armed::Armed;
use crate::plan::{Family, Plan, PlanKey};
use crate::task::StreamKey;

/// Longest sleep between reconciliations (also bounds clock drift effects).
pub(super) const MAX_SLEEP: Duration = Duration::from_secs(30);
/// Overlapping new-API tasks of one stream that record (Tencent: 3).
pub(super) const MAX_OVERLAPPING_TASKS: usize = 3;

/// A plan recording one publish session.
pub(super) type SessionKey = (PlanKey, String);

/// What the decisions need to know of a live stream.
pub(super) trait Live: Clone {
    /// Identity.
    fn key(&self) -> &StreamKey;
    /// The publish session.
    fn session_id(&self) -> &str;
    /// Wall-clock start of the session, ms.
    fn started_ms(&self) -> i64;
    /// Whether the server disconnected the publisher.
    fn is_kicked(&self) -> bool;
    /// The account that owned the stream's domain when it was published.
    fn owner(&self) -> &str;
}

/// Whether `plan` records `stream`: it names the stream and belongs to the
/// stream's owner (SPEC §2: a plan of account A never records a stream of a
/// domain B owns, with or without a DomainName).
fn covers<S: Live>(plan: &Plan, stream: &S) -> bool {
    plan.account_id == stream.owner() && plan.matches(stream.key())
}

/// Something for the actor to do. `S` is a live stream, `P` the open
/// outputs of a finished session kept for a reconnecting publisher.
#[derive(Debug)]
pub(super) enum Action<S, P> {
    /// Start a recording.
    Start(Start<S, P>),
    /// Stop these running recordings.
    Stop(Vec<SessionKey>),
    /// Finalize parked outputs.
    Close(P),
}

/// Record `stream` for `plan` from `from_ms` (wall clock), continuing
/// `resume` (parked outputs) if any.
#[derive(Debug)]
pub(super) struct Start<S, P> {
    pub(super) key: SessionKey,
    pub(super) plan: Arc<Plan>,
    pub(super) stream: S,
    pub(super) from_ms: i64,
    pub(super) resume: Option<P>,
}

/// Outputs of a finished session waiting for the publisher to come back.
struct Parked<P> {
    outputs: P,
    until_ms: i64,
}

/// The sessions each plan already recorded (a session is recorded once),
/// indexed by session and by plan so that a session's end and a plan's
/// removal each cost what they remove.
#[derive(Debug, Default)]
struct Done {
    by_session: HashMap<String, HashSet<PlanKey>>,
    by_plan: HashMap<PlanKey, HashSet<String>>,
}

impl Done {
    fn insert(&mut self, (plan, session): SessionKey) {
        self.by_plan
            .entry(plan)
            .or_default()
            .insert(session.clone());
        self.by_session.entry(session).or_default().insert(plan);
    }

    fn contains(&self, (plan, session): &SessionKey) -> bool {
        self.by_session
            .get(session)
            .is_some_and(|plans| plans.contains(plan))
    }

    fn remove_session(&mut self, session: &str) {
        for plan in self.by_session.remove(session).into_iter().flatten() {
            if let Some(sessions) = self.by_plan.get_mut(&plan) {
                sessions.remove(session);
                if sessions.is_empty() {
                    self.by_plan.remove(&plan);
                }
            }
        }
    }

    fn remove_plan(&mut self, plan: PlanKey) {
        for session in self.by_plan.remove(&plan).into_iter().flatten() {
            if let Some(plans) = self.by_session.get_mut(&session) {
                plans.remove(&plan);
                if plans.is_empty() {
                    self.by_session.remove(&session);
                }
            }
        }
    }
}

/// All scheduling state.
pub(super) struct State<P> {
    armed: Armed,
    /// StartTimes and EndTimes up to this one have been acted on.
    ticked_ms: i64,
    /// Running recordings and their plan's family.
    running: HashMap<SessionKey, Family>,
    /// Sessions a plan already recorded.
    done: Done,
    parked: HashMap<(PlanKey, StreamKey), Parked<P>>,
}

impl<P> State<P> {
    /// The state at start: these plans armed, nothing running.
    pub(super) fn new(plans: Vec<Plan>) -> State<P> {
        State {
            armed: Armed::new(plans),
            ticked_ms: i64::MIN,
            running: HashMap::new(),
            done: Done::default(),
            parked: HashMap::new(),
        }
    }

    /// Whether `key` is armed.
    #[cfg(test)]
    pub(super) fn is_armed(&self, key: PlanKey) -> bool {
        self.armed.contains_key(&key)
    }

    /// Whether a recording of `key` runs.
    pub(super) fn is_recording(&self, key: PlanKey) -> bool {
        self.running.keys().any(|(k, _)| *k == key)
    }

    /// Arms a new plan and starts it on the live streams it covers if its
    /// window is open. Only the new plan is looked at: every other plan
    /// was decided at its own time (the actor wakes at each StartTime and
    /// EndTime), so the cost of a create does not grow with the number of
    /// armed plans. A new plan is the youngest, so it comes last in the
    /// overlapping-task order anyway.
    pub(super) fn arm<S: Live>(&mut self, plan: Plan, now: i64, live: &[S]) -> Vec<Action<S, P>> {
        let plan = Arc::new(plan);
        self.armed.insert(plan.clone());
        let mut actions = Vec::new();
        if plan.start_ms <= now && plan.end_ms > now {
            self.start_plan(&plan, live, &mut actions);
        }
        actions
    }

    /// Disarms `key` and stops its recordings (StopLiveRecord).
    pub(super) fn stop<S>(&mut self, key: PlanKey) -> Vec<Action<S, P>> {
        self.disarm(key);
        let sessions: Vec<SessionKey> = self
            .running
            .keys()
            .filter(|(k, _)| *k == key)
            .cloned()
            .collect();
        for s in &sessions {
            self.running.remove(s);
        }
        let mut actions = vec![Action::Stop(sessions)];
        actions.extend(self.unpark(key));
        actions
    }

    /// Disarms `key`; with `keep_running` its running recordings go on,
    /// otherwise a plan that is recording is refused (None).
    pub(super) fn delete<S>(
        &mut self,
        key: PlanKey,
        keep_running: bool,
    ) -> Option<Vec<Action<S, P>>> {
        if self.is_recording(key) && !keep_running {
            return None;
        }
        self.disarm(key);
        Some(self.unpark(key))
    }

    /// Removes `key` from the armed plans and forgets what it recorded.
    fn disarm(&mut self, key: PlanKey) {
        self.armed.remove(&key);
        self.done.remove_plan(key);
    }

    /// Replaces the rules. A new rule records from the next publish on, not
    /// the sessions already live (SPEC §3.2), so nothing starts here but
    /// what the passing of time starts anyway.
    pub(super) fn reload_rules<S: Live>(
        &mut self,
        plans: Vec<Plan>,
        now: i64,
        live: &[S],
    ) -> Vec<Action<S, P>> {
        let before: HashSet<PlanKey> = self.armed.keys().copied().collect();
        let gone: Vec<PlanKey> = before
            .iter()
            .filter(|k| matches!(k, PlanKey::Rule(_)))
            .copied()
            .collect();
        for k in gone {
            self.disarm(k);
        }
        for p in plans {
            if !before.contains(&p.key) {
                for s in live.iter().filter(|s| covers(&p, *s)) {
                    self.done.insert((p.key, s.session_id().to_string()));
                }
            }
            self.armed.insert(Arc::new(p));
        }
        self.tick(now, live)
    }

    /// A recording ended; `parked` holds the outputs it left open for a
    /// reconnecting publisher and until when. Returns outputs this displaced
    /// (to be closed).
    pub(super) fn finished<S>(
        &mut self,
        key: SessionKey,
        stream: StreamKey,
        parked: Option<(P, i64)>,
    ) -> Vec<Action<S, P>> {
        self.running.remove(&key);
        let mut actions = Vec::new();
        if let Some((outputs, until_ms)) = parked {
            let old = self
                .parked
                .insert((key.0, stream), Parked { outputs, until_ms });
            actions.extend(old.map(|p| Action::Close(p.outputs)));
        }
        self.done.insert(key);
        actions
    }

    /// A publish session ended: its session id will not come back.
    pub(super) fn session_ended(&mut self, session_id: &str) {
        self.done.remove_session(session_id);
    }

    /// Shutdown: disarms everything; stops every recording and closes every
    /// parked output.
    pub(super) fn shutdown<S>(&mut self) -> Vec<Action<S, P>> {
        self.armed.clear();
        let mut actions = vec![Action::Stop(self.running.drain().map(|(k, _)| k).collect())];
        actions.extend(self.parked.drain().map(|(_, p)| Action::Close(p.outputs)));
        actions
    }

    /// Time from `now` until the next StartTime, EndTime or parking
    /// deadline, at most [`MAX_SLEEP`].
    pub(super) fn next_wakeup(&self, now: i64) -> Duration {
        let next = self
            .armed
            .next_time_after(now)
            .into_iter()
            .chain(
                self.parked
                    .values()
                    .map(|p| p.until_ms)
                    .filter(|&t| t > now),
            )
            .min();
        match next {
            Some(t) => Duration::from_millis(u64::try_from(t - now).unwrap_or(0)).min(MAX_SLEEP),
            None => MAX_SLEEP,
        }
    }

    /// Closes the parked outputs of `key`.
    fn unpark<S>(&mut self, key: PlanKey) -> Vec<Action<S, P>> {
        let keys: Vec<_> = self
            .parked
            .keys()
            .filter(|(k, _)| *k == key)
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| self.parked.remove(&k))
            .map(|p| Action::Close(p.outputs))
            .collect()
    }

    /// Starts every recording that should run at `now` on the streams in
    /// `live` and is not running; drops plans whose window has passed and
    /// closes parked outputs whose window did. Looks at every armed plan:
    /// for the start and for a lagging event stream only; the timer uses
    /// [`State::tick`] and a publish [`State::published`].
    pub(super) fn reconcile<S: Live>(&mut self, now: i64, live: &[S]) -> Vec<Action<S, P>> {
        self.ticked_ms = self.ticked_ms.max(now);
        let ended: Vec<PlanKey> = self
            .armed
            .values()
            .filter(|t| t.end_ms <= now)
            .map(|t| t.key)
            .collect();
        for k in ended {
            self.disarm(k);
        }
        let mut actions = self.close_expired(now);
        let active: Vec<Arc<Plan>> = self
            .armed
            .values()
            .filter(|t| t.start_ms <= now)
            .cloned()
            .collect();
        self.start_in_order(active, live, &mut actions);
        actions
    }

    /// The passing of time: acts on the StartTimes and EndTimes since the
    /// last tick only (plans that open start on the live streams they
    /// cover, plans that close are disarmed) and closes parked outputs whose
    /// window passed. Plans whose times did not pass were decided before.
    pub(super) fn tick<S: Live>(&mut self, now: i64, live: &[S]) -> Vec<Action<S, P>> {
        let due = self.armed.times_between(self.ticked_ms, now);
        self.ticked_ms = self.ticked_ms.max(now);
        let mut opening = Vec::new();
        for (t, key) in due {
            let Some(plan) = self.armed.get(&key).cloned() else {
                continue;
            };
            if plan.end_ms <= now {
                self.disarm(key);
            } else if plan.start_ms == t {
                opening.push(plan);
            }
        }
        let mut actions = self.close_expired(now);
        self.start_in_order(opening, live, &mut actions);
        actions
    }

    /// A stream went live: starts the armed plans whose window is open and
    /// that cover it, found through the stream-name index.
    pub(super) fn published<S: Live>(&mut self, now: i64, stream: &S) -> Vec<Action<S, P>> {
        let mut actions = self.close_expired(now);
        let candidates: Vec<Arc<Plan>> = self
            .armed
            .for_stream(&stream.key().stream)
            .filter(|t| t.start_ms <= now && t.end_ms > now)
            .cloned()
            .collect();
        self.start_in_order(candidates, std::slice::from_ref(stream), &mut actions);
        actions
    }

    /// Closes the parked outputs whose reconnect window passed.
    fn close_expired<S>(&mut self, now: i64) -> Vec<Action<S, P>> {
        let expired: Vec<_> = self
            .parked
            .iter()
            .filter(|(_, p)| p.until_ms <= now)
            .map(|(k, _)| k.clone())
            .collect();
        expired
            .into_iter()
            .filter_map(|k| self.parked.remove(&k))
            .map(|p| Action::Close(p.outputs))
            .collect()
    }

    /// Starts `plans` on `live`, older plans first: they win the
    /// overlapping-task limit.
    fn start_in_order<S: Live>(
        &mut self,
        mut plans: Vec<Arc<Plan>>,
        live: &[S],
        actions: &mut Vec<Action<S, P>>,
    ) {
        plans.sort_by_key(|p| (p.created_ms, p.key));
        plans.dedup_by_key(|p| p.key);
        for plan in plans {
            self.start_plan(&plan, live, actions);
        }
    }

    /// Starts `plan` (whose window is open) on each stream of `live` it
    /// covers and does not record yet, within the overlapping-task limit.
    fn start_plan<S: Live>(
        &mut self,
        plan: &Arc<Plan>,
        live: &[S],
        actions: &mut Vec<Action<S, P>>,
    ) {
        for stream in live.iter().filter(|s| covers(plan, *s)) {
            let key = (plan.key, stream.session_id().to_string());
            if self.running.contains_key(&key) || self.done.contains(&key) || stream.is_kicked() {
                continue;
            }
            if plan.family == Family::Task
                && self.overlapping_tasks(stream.session_id()) >= MAX_OVERLAPPING_TASKS
            {
                tracing::info!(task_id = %plan.task_id, stream = %stream.key(), "3 overlapping tasks already record this stream; not recording");
                self.done.insert(key);
                continue;
            }
            self.running.insert(key.clone(), plan.family);
            let resume = self
                .parked
                .remove(&(plan.key, stream.key().clone()))
                .map(|p| p.outputs);
            actions.push(Action::Start(Start {
                key,
                from_ms: plan.start_ms.max(stream.started_ms()),
                plan: plan.clone(),
                stream: stream.clone(),
                resume,
            }));
        }
    }

    fn overlapping_tasks(&self, session: &str) -> usize {
        self.running
            .iter()
            .filter(|((_, s), f)| s == session && **f == Family::Task)
            .count()
    }
}
