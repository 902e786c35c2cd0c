//! The adapters against `aws-smithy-mocks`. CloudTrail LookupEvents is missing from the local
//! stand-in, so paging, throttling and "no match" are shown here; the rules table's paged Scan too.

use aws_sdk_cloudtrail::config::retry::RetryConfig;
use aws_sdk_cloudtrail::error::ErrorMetadata;
use aws_sdk_cloudtrail::operation::lookup_events::{LookupEventsError, LookupEventsOutput};
use aws_sdk_cloudtrail::types::{Event, LookupAttributeKey};
use aws_sdk_dynamodb::operation::scan::ScanOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::time::Duration;
use tagging_policy::aws::{CloudTrailLookup, DynamoRules};
use tagging_policy::ports::{CreatorLookup, RuleSource};
use tagging_policy::rules::{seed_rows, Field, Policy};

fn event(name: &str, record: &str) -> Event {
    Event::builder()
        .event_name(name)
        .username("from-username-field")
        .cloud_trail_event(record)
        .build()
}

const ASSUMED_ROLE_RECORD: &str = r#"{"eventName":"RunInstances","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/Deployer/ci-deploy-4711"}}"#;

fn lookup(client: aws_sdk_cloudtrail::Client) -> CloudTrailLookup {
    CloudTrailLookup::with_interval(client, Duration::ZERO)
}

fn fast_retries(attempts: u32) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(attempts)
        .with_initial_backoff(Duration::from_millis(1))
}

#[tokio::test]
async fn pages_by_resource_name_until_the_run_instances_event() {
    let first = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(|r| {
            let attribute = &r.lookup_attributes()[0];
            r.next_token().is_none()
                && attribute.attribute_key() == &LookupAttributeKey::ResourceName
                && attribute.attribute_value() == "i-0a1b"
                && r.start_time().is_none()
        })
        .then_output(|| {
            LookupEventsOutput::builder()
                .events(event("StopInstances", "{}"))
                .events(event("CreateTags", "{}"))
                .next_token("page-2")
                .build()
        });
    let second = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            LookupEventsOutput::builder()
                .events(event("RunInstances", ASSUMED_ROLE_RECORD))
                .build()
        });
    let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&first, &second]);
    let who = lookup(client).launched_by("i-0a1b", None).await.unwrap();
    assert_eq!(who.as_deref(), Some("Deployer/ci-deploy-4711"));
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_known_launch_narrows_the_search_to_an_hour_either_side() {
    let launched: DateTime<Utc> = "2026-11-20T10:00:00Z".parse().unwrap();
    let narrowed = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .match_requests(move |r| {
            r.start_time().map(|t| t.secs()) == Some(launched.timestamp() - 3600)
                && r.end_time().map(|t| t.secs()) == Some(launched.timestamp() + 3600)
        })
        .then_output(|| LookupEventsOutput::builder().build());
    let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&narrowed]);
    let who = lookup(client)
        .launched_by("i-1", Some(launched))
        .await
        .unwrap();
    assert_eq!(who, None, "no match: the engine writes Undefined");
    assert_eq!(narrowed.num_calls(), 1);
}

