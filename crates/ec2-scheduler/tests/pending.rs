//! Nothing happens that the owner did not ask for, run after run (issue 11, points 2–5): a
//! one-off belongs to the day it is first seen, due actions that were not carried out are
//! pending actions of their instance while the window moves on, Lambda's retries of one event
//! share its termination cap and publish its report once, and a stale ScheduleError goes away.

use chrono::{DateTime, Duration, Utc};
use ec2_scheduler::memory::{FakeInstance, InMemoryEc2, MemoryState};
use ec2_scheduler::{App, InstanceState, RunReport, Scheduler, Settings};
use fleet_core::ledger::EventLedger;
use fleet_core::{ErrorClass, EventHandler, FixedClock, Outage, RecordingNotifier, RunSummary};
use fleet_testkit::load_event;
use lambda_runtime::LambdaEvent;
use serde_json::json;
use std::sync::atomic::AtomicUsize;
use InstanceState::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn instance(id: &str, state: InstanceState, schedule: &str) -> FakeInstance {
    FakeInstance::new(id, state, &[("Schedule", schedule)])
}

/// A scheduler over the in-memory fakes whose clock each run sets to the run's instant.
struct Day {
    s: Scheduler<InMemoryEc2, MemoryState, FixedClock>,
}

impl Day {
    fn new(instances: Vec<FakeInstance>, last_run: &str, settings: Settings) -> Self {
        Self {
            s: Scheduler {
                ec2: InMemoryEc2::new(instances, 1000),
                state: MemoryState::with_last_run(Some(at(last_run))),
                clock: FixedClock::at(at(last_run)),
                settings,
            },
        }
    }

    async fn run(&self, time: &str) -> RunReport {
        self.s.clock.set(at(time));
        self.s.run(at(time), None, None).await.unwrap()
    }

    fn state(&self, id: &str) -> InstanceState {
        self.s.ec2.instance(id).unwrap().state
    }

    fn tag(&self, id: &str, key: &str) -> Option<String> {
        self.s.ec2.instance(id).unwrap().tags.get(key).cloned()
    }

    fn set_state(&self, id: &str, state: InstanceState) {
        let mut i = self.s.ec2.instance(id).unwrap();
        i.state = state;
        self.s.ec2.insert(i);
    }

    fn set_schedule(&self, id: &str, schedule: &str) {
        let mut i = self.s.ec2.instance(id).unwrap();
        i.tags.insert("Schedule".into(), schedule.into());
        self.s.ec2.insert(i);
    }
}

fn line_of<'a>(report: &'a RunReport, id: &str) -> &'a ec2_scheduler::report::DecisionRecord {
    report
        .actions
        .iter()
        .find(|r| r.instance_id == id)
        .unwrap_or_else(|| panic!("{id} not in the report:\n{}", report.to_text()))
}

/// `-18:30T` set at 18:35 and first seen by the 18:40 run (window from 18:30): its time had
/// passed on its day, so it is dropped at once and never terminates the next day at 18:30.
#[tokio::test]
async fn a_one_off_set_after_its_time_is_dropped_and_never_fires_the_next_day() {
    let day = Day::new(
        vec![instance("i-late", Running, "-18:30T")],
        "2026-11-23T18:30:00Z",
        Settings::default(),
    );
    let report = day.run("2026-11-23T18:40:00Z").await;
    assert_eq!(day.state("i-late"), Running);
    assert_eq!(day.tag("i-late", "Schedule").as_deref(), Some("#-18:30T"));
    let why = day.tag("i-late", "ScheduleError").unwrap();
    assert!(
        why.starts_with("dropped: its time had passed on its day"),
        "{why}"
    );
    assert!(line_of(&report, "i-late").reason.starts_with("dropped"));

    // Even if the owner puts the same value back the next morning, it belongs to that day.
    day.set_schedule("i-late", "-18:30T");
    let mut t = at("2026-11-24T08:00:00Z");
    day.run("2026-11-24T08:00:00Z").await;
    while t < at("2026-11-24T19:00:00Z") {
        t += Duration::minutes(10);
        day.run(&t.to_rfc3339()).await;
    }
    assert_eq!(
        day.state("i-late"),
        Terminated,
        "set again on the 24th before 18:30: fires on the 24th"
    );
    // And set again after its time on the 24th: never on the 25th.
    day.set_state("i-late", Running);
    day.set_schedule("i-late", "-18:30T");
    let mut t = at("2026-11-24T19:00:00Z");
    while t < at("2026-11-25T20:00:00Z") {
        t += Duration::minutes(10);
        day.run(&t.to_rfc3339()).await;
    }
    assert_eq!(day.state("i-late"), Running);
    assert_eq!(day.tag("i-late", "Schedule").as_deref(), Some("#-18:30T"));
}

