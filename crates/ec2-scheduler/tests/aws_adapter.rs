//! The AWS adapters against `aws-smithy-mocks`: what moto cannot show (real batch failures,
//! throttling, protection errors, paging tokens, conditional writes).

use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_ec2::config::retry::RetryConfig;
use aws_sdk_ec2::error::ErrorMetadata;
use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
use aws_sdk_ec2::operation::start_instances::{StartInstancesError, StartInstancesOutput};
use aws_sdk_ec2::operation::terminate_instances::TerminateInstancesError;
use aws_sdk_ec2::types::{
    Instance, InstanceState as SdkState, InstanceStateName, Reservation, Tag,
};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use chrono::{DateTime, Duration, Utc};
use ec2_scheduler::aws::{AwsEc2, DynamoState};
use ec2_scheduler::memory::MemoryState;
use ec2_scheduler::ports::{Ec2ErrorKind, Ec2Port, InstanceQuery, StateChange, StateStore};
use ec2_scheduler::run::Outcome;
use ec2_scheduler::{Scheduler, Settings};
use fleet_core::FixedClock;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const NOW: &str = "2026-11-23T08:00:00Z";

fn instance(id: &str, state: InstanceStateName, schedule: &str) -> Instance {
    Instance::builder()
        .instance_id(id)
        .state(SdkState::builder().name(state).build())
        .tags(Tag::builder().key("Schedule").value(schedule).build())
        .tags(
            Tag::builder()
                .key("Name")
                .value(format!("name-{id}"))
                .build(),
        )
        .build()
}

fn page(instances: Vec<Instance>, next: Option<&str>) -> DescribeInstancesOutput {
    DescribeInstancesOutput::builder()
        .reservations(
            Reservation::builder()
                .set_instances(Some(instances))
                .build(),
        )
        .set_next_token(next.map(str::to_owned))
        .build()
}

/// DescribeInstances answering one page with one instance.
fn describe_one(
    id: &'static str,
    state: InstanceStateName,
    schedule: &'static str,
) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_ec2::Client::describe_instances)
        .then_output(move || page(vec![instance(id, state.clone(), schedule)], None))
}

fn error(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn scheduler(client: aws_sdk_ec2::Client) -> Scheduler<AwsEc2, MemoryState, FixedClock> {
    Scheduler {
        ec2: AwsEc2::new(client),
        state: MemoryState::default(),
        clock: FixedClock::at(at(NOW)),
        settings: Settings::default(),
    }
}

#[tokio::test]
async fn describe_filters_on_the_tag_key_and_follows_next_token() {
    let first = mock!(aws_sdk_ec2::Client::describe_instances)
        .match_requests(|r| {
            r.next_token().is_none()
                && r.max_results() == Some(1000)
                && r.filters()
                    .iter()
                    .any(|f| f.name() == Some("tag-key") && f.values() == ["Schedule"])
                && r.filters().iter().any(|f| {
                    f.name() == Some("instance-state-name")
                        && !f.values().iter().any(|v| v == "terminated")
                })
        })
        .then_output(|| {
            page(
                vec![instance("i-1", InstanceStateName::Stopped, "08:00-19:15")],
                Some("page-2"),
            )
        });
    let second = mock!(aws_sdk_ec2::Client::describe_instances)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            page(
                vec![instance("i-2", InstanceStateName::Running, "08:00-19:15")],
                None,
            )
        });
    let client = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&first, &second]);
    let ec2 = AwsEc2::new(client);
    let query = InstanceQuery {
        tag_key: Some("Schedule".to_owned()),
        ..InstanceQuery::default()
    };
    let p1 = ec2.describe_page(&query, None).await.unwrap();
    assert_eq!(p1.instances[0].id, "i-1");
    assert_eq!(p1.instances[0].name(), Some("name-i-1"));
    assert_eq!(p1.next_token.as_deref(), Some("page-2"));
    let p2 = ec2.describe_page(&query, p1.next_token).await.unwrap();
    assert_eq!((p2.instances[0].id.as_str(), p2.next_token), ("i-2", None));
}

