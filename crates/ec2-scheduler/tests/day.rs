//! A Monday in the local stand-in (issue 11): the real handler, DynamoDB state table and SNS
//! topic on moto, with faults injected at the ports where moto cannot produce them (a transient
//! EC2 failure, an instance still `pending`, an SNS outage). It proves that a manual stop made
//! after a transient failure is not undone, that `-18:30T` set at 18:35 never terminates, that a
//! one-off waits for a booting instance and is carried out within the TTL, and that Lambda's
//! retries of one event neither exceed its termination cap nor send a second report.

use chrono::{DateTime, Utc};
use ec2_scheduler::aws::{AwsEc2, DynamoState};
use ec2_scheduler::ports::{
    Ec2Error, Ec2ErrorKind, Ec2Port, InstancePage, InstanceQuery, StateChange,
};
use ec2_scheduler::{App, InstanceState, Scheduler, Settings};
use fleet_core::{Clock, ErrorClass, EventHandler, FixedClock, Outage, SnsNotifier};
use fleet_testkit::seed::{
    context_with_deadline_after, create_fleet, create_state_table, create_topic, instances,
    SeedInstance,
};
use fleet_testkit::{load_event, Moto};
use lambda_runtime::LambdaEvent;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const TABLE: &str = "day-state";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The real EC2 adapter, except: StartInstances of `flaky` fails as EC2's 503 before
/// `flaky_until`, and `booting` is listed as `pending` before `booted_at`.
struct FaultyEc2 {
    inner: AwsEc2,
    clock: Arc<FixedClock>,
    flaky: String,
    flaky_until: DateTime<Utc>,
    booting: String,
    booted_at: DateTime<Utc>,
}

impl Ec2Port for FaultyEc2 {
    async fn describe_page(
        &self,
        query: &InstanceQuery,
        token: Option<String>,
    ) -> Result<InstancePage, Ec2Error> {
        let mut page = self.inner.describe_page(query, token).await?;
        if self.clock.now() < self.booted_at {
            for i in page.instances.iter_mut().filter(|i| i.id == self.booting) {
                i.state = InstanceState::Pending;
            }
        }
        Ok(page)
    }