#[tokio::test]
async fn throttling_is_backed_off_then_succeeds() {
    let throttled = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .sequence()
        .error(|| {
            LookupEventsError::generic(
                ErrorMetadata::builder()
                    .code("ThrottlingException")
                    .message("Rate exceeded")
                    .build(),
            )
        })
        .times(2)
        .output(|| {
            LookupEventsOutput::builder()
                .events(event("RunInstances", "not json"))
                .build()
        })
        .build();
    let client = mock_client!(
        aws_sdk_cloudtrail,
        RuleMode::Sequential,
        [&throttled],
        |c| c.retry_config(fast_retries(3))
    );
    let who = lookup(client).launched_by("i-1", None).await.unwrap();
    assert_eq!(
        who.as_deref(),
        Some("from-username-field"),
        "an unreadable record falls back to the event's username"
    );
    assert_eq!(throttled.num_calls(), 3);
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_is_a_transient_error() {
    let throttled = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .sequence()
        .error(|| {
            LookupEventsError::generic(
                ErrorMetadata::builder()
                    .code("ThrottlingException")
                    .message("Rate exceeded")
                    .build(),
            )
        })
        .times(3)
        .build();
    let client = mock_client!(
        aws_sdk_cloudtrail,
        RuleMode::Sequential,
        [&throttled],
        |c| c.retry_config(fast_retries(3))
    );
    let err = lookup(client).launched_by("i-1", None).await.unwrap_err();
    assert_eq!(err.code, "ThrottlingException");
    assert!(err.transient);
}

#[tokio::test]
async fn access_denied_is_not_transient() {
    let denied = mock!(aws_sdk_cloudtrail::Client::lookup_events).then_error(|| {
        LookupEventsError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized to perform: cloudtrail:LookupEvents")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&denied]);
    let err = lookup(client).launched_by("i-1", None).await.unwrap_err();
    assert!(!err.transient);
    assert_eq!(err.code, "AccessDeniedException");
}

#[tokio::test]
async fn paging_stops_after_the_page_limit() {
    let endless = mock!(aws_sdk_cloudtrail::Client::lookup_events).then_output(|| {
        LookupEventsOutput::builder()
            .events(event("CreateTags", "{}"))
            .next_token("more")
            .build()
    });
    let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&endless]);
    let err = lookup(client).launched_by("i-1", None).await.unwrap_err();
    assert_eq!(err.code, "TooManyEvents");
    assert_eq!(endless.num_calls(), tagging_policy::aws::MAX_LOOKUP_PAGES);
}

#[tokio::test(start_paused = true)]
async fn lookups_are_paced_to_two_per_second() {
    let empty = mock!(aws_sdk_cloudtrail::Client::lookup_events)
        .then_output(|| LookupEventsOutput::builder().build());
    let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&empty]);
    let adapter = CloudTrailLookup::new(client);
    let start = tokio::time::Instant::now();
    for id in ["i-1", "i-2", "i-3"] {
        adapter.launched_by(id, None).await.unwrap();
    }
    // Three calls: the first at once, then one every 500 ms (virtual time).
    assert_eq!(start.elapsed(), Duration::from_millis(1000));
}

fn item(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[tokio::test]
async fn the_rules_table_is_scanned_page_by_page() {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let n = |v: &str| AttributeValue::N(v.to_owned());
    let first = mock!(aws_sdk_dynamodb::Client::scan)
        .match_requests(|r| {
            r.table_name() == Some("tagging-rules")
                && r.consistent_read() == Some(true)
                && r.exclusive_start_key().is_none()
        })
        .then_output(move || {
            ScanOutput::builder()
                .items(item(&[
                    ("RuleId", n("2")),
                    ("TagKey", s("CreatedBy")),
                    ("Action", s("UserLookup")),
                    ("Required", s("Y")),
                    ("Default", s("")),
                ]))
                .items(item(&[
                    ("RuleId", n("1")),
                    ("TagKey", s("ProjectCode")),
                    ("Action", s("Update")),
                    ("Required", s("Y")),
                    ("Default", s("Proj007")),
                ]))
                .set_last_evaluated_key(Some(item(&[("RuleId", n("1"))])))
                .build()
        });
    let second = mock!(aws_sdk_dynamodb::Client::scan)
        .match_requests(|r| r.exclusive_start_key().is_some())
        .then_output(move || {
            ScanOutput::builder()
                .items(item(&[
                    ("RuleId", n("3")),
                    ("TagKey", s("Expires")),
                    ("Action", s("Function")),
                    ("Required", s("N")),
                    ("Default", s("today()")),
                ]))
                .items(item(&[
                    ("RuleId", n("4")),
                    ("TagKey", AttributeValue::Bool(true)),
                    ("Action", s("Update")),
                    ("Required", s("Y")),
                    ("Default", AttributeValue::Null(true)),
                ]))
                .build()
        });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&first, &second]);
    let rows = DynamoRules::new(client, "tagging-rules")
        .load()
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3].tag_key, Field::WrongType("BOOL"));
    assert_eq!(rows[3].default, Field::Absent);
    let policy = Policy::from_rows(rows, &[]);
    assert_eq!(policy.rules, Policy::from_rows(seed_rows(), &[]).rules);
    assert_eq!(
        policy.problems[0].reason,
        "TagKey must be a string, not BOOL"
    );
}
