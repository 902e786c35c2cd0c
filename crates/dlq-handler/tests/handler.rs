//! The handler on in-memory adapters: batches, partial failures, dedup, spill, SNS and raw
//! payloads, metrics, digests, and a fleet function's real failure archived with its class.

mod common;

use chrono::Duration;
use common::{invocation, t, Harness, QUEUE, SCHEDULER, TAGGING};
use dlq_handler::classify::FailureClass;
use dlq_handler::lambda_shapes::{
    destination_record, diagnostic, dlq_attributes, expired_record, sns_event, sqs_event,
    sqs_record,
};
use dlq_handler::model::{Status, StoredEvent};
use dlq_handler::Answer;
use fleet_core::EventHandler;
use fleet_core::{ErrorClass, HandlerError, RecordingNotifier, ServiceError};
use serde_json::{json, Value};

fn scheduled_event(time: &str) -> Value {
    json!({
        "version": "0", "id": "53dc4d37", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": time, "region": "eu-west-1", "resources": [], "detail": {}
    })
}

/// A destination record of `function` failing with `error`, as an SQS record of the failure queue.
fn failed(n: usize, function: &str, error: &HandlerError) -> Value {
    let record = destination_record(
        function,
        &format!("req-{n}"),
        &json!({"source": "aws.ec2", "detail-type": "AWS API Call via CloudTrail", "n": n}),
        &diagnostic(error),
        3,
        t("2026-11-23T09:04:00Z"),
    );
    sqs_record(
        &format!("msg-{n}"),
        QUEUE,
        &record.to_string(),
        &[],
        t("2026-11-23T09:04:01Z"),
    )
}

fn not_found() -> HandlerError {
    HandlerError::new(
        ErrorClass::NotFound,
        "DynamoDB: ResourceNotFoundException: Requested resource not found",
    )
}

fn throttled() -> ServiceError {
    ServiceError::new(
        "DynamoDB",
        ErrorClass::Throttled,
        "ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput",
    )
}

#[tokio::test]
async fn a_batch_of_ten_is_one_batched_write_and_each_failure_one_item() {
    let h = Harness::new();
    let records: Vec<Value> = (0..10)
        .map(|n| {
            failed(
                n,
                if n % 2 == 0 { SCHEDULER } else { TAGGING },
                &not_found(),
            )
        })
        .collect();
    let answer = h.app.handle(invocation(sqs_event(records))).await.unwrap();
    assert_eq!(answer.failed_items(), Vec::<String>::new());
    assert_eq!(
        serde_json::to_value(&answer).unwrap(),
        json!({"batchItemFailures": []}),
        "exactly the shape ReportBatchItemFailures reads"
    );
    let items = h.app.archive.items();
    assert_eq!(items.len(), 10);
    assert!(items
        .iter()
        .all(|i| i.class == FailureClass::MissingResource
            && i.error_type.as_deref() == Some("NotFound")
            && i.status == Status::New
            && i.count == 1
            && i.expires_at == t("2026-11-23T09:05:00Z") + Duration::days(30)));
    let calls = h.app.archive.calls();
    assert_eq!((calls.batch_writes, calls.item_writes), (1, 0));
    // One EMF line per function and class, with the count.
    let lines: Vec<Value> = h
        .app
        .metrics
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        lines[0]["Function"],
        "cloudops-fleet-Ec2SchedulerFunction-AbCdEf123456"
    );
    assert_eq!(lines[0]["Class"], "MissingResource");
    assert_eq!(lines[0]["Failures"], 5);
    assert_eq!(
        lines[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "CloudopsFleet/DeadLetters"
    );
    assert_eq!(
        lines[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        json!([["Function", "Class"]])
    );
    assert_eq!(
        lines[0]["_aws"]["Timestamp"],
        t("2026-11-23T09:05:00Z").timestamp_millis()
    );
}

#[tokio::test]
async fn a_failed_archive_write_fails_only_that_message() {
    let h = Harness::new();
    h.app.archive.fail_writes_of("req-3", throttled());
    let records: Vec<Value> = (0..10)
        .map(|n| failed(n, SCHEDULER, &not_found()))
        .collect();
    let answer = h
        .app
        .handle(invocation(sqs_event(records.clone())))
        .await
        .unwrap();
    assert_eq!(answer.failed_items(), ["msg-3"]);
    assert_eq!(h.app.archive.items().len(), 9);
    let errors: Vec<Value> = h
        .app
        .metrics
        .lines()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l.get("ArchiveErrors").is_some())
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["ArchiveErrors"], 1);

    // SQS delivers the whole batch again? No: only msg-3 comes back; and a full redelivery
    // changes nothing for the nine already counted.
    h.app.archive.heal();
    let answer = h.app.handle(invocation(sqs_event(records))).await.unwrap();
    assert!(answer.failed_items().is_empty());
    let items = h.app.archive.items();
    assert_eq!(items.len(), 10);
    assert!(
        items.iter().all(|i| i.count == 1),
        "redeliveries are not counted twice"
    );
}