/// Set at 18:25 for 18:30 and first seen by an 18:40 run whose window starts at 18:20 (the 18:30
/// run did not happen): caught up. First seen at 12:00 for 18:30: remembered until its time.
#[tokio::test]
async fn a_one_off_first_seen_before_its_time_fires_that_day_catch_up_included() {
    let day = Day::new(
        vec![instance("i-caught-up", Running, "-18:30T")],
        "2026-11-23T18:20:00Z",
        Settings::default(),
    );
    day.run("2026-11-23T18:40:00Z").await;
    assert_eq!(day.state("i-caught-up"), Terminated);
    assert_eq!(
        day.tag("i-caught-up", "Schedule").as_deref(),
        Some("#-18:30T")
    );

    let day = Day::new(
        vec![instance("i-noon", Running, "-18:30")],
        "2026-11-23T11:50:00Z",
        Settings::default(),
    );
    day.run("2026-11-23T12:00:00Z").await;
    let note = &day.s.state.all_notes()["i-noon"];
    assert_eq!(
        note.first_seen.map(|w| w.last_run),
        Some(at("2026-11-23T11:50:00Z"))
    );
    day.run("2026-11-23T18:20:00Z").await;
    assert_eq!(day.state("i-noon"), Running);
    day.run("2026-11-23T18:30:00Z").await;
    assert_eq!(day.state("i-noon"), Stopped);
    assert!(day.s.state.all_notes().is_empty(), "consumed: note gone");
}

/// The 08:00 start of A fails transiently; B starts, and its owner stops it by hand at 08:05.
/// The 08:10 run starts A (pending) and leaves B alone: no window held open replays 08:00.
#[tokio::test]
async fn a_manual_stop_after_a_transient_failure_is_not_undone() {
    let day = Day::new(
        vec![
            instance("i-a", Stopped, "08:00-19:15"),
            instance("i-b", Stopped, "08:00-19:15"),
        ],
        "2026-11-23T07:50:00Z",
        Settings {
            batch_size: 1,
            ..Settings::default()
        },
    );
    day.s.ec2.throttle_next_writes(1);
    let first = day.run("2026-11-23T08:00:00Z").await;
    assert_eq!((day.state("i-a"), day.state("i-b")), (Stopped, Running));
    assert!(first.complete);
    assert!(line_of(&first, "i-a").pending.is_some());
    day.set_state("i-b", Stopped);
    let next = day.run("2026-11-23T08:10:00Z").await;
    assert_eq!((day.state("i-a"), day.state("i-b")), (Running, Stopped));
    assert_eq!(next.counts.start, 1);
}

/// A start that keeps failing is retried for PendingActionTtlMinutes, then dropped and reported;
/// a one-off that could not be carried out in time is consumed with a ScheduleError saying why.
#[tokio::test]
async fn a_pending_action_expires_after_its_ttl_and_is_reported() {
    let day = Day::new(
        vec![
            instance("i-start", Stopped, "08:00-19:15"),
            instance("i-once", Running, "-08:00"),
        ],
        "2026-11-23T07:50:00Z",
        Settings {
            pending_ttl: Duration::minutes(30),
            ..Settings::default()
        },
    );
    // Every write fails for the first three runs (one Stop and one Start call per run).
    day.s.ec2.throttle_next_writes(6);
    for t in ["08:00", "08:10", "08:20"] {
        let report = day.run(&format!("2026-11-23T{t}:00Z")).await;
        assert_eq!(report.counts.pending, 2, "{t}: {}", report.to_text());
        assert_eq!(day.tag("i-once", "Schedule").as_deref(), Some("-08:00"));
    }
    let expired = day.run("2026-11-23T08:30:00Z").await;
    assert_eq!((expired.counts.dropped, expired.counts.pending), (2, 0));
    assert_eq!(
        (day.state("i-start"), day.state("i-once")),
        (Stopped, Running)
    );
    let text = expired.to_text();
    assert!(
        text.contains("pending start (due 2026-11-23T08:00:00+00:00) dropped: not carried out within PendingActionTtlMinutes (30 minutes)"),
        "{text}"
    );
    assert_eq!(day.tag("i-once", "Schedule").as_deref(), Some("#-08:00"));
    assert!(day
        .tag("i-once", "ScheduleError")
        .unwrap()
        .contains("not carried out within PendingActionTtlMinutes"));
    assert!(day.s.state.all_notes().is_empty());
    // Nothing comes back later.
    day.run("2026-11-23T08:40:00Z").await;
    assert_eq!(
        (day.state("i-start"), day.state("i-once")),
        (Stopped, Running)
    );
}

