//! Emulator tests: the real scheduler handler, wired to real SDK clients, run on the sample events
//! in `events/ec2-scheduler/` against a private moto server holding 60 instances.
//!
//! moto makes state changes instantly and is laxer than EC2 about some states (see
//! shared/docs/aws-notes.md), so batch-failure and throttling behaviour is tested in the crate's
//! adapter tests instead; here we check the whole flow end to end.

use ec2_scheduler::config::Config;
use ec2_scheduler::{wire, Settings};
use fleet_core::Env;
use fleet_core::EventHandler;
use fleet_testkit::seed::{
    context_with_deadline_after, create_fleet, create_state_table, create_topic, instances,
    SeedInstance, EXAMPLE_FLEET,
};
use fleet_testkit::{event_files, load_event, Moto};
use lambda_runtime::LambdaEvent;
use std::collections::BTreeMap;

const TABLE: &str = "fleet-scheduler-state";

struct Fixture {
    moto: Moto,
    ec2: aws_sdk_ec2::Client,
    ddb: aws_sdk_dynamodb::Client,
    topic_arn: String,
    ids: BTreeMap<String, String>,
}

fn bulk() -> Vec<SeedInstance> {
    // Leaked once per test process: the names must be 'static like the example fleet's.
    (0..40)
        .map(|i| SeedInstance {
            name: Box::leak(format!("bulk-{i:02}").into_boxed_str()),
            schedule: "08:00-19:15",
            running: false,
            termination_protected: false,
        })
        .collect()
}

async fn fixture() -> Fixture {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let mut fleet = EXAMPLE_FLEET.to_vec();
    fleet.extend(bulk());
    let ids = create_fleet(&ec2, &fleet).await;
    create_state_table(&ddb, TABLE).await;
    let topic_arn = create_topic(&sdk, "scheduler-reports").await;
    Fixture {
        moto,
        ec2,
        ddb,
        topic_arn,
        ids,
    }
}

fn config(topic_arn: &str, dry_run: bool) -> Config {
    Config {
        state_table: TABLE.to_owned(),
        report_topic_arn: Some(topic_arn.to_owned()),
        settings: Settings {
            dry_run,
            max_terminations_per_run: 2,
            ..Settings::default()
        },
    }
}

impl Fixture {
    async fn states(&self) -> BTreeMap<String, (String, BTreeMap<String, String>)> {
        let by_id = instances(&self.ec2).await;
        self.ids
            .iter()
            .map(|(name, id)| (name.clone(), by_id[id].clone()))
            .collect()
    }

    /// Every item of the state table (last run, notes, event records, lease), by `Id`.
    async fn state_table(
        &self,
    ) -> BTreeMap<String, std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>
    {
        fleet_testkit::seed::table_items(&self.ddb, TABLE, "Id").await
    }

    async fn last_run(&self) -> Option<String> {
        let item = self
            .ddb
            .get_item()
            .table_name(TABLE)
            .key(
                "Id",
                aws_sdk_dynamodb::types::AttributeValue::S("ec2-scheduler".into()),
            )
            .send()
            .await
            .unwrap();
        item.item()
            .and_then(|i| i.get("LastSuccessfulRun"))
            .and_then(|v| v.as_s().ok())
            .cloned()
    }
}

/// The `time` of a sample event.
fn event_time(file: &str) -> chrono::DateTime<chrono::Utc> {
    load_event(file)["time"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{file}: no time"))
}

fn state_of<'a>(
    states: &'a BTreeMap<String, (String, BTreeMap<String, String>)>,
    name: &str,
) -> &'a str {
    &states[name].0
}

