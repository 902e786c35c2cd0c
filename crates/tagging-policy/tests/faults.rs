//! Faults (issue 18): the scheduled sweep with the rules table's Scan, CloudTrail's LookupEvents
//! or EC2's CreateTags throttled (then answered, or throughout), answering 503 on every attempt,
//! or not answering at all. The SDK's retry absorbs passing throttling. Without its rules the
//! sweep fails (classified) before looking anything up or writing any tag; a lookup or a tag
//! write that fails is a transient failure in the published report, and the invocation fails
//! with `ActionsFailed` so Lambda retries it (the fixes are idempotent). No tag is written with a
//! creator that was not found.
// Clippy's layout queries of the sweep's future over SplitEc2<AwsEc2, AwsEc2> need more than
// the default 128.
#![recursion_limit = "256"]

use aws_sdk_cloudtrail::operation::lookup_events::{LookupEventsError, LookupEventsOutput};
use aws_sdk_cloudtrail::types::Event;
use aws_sdk_dynamodb::operation::scan::{ScanError, ScanOutput};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ec2::error::ErrorMetadata;
use aws_sdk_ec2::operation::create_tags::{CreateTagsError, CreateTagsOutput};
use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
use aws_sdk_ec2::primitives::DateTime as SdkTime;
use aws_sdk_ec2::types::{Instance, InstanceState, InstanceStateName, Reservation, Tag};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use chrono::{DateTime, Utc};
use fleet_core::{EventHandler, FixedClock, RecordingNotifier};
use fleet_ec2::{AwsEc2, Ec2Port, SplitEc2};
use fleet_testkit::faults::{Fault, ATTEMPTS};
use fleet_testkit::{inject, load_event};
use lambda_runtime::{Context, LambdaEvent};
use std::collections::HashMap;
use std::time::Duration;
use tagging_policy::aws::{CloudTrailLookup, DynamoRules};
use tagging_policy::memory::{FakeLookup, MemoryPolicyState, MemoryRules};
use tagging_policy::ports::{CreatorLookup, RuleSource};
use tagging_policy::rules::seed_rows;
use tagging_policy::{App, Engine, Settings};

const SWEEP: &str = "tagging-policy/01-scheduled-sweep.json";
const NOW: &str = "2026-11-23T09:00:00Z";
/// Launched a day before the sweep, tagged but for `CreatedBy`: the sweep looks its creator up
/// in CloudTrail and writes the tag.
const INSTANCE: &str = "i-0a1b2c3d4e5f60001";
const CREATOR: &str = "alice";

fn throttled() -> ErrorMetadata {
    ErrorMetadata::builder()
        .code("RequestLimitExceeded")
        .message("Request limit exceeded.")
        .build()
}

/// DescribeInstances: the one instance.
fn listing() -> DescribeInstancesOutput {
    let launched = NOW.parse::<DateTime<Utc>>().unwrap() - chrono::Duration::days(1);
    let tag = |key: &str, value: &str| Tag::builder().key(key).value(value).build();
    let instance = Instance::builder()
        .instance_id(INSTANCE)
        .state(
            InstanceState::builder()
                .name(InstanceStateName::Running)
                .build(),
        )
        .launch_time(SdkTime::from_secs(launched.timestamp()))
        .tags(tag("Name", "build-0"))
        .tags(tag("ProjectCode", "Apollo"))
        .tags(tag("Expires", "2027-01-01"))
        .build();
    DescribeInstancesOutput::builder()
        .reservations(Reservation::builder().instances(instance).build())
        .build()
}

/// EC2 listing the instance, its writes on `writes`.
fn ec2(writes: aws_sdk_ec2::Client) -> SplitEc2<AwsEc2, AwsEc2> {
    let describe = mock!(aws_sdk_ec2::Client::describe_instances).then_output(listing);
    SplitEc2 {
        listing: AwsEc2::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&describe])),
        writes: AwsEc2::new(writes),
    }
}

