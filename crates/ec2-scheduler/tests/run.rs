//! Domain tests of a whole run against the in-memory EC2 fake: batching, per-instance retry,
//! throttling, protection, the termination cap, the deadline, paging, the state window, dry run.

use chrono::{DateTime, Duration, Utc};
use ec2_scheduler::memory::{FakeInstance, InMemoryEc2, MemoryState};
use ec2_scheduler::ports::{
    Ec2Error, Ec2ErrorKind, Ec2Port, InstancePage, InstanceQuery, StateChange,
};
use ec2_scheduler::run::Outcome;
use ec2_scheduler::{InstanceState, Scheduler, Settings};
use fleet_core::{Clock, FixedClock, RunSummary};
use std::sync::atomic::{AtomicI64, Ordering};
use InstanceState::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const MONDAY_0800: &str = "2026-11-23T08:00:00Z";

fn fleet(n: usize, state: InstanceState, schedule: &str) -> Vec<FakeInstance> {
    (0..n)
        .map(|i| {
            FakeInstance::new(
                format!("i-{i:05}"),
                state,
                &[("Schedule", schedule), ("Name", &format!("vm-{i}"))],
            )
        })
        .collect()
}

fn scheduler<E: Ec2Port>(ec2: E, settings: Settings) -> Scheduler<E, MemoryState, FixedClock> {
    Scheduler {
        ec2,
        state: MemoryState::default(),
        clock: FixedClock::at(at(MONDAY_0800)),
        settings,
    }
}

#[tokio::test]
async fn starts_in_batches_and_advances_the_state() {
    let ec2 = InMemoryEc2::new(fleet(250, Stopped, "08:00-19:15"), 1000);
    let s = scheduler(ec2, Settings::default());
    let report = s.run(at(MONDAY_0800), None, None).await.unwrap();
    assert!(report.complete);
    assert_eq!(report.counts.start, 250);
    // 3 batches of at most 100 ids, one describe page
    assert_eq!(s.ec2.calls().change_state, 3);
    assert_eq!(s.ec2.calls().describe, 1);
    assert_eq!(s.ec2.instance("i-00249").unwrap().state, Running);
    assert_eq!(s.state.get(), Some(at(MONDAY_0800)));
}

#[tokio::test]
async fn pages_through_every_instance() {
    let ec2 = InMemoryEc2::new(fleet(2500, Running, "08:00-19:15"), 1000);
    let s = scheduler(ec2, Settings::default());
    let report = s.run(at(MONDAY_0800), None, None).await.unwrap();
    assert_eq!(report.instances_seen, 2500);
    assert_eq!(s.ec2.calls().describe, 3);
    assert_eq!(report.counts.unchanged, 2500);
    assert!(report.actions.is_empty());
    assert!(!report.has_news());
}

/// Fails any multi-instance call that includes `bad`, like EC2's IncorrectInstanceState.
struct OneBadInstance {
    inner: InMemoryEc2,
    bad: &'static str,
}

impl Ec2Port for OneBadInstance {
    async fn describe_page(
        &self,
        query: &InstanceQuery,
        token: Option<String>,
    ) -> Result<InstancePage, Ec2Error> {
        self.inner.describe_page(query, token).await
    }
    async fn change_state(&self, change: StateChange, ids: &[String]) -> Result<(), Ec2Error> {
        if ids.iter().any(|id| id == self.bad) {
            return Err(Ec2Error::new(
                Ec2ErrorKind::IncorrectState,
                "IncorrectInstanceState",
                format!(
                    "The instance '{}' is not in a state from which it can be started.",
                    self.bad
                ),
            ));
        }
        self.inner.change_state(change, ids).await
    }
    async fn create_tags(&self, ids: &[String], tags: &[(String, String)]) -> Result<(), Ec2Error> {
        self.inner.create_tags(ids, tags).await
    }
    async fn delete_tags(&self, ids: &[String], keys: &[String]) -> Result<(), Ec2Error> {
        self.inner.delete_tags(ids, keys).await
    }
}

#[tokio::test]
async fn a_failed_batch_is_retried_per_instance_so_one_bad_instance_blocks_nothing() {
    let ec2 = OneBadInstance {
        inner: InMemoryEc2::new(fleet(5, Stopped, "08:00-19:15"), 1000),
        bad: "i-00002",
    };
    let s = scheduler(ec2, Settings::default());
    let report = s.run(at(MONDAY_0800), None, None).await.unwrap();
    assert_eq!(report.counts.start, 4);
    assert_eq!(report.counts.failed, 1);
    let bad = report
        .actions
        .iter()
        .find(|r| r.instance_id == "i-00002")
        .unwrap();
    assert!(
        matches!(&bad.outcome, Outcome::Failed { code, transient: false, .. } if code == "IncorrectInstanceState")
    );
    for id in ["i-00000", "i-00001", "i-00003", "i-00004"] {
        assert_eq!(s.ec2.inner.instance(id).unwrap().state, Running, "{id}");
    }
    // a permanent per-instance failure does not hold the window back
    assert!(report.complete);
    assert_eq!(s.state.get(), Some(at(MONDAY_0800)));
}

