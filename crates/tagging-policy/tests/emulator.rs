//! Emulator tests: the real tagging-policy handler, wired to real SDK clients for EC2, DynamoDB
//! and SNS, run on the sample events in `events/tagging-policy/` against a private moto server.
//!
//! CloudTrail LookupEvents does not exist in moto: the creator lookup is the in-memory fake here
//! (its adapter is tested with aws-smithy-mocks in the crate). moto launches every instance "now",
//! so the engine's clock stands an hour later, past every grace period.

use chrono::{Duration, Utc};
use fleet_core::EventHandler;
use fleet_core::{FixedClock, SnsNotifier};
use fleet_ec2::AwsEc2;
use fleet_testkit::seed::{
    context_with_deadline, create_rules_table, create_topic, instances, launch_instance,
};
use fleet_testkit::{load_event, Moto};
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use std::collections::BTreeMap;
use tagging_policy::aws::{DynamoPolicyState, DynamoRules};
use tagging_policy::memory::FakeLookup;
use tagging_policy::ports::RuleSource;
use tagging_policy::rules::{seed_rows, Policy};
use tagging_policy::{App, Engine, Report, Settings};

const RULES_TABLE: &str = "tagging-rules";
const STATE_TABLE: &str = "fleet-state";

type TestApp = App<AwsEc2, DynamoRules, FakeLookup, FixedClock, DynamoPolicyState, SnsNotifier>;

struct Fixture {
    moto: Moto,
    ec2: aws_sdk_ec2::Client,
    ddb: aws_sdk_dynamodb::Client,
    topic_arn: String,
    default_vpc: String,
}

async fn fixture() -> Fixture {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    create_rules_table(&ddb, RULES_TABLE).await;
    fleet_testkit::seed::create_state_table(&ddb, STATE_TABLE).await;
    let topic_arn = create_topic(&sdk, "tagging-reports").await;
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    let default_vpc = vpcs
        .vpcs()
        .iter()
        .find(|v| v.is_default() == Some(true))
        .and_then(|v| v.vpc_id())
        .unwrap()
        .to_owned();
    Fixture {
        moto,
        ec2,
        ddb,
        topic_arn,
        default_vpc,
    }
}

impl Fixture {
    fn app(&self, lookup: FakeLookup, settings: Settings) -> TestApp {
        let sdk = self.moto.sdk_config();
        let engine = Engine {
            ec2: AwsEc2::new(fleet_ec2::client(&sdk)),
            rules: DynamoRules::new(self.ddb.clone(), RULES_TABLE),
            lookup,
            clock: FixedClock::at(Utc::now() + Duration::hours(1)),
            state: DynamoPolicyState::new(self.ddb.clone(), STATE_TABLE),
            settings: Settings {
                vpc_ids: vec![self.default_vpc.clone()],
                ..settings
            },
        };
        let notifier = SnsNotifier::new(
            fleet_core::aws::SnsClient::new(&sdk),
            self.topic_arn.clone(),
        );
        App {
            engine,
            notifier: Some(notifier),
        }
    }

    /// Every item of the state table (the event ledger and the lease), by `Id`.
    async fn state_table(
        &self,
    ) -> BTreeMap<String, std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>
    {
        fleet_testkit::seed::table_items(&self.ddb, STATE_TABLE, "Id").await
    }

    /// A subnet in a second VPC, outside the policy's scope.
    async fn other_subnet(&self) -> String {
        let vpc = self
            .ec2
            .create_vpc()
            .cidr_block("10.9.0.0/16")
            .send()
            .await
            .unwrap();
        let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).unwrap();
        let subnet = self
            .ec2
            .create_subnet()
            .vpc_id(vpc_id)
            .cidr_block("10.9.1.0/24")
            .send()
            .await
            .unwrap();
        subnet
            .subnet()
            .and_then(|s| s.subnet_id())
            .unwrap()
            .to_owned()
    }
}

