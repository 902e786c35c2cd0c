//! Nothing happens that the owner did not ask for (issue 11, points 8 and 9): the policy stops an
//! untagged instance only if it is still untagged and in the state it was listed in, gives an
//! instance whose launch time is unknown its grace period from its first sighting, shares
//! MaxEnforcementsPerRun among Lambda's retries of one event, reports once per event, and never
//! runs while another run holds the lease.

use chrono::{DateTime, Duration, Utc};
use fleet_core::ledger::EventLedger;
use fleet_core::{ErrorClass, EventHandler, FixedClock, Outage, RecordingNotifier};
use fleet_ec2::{
    CallCounts, Ec2Error, Ec2Port, FakeInstance, InMemoryEc2, InstancePage, InstanceQuery,
    InstanceState, StateChange,
};
use fleet_testkit::load_event;
use lambda_runtime::LambdaEvent;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use tagging_policy::memory::{FakeLookup, MemoryPolicyState, MemoryRules};
use tagging_policy::rules::seed_rows;
use tagging_policy::{App, Engine, Settings, Trigger};
use InstanceState::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

const NOW: &str = "2026-11-23T09:00:00Z";

/// The in-memory EC2, where `after_listing` happens to the fleet right after the first
/// DescribeInstances (while CloudTrail lookups would run).
struct ChangesAfterListing<F: Fn(&InMemoryEc2) + Send + Sync> {
    inner: InMemoryEc2,
    describes: AtomicUsize,
    after_listing: F,
}

impl<F: Fn(&InMemoryEc2) + Send + Sync> Ec2Port for ChangesAfterListing<F> {
    async fn describe_page(
        &self,
        query: &InstanceQuery,
        token: Option<String>,
    ) -> Result<InstancePage, Ec2Error> {
        if self.describes.fetch_add(1, Ordering::SeqCst) == 1 {
            (self.after_listing)(&self.inner);
        }
        self.inner.describe_page(query, token).await
    }
    async fn change_state(&self, change: StateChange, ids: &[String]) -> Result<(), Ec2Error> {
        self.inner.change_state(change, ids).await
    }
    async fn create_tags(&self, ids: &[String], tags: &[(String, String)]) -> Result<(), Ec2Error> {
        self.inner.create_tags(ids, tags).await
    }
    async fn delete_tags(&self, ids: &[String], keys: &[String]) -> Result<(), Ec2Error> {
        self.inner.delete_tags(ids, keys).await
    }
}

fn untagged(id: &str, state: InstanceState) -> FakeInstance {
    FakeInstance::new(id, state, &[]).launched(at(NOW) - Duration::days(1))
}

fn engine<E: Ec2Port>(
    ec2: E,
    settings: Settings,
) -> Engine<E, MemoryRules, FakeLookup, FixedClock, MemoryPolicyState> {
    Engine {
        ec2,
        rules: MemoryRules(seed_rows()),
        lookup: FakeLookup::default(),
        clock: FixedClock::at(at(NOW)),
        state: MemoryPolicyState::default(),
        settings,
    }
}

#[tokio::test]
async fn only_instances_still_untagged_and_unchanged_are_stopped() {
    let ec2 = ChangesAfterListing {
        inner: InMemoryEc2::new(
            [
                untagged("i-tagged-meanwhile", Running),
                untagged("i-stopped-meanwhile", Running),
                untagged("i-gone", Running),
                untagged("i-still-bare", Running),
            ],
            1000,
        ),
        describes: AtomicUsize::new(0),
        after_listing: |ec2: &InMemoryEc2| {
            let mut i = ec2.instance("i-tagged-meanwhile").unwrap();
            i.tags.insert("ProjectCode".into(), "Proj007".into());
            ec2.insert(i);
            let mut i = ec2.instance("i-stopped-meanwhile").unwrap();
            i.state = Stopped;
            ec2.insert(i);
            let mut i = ec2.instance("i-gone").unwrap();
            i.state = Terminated;
            ec2.insert(i);
        },
    };
    let e = engine(ec2, Settings::default());
    let report = e.run(&Trigger::Sweep, None).await.unwrap();
    let state = |id: &str| e.ec2.inner.instance(id).unwrap().state;
    assert_eq!(state("i-still-bare"), Stopped);
    assert_eq!(
        state("i-tagged-meanwhile"),
        Running,
        "tagged since: left alone"
    );
    assert_eq!(report.counts.stopped, 1);
    let note = |id: &str| {
        report
            .instances
            .iter()
            .find(|r| r.instance_id == id)
            .and_then(|r| r.untagged.as_ref())
            .map(|e| e.note.clone())
            .unwrap()
    };
    assert_eq!(
        note("i-tagged-meanwhile"),
        "tagged since it was listed: left alone"
    );
    assert_eq!(
        note("i-stopped-meanwhile"),
        "stopped since it was listed as running: left alone"
    );
    assert_eq!(note("i-gone"), "gone since it was listed: left alone");
    assert_eq!(
        report.ec2_calls,
        CallCounts {
            describe: 2,
            change_state: 1,
            ..CallCounts::default()
        },
        "one listing, one re-read of the batch, one StopInstances"
    );
}