#[tokio::test]
async fn throttled_starts_become_pending_and_the_window_advances() {
    let ec2 = InMemoryEc2::new(fleet(3, Stopped, "08:00-19:15"), 1000);
    ec2.throttle_next_writes(1);
    let s = scheduler(ec2, Settings::default());
    let report = s.run(at(MONDAY_0800), None, None).await.unwrap();
    // The run succeeds (Lambda does not retry it): its shortfall is pending, and reported.
    assert!(report.complete && !report.has_transient_failures());
    assert_eq!((report.counts.failed, report.counts.pending), (3, 3));
    assert!(report.has_news());
    assert!(
        report.to_text().contains(
            "PENDING start (due 2026-11-23T08:00:00Z), retried until 2026-11-23T09:00:00Z"
        ),
        "{}",
        report.to_text()
    );
    // no per-instance retry on throttling: that would multiply the load
    assert_eq!(s.ec2.calls().change_state, 1);
    assert_eq!(s.state.get(), Some(at(MONDAY_0800)), "the window advances");
    // The next run retries the pending starts, though 08:00 is outside its window.
    let next = s.run(at("2026-11-23T08:10:00Z"), None, None).await.unwrap();
    assert_eq!((next.counts.start, next.counts.pending), (3, 0));
    assert_eq!(s.ec2.instance("i-00002").unwrap().state, Running);
    assert!(
        s.state.all_notes().is_empty(),
        "done: nothing left to remember"
    );
}

#[tokio::test]
async fn termination_protection_is_reported_not_fatal() {
    let mut instances = fleet(3, Running, "-08:00T");
    instances[1].termination_protected = true;
    let ec2 = InMemoryEc2::new(instances, 1000);
    let s = scheduler(ec2, Settings::default());
    let report = s.run(at(MONDAY_0800), None, None).await.unwrap();
    assert!(report.complete);
    assert_eq!((report.counts.terminate, report.counts.protected), (2, 1));
    assert_eq!(s.ec2.instance("i-00001").unwrap().state, Running);
    assert_eq!(s.ec2.instance("i-00000").unwrap().state, Terminated);
    assert!(report
        .to_text()
        .contains("protected: The instance 'i-00001' may not be terminated"));
    // the one-off is consumed either way, so it does not fail again tomorrow
    assert_eq!(
        s.ec2.instance("i-00001").unwrap().tags["Schedule"],
        "#-08:00T"
    );
}

#[tokio::test]
async fn terminations_beyond_the_cap_are_held_with_their_tags() {
    let ec2 = InMemoryEc2::new(fleet(5, Running, "-08:00T"), 1000);
    let s = scheduler(
        ec2,
        Settings {
            max_terminations_per_run: 2,
            ..Settings::default()
        },
    );
    let report = s.run(at(MONDAY_0800), None, None).await.unwrap();
    assert_eq!((report.counts.terminate, report.counts.held), (2, 3));
    let terminated = (0..5)
        .filter(|i| s.ec2.instance(&format!("i-{i:05}")).unwrap().state == Terminated)
        .count();
    assert_eq!(terminated, 2);
    assert_eq!(
        s.ec2.instance("i-00004").unwrap().tags["Schedule"],
        "-08:00T"
    );
    assert_eq!(
        s.ec2.instance("i-00000").unwrap().tags["Schedule"],
        "#-08:00T"
    );
}

/// A clock that moves one second every time it is read.
struct TickingClock(AtomicI64);

impl Clock for TickingClock {
    fn now(&self) -> DateTime<Utc> {
        at(MONDAY_0800) + Duration::seconds(self.0.fetch_add(1, Ordering::SeqCst))
    }
}

#[tokio::test]
async fn stops_before_the_deadline_with_a_partial_report() {
    let ec2 = InMemoryEc2::new(fleet(450, Stopped, "08:00-19:15"), 1000);
    let s = Scheduler {
        ec2,
        state: MemoryState::default(),
        clock: TickingClock(AtomicI64::new(0)),
        settings: Settings {
            deadline_margin: Duration::seconds(10),
            ..Settings::default()
        },
    };
    // reads: the run's clock at +0, describe at +1, batches at +2, +3, then +4 is within the
    // margin of +14
    let deadline = at(MONDAY_0800) + Duration::seconds(14);
    let report = s.run(at(MONDAY_0800), None, Some(deadline)).await.unwrap();
    assert_eq!(report.counts.start, 200);
    assert_eq!(report.counts.not_attempted, 250);
    assert_eq!(s.ec2.calls().change_state, 2);
    assert_eq!(s.ec2.instance("i-00449").unwrap().state, Stopped);
    // Every instance was decided: the ones not reached are pending actions of their own, and
    // the window moves on.
    assert_eq!(report.counts.pending, 250);
    assert_eq!(s.state.all_notes().len(), 250);
    assert_eq!(s.state.get(), Some(at(MONDAY_0800)));
}