    async fn change_state(&self, change: StateChange, ids: &[String]) -> Result<(), Ec2Error> {
        if change == StateChange::Start
            && ids.contains(&self.flaky)
            && self.clock.now() < self.flaky_until
        {
            return Err(Ec2Error::new(
                Ec2ErrorKind::Unavailable,
                "Unavailable",
                "injected: the service is unavailable",
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

fn seed(name: &'static str, schedule: &'static str, running: bool) -> SeedInstance {
    SeedInstance {
        name,
        schedule,
        running,
        termination_protected: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_day_in_the_stand_in() {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let ids = create_fleet(
        &ec2,
        &[
            seed("office-a", "08:00-19:15", false),
            seed("office-b", "08:00-19:15", false),
            seed("booting", "-12:00", true),
            seed("temp-1", "-12:00T", true),
            seed("temp-2", "-12:00T", true),
            seed("temp-3", "-12:00T", true),
            seed("late-tag", "#not yet", true),
        ],
    )
    .await;
    create_state_table(&ddb, TABLE).await;
    let topic = create_topic(&sdk, "day-reports").await;
    let clock = Arc::new(FixedClock::at(at("2026-11-23T07:50:00Z")));
    let app = App {
        scheduler: Scheduler {
            ec2: FaultyEc2 {
                inner: AwsEc2::from_sdk(&sdk),
                clock: clock.clone(),
                flaky: ids["office-a"].clone(),
                flaky_until: at("2026-11-23T09:30:00Z"),
                booting: ids["booting"].clone(),
                booted_at: at("2026-11-23T12:05:00Z"),
            },
            state: DynamoState::from_sdk(&sdk, TABLE),
            clock: clock.clone(),
            settings: Settings {
                max_terminations_per_run: 1,
                // One instance per call, so office-a's failure is its own.
                batch_size: 1,
                ..Settings::default()
            },
        },
        notifier: Some(Outage {
            inner: SnsNotifier::new(fleet_core::aws::SnsClient::new(&sdk), topic.clone()),
            failures: AtomicUsize::new(0),
        }),
    };
    let run = |id: &'static str, time: &'static str| {
        let app = &app;
        let clock = &clock;
        async move {
            clock.set(at(time) + chrono::Duration::seconds(5));
            let mut event = load_event("ec2-scheduler/01-monday-0800.json");
            event["id"] = json!(id);
            event["time"] = json!(time);
            app.handle(LambdaEvent::new(
                event,
                context_with_deadline_after(at(time), 120),
            ))
            .await
        }
    };
    let state = |by_id: &BTreeMap<String, (String, BTreeMap<String, String>)>, name: &str| {
        by_id[&ids[name]].0.clone()
    };
    let tag = |by_id: &BTreeMap<String, (String, BTreeMap<String, String>)>,
               name: &str,
               key: &str| by_id[&ids[name]].1.get(key).cloned();

    // 08:00: office-a's start fails transiently and becomes pending; office-b starts. The run
    // succeeds (no Lambda retry) and the window advances.
    let r = run("evt-0800", "2026-11-23T08:00:00Z").await.unwrap();
    assert!(r.complete);
    assert_eq!((r.counts.start, r.counts.pending), (1, 1));
    let s = instances(&ec2).await;
    assert_eq!(
        (state(&s, "office-a"), state(&s, "office-b")),
        ("stopped".into(), "running".into())
    );
    run("evt-0810", "2026-11-23T08:10:00Z").await.unwrap();

    // 09:10: office-b's owner stops it by hand. The 09:20 run must not undo that, though
    // office-a's 08:00 start never went through (it expires at 09:00 and is reported).
    ec2.stop_instances()
        .instance_ids(&ids["office-b"])
        .send()
        .await
        .unwrap();
    let r = run("evt-0920", "2026-11-23T09:20:00Z").await.unwrap();
    assert_eq!(r.counts.start, 0);
    assert_eq!(r.counts.dropped, 1, "{}", r.window.now);
    let s = instances(&ec2).await;
    assert_eq!(state(&s, "office-b"), "stopped", "the manual stop stands");
    assert_eq!(state(&s, "office-a"), "stopped");

    // 12:00: three terminations due, one per event. SNS is down for the first attempt.
    app.notifier
        .as_ref()
        .unwrap()
        .failures
        .store(1, Ordering::SeqCst);
    let failed = run("evt-1200", "2026-11-23T12:00:00Z")
        .await
        .expect_err("the report could not be published: Lambda retries");
    assert_eq!(failed.class, ErrorClass::Unavailable);
    for retry in 1..=2 {
        run("evt-1200", "2026-11-23T12:00:00Z")
            .await
            .unwrap_or_else(|e| panic!("retry {retry}: {e:?}"));
    }
    let s = instances(&ec2).await;
    let terminated = |s: &BTreeMap<String, (String, BTreeMap<String, String>)>| {
        ["temp-1", "temp-2", "temp-3"]
            .into_iter()
            .filter(|n| state(s, n) == "terminated")
            .count()
    };
    assert_eq!(terminated(&s), 1, "the retries share the event's cap");
    // booting is still pending at 12:00: its one-off waits, tag kept.
    assert_eq!(state(&s, "booting"), "running");
    assert_eq!(tag(&s, "booting", "Schedule").as_deref(), Some("-12:00"));
    let noon_reports: Vec<_> = moto
        .sns_messages()
        .into_iter()
        .filter(|m| {
            m.message
                .starts_with("EC2 scheduler run at 2026-11-23T12:00:00Z")
        })
        .collect();
    assert_eq!(noon_reports.len(), 1, "{noon_reports:?}");
    assert!(noon_reports[0].message.contains("terminated 1"));
    assert!(noon_reports[0].message.contains("PENDING terminate"));

    // 12:10: booting is running now; its stop is carried out within the TTL. One more
    // termination under the new event's cap.
    run("evt-1210", "2026-11-23T12:10:00Z").await.unwrap();
    let s = instances(&ec2).await;
    assert_eq!(state(&s, "booting"), "stopped");
    assert_eq!(tag(&s, "booting", "Schedule").as_deref(), Some("#-12:00"));
    assert_eq!(terminated(&s), 2);

    // 18:30: the last held termination, pending since 12:00, is past its 60 minutes: dropped,
    // and its one-off consumed with a ScheduleError saying why.
    let r = run("evt-1830", "2026-11-23T18:30:00Z").await.unwrap();
    assert_eq!(r.counts.dropped, 1);
    let s = instances(&ec2).await;
    let survivor = ["temp-1", "temp-2", "temp-3"]
        .into_iter()
        .find(|n| state(&s, n) == "running")
        .unwrap();
    assert_eq!(tag(&s, survivor, "Schedule").as_deref(), Some("#-12:00T"));
    assert!(tag(&s, survivor, "ScheduleError")
        .unwrap()
        .contains("PendingActionTtlMinutes"));

    // 18:35: someone tags late-tag with -18:30T. The 18:40 run drops it: never terminated.
    ec2.create_tags()
        .resources(&ids["late-tag"])
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("Schedule")
                .value("-18:30T")
                .build(),
        )
        .send()
        .await
        .unwrap();
    run("evt-1840", "2026-11-23T18:40:00Z").await.unwrap();
    let s = instances(&ec2).await;
    assert_eq!(state(&s, "late-tag"), "running");
    assert_eq!(tag(&s, "late-tag", "Schedule").as_deref(), Some("#-18:30T"));
    assert!(tag(&s, "late-tag", "ScheduleError")
        .unwrap()
        .starts_with("dropped"));
    // Tuesday 18:40: neither the late tag nor the dropped termination comes back.
    run("evt-tue-1840", "2026-11-24T18:40:00Z").await.unwrap();
    let s = instances(&ec2).await;
    assert_eq!(state(&s, "late-tag"), "running");
    assert_eq!(terminated(&s), 2);
}
