//! Tests of the actor with paused time: it wakes by itself at StartTime and
//! EndTime (no hub event, no command), and shuts down. The streams send no
//! media, so no file (and no database access) is involved; whether a plan
//! records is asked through `delete` without `keep_running`, which refuses
//! a recording plan.

use std::time::Duration;

use tokio::time::sleep;

use crate::hub::Hub;
use crate::plan::PlanKey;
use crate::recorder::Scheduler;
use crate::recorder::test_support::{T0, flv_plan, live_stream, paused_ctx};

fn plan(id: i64, start_ms: i64, end_ms: i64) -> crate::plan::Plan {
    let mut p = flv_plan(0, end_ms);
    p.key = PlanKey::Task(id);
    p.start_ms = start_ms;
    p
}

#[tokio::test]
async fn the_actor_wakes_at_start_time_and_end_time() {
    let (ctx, _dir) = paused_ctx().await;
    let hub = Hub::new(60_000);
    let _publisher = live_stream(&hub);
    // Two identical plans: 2 is a probe (deleting it while idle removes
    // it), 1 is the one followed.
    let sched = Scheduler::start(
        ctx.clone(),
        hub.clone(),
        vec![
            plan(1, T0 + 10_000, T0 + 60_000),
            plan(2, T0 + 10_000, T0 + 60_000),
        ],
    );
    sleep(Duration::from_millis(9_990)).await;
    assert!(
        sched.delete(PlanKey::Task(2), false).await.is_ok(),
        "not recording before StartTime"
    );
    sleep(Duration::from_millis(20)).await;
    assert!(
        sched.delete(PlanKey::Task(1), false).await.is_err(),
        "recording right after StartTime"
    );
    sleep(Duration::from_millis(49_980)).await;
    // Just before EndTime it still records; just after, it has ended.
    assert!(sched.delete(PlanKey::Task(1), false).await.is_err());
    sleep(Duration::from_millis(20)).await;
    assert!(
        sched.delete(PlanKey::Task(1), false).await.is_ok(),
        "ended at EndTime"
    );
    sched.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_seven_day_task_records_until_its_end_and_shutdown_stops_it() {
    let (ctx, _dir) = paused_ctx().await;
    let hub = Hub::new(60_000);
    let _publisher = live_stream(&hub);
    let week = 7 * 86_400_000;
    let sched = Scheduler::start(ctx.clone(), hub.clone(), vec![]);
    sched.arm(plan(1, T0 - 1_000, T0 + week)).await;
    sched.arm(plan(2, T0 - 1_000, T0 + week)).await;
    sleep(Duration::from_secs(6 * 86_400)).await;
    assert!(sched.delete(PlanKey::Task(1), false).await.is_err());
    let started = tokio::time::Instant::now();
    sched.shutdown(Duration::from_secs(5)).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "recordings stop at once"
    );
    // After shutdown the actor is gone: delete answers Ok.
    assert!(sched.delete(PlanKey::Task(2), false).await.is_ok());
}