/// CreateTags accepting the creator's tag, and nothing else.
fn tagging() -> Rule {
    mock!(aws_sdk_ec2::Client::create_tags)
        .match_requests(|r| {
            r.resources() == [INSTANCE]
                && r.tags()
                    .iter()
                    .any(|t| t.key() == Some("CreatedBy") && t.value() == Some(CREATOR))
        })
        .then_output(|| CreateTagsOutput::builder().build())
}

type TestEngine<E, R, L> = Engine<E, R, L, FixedClock, MemoryPolicyState>;

/// The sweep's answer (tags set, or the invocation's error type, in which case the report it
/// published must show the failure), and the engine it ran on.
async fn sweep<E: Ec2Port, R: RuleSource, L: CreatorLookup>(
    ec2: E,
    rules: R,
    lookup: L,
) -> (Result<usize, &'static str>, TestEngine<E, R, L>) {
    let app = App {
        engine: Engine {
            ec2,
            rules,
            lookup,
            clock: FixedClock::at(NOW.parse().unwrap()),
            state: MemoryPolicyState::default(),
            settings: Settings::default(),
        },
        notifier: Some(RecordingNotifier::default()),
    };
    let event = LambdaEvent::new(load_event(SWEEP), Context::default());
    let answer = app.handle(event).await;
    if let Err(e) = &answer {
        if e.error_type() == "ActionsFailed" {
            // Nothing silently dropped: the published report names the failed fix.
            let sent = app.notifier.as_ref().unwrap().sent();
            assert!(sent[0].1.contains("FAILED"), "{sent:?}");
        }
    }
    let answer = answer
        .map(|report| report.counts.tags_set)
        .map_err(|e| e.error_type());
    (answer, app.engine)
}

/// (answer, attempts the mock saw, tags written) for a fault on LookupEvents.
async fn lookup_with(fault: Fault) -> (Result<usize, &'static str>, usize, usize) {
    let cloudtrail = inject!(
        aws_sdk_cloudtrail,
        aws_sdk_cloudtrail::Client::lookup_events,
        fault,
        || LookupEventsError::generic(
            aws_sdk_cloudtrail::error::ErrorMetadata::builder()
                .code("ThrottlingException")
                .message("Rate exceeded")
                .build()
        ),
        || LookupEventsOutput::builder()
            .events(
                Event::builder()
                    .event_name("RunInstances")
                    .username(CREATOR)
                    .build()
            )
            .build()
    );
    // No pacing between calls: the test is about faults, not the rate limit.
    let lookup = CloudTrailLookup::with_interval(cloudtrail.client.clone(), Duration::ZERO);
    let create_tags = tagging();
    let writes = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&create_tags]);
    let (answer, _) = sweep(ec2(writes), MemoryRules(seed_rows()), lookup).await;
    (answer, cloudtrail.attempts(), create_tags.num_calls())
}