async fn run(app: &TestApp, file: &str, event: Value) -> Report {
    // Two minutes left, on the engine's clock (an hour ahead).
    app.handle(LambdaEvent::new(event, context_with_deadline(3600 + 120)))
        .await
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn tag<'a>(
    all: &'a BTreeMap<String, (String, BTreeMap<String, String>)>,
    id: &str,
    key: &str,
) -> Option<&'a str> {
    all[id].1.get(key).map(String::as_str)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_sweep_brings_the_fleet_in_line_and_reports_it() {
    let f = fixture().await;
    let web = launch_instance(&f.ec2, &[("Name", "web")], None).await;
    let legacy = launch_instance(
        &f.ec2,
        &[
            ("Name", "legacy"),
            ("ProjectCode", "Apollo"),
            ("CreatedBy", "zoe"),
            ("Expires", ""),
        ],
        None,
    )
    .await;
    let bare = launch_instance(&f.ec2, &[], None).await;
    let fine = launch_instance(
        &f.ec2,
        &[("ProjectCode", "Gemini"), ("CreatedBy", "yuri")],
        None,
    )
    .await;
    let subnet = f.other_subnet().await;
    let elsewhere = launch_instance(&f.ec2, &[("Name", "elsewhere")], Some(&subnet)).await;

    let app = f.app(
        FakeLookup::new([(web.as_str(), "alice")]),
        Settings::default(),
    );
    let loaded = Policy::from_rows(app.engine.rules.load().await.unwrap(), &[]);
    assert_eq!(
        loaded,
        Policy::from_rows(seed_rows(), &[]),
        "the seed file holds the seed rules"
    );

    let file = "tagging-policy/01-scheduled-sweep.json";
    let report = run(&app, file, load_event(file)).await;
    let today = (Utc::now() + Duration::hours(1))
        .format("%Y-%m-%d")
        .to_string();

    let all = instances(&f.ec2).await;
    assert_eq!(tag(&all, &web, "ProjectCode"), Some("Proj007"));
    assert_eq!(tag(&all, &web, "CreatedBy"), Some("alice"));
    assert_eq!(tag(&all, &web, "Expires"), None);
    assert_eq!(tag(&all, &legacy, "ProjectCode"), Some("Apollo"));
    assert_eq!(tag(&all, &legacy, "CreatedBy"), Some("zoe"));
    assert_eq!(tag(&all, &legacy, "Expires"), Some(today.as_str()));
    assert_eq!(all[&bare].0, "stopped");
    assert!(
        all[&bare].1.is_empty(),
        "an untagged instance is stopped, not tagged"
    );
    assert_eq!(all[&fine].1.len(), 2, "compliant: untouched");
    assert_eq!(
        all[&elsewhere].1.len(),
        1,
        "outside PolicyVpcIds: untouched"
    );
    assert_eq!(all[&elsewhere].0, "running");
    assert_eq!(report.counts.instances_checked, 4);
    assert_eq!(report.ec2_calls.create_tags, 3, "one call per (key, value)");

    let messages = f.moto.sns_messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].subject.as_deref(),
        Some("Tagging policy report")
    );
    let at = report.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut lines: Vec<&str> = messages[0].message.lines().collect();
    let mut expected = vec![
        format!("Tagging policy run at {at} (scheduled sweep)"),
        "Instances checked: 4, compliant 1, violations 3, tags set 3, creators undefined 0, untagged 1 (stopped 1, terminated 0, protected 0, held 0), failed 0, not attempted 0, in grace 0".to_owned(),
        String::new(),
        format!("{web} (web) running:"),
        "  ProjectCode missing → set \"Proj007\" (rule 1, Update: the rule's Default): done".to_owned(),
        "  CreatedBy missing → set \"alice\" (rule 2, UserLookup: RunInstances caller in CloudTrail): done".to_owned(),
        format!("{legacy} (legacy) running:"),
        format!("  Expires empty → set \"{today}\" (rule 3, Function: today() at {at}): done"),
        format!("{bare} (no Name) running:"),
        "  no tags at all → stop: done; the owner must tag it".to_owned(),
    ];
    // Instances are listed in DescribeInstances order; compare as sets of blocks' lines.
    lines.sort_unstable();
    expected.sort_unstable();
    assert_eq!(lines, expected);

    // A retry of the same event: nothing written, nothing stopped, no second report.
    let after_first = instances(&f.ec2).await;
    let state_after_first = f.state_table().await;
    let event_key = format!(
        "tagging-policy#event#{}",
        load_event(file)["id"].as_str().unwrap()
    );
    assert!(
        state_after_first.contains_key(&event_key),
        "the event's record: {state_after_first:#?}"
    );
    f.moto.start_recording();
    let again = run(&app, file, load_event(file)).await;
    assert_repeat_wrote_nothing(&f, file, &again, 4);
    assert_eq!(
        instances(&f.ec2).await,
        after_first,
        "tags and states as after the first run"
    );
    assert_eq!(
        f.state_table().await,
        state_after_first,
        "the ledger as after the first run"
    );
    assert_eq!(f.moto.sns_messages().len(), 1, "one report per event");

    // The next sweep (another event) finds only the stopped, still untagged instance.
    let mut next = load_event(file);
    next["id"] = Value::from("next-sweep");
    let report = run(&app, file, next).await;
    assert_eq!(report.ec2_calls.create_tags, 0);
    assert_eq!(report.ec2_calls.change_state, 0);
    assert_eq!(report.counts.untagged, 1);
    let messages = f.moto.sns_messages();
    assert_eq!(messages.len(), 2);
    assert!(messages[1]
        .message
        .contains("no tags at all → stop: nothing to do; already stopped or stopping"));
}

