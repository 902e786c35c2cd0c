//! The real handler (`wire` with the AWS adapters) against the local stand-in: real-shaped DLQ
//! messages and destination records on SQS queues and an SNS topic, received as the Lambda
//! service would deliver them, the archive and the spill bucket read back, digests read back from
//! the report topic, and a replay read back from moto's request recorder.
//!
//! What moto checks here: SQS message attributes, SNS→SQS fan-out (attributes inside the SNS
//! JSON, no raw delivery), DynamoDB conditions, transactions and the GSI, S3, SNS publish, the
//! Lambda Invoke request. What it does not: moto's SQS→Lambda mapping sends
//! `messageAttributes: {}`, so the SQS events are built from `ReceiveMessage` output (as the
//! event source mapping does); Lambda does not run the replayed function (no Docker): the
//! recorded Invoke request is what is checked.

mod common;

use aws_sdk_sqs::types::MessageAttributeValue;
use chrono::Duration;
use common::{invocation, t};
use dlq_handler::classify::FailureClass;
use dlq_handler::config::{Config, Settings};
use dlq_handler::lambda_shapes::{destination_record, diagnostic, sqs_event, sqs_record};
use dlq_handler::model::{Status, StoredEvent};
use dlq_handler::ports::Archive;
use dlq_handler::{cli, wire};
use fleet_core::EventHandler;
use fleet_core::{Env, ErrorClass, FixedClock, HandlerError};
use fleet_testkit::{load_event, Moto, ACCOUNT_ID, REGION};
use serde_json::{json, Value};
use std::sync::Arc;

const TABLE: &str = "dlq-archive";
const BUCKET: &str = "dlq-spill";

struct Stack {
    moto: Moto,
    sdk: aws_config::SdkConfig,
    sqs: aws_sdk_sqs::Client,
    sns: aws_sdk_sns::Client,
    report_topic: String,
    dlq_topic: String,
    /// (url, arn)
    failure_queue: (String, String),
    legacy_queue: (String, String),
    sns_queue: (String, String),
}

async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .queue_url
        .unwrap_or_default();
    let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}");
    (url, arn)
}

async fn stack() -> Stack {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    common::moto::create_archive_table(&aws_sdk_dynamodb::Client::new(&sdk), TABLE).await;
    common::moto::create_bucket(&dlq_handler::aws::s3_client(&sdk), BUCKET).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = |name: &'static str| {
        let sns = sns.clone();
        async move {
            sns.create_topic()
                .name(name)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e:?}"))
                .topic_arn
                .unwrap_or_default()
        }
    };
    let report_topic = topic("fleet-reports").await;
    let dlq_topic = topic("sns-lambda-test").await;
    let failure_queue = queue(&sqs, "fleet-failures").await;
    let legacy_queue = queue(&sqs, "legacy-function-dlq").await;
    let sns_queue = queue(&sqs, "sns-lambda-test-dlq").await;
    sns.subscribe()
        .topic_arn(&dlq_topic)
        .protocol("sqs")
        .endpoint(&sns_queue.1)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    Stack {
        moto,
        sdk,
        sqs,
        sns,
        report_topic,
        dlq_topic,
        failure_queue,
        legacy_queue,
        sns_queue,
    }
}

impl Stack {
    /// The handler as `main.rs` wires it, standing at 09:05 (move it through the clock).
    async fn app(&self) -> (dlq_handler::LambdaApp, Arc<FixedClock>) {
        let (env, clock) = Env::fixed(t("2026-11-23T09:05:00Z"));
        let config = Config {
            archive_table: TABLE.into(),
            spill_bucket: BUCKET.into(),
            report_topic_arn: Some(self.report_topic.clone()),
            settings: Settings {
                sources: format!(
                    "{}=legacy-uploads,{}=legacy-transcoder",
                    self.legacy_queue.1, self.dlq_topic
                )
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
                ..Settings::default()
            },
        };
        (wire(&self.sdk, config, env).await.unwrap(), clock)
    }

    /// What the event source mapping would hand the function: up to 10 messages with their
    /// attributes, as an SQS event.
    async fn receive(&self, (url, arn): &(String, String)) -> Value {
        fleet_testkit::sqs::lambda_event(&self.sqs, url, arn)
            .await
            .0
    }

