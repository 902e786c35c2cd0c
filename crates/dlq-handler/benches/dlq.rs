//! The dead-letter handler's figures:
//! - records per second normalised, classified and archived by the real handler on the in-memory
//!   adapters (SQS batches of 10, a mix of every input shape);
//! - AWS calls per batch of 10 made by the real AWS adapters, counted by moto's request recorder
//!   (skipped when no moto server is found).
//!
//! `cargo bench -p dlq-handler --bench dlq` (release), or add `--profile dev` for a debug build.

#[path = "../tests/common/moto.rs"]
#[allow(dead_code)]
mod stand_in;

use chrono::{DateTime, Utc};
use dlq_handler::config::Settings;
use dlq_handler::lambda_shapes::{
    destination_record, diagnostic, dlq_attributes, sqs_event, sqs_record,
};
use dlq_handler::memory::{MemoryArchive, MemorySpill, RecordingMetrics};
use dlq_handler::normalise::normalise;
use dlq_handler::trigger::{parse_trigger, Trigger};
use dlq_handler::App;
use fleet_core::EventHandler;
use fleet_core::{ErrorClass, FixedClock, HandlerError, RecordingNotifier};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

const QUEUE: &str = "arn:aws:sqs:eu-west-1:123456789012:fleet-failures";
const LEGACY: &str = "arn:aws:sqs:eu-west-1:123456789012:legacy-function-dlq";
const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:sns-lambda-test";

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn invocation(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

/// Record `n` of batch `batch`: 60% destination records (five error types), 30% DLQ messages
/// (three messages), 10% SNS notifications carried by SQS. Ids start with `prefix`.
fn record(prefix: &str, n: usize, queue: &str, event_bytes: usize) -> Value {
    let event = json!({"source": "aws.ec2", "detail-type": "AWS API Call via CloudTrail", "n": n, "pad": "p".repeat(event_bytes)});
    let at = t("2026-11-23T09:04:00Z");
    let id = format!("{prefix}-{n}");
    match n % 10 {
        0..=5 => {
            let (function, error) = match n % 5 {
                0 => (
                    "ec2-scheduler",
                    HandlerError::new(
                        ErrorClass::NotFound,
                        "DynamoDB: ResourceNotFoundException: Requested resource not found",
                    ),
                ),
                1 => (
                    "tagging-policy",
                    HandlerError::new(
                        ErrorClass::Throttled,
                        "EC2: RequestLimitExceeded: Request limit exceeded.",
                    ),
                ),
                2 => (
                    "tagging-policy",
                    HandlerError::new(ErrorClass::AccessDenied, "EC2: UnauthorizedOperation"),
                ),
                3 => (
                    "approval-poller",
                    HandlerError::new(ErrorClass::Unavailable, "Step Functions: HTTP 503"),
                ),
                _ => (
                    "call-center",
                    HandlerError::new(
                        ErrorClass::InvalidEvent,
                        "not an S3 event: Records: missing field",
                    ),
                ),
            };
            let arn = format!("arn:aws:lambda:eu-west-1:123456789012:function:{function}");
            let body =
                destination_record(&arn, &id, &event, &diagnostic(&error), 3, at).to_string();
            sqs_record(&format!("m-{id}"), queue, &body, &[], at)
        }
        6..=8 => {
            let message = [
                "Task timed out after 300.00 seconds",
                "Process exited before completing request",
                "Cannot find module '/var/task/index'",
            ][n % 3];
            sqs_record(
                &format!("m-{id}"),
                LEGACY,
                &event.to_string(),
                &dlq_attributes(&id, 200, message),
                at,
            )
        }
        _ => {
            let attributes: serde_json::Map<String, Value> =
                dlq_attributes(&id, 200, "Runtime exited with error: signal: killed")
                    .into_iter()
                    .map(|(k, ty, v)| (k.to_owned(), json!({"Type": ty, "Value": v})))
                    .collect();
            let envelope = json!({
                "Type": "Notification", "MessageId": format!("sns-{id}"), "TopicArn": TOPIC,
                "Message": event.to_string(), "Timestamp": "2026-11-23T09:04:00.000Z",
                "SignatureVersion": "1", "Signature": "x", "SigningCertURL": "https://sns", "UnsubscribeURL": "https://sns",
                "MessageAttributes": attributes,
            });
            sqs_record(
                &format!("m-{id}"),
                "arn:aws:sqs:eu-west-1:123456789012:sns-dlq",
                &envelope.to_string(),
                &[],
                at,
            )
        }
    }
}

fn batches(prefix: &str, count: usize, event_bytes: usize) -> Vec<Value> {
    (0..count)
        .map(|b| {
            sqs_event(
                (0..10)
                    .map(|i| record(prefix, b * 10 + i, QUEUE, event_bytes))
                    .collect(),
            )
        })
        .collect()
}

fn settings() -> Settings {
    Settings {
        sources: format!("{LEGACY}=legacy-uploads,{TOPIC}=legacy-transcoder")
            .parse()
            .unwrap_or_else(|e| panic!("{e}")),
        ..Settings::default()
    }
}

async fn in_memory() {
    const BATCHES: usize = 1_000;
    let events = batches("mem", BATCHES, 200);
    let clock = Arc::new(FixedClock::at(t("2026-11-23T09:05:00Z")));
    // Classification alone.
    let sources = settings().sources;
    let started = Instant::now();
    let mut classes = BTreeMap::new();
    for event in &events {
        if let Trigger::Sqs(deliveries) = parse_trigger(event.clone()) {
            for d in &deliveries {
                *classes.entry(normalise(d, &sources).class).or_insert(0) += 1;
            }
        }
    }
    let classify = started.elapsed();
    let mut best = f64::MAX;
    let mut calls = None;
    for _ in 0..3 {
        let app = App {
            archive: MemoryArchive::new(),
            spill: MemorySpill::new("spill"),
            notifier: Some(RecordingNotifier::default()),
            metrics: RecordingMetrics::default(),
            clock: clock.clone(),
            settings: settings(),
        };
        let started = Instant::now();
        for event in &events {
            let answer = app
                .handle(invocation(event.clone()))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(answer.failed_items().is_empty());
        }
        best = best.min(started.elapsed().as_secs_f64());
        assert_eq!(app.archive.items().len(), BATCHES * 10);
        calls = Some(app.archive.calls());
    }
    let records = (BATCHES * 10) as f64;
    println!(
        "in-memory, {} records in batches of 10: parsed + classified {:.0} records/s; parsed + classified + spill check + archived + EMF {:.0} records/s ({:.1} µs per record, best of 3)",
        BATCHES * 10,
        records / classify.as_secs_f64(),
        records / best,
        best * 1e6 / records
    );
    let calls = calls.unwrap_or_default();
    println!(
        "  archive calls: {} batched writes + {} single writes for {} batches; classes: {}",
        calls.batch_writes,
        calls.item_writes,
        BATCHES,
        classes
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// Requests moto recorded since `start_recording`, by operation.
fn calls(moto: &fleet_testkit::Moto) -> BTreeMap<String, usize> {
    let mut by_op = BTreeMap::new();
    for r in moto.recorded_requests() {
        let target = r.headers.get("x-amz-target").cloned();
        let op = match target {
            Some(t) => t.rsplit('.').next().unwrap_or_default().to_owned(),
            None if r.url.contains("/invocations") => "Lambda Invoke".to_owned(),
            None if r.method == "PUT" => "S3 PutObject".to_owned(),
            None => {
                let body = String::from_utf8_lossy(&r.body).into_owned();
                body.split('&')
                    .find_map(|p| p.strip_prefix("Action="))
                    .map(|a| format!("SNS {a}"))
                    .unwrap_or_else(|| format!("{} {}", r.method, r.url))
            }
        };
        *by_op.entry(op).or_insert(0) += 1;
    }
    by_op
}

fn show(calls: &BTreeMap<String, usize>) -> String {
    let total: usize = calls.values().sum();
    let parts: Vec<String> = calls.iter().map(|(op, n)| format!("{n} {op}")).collect();
    format!("{total} ({})", parts.join(", "))
}

async fn against_moto() {
    let found = std::env::var_os("MOTO_SERVER").is_some()
        || fleet_testkit::workspace_root()
            .join(".venv/bin/moto_server")
            .exists();
    if !found {
        println!("stand-in: skipped (no moto_server: run `make setup` or set MOTO_SERVER)");
        return;
    }
    let moto = fleet_testkit::Moto::start();
    let sdk = moto.sdk_config();
    stand_in::create_archive_table(&aws_sdk_dynamodb::Client::new(&sdk), "archive").await;
    stand_in::create_bucket(&dlq_handler::aws::s3_client(&sdk), "spill").await;
    let topic = aws_sdk_sns::Client::new(&sdk)
        .create_topic()
        .name("reports")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .topic_arn
        .unwrap_or_default();
    // The AWS adapters as `wire` builds them; EMF lines are kept instead of printed.
    let app = App {
        archive: dlq_handler::aws::DynamoArchive::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            "archive",
        ),
        spill: dlq_handler::aws::S3Spill::new(dlq_handler::aws::s3_client(&sdk), "spill"),
        notifier: fleet_core::SnsNotifier::for_topic(&sdk, Some(topic)),
        metrics: RecordingMetrics::default(),
        clock: Arc::new(FixedClock::at(t("2026-11-23T09:05:00Z"))),
        settings: settings(),
    };
    let run = |event: Value| {
        let app = &app;
        async move {
            let answer = app
                .handle(invocation(event))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(answer.failed_items().is_empty());
        }
    };
    let events = batches("moto", 2, 200);
    println!("stand-in (moto), AWS calls per batch of 10 (real adapters, request recorder):");
    moto.start_recording();
    run(events[0].clone()).await;
    println!(
        "  new failures:                      {}",
        show(&calls(&moto))
    );
    moto.start_recording();
    run(events[0].clone()).await;
    println!(
        "  the same batch redelivered:        {}",
        show(&calls(&moto))
    );
    let mut mixed = events[1].clone();
    for i in 0..2 {
        mixed["Records"][i] = events[0]["Records"][i].clone();
    }
    moto.start_recording();
    run(mixed).await;
    println!(
        "  8 new + 2 redelivered:             {}",
        show(&calls(&moto))
    );
    let large = batches("large", 1, 40_000).remove(0);
    moto.start_recording();
    run(large).await;
    println!(
        "  10 new, events of 40 KB (spilled): {}",
        show(&calls(&moto))
    );
    moto.start_recording();
    let tick = json!({"detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-11-23T09:16:30Z", "id": "x", "version": "0", "account": "123456789012", "region": "eu-west-1", "resources": [], "detail": {}});
    let answer = app
        .handle(invocation(tick))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let messages =
        serde_json::to_value(&answer).unwrap_or_default()["windows"][0]["messages"].clone();
    println!(
        "  digest run (one closed window, {messages} function/class messages): {}",
        show(&calls(&moto))
    );
}

#[tokio::main]
async fn main() {
    in_memory().await;
    against_moto().await;
}