/// A pending start is dropped when the stop after it is due, and when the owner changes the tag.
#[tokio::test]
async fn a_later_due_action_or_a_changed_tag_drops_a_pending_one() {
    let day = Day::new(
        vec![
            instance("i-short", Stopped, "08:00-08:20"),
            instance("i-changed", Stopped, "08:00-19:15"),
        ],
        "2026-11-23T07:50:00Z",
        Settings::default(),
    );
    day.s.ec2.throttle_next_writes(2);
    day.run("2026-11-23T08:00:00Z").await;
    day.run("2026-11-23T08:10:00Z").await;
    assert_eq!(day.s.state.all_notes().len(), 2);
    day.set_schedule("i-changed", "09:00-17:00");
    day.s.ec2.throttle_next_writes(0);
    let report = day.run("2026-11-23T08:20:00Z").await;
    assert!(line_of(&report, "i-short")
        .dropped
        .as_deref()
        .unwrap()
        .contains("dropped: stop is due at 2026-11-23T08:20:00+00:00"));
    assert!(line_of(&report, "i-changed")
        .dropped
        .as_deref()
        .unwrap()
        .contains("dropped: the Schedule tag changed"));
    assert_eq!(
        (day.state("i-short"), day.state("i-changed")),
        (Stopped, Stopped)
    );
    assert!(day.s.state.all_notes().is_empty());
}

/// `-12:00` on an instance still `pending` at 12:00 waits (tag kept) and is carried out when the
/// instance is running, within the TTL.
#[tokio::test]
async fn a_one_off_waits_for_a_pending_instance_then_runs() {
    let day = Day::new(
        vec![instance("i-booting", Pending, "-12:00")],
        "2026-11-23T11:50:00Z",
        Settings::default(),
    );
    let waiting = day.run("2026-11-23T12:00:00Z").await;
    assert_eq!(day.tag("i-booting", "Schedule").as_deref(), Some("-12:00"));
    assert_eq!(
        line_of(&waiting, "i-booting").pending.map(|p| p.due_at),
        Some(at("2026-11-23T12:00:00Z"))
    );
    day.set_state("i-booting", Running);
    let done = day.run("2026-11-23T12:10:00Z").await;
    assert_eq!(done.counts.stop, 1);
    assert_eq!(day.state("i-booting"), Stopped);
    assert_eq!(day.tag("i-booting", "Schedule").as_deref(), Some("#-12:00"));
}

/// Once a value is valid again, the ScheduleError left by the old value is removed; a value
/// still commented out keeps its explanation.
#[tokio::test]
async fn a_valid_value_removes_a_stale_schedule_error() {
    let fixed = FakeInstance::new(
        "i-fixed",
        Running,
        &[
            ("Schedule", "08:00-19:15"),
            ("ScheduleError", "invalid Schedule tag: …"),
        ],
    );
    let still = FakeInstance::new(
        "i-still",
        Running,
        &[
            ("Schedule", "#9to5"),
            ("ScheduleError", "invalid Schedule tag: …"),
        ],
    );
    let day = Day::new(
        vec![fixed, still],
        "2026-11-23T09:50:00Z",
        Settings::default(),
    );
    let report = day.run("2026-11-23T10:00:00Z").await;
    assert_eq!(day.tag("i-fixed", "ScheduleError"), None);
    assert!(day.tag("i-still", "ScheduleError").is_some());
    assert!(line_of(&report, "i-fixed")
        .reason
        .contains("stale ScheduleError tag removed"));
    assert_eq!(day.s.ec2.calls().delete_tags, 1);
    // Nothing to remove the next time.
    day.run("2026-11-23T10:10:00Z").await;
    assert_eq!(day.s.ec2.calls().delete_tags, 1);
}

fn scheduled_event(id: &str, time: &str) -> LambdaEvent<serde_json::Value> {
    let mut event = load_event("ec2-scheduler/01-monday-0800.json");
    event["id"] = json!(id);
    event["time"] = json!(time);
    LambdaEvent::new(event, lambda_runtime::Context::default())
}