    /// A Lambda DLQ message: the original event with RequestID, ErrorCode, ErrorMessage.
    async fn send_dlq(&self, url: &str, request_id: &str, message: &str, event: &str) {
        let attribute = |data_type: &str, value: &str| {
            MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(value)
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
        };
        self.sqs
            .send_message()
            .queue_url(url)
            .message_body(event)
            .message_attributes("RequestID", attribute("String", request_id))
            .message_attributes("ErrorCode", attribute("Number", "200"))
            .message_attributes("ErrorMessage", attribute("String", message))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }

    async fn send_body(&self, url: &str, body: &str) {
        self.sqs
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }

    /// What reached the report topic since `start_recording`: (subject, message).
    fn reports(&self) -> Vec<(String, String)> {
        common::moto::recorded_publishes(&self.moto)
            .into_iter()
            .filter(|(topic, _, _)| *topic == self.report_topic)
            .map(|(_, subject, message)| (subject, message))
            .collect()
    }
}

/// The body of a sample's first SQS record.
fn sample_body(file: &str, index: usize) -> String {
    load_event(file)["Records"][index]["body"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn dead_letters_and_destination_records_from_sqs_are_archived_and_digested() {
    let s = stack().await;
    let (app, _clock) = s.app().await;
    let original = sample_body("dlq-handler/01-sqs-dlq-timeout.json", 0);
    for (request_id, message) in [
        ("seed-timeout", "Task timed out after 300.00 seconds"),
        ("seed-crash", "Process exited before completing request"),
        ("seed-misconfig", "Cannot find module '/var/task/index'"),
    ] {
        s.send_dlq(&s.legacy_queue.0, request_id, message, &original)
            .await;
    }
    for (file, index) in [
        ("dlq-handler/04-destination-scheduler-not-found.json", 0),
        ("dlq-handler/05-destination-batch.json", 0),
        ("dlq-handler/05-destination-batch.json", 1),
        ("dlq-handler/05-destination-batch.json", 2),
    ] {
        s.send_body(&s.failure_queue.0, &sample_body(file, index))
            .await;
    }
    s.send_body(&s.failure_queue.0, "a stray message").await;

    for q in [&s.legacy_queue, &s.failure_queue] {
        let event = s.receive(q).await;
        let answer = app.handle(invocation(event)).await.unwrap();
        assert!(answer.failed_items().is_empty(), "{answer:?}");
    }
    let archive = &app.archive;
    let expect = [
        ("seed-timeout", "legacy-uploads", FailureClass::Timeout),
        ("seed-crash", "legacy-uploads", FailureClass::Crash),
        (
            "seed-misconfig",
            "legacy-uploads",
            FailureClass::Misconfiguration,
        ),
        (
            "c0ffee00-0004-4a1b-9c2d-3e4f5a6b7c84",
            "cloudops-fleet-Ec2SchedulerFunction-AbCdEf123456",
            FailureClass::MissingResource,
        ),
        (
            "c0ffee00-0005-4a1b-9c2d-3e4f5a6b7c85",
            "cloudops-fleet-TaggingPolicyFunction-GhIjKl789012",
            FailureClass::Panic,
        ),
        (
            "c0ffee00-0006-4a1b-9c2d-3e4f5a6b7c86",
            "cloudops-fleet-Ec2SchedulerFunction-AbCdEf123456",
            FailureClass::TooOld,
        ),
        (
            "c0ffee00-0007-4a1b-9c2d-3e4f5a6b7c87",
            "cloudops-fleet-TaggingPolicyFunction-GhIjKl789012",
            FailureClass::OutOfMemory,
        ),
    ];
    for (id, function, class) in expect {
        let item = archive
            .get(id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{id} not archived"));
        assert_eq!(
            (item.function_name(), item.class),
            (function, class),
            "{id}"
        );
        assert_eq!(item.status, Status::New);
        assert_eq!(
            item.expires_at,
            t("2026-11-23T09:05:00Z") + Duration::days(30)
        );
    }
    let seed = archive.get("seed-timeout").await.unwrap().unwrap();
    assert_eq!(seed.event, StoredEvent::Inline(original));
    assert_eq!(seed.error_code.as_deref(), Some("200"));
    let stray = archive.list(&Default::default()).await.unwrap();
    assert_eq!(stray.len(), 8);
    assert_eq!(
        stray
            .iter()
            .filter(|i| i.class == FailureClass::Unparseable)
            .count(),
        1
    );

    // The TTL attribute the table's TimeToLiveSpecification names, as a number.
    let raw = aws_sdk_dynamodb::Client::new(&s.sdk)
        .get_item()
        .table_name(TABLE)
        .key(
            "Id",
            aws_sdk_dynamodb::types::AttributeValue::S("seed-crash".into()),
        )
        .send()
        .await
        .unwrap();
    let item = raw.item().unwrap();
    assert_eq!(
        item["ExpiresAt"].as_n().unwrap(),
        &(t("2026-11-23T09:05:00Z") + Duration::days(30))
            .timestamp()
            .to_string()
    );
    assert_eq!(item["Count"].as_n().unwrap(), "1");

    // After the window closes, one digest message per function and class.
    s.moto.start_recording();
    let tick = load_event("dlq-handler/09-digest-schedule.json");
    let answer = app.handle(invocation(tick)).await.unwrap();
    let report = serde_json::to_value(&answer).unwrap();
    assert_eq!(
        report["windows"],
        json!([{"window": "2026-11-23T09:00:00Z", "failures": 8, "messages": 8}])
    );
    let reports = s.reports();
    let subjects: Vec<&str> = reports.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(subjects.len(), 8, "{subjects:#?}");
    assert!(
        subjects.contains(&"DLQ 09:00-09:15 UTC: 1 Unparseable failure, Unknown"),
        "{subjects:#?}"
    );
    assert!(
        subjects.contains(&"DLQ 09:00-09:15 UTC: 1 Timeout failure, legacy-uploads"),
        "{subjects:#?}"
    );
    let (_, panic) = reports.iter().find(|(s, _)| s.contains("Panic")).unwrap();
    assert!(
        panic.contains("Lambda panicked: called `Option::unwrap()` on a `None` value"),
        "{panic}"
    );
    // A second schedule delivery sends nothing more.
    app.handle(invocation(load_event(
        "dlq-handler/09-digest-schedule.json",
    )))
    .await
    .unwrap();
    assert_eq!(s.reports().len(), 8);
}

#[tokio::test]
async fn an_sns_dead_letter_topic_is_read_through_sqs_and_directly_and_counted_once() {
    let s = stack().await;
    let (app, _clock) = s.app().await;
    let original = sample_body("dlq-handler/01-sqs-dlq-timeout.json", 0);
    let attribute = |data_type: &str, value: &str| {
        aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type(data_type)
            .string_value(value)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    s.sns
        .publish()
        .topic_arn(&s.dlq_topic)
        .message(&original)
        .message_attributes("RequestID", attribute("String", "sns-req-1"))
        .message_attributes("ErrorCode", attribute("Number", "200"))
        .message_attributes(
            "ErrorMessage",
            attribute(
                "String",
                "RequestId: sns-req-1 Error: Runtime exited without providing a reason",
            ),
        )
        .send()
        .await
        .unwrap();
    let event = s.receive(&s.sns_queue).await;
    let body: Value = serde_json::from_str(event["Records"][0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body["Type"], "Notification",
        "moto delivers the SNS JSON, not the raw message"
    );
    assert!(
        event["Records"][0]["messageAttributes"]
            .as_object()
            .unwrap()
            .is_empty(),
        "the attributes are inside the SNS JSON"
    );
    app.handle(invocation(event.clone())).await.unwrap();
    let item = app.archive.get("sns-req-1").await.unwrap().unwrap();
    assert_eq!(
        item.function_name(),
        "legacy-transcoder",
        "mapped by the topic ARN"
    );
    assert_eq!(item.class, FailureClass::Crash);
    assert_eq!(item.event, StoredEvent::Inline(original.clone()));
    assert_eq!(item.count, 1);

    // The same SQS message again (at-least-once): not counted twice.
    app.handle(invocation(event)).await.unwrap();
    assert_eq!(
        app.archive.get("sns-req-1").await.unwrap().unwrap().count,
        1
    );

    // The same notification delivered by SNS to a Lambda subscription: the SNS JSON is the
    // record's `Sns` object. Another delivery of the same failure: one item, count 2.
    let sns_event = json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": format!("{}:0b7b3c6e", s.dlq_topic),
        "Sns": body,
    }]});
    app.handle(invocation(sns_event)).await.unwrap();
    let item = app.archive.get("sns-req-1").await.unwrap().unwrap();
    assert_eq!(item.count, 2);
    assert_eq!(
        app.archive.list(&Default::default()).await.unwrap().len(),
        1
    );
}

/// Every item of the archive table (failures and the digest's records), by `Id`.
async fn archive_items(
    sdk: &aws_config::SdkConfig,
) -> std::collections::BTreeMap<
    String,
    std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
> {
    fleet_testkit::seed::table_items(&aws_sdk_dynamodb::Client::new(sdk), TABLE, "Id").await
}

/// The event source mapping delivers an SQS message at least once, and again when the
/// invocation's answer is lost: a destination record and a legacy DLQ message, each handled
/// twice in the same SQS event, are archived once, counted once and digested once.
#[tokio::test]
async fn the_same_failure_message_handled_twice_is_archived_once() {
    let s = stack().await;
    let (app, _clock) = s.app().await;
    s.send_body(
        &s.failure_queue.0,
        &sample_body("dlq-handler/04-destination-scheduler-not-found.json", 0),
    )
    .await;
    let original = sample_body("dlq-handler/01-sqs-dlq-timeout.json", 0);
    s.send_dlq(
        &s.legacy_queue.0,
        "seed-timeout",
        "Task timed out after 300.00 seconds",
        &original,
    )
    .await;

    let cases = [
        (
            "destination record",
            &s.failure_queue,
            "c0ffee00-0004-4a1b-9c2d-3e4f5a6b7c84",
        ),
        ("legacy DLQ message", &s.legacy_queue, "seed-timeout"),
    ];
    for (n, (case, queue, id)) in cases.into_iter().enumerate() {
        let event = s.receive(queue).await;
        assert_eq!(event["Records"].as_array().unwrap().len(), 1, "{case}");
        let first = app.handle(invocation(event.clone())).await.unwrap();
        assert!(first.failed_items().is_empty(), "{case}: {first:?}");
        let after_first = archive_items(&s.sdk).await;
        let item = app.archive.get(id).await.unwrap().unwrap();
        assert_eq!(item.count, 1, "{case}");

        let second = app.handle(invocation(event)).await.unwrap();
        assert!(second.failed_items().is_empty(), "{case}: {second:?}");
        assert_eq!(
            archive_items(&s.sdk).await,
            after_first,
            "{case}: the archive as after the first delivery"
        );
        let item = app
            .archive
            .get(id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{case}: {id} not archived"));
        assert_eq!(item.count, 1, "{case}: counted once");
        assert_eq!(item.status, Status::New, "{case}");
        let listed = app.archive.list(&Default::default()).await.unwrap();
        assert_eq!(listed.len(), n + 1, "{case}: {listed:#?}");
        assert_eq!(
            listed.iter().filter(|i| i.id == id).count(),
            1,
            "{case}: one item listed"
        );
    }
    let seed = app.archive.get("seed-timeout").await.unwrap().unwrap();
    assert_eq!(seed.event, StoredEvent::Inline(original));
    assert_eq!(seed.class, FailureClass::Timeout);

    // The digest counts each failure once: one message per function and class, each of one.
    s.moto.start_recording();
    let answer = app
        .handle(invocation(load_event(
            "dlq-handler/09-digest-schedule.json",
        )))
        .await
        .unwrap();
    let report = serde_json::to_value(&answer).unwrap();
    assert_eq!(
        report["windows"],
        json!([{"window": "2026-11-23T09:00:00Z", "failures": 2, "messages": 2}])
    );
    let mut subjects: Vec<String> = s.reports().into_iter().map(|(s, _)| s).collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "DLQ 09:00-09:15 UTC: 1 MissingResource failure, cloudops-fleet-Ec2SchedulerFunction-AbCdEf123456",
            "DLQ 09:00-09:15 UTC: 1 Timeout failure, legacy-uploads",
        ]
    );
}