fn tag_of<'a>(
    states: &'a BTreeMap<String, (String, BTreeMap<String, String>)>,
    name: &str,
    key: &str,
) -> Option<&'a str> {
    states[name].1.get(key).map(String::as_str)
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduler_runs_the_sample_events_against_the_stand_in() {
    let f = fixture().await;
    // The function's clock stands at each event's instant, as EventBridge would deliver it.
    let (env, clock) = Env::fixed(event_time("ec2-scheduler/01-monday-0800.json"));
    let app = wire(&f.moto.sdk_config(), config(&f.topic_arn, false), env)
        .await
        .unwrap();
    let files = event_files("ec2-scheduler");
    assert_eq!(files.len(), 3, "{files:?}");

    let mut reports = Vec::new();
    for file in &files {
        let event = load_event(file);
        clock.set(event_time(file));
        let report = app
            .handle(LambdaEvent::new(
                event.clone(),
                context_with_deadline_after(event_time(file), 120),
            ))
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(report.complete, "{file}: {report:?}");
        assert_eq!(
            f.last_run().await.as_deref(),
            Some(&event["time"].as_str().unwrap().replace('Z', ".000Z")[..]),
            "{file}"
        );
        let s = f.states().await;
        match file.as_str() {
            "ec2-scheduler/01-monday-0800.json" => {
                assert_eq!(report.instances_seen, 60);
                assert_eq!(
                    report.counts.start, 42,
                    "web-1, office-weekdays and 40 bulk"
                );
                assert_eq!(report.ec2_calls.describe, 1);
                for name in [
                    "web-1",
                    "web-2",
                    "office-weekdays",
                    "bulk-00",
                    "bulk-39",
                    "build-agent",
                    "typo-box",
                ] {
                    assert_eq!(state_of(&s, name), "running", "{name}");
                }
                for name in [
                    "office-ams",
                    "weekend-lab",
                    "bad-hour",
                    "paused",
                    "ny-desk",
                    "demo-box",
                ] {
                    assert_eq!(state_of(&s, name), "stopped", "{name}");
                }
                // one-off stop carried out and consumed
                assert_eq!(tag_of(&s, "demo-box", "Schedule"), Some("#-08:00"));
                // invalid values commented, with the reason
                assert_eq!(tag_of(&s, "typo-box", "Schedule"), Some("#9to5"));
                assert!(tag_of(&s, "typo-box", "ScheduleError")
                    .unwrap()
                    .contains("expected HH:MM-HH:MM"));
                assert_eq!(tag_of(&s, "bad-hour", "Schedule"), Some("#25:00-08:00"));
                assert!(tag_of(&s, "bad-hour", "ScheduleError")
                    .unwrap()
                    .contains("25:00"));
                assert_eq!(tag_of(&s, "paused", "Schedule"), Some("#08:00-19:15"));
                assert_eq!(tag_of(&s, "paused", "ScheduleError"), None);
                // three terminations due, at most two per run; prod-db is protected and survives
                assert_eq!(report.counts.held, 1);
                assert_eq!(report.counts.terminate + report.counts.protected, 2);
                assert_ne!(state_of(&s, "prod-db"), "terminated");
                let held: Vec<_> = ["temp-worker", "prod-db", "spare-worker"]
                    .into_iter()
                    .filter(|n| tag_of(&s, n, "Schedule") == Some("-08:00T"))
                    .collect();
                assert_eq!(
                    held.len(),
                    1,
                    "exactly one termination is held with its tag kept"
                );
            }
            "ec2-scheduler/02-monday-1920.json" => {
                // window 08:00–19:20: the missed ticks in between are caught up
                for name in [
                    "web-1",
                    "web-2",
                    "office-weekdays",
                    "bulk-00",
                    "bulk-39",
                    "early-bird",
                    "evening-stop",
                ] {
                    assert_eq!(state_of(&s, name), "stopped", "{name}");
                }
                for name in ["late-shift", "ny-desk", "build-agent"] {
                    assert_eq!(state_of(&s, name), "running", "{name}");
                }
                assert_eq!(tag_of(&s, "evening-stop", "Schedule"), Some("#-19:15"));
                assert_eq!(report.counts.start, 2);
            }
            "ec2-scheduler/03-tuesday-0750.json" => {
                // overnight: build-agent's 21:00 start and 07:45 stop both fall in the window; the latest wins
                for name in [
                    "build-agent",
                    "late-shift",
                    "ny-desk",
                    "midnight-batch",
                    "web-1",
                ] {
                    assert_eq!(state_of(&s, name), "stopped", "{name}");
                }
                for name in ["office-ams", "early-bird", "tokyo-desk"] {
                    assert_eq!(state_of(&s, name), "running", "{name}");
                }
            }
            other => panic!("no expectations for {other}"),
        }
        reports.push(report);
    }

    // one report per run, published to the topic
    let messages = f.moto.sns_messages();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages.iter().all(|m| m.topic_arn == f.topic_arn));
    assert_eq!(messages[0].subject.as_deref(), Some("EC2 scheduler report"));
    let first = &messages[0].message;
    assert!(
        first.contains("Instances with a Schedule tag: 60"),
        "{first}"
    );
    assert!(first.contains("Started 42"), "{first}");
    let web1 = &f.ids["web-1"];
    assert!(
        first.lines().any(|l| l.starts_with(web1.as_str())
            && l.contains("(\"web-1\")")
            && l.contains(": start — done")),
        "{first}"
    );
    assert!(
        first
            .lines()
            .any(|l| l.contains("(\"typo-box\")") && l.contains("becomes \"#9to5\"")),
        "{first}"
    );
    assert!(reports[0].instance_hours_saved_per_day > 40.0 * 12.75);
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_changes_nothing_but_reports_the_plan() {
    let f = fixture().await;
    let before = f.states().await;
    let monday = event_time("ec2-scheduler/01-monday-0800.json");
    let (env, _clock) = Env::fixed(monday);
    let app = wire(&f.moto.sdk_config(), config(&f.topic_arn, true), env)
        .await
        .unwrap();
    let event = load_event("ec2-scheduler/01-monday-0800.json");
    let report = app
        .handle(LambdaEvent::new(
            event,
            context_with_deadline_after(monday, 120),
        ))
        .await
        .unwrap();
    assert!(report.dry_run);
    assert_eq!(report.counts.start, 42);
    assert_eq!(
        report.ec2_calls.change_state + report.ec2_calls.create_tags,
        0
    );
    assert_eq!(
        f.states().await,
        before,
        "a dry run must not change instances or tags"
    );
    assert_eq!(
        f.last_run().await,
        None,
        "a dry run must not advance the state table"
    );
    let messages = f.moto.sns_messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].subject.as_deref(),
        Some("EC2 scheduler report (dry run)")
    );
    assert!(messages[0].message.contains("DRY RUN"));
    assert!(messages[0].message.contains(": start — planned"));
}