/// EventBridge retries a failed invocation with the same event: the retries share the event's
/// MaxTerminationsPerRun, the report whose publish failed is published by the retry, and a
/// second retry sends no second copy.
#[tokio::test]
async fn a_retried_event_neither_exceeds_the_cap_nor_sends_a_second_report() {
    let instances = (0..3)
        .map(|i| instance(&format!("i-{i}"), Running, "-12:00T"))
        .collect();
    let app = App {
        scheduler: Day::new(
            instances,
            "2026-11-23T11:50:00Z",
            Settings {
                max_terminations_per_run: 1,
                ..Settings::default()
            },
        )
        .s,
        notifier: Some(Outage {
            inner: RecordingNotifier::default(),
            failures: AtomicUsize::new(1),
        }),
    };
    let terminated = || {
        (0..3)
            .filter(|i| app.scheduler.ec2.instance(&format!("i-{i}")).unwrap().state == Terminated)
            .count()
    };
    app.scheduler.clock.set(at("2026-11-23T12:00:05Z"));
    let failed = app
        .handle(scheduled_event("evt-1200", "2026-11-23T12:00:00Z"))
        .await
        .expect_err("SNS failed: Lambda retries the event");
    assert_eq!(failed.class, ErrorClass::Unavailable);
    assert_eq!(terminated(), 1);

    let notifier = app.notifier.as_ref().unwrap();
    for retry in 1..=2 {
        app.handle(scheduled_event("evt-1200", "2026-11-23T12:00:00Z"))
            .await
            .unwrap_or_else(|e| panic!("retry {retry}: {e:?}"));
        assert_eq!(
            terminated(),
            1,
            "retry {retry} stays within the event's cap"
        );
        let sent = notifier.inner.sent();
        assert_eq!(sent.len(), 1, "retry {retry}: one report per event");
        assert!(
            sent[0].1.contains("Started 0, stopped 0, terminated 1"),
            "the report of the first attempt:\n{}",
            sent[0].1
        );
    }
    // The next scheduled event has its own cap: one more of the pending terminations.
    app.scheduler.clock.set(at("2026-11-23T12:10:05Z"));
    app.handle(scheduled_event("evt-1210", "2026-11-23T12:10:00Z"))
        .await
        .unwrap();
    assert_eq!(terminated(), 2);
    assert_eq!(notifier.inner.sent().len(), 2);
    let held = app
        .scheduler
        .state
        .all_notes()
        .values()
        .filter(|n| n.pending.is_some())
        .count();
    assert_eq!(held, 1);
    assert!(matches!(
        app.scheduler.state.ledger.record("evt-1200"),
        Some(r) if r.actions == 1 && r.report.as_ref().is_some_and(|r| r.published)
    ));
    assert_eq!(
        app.scheduler.state.ledger.lease(),
        None,
        "released after each run"
    );
}

/// Runs never overlap: while another run holds the lease (reserved concurrency may be off), an
/// invocation does nothing and fails as Conflict, so Lambda retries it once the lease is free.
#[tokio::test]
async fn a_run_while_another_holds_the_lease_changes_nothing() {
    let app = App {
        scheduler: Day::new(
            vec![instance("i-a", Stopped, "08:00-19:15")],
            "2026-11-23T07:50:00Z",
            Settings::default(),
        )
        .s,
        notifier: Some(RecordingNotifier::default()),
    };
    app.scheduler.clock.set(at("2026-11-23T08:00:05Z"));
    let ledger = &app.scheduler.state.ledger;
    assert!(ledger
        .acquire_lease(
            "evt-other",
            at("2026-11-23T08:00:00Z"),
            at("2026-11-23T08:15:00Z")
        )
        .await
        .unwrap());
    let err = app
        .handle(scheduled_event("evt-0800", "2026-11-23T08:00:00Z"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Conflict);
    assert_eq!(app.scheduler.ec2.calls().describe, 0, "nothing listed");
    assert_eq!(app.scheduler.state.get(), Some(at("2026-11-23T07:50:00Z")));
    ledger.release_lease("evt-other").await.unwrap();
    app.handle(scheduled_event("evt-0800", "2026-11-23T08:00:00Z"))
        .await
        .unwrap();
    assert_eq!(app.scheduler.ec2.instance("i-a").unwrap().state, Running);
}
