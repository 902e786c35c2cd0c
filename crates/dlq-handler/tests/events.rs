//! Every file of `events/dlq-handler/` through the trigger and the normaliser, with what it must
//! become, then through the real handler on in-memory adapters.

mod common;

use dlq_handler::classify::FailureClass;
use dlq_handler::model::{Shape, Via};
use dlq_handler::normalise::normalise;
use dlq_handler::trigger::{parse_trigger, Trigger};
use fleet_core::EventHandler;
use fleet_testkit::{event_files, load_event};

/// (archive id, function, class, shape, via) of each delivery in a file.
type Expected = Vec<(&'static str, &'static str, FailureClass, Shape, Via)>;

fn expected(file: &str) -> Expected {
    use FailureClass::*;
    let scheduler = "cloudops-fleet-Ec2SchedulerFunction-AbCdEf123456";
    let tagging = "cloudops-fleet-TaggingPolicyFunction-GhIjKl789012";
    match file.rsplit('/').next().unwrap_or_default() {
        "01-sqs-dlq-timeout.json" => vec![(
            "7a1c5e2f-3b4d-4e6f-8a9b-0c1d2e3f4a51",
            "legacy-uploads",
            Timeout,
            Shape::DeadLetter,
            Via::Sqs,
        )],
        "02-sqs-dlq-crash.json" => vec![(
            "7a1c5e2f-3b4d-4e6f-8a9b-0c1d2e3f4a52",
            "legacy-uploads",
            Crash,
            Shape::DeadLetter,
            Via::Sqs,
        )],
        "03-sqs-dlq-handler-missing.json" => vec![(
            "7a1c5e2f-3b4d-4e6f-8a9b-0c1d2e3f4a53",
            "legacy-uploads",
            Misconfiguration,
            Shape::DeadLetter,
            Via::Sqs,
        )],
        "04-destination-scheduler-not-found.json" => vec![(
            "c0ffee00-0004-4a1b-9c2d-3e4f5a6b7c84",
            scheduler,
            MissingResource,
            Shape::Destination,
            Via::Sqs,
        )],
        "05-destination-batch.json" => vec![
            (
                "c0ffee00-0005-4a1b-9c2d-3e4f5a6b7c85",
                tagging,
                Panic,
                Shape::Destination,
                Via::Sqs,
            ),
            (
                "c0ffee00-0006-4a1b-9c2d-3e4f5a6b7c86",
                scheduler,
                TooOld,
                Shape::Destination,
                Via::Sqs,
            ),
            (
                "c0ffee00-0007-4a1b-9c2d-3e4f5a6b7c87",
                tagging,
                OutOfMemory,
                Shape::Destination,
                Via::Sqs,
            ),
        ],
        "06-sns-dlq.json" => vec![(
            "7a1c5e2f-3b4d-4e6f-8a9b-0c1d2e3f4a56",
            "legacy-transcoder",
            Crash,
            Shape::DeadLetter,
            Via::Sns,
        )],
        "07-sqs-sns-envelope.json" => vec![(
            "7a1c5e2f-3b4d-4e6f-8a9b-0c1d2e3f4a57",
            "legacy-transcoder",
            Timeout,
            Shape::DeadLetter,
            Via::SnsViaSqs,
        )],
        "08-unparseable.json" => vec![(
            "raw-5f4e3d2c-0009-4b5a-9c8d-7e6f5a4b3c29",
            "Unknown",
            Unparseable,
            Shape::Raw,
            Via::Sqs,
        )],
        "09-digest-schedule.json" => vec![],
        other => panic!("{other}: add what it must become here"),
    }
}

#[test]
fn every_sample_becomes_the_failures_it_describes() {
    let sources = common::sources();
    let files = event_files("dlq-handler");
    assert_eq!(files.len(), 9, "{files:?}");
    for file in &files {
        let event = load_event(file);
        let deliveries = match parse_trigger(event) {
            Trigger::Sqs(d) | Trigger::Sns(d) => d,
            Trigger::Digest { at } => {
                assert_eq!(at.to_rfc3339(), "2026-11-23T09:16:30+00:00", "{file}");
                Vec::new()
            }
            Trigger::Raw(d) => panic!("{file}: not read as an event: {:?}", d.parse_error),
        };
        let got: Vec<(String, String, FailureClass, Shape, Via)> = deliveries
            .iter()
            .map(|d| {
                let f = normalise(d, &sources);
                (
                    f.id.clone(),
                    f.function_name().to_owned(),
                    f.class,
                    f.shape,
                    f.via,
                )
            })
            .collect();
        let want: Vec<(String, String, FailureClass, Shape, Via)> = expected(file)
            .into_iter()
            .map(|(id, function, class, shape, via)| {
                (id.to_owned(), function.to_owned(), class, shape, via)
            })
            .collect();
        assert_eq!(got, want, "{file}");
        for d in &deliveries {
            let f = normalise(d, &sources);
            assert!(!f.event.is_empty(), "{file}: the original event is kept");
            assert!(!f.error_message.is_empty(), "{file}: {f:?}");
        }
    }
}

#[test]
fn destination_records_keep_what_lambda_said() {
    let event = load_event("dlq-handler/04-destination-scheduler-not-found.json");
    let Trigger::Sqs(deliveries) = parse_trigger(event) else {
        panic!("not SQS")
    };
    let f = normalise(&deliveries[0], &common::sources());
    assert_eq!(f.error_type.as_deref(), Some("NotFound"));
    assert_eq!(
        f.error_message,
        "DynamoDB: ResourceNotFoundException: Requested resource not found"
    );
    assert_eq!(f.condition.as_deref(), Some("RetriesExhausted"));
    assert_eq!(f.attempts, Some(3));
    assert_eq!(f.error_code.as_deref(), Some("200"));
    assert_eq!(
        f.function_arn.as_deref(),
        Some("arn:aws:lambda:eu-west-1:123456789012:function:cloudops-fleet-Ec2SchedulerFunction-AbCdEf123456:$LATEST")
    );
    assert_eq!(
        f.failed_at.map(|t| t.to_rfc3339()),
        Some("2026-11-23T09:03:12.104+00:00".to_owned())
    );
    let payload: serde_json::Value = serde_json::from_str(&f.event).unwrap();
    assert_eq!(payload["detail-type"], "Scheduled Event");
    assert_eq!(f.delivery_id, "9c8b7a6d-0004-4e3f-8a1b-2c3d4e5f6a74");

    // Without a mapping a dead-letter message's function is Unknown.
    let event = load_event("dlq-handler/01-sqs-dlq-timeout.json");
    let Trigger::Sqs(deliveries) = parse_trigger(event) else {
        panic!("not SQS")
    };
    let f = normalise(&deliveries[0], &Default::default());
    assert_eq!(f.function, None);
    assert_eq!(f.function_name(), "Unknown");
    assert_eq!(f.class, FailureClass::Timeout);
    let original: serde_json::Value = serde_json::from_str(&f.event).unwrap();
    assert_eq!(
        original["Records"][0]["eventSource"], "aws:s3",
        "the body is the original event"
    );
}

#[tokio::test]
async fn the_handler_takes_every_sample() {
    let harness = common::Harness::new();
    let mut archived = 0;
    for file in event_files("dlq-handler") {
        let answer = harness
            .app
            .handle(common::invocation(load_event(&file)))
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(answer.failed_items().is_empty(), "{file}: {answer:?}");
        archived += expected(&file).len();
    }
    assert_eq!(harness.app.archive.items().len(), archived);
    assert_eq!(archived, 10);
}