#[tokio::test]
async fn a_large_event_is_spilled_to_s3_with_a_pointer() {
    let s = stack().await;
    let (app, _clock) = s.app().await;
    let big = json!({"source": "aws.s3", "detail": {"blob": "z".repeat(100_000)}}).to_string();
    s.send_dlq(
        &s.legacy_queue.0,
        "big-req",
        "Task timed out after 30.00 seconds",
        &big,
    )
    .await;
    let answer = app
        .handle(invocation(s.receive(&s.legacy_queue).await))
        .await
        .unwrap();
    assert!(answer.failed_items().is_empty());
    let item = app.archive.get("big-req").await.unwrap().unwrap();
    let StoredEvent::Spilled { location, bytes } = &item.event else {
        panic!("not spilled: {:?}", item.event)
    };
    assert_eq!(
        location.to_string(),
        "s3://dlq-spill/events/legacy-uploads/big-req.json"
    );
    assert_eq!(*bytes, big.len() as u64);
    let object = dlq_handler::aws::s3_client(&s.sdk)
        .get_object()
        .bucket(BUCKET)
        .key("events/legacy-uploads/big-req.json")
        .send()
        .await
        .unwrap();
    let stored = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(stored.as_ref(), big.as_bytes());
    let shown = cli::show(&app.archive, &app.spill, "big-req")
        .await
        .unwrap();
    let heading = format!(
        "Event (s3://dlq-spill/events/legacy-uploads/big-req.json, {} bytes):",
        big.len()
    );
    assert!(shown.contains(&heading), "{}", &shown[..600]);
}