#[tokio::test]
async fn a_batch_failing_on_one_instance_is_retried_per_instance() {
    let describe = mock!(aws_sdk_ec2::Client::describe_instances).then_output(|| {
        page(
            vec![
                instance("i-good", InstanceStateName::Stopped, "08:00-19:15"),
                instance("i-bad", InstanceStateName::Stopped, "08:00-19:15"),
            ],
            None,
        )
    });
    let batch = mock!(aws_sdk_ec2::Client::start_instances)
        .match_requests(|r| r.instance_ids().len() == 2)
        .then_error(|| {
            StartInstancesError::generic(error(
                "IncorrectInstanceState",
                "The instance 'i-bad' is not in a state from which it can be started.",
            ))
        });
    let good = mock!(aws_sdk_ec2::Client::start_instances)
        .match_requests(|r| r.instance_ids() == ["i-good"])
        .then_output(|| StartInstancesOutput::builder().build());
    let bad = mock!(aws_sdk_ec2::Client::start_instances)
        .match_requests(|r| r.instance_ids() == ["i-bad"])
        .then_error(|| {
            StartInstancesError::generic(error(
                "IncorrectInstanceState",
                "The instance 'i-bad' is not in a state from which it can be started.",
            ))
        });
    let client = mock_client!(
        aws_sdk_ec2,
        RuleMode::MatchAny,
        [&describe, &batch, &good, &bad]
    );
    let s = scheduler(client);
    let report = s.run(at(NOW), None, None).await.unwrap();
    assert_eq!(
        (batch.num_calls(), good.num_calls(), bad.num_calls()),
        (1, 1, 1)
    );
    assert_eq!((report.counts.start, report.counts.failed), (1, 1));
    let failed = report
        .actions
        .iter()
        .find(|r| r.instance_id == "i-bad")
        .unwrap();
    assert!(
        matches!(&failed.outcome, Outcome::Failed { code, transient: false, .. } if code == "IncorrectInstanceState")
    );
    assert!(report.complete);
}

#[tokio::test]
async fn throttling_is_backed_off_by_the_sdk_then_succeeds() {
    let throttled = mock!(aws_sdk_ec2::Client::start_instances)
        .sequence()
        .error(|| {
            StartInstancesError::generic(error("RequestLimitExceeded", "Request limit exceeded."))
        })
        .times(2)
        .output(|| StartInstancesOutput::builder().build())
        .build();
    let client = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&throttled], |c| c
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(1))
        ));
    AwsEc2::new(client)
        .change_state(StateChange::Start, &["i-1".into(), "i-2".into()])
        .await
        .unwrap();
    assert_eq!(throttled.num_calls(), 3);
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_is_transient() {
    let throttled = mock!(aws_sdk_ec2::Client::start_instances)
        .sequence()
        .error(|| {
            StartInstancesError::generic(error("RequestLimitExceeded", "Request limit exceeded."))
        })
        .times(3)
        .build();
    let client = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&throttled], |c| c
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(1))
        ));
    let err = AwsEc2::new(client)
        .change_state(StateChange::Start, &["i-1".into()])
        .await
        .unwrap_err();
    assert_eq!(err.kind, Ec2ErrorKind::Throttled);
    assert!(err.kind.is_transient());
    assert_eq!(throttled.num_calls(), 3);
}