/// EventBridge delivers at least once and Lambda retries: the same scheduled event run twice
/// changes instances, tags and the state table once and publishes one report.
#[tokio::test(flavor = "multi_thread")]
async fn the_same_scheduled_event_twice_has_the_effect_of_one_run() {
    let f = fixture().await;
    let (env, clock) = Env::fixed(event_time("ec2-scheduler/01-monday-0800.json"));
    let app = wire(&f.moto.sdk_config(), config(&f.topic_arn, false), env)
        .await
        .unwrap();
    let files = [
        "ec2-scheduler/01-monday-0800.json",
        "ec2-scheduler/02-monday-1920.json",
    ];
    for (n, file) in files.into_iter().enumerate() {
        let event = load_event(file);
        let at = event_time(file);
        clock.set(at);
        let invoke = || {
            app.handle(LambdaEvent::new(
                event.clone(),
                context_with_deadline_after(at, 120),
            ))
        };
        let first = invoke().await.unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(first.complete, "{file}: {first:?}");
        assert!(
            first.ec2_calls.change_state > 0 && first.counts.start + first.counts.stop > 0,
            "{file}: the first run starts and stops instances: {first:?}"
        );
        let instances_after_first = f.states().await;
        let table_after_first = f.state_table().await;
        let event_key = format!("ec2-scheduler#event#{}", event["id"].as_str().unwrap());
        assert!(
            table_after_first.contains_key(&event_key),
            "{file}: the event's record: {table_after_first:#?}"
        );
        assert_eq!(f.moto.sns_messages().len(), n + 1, "{file}");

        f.moto.start_recording();
        let second = invoke()
            .await
            .unwrap_or_else(|e| panic!("{file} again: {e}"));
        let operations = f.moto.recorded_operations();
        assert!(second.complete, "{file}: {second:?}");
        assert_eq!(
            second.ec2_calls,
            fleet_ec2::CallCounts {
                describe: 1,
                ..Default::default()
            },
            "{file}: the repeat only lists the instances"
        );
        assert_eq!(
            (
                second.counts.start,
                second.counts.stop,
                second.counts.terminate,
                second.counts.tags_rewritten,
                second.counts.protected,
                second.counts.failed,
            ),
            (0, 0, 0, 0, 0, 0),
            "{file}: {second:?}"
        );
        assert!(
            operations.iter().any(|o| o == "DescribeInstances"),
            "{file}: the recorder saw the repeat: {operations:?}"
        );
        for write in [
            "StartInstances",
            "StopInstances",
            "TerminateInstances",
            "CreateTags",
            "DeleteTags",
            "Publish",
        ] {
            assert!(
                !operations.iter().any(|o| o == write),
                "{file}: the repeat called {write}: {operations:?}"
            );
        }
        assert_eq!(
            f.states().await,
            instances_after_first,
            "{file}: states and tags as after the first run"
        );
        assert_eq!(
            f.state_table().await,
            table_after_first,
            "{file}: the state table as after the first run"
        );
        let messages = f.moto.sns_messages();
        assert_eq!(
            messages.len(),
            n + 1,
            "{file}: one report for the event: {messages:#?}"
        );
        assert!(
            messages[n].message.contains(": start — done")
                || messages[n].message.contains(": stop — done"),
            "{file}: {}",
            messages[n].message
        );
    }
}