/// A repeat of an event (recorded since `start_recording`) looked at the instances again and
/// wrote nothing: no tag, no state change, no report.
fn assert_repeat_wrote_nothing(f: &Fixture, file: &str, again: &Report, checked: usize) {
    let operations = f.moto.recorded_operations();
    assert!(again.complete, "{file}: {again:?}");
    assert_eq!(again.counts.instances_checked, checked, "{file}: {again:?}");
    assert_eq!(
        (
            again.ec2_calls.create_tags,
            again.ec2_calls.delete_tags,
            again.ec2_calls.change_state
        ),
        (0, 0, 0),
        "{file}: {again:?}"
    );
    assert_eq!(
        (
            again.counts.tags_set,
            again.counts.stopped,
            again.counts.terminated,
            again.counts.protected,
            again.counts.failed
        ),
        (0, 0, 0, 0, 0),
        "{file}: {again:?}"
    );
    assert!(
        operations.iter().any(|o| o == "DescribeInstances"),
        "{file}: the recorder saw the repeat: {operations:?}"
    );
    for write in [
        "CreateTags",
        "DeleteTags",
        "StopInstances",
        "TerminateInstances",
        "Publish",
    ] {
        assert!(
            !operations.iter().any(|o| o == write),
            "{file}: the repeat called {write}: {operations:?}"
        );
    }
}

/// The sample's instance ids replaced by instances launched in the stand-in.
fn with_instance_ids(mut event: Value, ids: &[String]) -> Value {
    let items = event
        .pointer_mut("/detail/responseElements/instancesSet/items")
        .and_then(Value::as_array_mut)
        .unwrap();
    assert_eq!(items.len(), ids.len());
    for (item, id) in items.iter_mut().zip(ids) {
        item["instanceId"] = Value::String(id.clone());
    }
    event
}

#[tokio::test(flavor = "multi_thread")]
async fn run_instances_events_tag_the_launched_instances_with_their_creator() {
    let f = fixture().await;
    let untouched = launch_instance(&f.ec2, &[("Name", "older")], None).await;
    let app = f.app(FakeLookup::default(), Settings::default());

    let cases = [
        ("tagging-policy/02-runinstances-iam-user.json", 1, "alice"),
        (
            "tagging-policy/03-runinstances-assumed-role.json",
            2,
            "Deployer/ci-deploy-4711",
        ),
    ];
    for (n, (file, count, creator)) in cases.into_iter().enumerate() {
        let mut ids = Vec::new();
        for i in 0..count {
            ids.push(launch_instance(&f.ec2, &[("Name", &format!("build-{i}"))], None).await);
        }
        let report = run(&app, file, with_instance_ids(load_event(file), &ids)).await;
        let all = instances(&f.ec2).await;
        for id in &ids {
            assert_eq!(tag(&all, id, "CreatedBy"), Some(creator), "{file}");
            assert_eq!(tag(&all, id, "ProjectCode"), Some("Proj007"), "{file}");
        }
        assert_eq!(
            report.counts.instances_checked, count,
            "{file}: only the launched instances"
        );
        assert!(report.not_in_scope.is_empty(), "{file}");
        let messages = f.moto.sns_messages();
        assert_eq!(messages.len(), n + 1, "{file}");
        let message = &messages[n].message;
        let plural = if count == 1 { "" } else { "s" };
        assert!(
            message.lines().next().unwrap().ends_with(&format!(
                "(RunInstances by {creator} ({count} instance{plural}))"
            )),
            "{file}: {message}"
        );
        assert!(message.contains(&format!("  CreatedBy missing → set \"{creator}\" (rule 2, UserLookup: from the RunInstances event): done")), "{message}");
    }
    assert!(
        app.engine.lookup.calls().is_empty(),
        "the event names the creator: no CloudTrail lookup"
    );
    let all = instances(&f.ec2).await;
    assert_eq!(tag(&all, &untouched, "ProjectCode"), None);

    // A failed RunInstances call launched nothing: no calls, nothing reported.
    let file = "tagging-policy/04-runinstances-failed-call.json";
    let report = run(&app, file, load_event(file)).await;
    assert_eq!(report.counts.instances_checked, 0);
    assert_eq!(report.ec2_calls.describe, 0);
    assert_eq!(f.moto.sns_messages().len(), 2);
}