#[tokio::test]
async fn a_listing_cut_short_by_the_deadline_leaves_the_window_open() {
    let ec2 = InMemoryEc2::new(fleet(450, Stopped, "08:00-19:15"), 100);
    let s = Scheduler {
        ec2,
        state: MemoryState::default(),
        clock: TickingClock(AtomicI64::new(0)),
        settings: Settings::default(),
    };
    // reads: the run's clock at +0, pages at +1, +2, then +3 is within the margin of +13
    let deadline = at(MONDAY_0800) + Duration::seconds(13);
    let report = s.run(at(MONDAY_0800), None, Some(deadline)).await.unwrap();
    assert!(!report.complete);
    assert_eq!(report.stopped_early, Some("deadline"));
    assert_eq!(s.ec2.calls().describe, 2);
    assert_eq!(
        s.ec2.calls().change_state,
        0,
        "nothing acted on half a fleet"
    );
    assert_eq!(s.state.get(), None, "the next run covers this window again");
    assert!(report.to_text().contains("INCOMPLETE"));
}

#[tokio::test]
async fn the_window_starts_at_the_last_successful_run() {
    let ec2 = InMemoryEc2::new(fleet(1, Running, "08:00-19:15"), 1000);
    let s = Scheduler {
        ec2,
        state: MemoryState::with_last_run(Some(at("2026-11-23T08:00:00Z"))),
        clock: FixedClock::at(at("2026-11-23T20:00:00Z")),
        settings: Settings::default(),
    };
    // ticks from 08:10 to 19:50 were missed: the 19:15 stop is caught up
    let report = s.run(at("2026-11-23T20:00:00Z"), None, None).await.unwrap();
    assert_eq!(report.window.last_run, at("2026-11-23T08:00:00Z"));
    assert_eq!(report.counts.stop, 1);
    // a replayed older event does not move the mark backwards
    s.run(at("2026-11-23T10:00:00Z"), None, None).await.unwrap();
    assert_eq!(s.state.get(), Some(at("2026-11-23T20:00:00Z")));
}

#[tokio::test]
async fn manual_changes_between_instants_are_respected() {
    // someone started the instance by hand at 21:00; the next run (21:10) must not stop it
    let ec2 = InMemoryEc2::new(fleet(1, Running, "08:00-19:15"), 1000);
    let s = Scheduler {
        ec2,
        state: MemoryState::with_last_run(Some(at("2026-11-23T21:00:00Z"))),
        clock: FixedClock::at(at("2026-11-23T21:10:00Z")),
        settings: Settings::default(),
    };
    let report = s.run(at("2026-11-23T21:10:00Z"), None, None).await.unwrap();
    assert_eq!(report.counts.stop, 0);
    assert_eq!(s.ec2.instance("i-00000").unwrap().state, Running);
}

#[tokio::test]
async fn dry_run_plans_everything_and_changes_nothing() {
    let mut instances = fleet(3, Stopped, "08:00-19:15");
    instances.push(FakeInstance::new(
        "i-bad",
        Running,
        &[("Schedule", "whenever")],
    ));
    let ec2 = InMemoryEc2::new(instances, 1000);
    let s = scheduler(
        ec2,
        Settings {
            dry_run: true,
            ..Settings::default()
        },
    );
    let report = s.run(at(MONDAY_0800), None, None).await.unwrap();
    assert_eq!(
        (
            report.counts.start,
            report.counts.invalid,
            report.counts.tags_rewritten
        ),
        (3, 1, 1)
    );
    assert!(report.actions.iter().all(|r| r.outcome == Outcome::Planned));
    assert_eq!(s.ec2.calls().change_state + s.ec2.calls().create_tags, 0);
    assert_eq!(
        s.ec2.instance("i-bad").unwrap().tags["Schedule"],
        "whenever"
    );
    assert_eq!(s.state.get(), None);
}

#[tokio::test]
async fn identical_rewrites_share_one_create_tags_call() {
    let mut instances = fleet(30, Running, "9 to 5");
    instances.push(FakeInstance::new(
        "i-other",
        Running,
        &[("Schedule", "always")],
    ));
    let ec2 = InMemoryEc2::new(instances, 1000);
    let s = scheduler(ec2, Settings::default());
    let report = s.run(at(MONDAY_0800), None, None).await.unwrap();
    assert_eq!(report.counts.invalid, 31);
    assert_eq!(s.ec2.calls().create_tags, 2);
    let tags = s.ec2.instance("i-00007").unwrap().tags;
    assert_eq!(tags["Schedule"], "#9 to 5");
    assert!(tags["ScheduleError"].starts_with("invalid Schedule tag"));
}