/// 200 failures here (moto copies a table for every transaction, so 1,000 take minutes); the
/// 1,000-failure storm runs on the in-memory archive in tests/handler.rs.
#[tokio::test]
async fn a_storm_of_failures_is_three_digest_messages() {
    let s = stack().await;
    let (app, _clock) = s.app().await;
    let scheduler = "arn:aws:lambda:eu-west-1:123456789012:function:ec2-scheduler";
    let tagging = "arn:aws:lambda:eu-west-1:123456789012:function:tagging-policy";
    for batch in 0..20 {
        let records = (0..10)
            .map(|i| {
                let n = batch * 10 + i;
                let (function, error) = match n % 10 {
                    0..=6 => (
                        scheduler,
                        HandlerError::new(
                            ErrorClass::NotFound,
                            "DynamoDB: ResourceNotFoundException",
                        ),
                    ),
                    7 | 8 => (
                        tagging,
                        HandlerError::new(ErrorClass::Throttled, "EC2: RequestLimitExceeded"),
                    ),
                    _ => (
                        tagging,
                        HandlerError::new(ErrorClass::AccessDenied, "EC2: UnauthorizedOperation"),
                    ),
                };
                let r = destination_record(
                    function,
                    &format!("storm-{n}"),
                    &json!({"n": n}),
                    &diagnostic(&error),
                    3,
                    t("2026-11-23T09:04:00Z"),
                );
                sqs_record(
                    &format!("m-{n}"),
                    &s.failure_queue.1,
                    &r.to_string(),
                    &[],
                    t("2026-11-23T09:04:01Z"),
                )
            })
            .collect();
        let answer = app.handle(invocation(sqs_event(records))).await.unwrap();
        assert!(answer.failed_items().is_empty());
    }
    s.moto.start_recording();
    app.handle(invocation(load_event(
        "dlq-handler/09-digest-schedule.json",
    )))
    .await
    .unwrap();
    let reports = s.reports();
    let subjects: Vec<&str> = reports.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "DLQ 09:00-09:15 UTC: 140 MissingResource failures, ec2-scheduler",
            "DLQ 09:00-09:15 UTC: 40 Throttled failures, tagging-policy",
            "DLQ 09:00-09:15 UTC: 20 AccessDenied failures, tagging-policy",
        ]
    );
}