#[tokio::test]
async fn lookup_throttled_then_answered_is_retried_and_the_creator_tagged() {
    assert_eq!(
        lookup_with(Fault::ThrottledThenOk).await,
        (Ok(1), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn lookup_throttled_throughout_fails_the_sweep_and_writes_no_creator() {
    assert_eq!(
        lookup_with(Fault::Throttled).await,
        (Err("ActionsFailed"), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn lookup_5xx_fails_the_sweep_and_writes_no_creator() {
    assert_eq!(
        lookup_with(Fault::ServerError).await,
        (Err("ActionsFailed"), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn lookup_timeout_fails_the_sweep_and_writes_no_creator() {
    assert_eq!(
        lookup_with(Fault::Timeout).await,
        (Err("ActionsFailed"), ATTEMPTS, 0)
    );
}

/// (answer, attempts the mock saw, creator lookups) for a fault on CreateTags.
async fn tag_with(fault: Fault) -> (Result<usize, &'static str>, usize, usize) {
    let writes = inject!(
        aws_sdk_ec2,
        aws_sdk_ec2::Client::create_tags,
        fault,
        || CreateTagsError::generic(throttled()),
        || CreateTagsOutput::builder().build()
    );
    let (answer, engine) = sweep(
        ec2(writes.client.clone()),
        MemoryRules(seed_rows()),
        FakeLookup::new([(INSTANCE, CREATOR)]),
    )
    .await;
    (answer, writes.attempts(), engine.lookup.calls().len())
}

#[tokio::test]
async fn tagging_throttled_then_answered_is_retried_and_the_tag_set() {
    assert_eq!(tag_with(Fault::ThrottledThenOk).await, (Ok(1), ATTEMPTS, 1));
}

#[tokio::test]
async fn tagging_throttled_throughout_fails_the_sweep_as_actions_failed() {
    assert_eq!(
        tag_with(Fault::Throttled).await,
        (Err("ActionsFailed"), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn tagging_5xx_fails_the_sweep_as_actions_failed() {
    assert_eq!(
        tag_with(Fault::ServerError).await,
        (Err("ActionsFailed"), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn tagging_timeout_fails_the_sweep_as_actions_failed() {
    assert_eq!(
        tag_with(Fault::Timeout).await,
        (Err("ActionsFailed"), ATTEMPTS, 1)
    );
}

/// The seed rules as Scan returns them.
fn rule_items() -> ScanOutput {
    let text = |v: &str| AttributeValue::S(v.to_owned());
    let item = |id: &str, key: &str, action: &str, required: &str, default: Option<&str>| {
        let mut item = HashMap::from([
            ("RuleId".to_owned(), AttributeValue::N(id.to_owned())),
            ("TagKey".to_owned(), text(key)),
            ("Action".to_owned(), text(action)),
            ("Required".to_owned(), text(required)),
        ]);
        if let Some(default) = default {
            item.insert("Default".to_owned(), text(default));
        }
        item
    };
    ScanOutput::builder()
        .items(item("1", "ProjectCode", "Update", "Y", Some("Proj007")))
        .items(item("2", "CreatedBy", "UserLookup", "Y", None))
        .items(item("3", "Expires", "Function", "N", Some("today()")))
        .build()
}

/// (answer, attempts the mock saw, creator lookups and tag writes) for a fault on the rules'
/// Scan.
async fn rules_with(fault: Fault) -> (Result<usize, &'static str>, usize, usize) {
    let dynamodb = inject!(
        aws_sdk_dynamodb,
        aws_sdk_dynamodb::Client::scan,
        fault,
        || ScanError::generic(
            aws_sdk_dynamodb::error::ErrorMetadata::builder()
                .code("ProvisionedThroughputExceededException")
                .message("slow down")
                .build()
        ),
        rule_items
    );
    let rules = DynamoRules::new(dynamodb.client.clone(), "tagging-rules");
    let lookup = FakeLookup::new([(INSTANCE, CREATOR)]);
    let create_tags = tagging();
    let writes = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&create_tags]);
    let (answer, engine) = sweep(ec2(writes), rules, lookup).await;
    (
        answer,
        dynamodb.attempts(),
        engine.lookup.calls().len() + create_tags.num_calls(),
    )
}

#[tokio::test]
async fn rules_scan_throttled_then_answered_is_retried_and_the_sweep_runs() {
    assert_eq!(
        rules_with(Fault::ThrottledThenOk).await,
        (Ok(1), ATTEMPTS, 2)
    );
}

#[tokio::test]
async fn rules_scan_throttled_throughout_fails_the_sweep_before_any_lookup_or_write() {
    assert_eq!(
        rules_with(Fault::Throttled).await,
        (Err("Throttled"), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn rules_scan_5xx_fails_the_sweep_as_unavailable_before_any_lookup_or_write() {
    assert_eq!(
        rules_with(Fault::ServerError).await,
        (Err("Unavailable"), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn rules_scan_timeout_fails_the_sweep_as_unavailable_before_any_lookup_or_write() {
    assert_eq!(
        rules_with(Fault::Timeout).await,
        (Err("Unavailable"), ATTEMPTS, 0)
    );
}