#[tokio::test]
async fn the_same_failure_delivered_twice_is_one_item_with_a_count() {
    let h = Harness::new();
    let first = failed(1, SCHEDULER, &not_found());
    let mut second = first.clone();
    second["messageId"] = json!("another-message");
    h.app
        .handle(invocation(sqs_event(vec![first.clone()])))
        .await
        .unwrap();
    h.clock.advance(Duration::minutes(3));
    h.app
        .handle(invocation(sqs_event(vec![second, first])))
        .await
        .unwrap();
    let items = h.app.archive.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].count, 2);
    assert_eq!(items[0].first_seen, t("2026-11-23T09:05:00Z"));
    assert_eq!(items[0].last_seen, t("2026-11-23T09:08:00Z"));
}

#[tokio::test]
async fn large_events_are_spilled_and_a_failed_spill_fails_only_that_message() {
    let mut h = Harness::new();
    h.app.settings.inline_bytes = 1024;
    let big = json!({"source": "aws.s3", "blob": "x".repeat(5000)});
    let record = |n: usize, event: &Value| {
        let r = destination_record(
            TAGGING,
            &format!("req-{n}"),
            event,
            &diagnostic(&not_found()),
            3,
            t("2026-11-23T09:04:00Z"),
        );
        sqs_record(
            &format!("msg-{n}"),
            QUEUE,
            &r.to_string(),
            &[],
            t("2026-11-23T09:04:01Z"),
        )
    };
    let small = json!({"source": "aws.s3"});
    h.app
        .handle(invocation(sqs_event(vec![
            record(1, &big),
            record(2, &small),
        ])))
        .await
        .unwrap();
    let objects = h.app.spill.objects();
    let key = "events/cloudops-fleet-TaggingPolicyFunction-GhIjKl789012/req-1.json";
    assert_eq!(objects.keys().collect::<Vec<_>>(), [key]);
    assert_eq!(objects[key], big.to_string());
    let items = h.app.archive.items();
    match &items[0].event {
        StoredEvent::Spilled { location, bytes } => {
            assert_eq!(location.to_string(), format!("s3://spill-bucket/{key}"));
            assert_eq!(*bytes, big.to_string().len() as u64);
        }
        other => panic!("not spilled: {other:?}"),
    }
    assert_eq!(items[1].event, StoredEvent::Inline(small.to_string()));

    h.app.spill.fail_with(Some(ServiceError::new(
        "S3",
        ErrorClass::Unavailable,
        "HTTP 503",
    )));
    let answer = h
        .app
        .handle(invocation(sqs_event(vec![
            record(3, &big),
            record(4, &small),
        ])))
        .await
        .unwrap();
    assert_eq!(
        answer.failed_items(),
        ["msg-3"],
        "the item is not written without its event"
    );
    assert!(h.app.archive.items().iter().all(|i| i.id != "req-3"));
    assert!(h.app.archive.items().iter().any(|i| i.id == "req-4"));
}

#[tokio::test]
async fn sns_and_raw_payloads_are_archived_or_fail_the_invocation() {
    let h = Harness::new();
    let topic = "arn:aws:sns:eu-west-1:123456789012:sns-lambda-test";
    let event = sns_event(
        topic,
        "sns-1",
        r#"{"Records":[{"eventSource":"aws:s3"}]}"#,
        &dlq_attributes("req-sns", 200, "Task timed out after 300.00 seconds"),
        t("2026-11-23T09:04:00Z"),
    );
    let answer = h.app.handle(invocation(event.clone())).await.unwrap();
    assert_eq!(answer, Answer::Batch(Default::default()));
    let item = &h.app.archive.items()[0];
    assert_eq!(item.id, "req-sns");
    assert_eq!(item.function.as_deref(), Some("legacy-transcoder"));
    assert_eq!(item.class, FailureClass::Timeout);

    // Not an event the handler knows: archived raw, not dropped.
    h.app
        .handle(invocation(json!({"hello": "world"})))
        .await
        .unwrap();
    let raw: Vec<_> = h
        .app
        .archive
        .items()
        .into_iter()
        .filter(|i| i.class == FailureClass::Unparseable)
        .collect();
    assert_eq!(raw.len(), 1);
    assert_eq!(
        raw[0].event,
        StoredEvent::Inline(r#"{"hello":"world"}"#.to_owned())
    );
    assert!(
        raw[0]
            .error_message
            .contains("not an SQS, SNS or scheduled event"),
        "{}",
        raw[0].error_message
    );

    // SNS retries asynchronously: a failed write fails the invocation with its class.
    h.app.archive.go_down(throttled());
    let mut again = event;
    again["Records"][0]["Sns"]["MessageId"] = json!("sns-2");
    let err = h.app.handle(invocation(again)).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Throttled);
}