/// moto needs an IAM role before it creates a function; the stand-in takes unsigned requests
/// that name the service in their credential scope.
fn create_role(moto: &Moto, name: &str) -> String {
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument=%7B%7D"
    );
    let response = ureq::post(moto.endpoint())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20261123/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
        )
        .send(&body)
        .unwrap_or_else(|e| panic!("CreateRole: {e}"));
    assert!(response.status().is_success());
    format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}")
}

#[tokio::test]
async fn a_replay_is_the_original_event_sent_asynchronously_to_the_function() {
    let s = stack().await;
    // Without Docker moto answers invokes itself instead of running the function.
    s.moto.configure(json!({"lambda": {"use_docker": false}}));
    let role = create_role(&s.moto, "replay-target-role");
    let lambda = aws_sdk_lambda::Client::new(&s.sdk);
    let function_arn = lambda
        .create_function()
        .function_name("replay-target")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .role(role)
        .handler("bootstrap")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(
                    b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec(),
                ))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .function_arn
        .unwrap_or_default();
    let (app, clock) = s.app().await;
    let original = json!({"source": "aws.ec2", "detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "RunInstances"}});
    let error = HandlerError::new(ErrorClass::Throttled, "EC2: RequestLimitExceeded");
    let record = destination_record(
        &function_arn,
        "to-replay",
        &original,
        &diagnostic(&error),
        3,
        t("2026-11-23T09:04:00Z"),
    );
    s.send_body(&s.failure_queue.0, &record.to_string()).await;
    app.handle(invocation(s.receive(&s.failure_queue).await))
        .await
        .unwrap();

    s.moto.start_recording();
    let adapters = cli::adapters(&s.sdk, TABLE);
    let args = cli::ReplayArgs {
        id: Some("to-replay".into()),
        ..Default::default()
    };
    let text = cli::replay(
        &adapters.archive,
        &adapters.spill,
        &adapters.invoker,
        &dlq_handler::ports::TokioPause,
        clock.as_ref(),
        &args,
        &mut |_| true,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        text.starts_with(&format!("Sent to-replay to {function_arn}")),
        "{text}"
    );
    let invokes: Vec<_> = s
        .moto
        .recorded_requests()
        .into_iter()
        .filter(|r| r.url.contains("/2015-03-31/functions/") && r.url.contains("/invocations"))
        .collect();
    assert_eq!(invokes.len(), 1, "{invokes:#?}");
    let invoke = &invokes[0];
    assert_eq!(invoke.method, "POST");
    assert!(invoke.url.contains("replay-target"), "{}", invoke.url);
    assert_eq!(
        invoke
            .headers
            .get("x-amz-invocation-type")
            .map(String::as_str),
        Some("Event")
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&invoke.body).unwrap(),
        original
    );
    let item = adapters.archive.get("to-replay").await.unwrap().unwrap();
    assert_eq!(item.status, Status::Replayed);
    assert_eq!(item.replays, 1);
}