#[tokio::test]
async fn an_unknown_launch_time_gets_its_grace_from_the_first_sighting() {
    let e = engine(
        InMemoryEc2::new([FakeInstance::new("i-no-launch-time", Running, &[])], 1000),
        Settings {
            grace: Duration::minutes(15),
            ..Settings::default()
        },
    );
    for minutes in [0, 10, 14] {
        e.clock.set(at(NOW) + Duration::minutes(minutes));
        let report = e.run(&Trigger::Sweep, None).await.unwrap();
        assert_eq!(report.counts.in_grace, 1, "+{minutes} min");
    }
    assert_eq!(
        e.state.sightings()["i-no-launch-time"],
        at(NOW),
        "first sighting kept"
    );
    assert_eq!(e.ec2.instance("i-no-launch-time").unwrap().state, Running);
    e.clock.set(at(NOW) + Duration::minutes(15));
    e.run(&Trigger::Sweep, None).await.unwrap();
    assert_eq!(e.ec2.instance("i-no-launch-time").unwrap().state, Stopped);
}

fn sweep_event(id: &str) -> LambdaEvent<serde_json::Value> {
    let mut event = load_event("tagging-policy/01-scheduled-sweep.json");
    event["id"] = json!(id);
    LambdaEvent::new(event, lambda_runtime::Context::default())
}

type TestApp = App<
    InMemoryEc2,
    MemoryRules,
    FakeLookup,
    FixedClock,
    MemoryPolicyState,
    Outage<RecordingNotifier>,
>;

fn app(instances: usize, max: usize, outage: usize) -> TestApp {
    App {
        engine: engine(
            InMemoryEc2::new(
                (0..instances).map(|i| untagged(&format!("i-{i}"), Running)),
                1000,
            ),
            Settings {
                max_enforcements_per_run: max,
                ..Settings::default()
            },
        ),
        notifier: Some(Outage {
            inner: RecordingNotifier::default(),
            failures: AtomicUsize::new(outage),
        }),
    }
}

fn stopped(app: &TestApp, n: usize) -> usize {
    (0..n)
        .filter(|i| app.engine.ec2.instance(&format!("i-{i}")).unwrap().state == Stopped)
        .count()
}

#[tokio::test]
async fn a_retried_event_shares_its_enforcements_and_reports_once() {
    let app = app(3, 1, 1);
    let failed = app.handle(sweep_event("sweep-0900")).await.unwrap_err();
    assert_eq!(failed.class, ErrorClass::Unavailable, "SNS was down");
    assert_eq!(stopped(&app, 3), 1);
    for retry in 1..=2 {
        app.handle(sweep_event("sweep-0900")).await.unwrap();
        assert_eq!(
            stopped(&app, 3),
            1,
            "retry {retry} stays within the event's cap"
        );
        let sent = app.notifier.as_ref().unwrap().inner.sent();
        assert_eq!(sent.len(), 1, "retry {retry}: one report per event");
        assert!(sent[0].1.contains("stopped 1"), "{}", sent[0].1);
    }
    // The next sweep is another event, with a cap of its own.
    app.handle(sweep_event("sweep-1000")).await.unwrap();
    assert_eq!(stopped(&app, 3), 2);
    assert_eq!(app.notifier.as_ref().unwrap().inner.sent().len(), 2);
}

#[tokio::test]
async fn a_run_while_another_holds_the_lease_changes_nothing() {
    let app = app(1, 10, 0);
    let ledger = &app.engine.state.ledger;
    assert!(ledger
        .acquire_lease("sweep-other", at(NOW), at(NOW) + Duration::minutes(5))
        .await
        .unwrap());
    let err = app.handle(sweep_event("sweep-0900")).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Conflict);
    assert_eq!(app.engine.ec2.calls().describe, 0);
    assert_eq!(stopped(&app, 1), 0);
    // Once that lease has run out, the retry runs.
    app.engine.clock.set(at(NOW) + Duration::minutes(6));
    app.handle(sweep_event("sweep-0900")).await.unwrap();
    assert_eq!(stopped(&app, 1), 1);
    assert_eq!(ledger.lease(), None, "released after the run");
}