/// CloudTrail's RunInstances event delivered twice (EventBridge delivers at least once, Lambda
/// retries): the launched instance is tagged once and reported once.
#[tokio::test(flavor = "multi_thread")]
async fn the_same_run_instances_event_twice_tags_once_and_reports_once() {
    let f = fixture().await;
    let app = f.app(FakeLookup::default(), Settings::default());
    let file = "tagging-policy/02-runinstances-iam-user.json";
    let id = launch_instance(&f.ec2, &[("Name", "build-0")], None).await;
    let event = with_instance_ids(load_event(file), std::slice::from_ref(&id));

    let first = run(&app, file, event.clone()).await;
    assert_eq!(first.counts.tags_set, 2, "{first:?}");
    assert_eq!(first.ec2_calls.create_tags, 2, "{first:?}");
    let after_first = instances(&f.ec2).await;
    assert_eq!(tag(&after_first, &id, "CreatedBy"), Some("alice"));
    assert_eq!(tag(&after_first, &id, "ProjectCode"), Some("Proj007"));
    let state_after_first = f.state_table().await;
    let event_key = format!(
        "tagging-policy#event#{}",
        load_event(file)["id"].as_str().unwrap()
    );
    assert!(
        state_after_first.contains_key(&event_key),
        "the event's record: {state_after_first:#?}"
    );
    assert_eq!(f.moto.sns_messages().len(), 1);

    f.moto.start_recording();
    let again = run(&app, file, event).await;
    assert_repeat_wrote_nothing(&f, file, &again, 1);
    assert_eq!(
        instances(&f.ec2).await,
        after_first,
        "tags and states as after the first run"
    );
    assert_eq!(
        f.state_table().await,
        state_after_first,
        "the ledger as after the first run"
    );
    let messages = f.moto.sns_messages();
    assert_eq!(messages.len(), 1, "one report per event: {messages:#?}");
    assert!(
        messages[0].message.contains(
            "  CreatedBy missing → set \"alice\" (rule 2, UserLookup: from the RunInstances event): done"
        ),
        "{}",
        messages[0].message
    );
    assert!(app.engine.lookup.calls().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_reports_the_same_and_changes_nothing() {
    let f = fixture().await;
    let web = launch_instance(&f.ec2, &[("Name", "web")], None).await;
    let bare = launch_instance(&f.ec2, &[], None).await;
    let before = instances(&f.ec2).await;
    let app = f.app(
        FakeLookup::new([(web.as_str(), "alice")]),
        Settings {
            dry_run: true,
            ..Settings::default()
        },
    );
    let file = "tagging-policy/01-scheduled-sweep.json";
    let report = run(&app, file, load_event(file)).await;
    assert_eq!(instances(&f.ec2).await, before);
    assert_eq!(report.counts.tags_set, 2);
    assert_eq!(report.counts.stopped, 1);
    let messages = f.moto.sns_messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0]
        .message
        .lines()
        .next()
        .unwrap()
        .ends_with("— DRY RUN, nothing was changed"));
    assert!(messages[0].message.contains(&format!(
        "{bare} (no Name) running:\n  no tags at all → stop: planned; the owner must tag it"
    )));
}