#[tokio::test]
async fn a_malformed_sqs_message_is_archived_raw_with_the_reason() {
    let h = Harness::new();
    let mut record = failed(1, SCHEDULER, &not_found());
    record["body"] = json!(r#"{"requestContext":{"functionArn":42}}"#);
    let garbage = sqs_record(
        "msg-2",
        QUEUE,
        "<xml>nope</xml>",
        &[],
        t("2026-11-23T09:04:01Z"),
    );
    let answer = h
        .app
        .handle(invocation(sqs_event(vec![record, garbage])))
        .await
        .unwrap();
    assert!(answer.failed_items().is_empty());
    let items = h.app.archive.items();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i.class == FailureClass::Unparseable));
    assert!(
        items[0].error_message.contains("requestContext"),
        "{}",
        items[0].error_message
    );
    assert_eq!(
        items[1].event,
        StoredEvent::Inline("<xml>nope</xml>".to_owned())
    );
}

#[tokio::test]
async fn a_storm_of_a_thousand_failures_is_a_handful_of_digest_messages() {
    let h = Harness::new();
    // 1,000 failures in 100 batches of 10 within one window: three functions/classes.
    for batch in 0..100 {
        let records: Vec<Value> = (0..10)
            .map(|i| {
                let n = batch * 10 + i;
                match n % 10 {
                    0..=6 => failed(n, SCHEDULER, &not_found()),
                    7 | 8 => failed(
                        n,
                        TAGGING,
                        &HandlerError::new(ErrorClass::Throttled, "EC2: RequestLimitExceeded"),
                    ),
                    _ => failed(
                        n,
                        TAGGING,
                        &HandlerError::new(
                            ErrorClass::InvalidConfig,
                            "missing environment variable RULES_TABLE",
                        ),
                    ),
                }
            })
            .collect();
        let answer = h.app.handle(invocation(sqs_event(records))).await.unwrap();
        assert!(answer.failed_items().is_empty());
        h.clock.advance(Duration::seconds(5));
    }
    assert_eq!(h.app.archive.items().len(), 1000);
    assert_eq!(
        h.app.archive.calls().batch_writes,
        100,
        "one batched write per batch"
    );

    // The window 09:00-09:15 is still open at 09:15:30: nothing yet.
    let report = h
        .app
        .handle(invocation(scheduled_event("2026-11-23T09:15:30Z")))
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&report).unwrap()["windows"], json!([]));
    assert!(h.sent().is_empty());

    let report = h
        .app
        .handle(invocation(scheduled_event("2026-11-23T09:16:30Z")))
        .await
        .unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 3, "{sent:#?}");
    assert_eq!(
        serde_json::to_value(&report).unwrap()["windows"],
        json!([{"window": "2026-11-23T09:00:00Z", "failures": 1000, "messages": 3}])
    );
    assert_eq!(
        sent[0].0,
        "DLQ 09:00-09:15 UTC: 700 MissingResource failures, cloudops-fleet-Ec2SchedulerFunction-AbCdEf123456"
    );
    let body = &sent[0].1;
    assert!(body.starts_with("cloudops-fleet-Ec2SchedulerFunction-AbCdEf123456: 700 failure(s) of class MissingResource first seen between 2026-11-23T09:00:00Z and 2026-11-23T09:15:00Z (700 deliveries)."), "{body}");
    assert!(body.contains("Error type: NotFound."), "{body}");
    assert!(
        body.contains("Advice: Something the function needs does not exist"),
        "{body}"
    );
    assert!(body.contains("fleet dlq list --function cloudops-fleet-Ec2SchedulerFunction-AbCdEf123456 --class MissingResource --since 2026-11-23T09:00:00Z"), "{body}");
    // SNS subjects hold 100 characters: the function name's tail is what is cut.
    assert_eq!(sent[1].0, "DLQ 09:00-09:15 UTC: 100 Misconfiguration failures, cloudops-fleet-TaggingPolicyFunction-GhIjKl78901");
    assert_eq!(sent[1].0.len(), 100);
    assert_eq!(sent[2].0, "DLQ 09:00-09:15 UTC: 200 Throttled failures, cloudops-fleet-TaggingPolicyFunction-GhIjKl789012");

    // The next run (and a duplicate delivery of the schedule) sends nothing again.
    h.app
        .handle(invocation(scheduled_event("2026-11-23T09:31:30Z")))
        .await
        .unwrap();
    h.app
        .handle(invocation(scheduled_event("2026-11-23T09:31:30Z")))
        .await
        .unwrap();
    assert_eq!(h.sent().len(), 3);
}