/// End to end: the scheduler fails for real (its state table does not exist), Lambda's on-failure
/// destination record for that failure goes through the failure queue, and the handler archives
/// it under the scheduler with the class the scheduler reported.
#[tokio::test]
async fn a_real_scheduler_failure_reaches_the_archive_with_its_class() {
    use ec2_scheduler::config::Config as SchedulerConfig;
    use fleet_core::FromVars;
    let s = stack().await;
    let scheduler_config =
        SchedulerConfig::from_vars(&[("STATE_TABLE", "no-such-state-table")]).unwrap();
    let (env, _) = Env::fixed(t("2026-11-23T08:00:00Z"));
    let scheduler = ec2_scheduler::wire(&s.sdk, scheduler_config, env)
        .await
        .unwrap();
    let event = load_event("ec2-scheduler/01-monday-0800.json");
    let failure = scheduler
        .handle(invocation(event.clone()))
        .await
        .expect_err("the scheduler cannot run without its state table");
    assert_eq!(failure.class, ErrorClass::NotFound, "{failure}");

    let arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:ec2-scheduler");
    let record = destination_record(
        &arn,
        "e2e-scheduler-request",
        &event,
        &diagnostic(&failure),
        3,
        t("2026-11-23T08:00:40Z"),
    );
    s.send_body(&s.failure_queue.0, &record.to_string()).await;
    let (app, _clock) = s.app().await;
    let answer = app
        .handle(invocation(s.receive(&s.failure_queue).await))
        .await
        .unwrap();
    assert!(answer.failed_items().is_empty(), "{answer:?}");

    let item = app
        .archive
        .get("e2e-scheduler-request")
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("the scheduler's failure was not archived"));
    assert_eq!(item.function_name(), "ec2-scheduler");
    assert_eq!(item.class, FailureClass::MissingResource);
    assert_eq!(item.error_type.as_deref(), Some("NotFound"));
    assert_eq!(item.attempts, Some(3));
    assert_eq!(item.error_message, failure.message);
}