#[tokio::test]
async fn termination_protection_is_reported() {
    let describe = describe_one("i-prod", InstanceStateName::Running, "-08:00T");
    let terminate = mock!(aws_sdk_ec2::Client::terminate_instances).then_error(|| {
        TerminateInstancesError::generic(error(
            "OperationNotPermitted",
            "The instance 'i-prod' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.",
        ))
    });
    let tags = mock!(aws_sdk_ec2::Client::create_tags)
        .match_requests(|r| {
            r.resources() == ["i-prod"] && r.tags().iter().any(|t| t.value() == Some("#-08:00T"))
        })
        .then_output(|| aws_sdk_ec2::operation::create_tags::CreateTagsOutput::builder().build());
    let client = mock_client!(
        aws_sdk_ec2,
        RuleMode::MatchAny,
        [&describe, &terminate, &tags]
    );
    let report = scheduler(client).run(at(NOW), None, None).await.unwrap();
    assert_eq!(report.counts.protected, 1);
    assert!(report.complete);
    assert_eq!(tags.num_calls(), 1);
}

#[tokio::test]
async fn no_change_is_attempted_once_the_deadline_is_near() {
    let describe = describe_one("i-1", InstanceStateName::Stopped, "08:00-19:15");
    let start = mock!(aws_sdk_ec2::Client::start_instances)
        .then_output(|| StartInstancesOutput::builder().build());
    let client = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&describe, &start]);
    let s = scheduler(client);
    // the clock reads 08:00 and Lambda will stop us at 08:00:05, inside the 10 s margin
    let report = s
        .run(at(NOW), None, Some(at(NOW) + Duration::seconds(5)))
        .await
        .unwrap();
    assert_eq!(report.stopped_early, Some("deadline"));
    assert_eq!((describe.num_calls(), start.num_calls()), (0, 0));
    assert_eq!(s.state.get(), None);
}

#[tokio::test]
async fn unavailable_is_transient_and_unknown_codes_are_not() {
    let unavailable = mock!(aws_sdk_ec2::Client::start_instances).then_error(|| {
        StartInstancesError::generic(error("Unavailable", "The service is unavailable."))
    });
    let client = mock_client!(aws_sdk_ec2, [&unavailable]);
    let err = AwsEc2::new(client)
        .change_state(StateChange::Start, &["i-1".into()])
        .await
        .unwrap_err();
    assert_eq!(err.kind, Ec2ErrorKind::Unavailable);

    // No capacity now is worth a pending start, retried by the next runs.
    let capacity = mock!(aws_sdk_ec2::Client::start_instances).then_error(|| {
        StartInstancesError::generic(error(
            "InsufficientInstanceCapacity",
            "We currently do not have sufficient m5.large capacity in the Availability Zone you requested.",
        ))
    });
    let client = mock_client!(aws_sdk_ec2, [&capacity]);
    let err = AwsEc2::new(client)
        .change_state(StateChange::Start, &["i-1".into()])
        .await
        .unwrap_err();
    assert!(err.kind.is_transient(), "{err}");

    let denied = mock!(aws_sdk_ec2::Client::start_instances).then_error(|| {
        StartInstancesError::generic(error(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
        ))
    });
    let client = mock_client!(aws_sdk_ec2, [&denied]);
    let err = AwsEc2::new(client)
        .change_state(StateChange::Start, &["i-1".into()])
        .await
        .unwrap_err();
    assert_eq!(err.kind, Ec2ErrorKind::Denied);
    assert!(!err.kind.is_transient());
}

#[tokio::test]
async fn state_table_reads_absent_and_ignores_an_older_write() {
    let get = mock!(aws_sdk_dynamodb::Client::get_item)
        .match_requests(|r| r.table_name() == Some("state") && r.consistent_read() == Some(true))
        .then_output(|| GetItemOutput::builder().build());
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|r| {
            r.condition_expression()
                .is_some_and(|c| c.contains("attribute_not_exists"))
        })
        .then_error(|| {
            PutItemError::ConditionalCheckFailedException(
                aws_sdk_dynamodb::types::error::ConditionalCheckFailedException::builder()
                    .message("The conditional request failed")
                    .build(),
            )
        });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get, &put]);
    let state = DynamoState::new(client, "state");
    assert_eq!(state.last_successful_run().await.unwrap(), None);
    // a later run already recorded a later time: not an error
    state.record_successful_run(at(NOW)).await.unwrap();
    assert_eq!(put.num_calls(), 1);
}