#[tokio::test]
async fn a_digest_that_cannot_be_sent_fails_the_run_and_is_sent_by_the_next() {
    let notifier = RecordingNotifier {
        failure: Some(ServiceError::new(
            "SNS",
            ErrorClass::Unavailable,
            "HTTP 503 without an AWS error",
        )),
        ..RecordingNotifier::default()
    };
    let mut h = Harness::with_notifier(notifier);
    h.app
        .handle(invocation(sqs_event(vec![failed(
            1,
            SCHEDULER,
            &not_found(),
        )])))
        .await
        .unwrap();
    let err = h
        .app
        .handle(invocation(scheduled_event("2026-11-23T09:16:30Z")))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Unavailable);
    assert_eq!(
        h.app.archive.digest_windows().last(),
        Some(&(t("2026-11-23T09:00:00Z"), false, 0)),
        "given back, not sent"
    );

    h.app.notifier = Some(RecordingNotifier::default());
    h.app
        .handle(invocation(scheduled_event("2026-11-23T09:31:30Z")))
        .await
        .unwrap();
    assert_eq!(h.sent().len(), 1);
    assert!(
        h.sent()[0].0.contains("1 MissingResource failure, "),
        "{:?}",
        h.sent()
    );
}

#[tokio::test]
async fn without_a_report_topic_digests_are_logged_and_the_window_completed() {
    let mut h = Harness::new();
    h.app.notifier = None;
    h.app
        .handle(invocation(sqs_event(vec![failed(
            1,
            SCHEDULER,
            &not_found(),
        )])))
        .await
        .unwrap();
    h.app
        .handle(invocation(scheduled_event("2026-11-23T09:16:30Z")))
        .await
        .unwrap();
    assert_eq!(
        h.app.archive.digest_windows().last(),
        Some(&(t("2026-11-23T09:00:00Z"), true, 1))
    );
}

/// The domain half of the end-to-end test: the scheduler with a missing state table ends with
/// `NotFound` (its state store's `ResourceNotFoundException` through `service_error`); what
/// Lambda sends for that failure, both as an on-failure destination record and as a DLQ
/// message, is archived with the class an operator needs.
#[tokio::test]
async fn the_schedulers_missing_table_is_archived_as_a_missing_resource() {
    let h = Harness::new();
    let error = HandlerError::from_error(&ServiceError::new(
        "DynamoDB",
        ErrorClass::NotFound,
        "ResourceNotFoundException: Requested resource not found",
    ));
    let event = scheduled_event("2026-11-23T09:00:00Z");
    let record = destination_record(
        SCHEDULER,
        "sched-1",
        &event,
        &diagnostic(&error),
        3,
        t("2026-11-23T09:03:00Z"),
    );
    let via_destination = sqs_record(
        "m-1",
        QUEUE,
        &record.to_string(),
        &[],
        t("2026-11-23T09:03:01Z"),
    );
    let legacy_dlq = "arn:aws:sqs:eu-west-1:123456789012:legacy-function-dlq";
    let via_dlq = sqs_record(
        "m-2",
        legacy_dlq,
        &event.to_string(),
        &dlq_attributes("sched-2", 200, &error.message),
        t("2026-11-23T09:03:01Z"),
    );
    let expired = expired_record(SCHEDULER, "sched-3", &event, 0, t("2026-11-23T09:10:00Z"));
    let via_expiry = sqs_record(
        "m-3",
        QUEUE,
        &expired.to_string(),
        &[],
        t("2026-11-23T09:10:01Z"),
    );
    h.app
        .handle(invocation(sqs_event(vec![
            via_destination,
            via_dlq,
            via_expiry,
        ])))
        .await
        .unwrap();
    let items = h.app.archive.items();
    let by_id = |id: &str| {
        items
            .iter()
            .find(|i| i.id == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    let d = by_id("sched-1");
    assert_eq!(d.class, FailureClass::MissingResource);
    assert_eq!(d.error_type.as_deref(), Some("NotFound"));
    assert_eq!(
        d.function.as_deref(),
        Some("cloudops-fleet-Ec2SchedulerFunction-AbCdEf123456")
    );
    assert_eq!(
        d.error_message,
        "DynamoDB: ResourceNotFoundException: Requested resource not found"
    );
    assert_eq!(d.event, StoredEvent::Inline(event.to_string()));
    // A DLQ message carries no errorType: its text still names the missing resource.
    let q = by_id("sched-2");
    assert_eq!(q.class, FailureClass::MissingResource);
    assert_eq!(q.function.as_deref(), Some("legacy-uploads"));
    assert_eq!(q.error_type, None);
    assert_eq!(by_id("sched-3").class, FailureClass::TooOld);
}
