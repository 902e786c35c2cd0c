//! Faults (issue 18): the handler on SQS batches with the archive's TransactWriteItems or
//! UpdateItem, or the spill bucket's PutObject, throttled (then answered, or throughout),
//! answering 503 on every attempt, or not answering at all; and `fleet dlq replay` with Lambda's
//! Invoke so. The SDK's retry absorbs passing throttling. A failed transaction is written message
//! by message; a message whose write (or spill) still fails, and only that one, is in
//! `batchItemFailures` for SQS to deliver again, and the rest is archived once. A replay that
//! Lambda did not accept is reported failed and leaves the item `new`.

mod common;

use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsError, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::error::TransactionCanceledException;
use aws_sdk_dynamodb::types::CancellationReason;
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_smithy_mocks::mock;
use common::{invocation, t, Harness, QUEUE, TAGGING};
use dlq_handler::aws::{DynamoArchive, LambdaInvoker, S3Spill};
use dlq_handler::cli::{self, ReplayArgs};
use dlq_handler::config::Settings;
use dlq_handler::lambda_shapes::{destination_record, diagnostic, sqs_event, sqs_record};
use dlq_handler::memory::{MemoryArchive, MemorySpill, RecordingMetrics, RecordingPause};
use dlq_handler::model::{Status, StoredEvent};
use dlq_handler::ports::{Archive, DigestLedger, EventSpill};
use dlq_handler::App;
use fleet_core::{ErrorClass, EventHandler, FixedClock, HandlerError, RecordingNotifier};
use fleet_testkit::faults::{Fault, ATTEMPTS};
use fleet_testkit::{inject, load_event};
use serde_json::{json, Value};
use std::sync::Arc;

/// The messages of `05-destination-batch.json`, in order.
const BATCH: [&str; 3] = [
    "9c8b7a6d-0005-4e3f-8a1b-2c3d4e5f6a75",
    "9c8b7a6d-0006-4e3f-8a1b-2c3d4e5f6a76",
    "9c8b7a6d-0007-4e3f-8a1b-2c3d4e5f6a77",
];
/// The one message of `01-sqs-dlq-timeout.json`.
const SINGLE: &str = "5f4e3d2c-0001-4b5a-9c8d-7e6f5a4b3c21";

fn no_failures() -> Vec<String> {
    Vec::new()
}

fn app<A: Archive + DigestLedger, S: EventSpill>(
    archive: A,
    spill: S,
) -> App<A, S, RecordingNotifier, RecordingMetrics> {
    App {
        archive,
        spill,
        notifier: None,
        metrics: RecordingMetrics::default(),
        clock: Arc::new(FixedClock::at(t("2026-11-23T09:05:00Z"))),
        settings: Settings {
            sources: common::sources(),
            ..Settings::default()
        },
    }
}

/// The messages the handler's answer hands back to SQS for `sample`.
async fn redelivered<A: Archive + DigestLedger, S: EventSpill>(
    app: &App<A, S, RecordingNotifier, RecordingMetrics>,
    event: Value,
) -> Vec<String> {
    app.handle(invocation(event)).await.unwrap().failed_items()
}

fn sample(name: &str) -> Value {
    load_event(&format!("dlq-handler/{name}"))
}

fn dynamodb_throttling() -> aws_sdk_dynamodb::error::ErrorMetadata {
    aws_sdk_dynamodb::error::ErrorMetadata::builder()
        .code("ProvisionedThroughputExceededException")
        .message("Rate of requests exceeds the allowed throughput")
        .build()
}

fn archive(client: &aws_sdk_dynamodb::Client) -> DynamoArchive {
    DynamoArchive::new(client.clone(), "dlq-archive")
}

// ---------------------------------------------------------------- TransactWriteItems

fn throttled_transaction() -> TransactWriteItemsError {
    TransactWriteItemsError::generic(dynamodb_throttling())
}

fn transaction_done() -> TransactWriteItemsOutput {
    TransactWriteItemsOutput::builder().build()
}

/// The sample batch of three over the archive with `fault` on TransactWriteItems (UpdateItem
/// answers): (messages handed back, attempts, single writes).
async fn transact_with(fault: Fault) -> (Vec<String>, usize, usize) {
    let alone = mock!(aws_sdk_dynamodb::Client::update_item)
        .then_output(|| UpdateItemOutput::builder().build());
    let dynamodb = inject!(
        aws_sdk_dynamodb,
        aws_sdk_dynamodb::Client::transact_write_items,
        fault,
        throttled_transaction,
        transaction_done,
        alone
    );
    let app = app(archive(&dynamodb.client), MemorySpill::new("spill"));
    let failed = redelivered(&app, sample("05-destination-batch.json")).await;
    (failed, dynamodb.attempts(), alone.num_calls())
}

#[tokio::test]
async fn batch_write_throttled_then_answered_is_retried_and_archives_all_in_one_transaction() {
    assert_eq!(
        transact_with(Fault::ThrottledThenOk).await,
        (no_failures(), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn batch_write_throttled_throughout_archives_each_message_alone() {
    assert_eq!(
        transact_with(Fault::Throttled).await,
        (no_failures(), ATTEMPTS, 3)
    );
}

#[tokio::test]
async fn batch_write_5xx_archives_each_message_alone() {
    assert_eq!(
        transact_with(Fault::ServerError).await,
        (no_failures(), ATTEMPTS, 3)
    );
}

#[tokio::test]
async fn batch_write_timeout_hands_every_message_back_to_sqs() {
    // The silent table answers nothing: the transaction, then each message alone, times out.
    assert_eq!(
        transact_with(Fault::Timeout).await,
        (BATCH.map(String::from).to_vec(), ATTEMPTS * (1 + 3), 0)
    );
}

// ---------------------------------------------------------------- UpdateItem

fn throttled_update() -> UpdateItemError {
    UpdateItemError::generic(dynamodb_throttling())
}

/// The transaction of three cancelled for the second message only (throttled there).
fn second_throttled() -> TransactWriteItemsError {
    let reason = |code: &str| CancellationReason::builder().code(code).build();
    TransactWriteItemsError::TransactionCanceledException(
        TransactionCanceledException::builder()
            .message("Transaction cancelled, please refer cancellation reasons for specific reasons [None, ThrottlingError, None]")
            .cancellation_reasons(reason("None"))
            .cancellation_reasons(reason("ThrottlingError"))
            .cancellation_reasons(reason("None"))
            .build(),
    )
}

/// The sample batch of three, its transaction cancelled for the second message, which is then
/// written alone with `fault` on UpdateItem: (messages handed back, attempts, transactions of
/// the other two).
async fn write_alone_with(fault: Fault) -> (Vec<String>, usize, usize) {
    let three = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .match_requests(|r| r.transact_items().len() == 3)
        .then_error(second_throttled);
    let two = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .match_requests(|r| r.transact_items().len() == 2)
        .then_output(transaction_done);
    let dynamodb = inject!(
        aws_sdk_dynamodb,
        aws_sdk_dynamodb::Client::update_item,
        fault,
        throttled_update,
        || UpdateItemOutput::builder().build(),
        three,
        two
    );
    let app = app(archive(&dynamodb.client), MemorySpill::new("spill"));
    let failed = redelivered(&app, sample("05-destination-batch.json")).await;
    (failed, dynamodb.attempts(), two.num_calls())
}

#[tokio::test]
async fn message_write_throttled_then_answered_is_retried_and_the_batch_archived_once() {
    assert_eq!(
        write_alone_with(Fault::ThrottledThenOk).await,
        (no_failures(), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn message_write_throttled_throughout_hands_back_that_message_only() {
    assert_eq!(
        write_alone_with(Fault::Throttled).await,
        (vec![BATCH[1].to_owned()], ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn message_write_5xx_hands_back_that_message_only() {
    assert_eq!(
        write_alone_with(Fault::ServerError).await,
        (vec![BATCH[1].to_owned()], ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn message_write_timeout_hands_back_that_message() {
    // A silent table cannot answer the other messages' transaction either: a batch of one
    // message is written alone (UpdateItem) from the start.
    let dynamodb = inject!(
        aws_sdk_dynamodb,
        aws_sdk_dynamodb::Client::update_item,
        Fault::Timeout,
        throttled_update,
        || UpdateItemOutput::builder().build()
    );
    let app = app(archive(&dynamodb.client), MemorySpill::new("spill"));
    let failed = redelivered(&app, sample("01-sqs-dlq-timeout.json")).await;
    assert_eq!(
        (failed, dynamodb.attempts()),
        (vec![SINGLE.to_owned()], ATTEMPTS)
    );
}

// ---------------------------------------------------------------- PutObject (spill)

fn slow_down() -> PutObjectError {
    PutObjectError::generic(
        aws_sdk_s3::error::ErrorMetadata::builder()
            .code("SlowDown")
            .message("Please reduce your request rate.")
            .build(),
    )
}

/// A destination record of the tagging function failing on `event`, as message `msg-<n>`.
fn message(n: usize, event: &Value) -> Value {
    let error = HandlerError::new(ErrorClass::Throttled, "EC2: RequestLimitExceeded");
    let record = destination_record(
        TAGGING,
        &format!("req-{n}"),
        event,
        &diagnostic(&error),
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

/// A batch of a large event (spilled) and a small one over the bucket with `fault` on
/// PutObject: (messages handed back, attempts, archived ids and whether each event is spilled).
async fn spill_with(fault: Fault) -> (Vec<String>, usize, Vec<(String, bool)>) {
    let s3 = inject!(
        aws_sdk_s3,
        aws_sdk_s3::Client::put_object,
        fault,
        slow_down,
        || PutObjectOutput::builder().build()
    );
    let mut app = app(
        MemoryArchive::new(),
        S3Spill::new(s3.client.clone(), "spill"),
    );
    app.settings.inline_bytes = 1024;
    let large = json!({"source": "aws.s3", "blob": "x".repeat(5000)});
    let small = json!({"source": "aws.s3"});
    let failed = redelivered(
        &app,
        sqs_event(vec![message(1, &large), message(2, &small)]),
    )
    .await;
    let archived = app
        .archive
        .items()
        .into_iter()
        .map(|i| (i.id, matches!(i.event, StoredEvent::Spilled { .. })))
        .collect();
    (failed, s3.attempts(), archived)
}

/// Only the small event's message archived, inline.
fn small_only() -> Vec<(String, bool)> {
    vec![("req-2".to_owned(), false)]
}

#[tokio::test]
async fn spill_throttled_then_answered_is_retried_and_both_archived() {
    assert_eq!(
        spill_with(Fault::ThrottledThenOk).await,
        (
            no_failures(),
            ATTEMPTS,
            vec![("req-1".to_owned(), true), ("req-2".to_owned(), false)]
        )
    );
}

#[tokio::test]
async fn spill_throttled_throughout_hands_back_the_large_message_only() {
    assert_eq!(
        spill_with(Fault::Throttled).await,
        (vec!["msg-1".to_owned()], ATTEMPTS, small_only())
    );
}

#[tokio::test]
async fn spill_5xx_hands_back_the_large_message_only() {
    assert_eq!(
        spill_with(Fault::ServerError).await,
        (vec!["msg-1".to_owned()], ATTEMPTS, small_only())
    );
}

#[tokio::test]
async fn spill_timeout_hands_back_the_large_message_only() {
    assert_eq!(
        spill_with(Fault::Timeout).await,
        (vec!["msg-1".to_owned()], ATTEMPTS, small_only())
    );
}

// ---------------------------------------------------------------- Invoke (replay)

fn throttled_invoke() -> InvokeError {
    InvokeError::generic(
        aws_sdk_lambda::error::ErrorMetadata::builder()
            .code("TooManyRequestsException")
            .message("Rate Exceeded.")
            .build(),
    )
}

/// `fleet dlq replay req-1` (an archived throttled failure of the tagging function) over Lambda
/// with `fault` on Invoke: (replayed, the report's first words and last line, attempts, the
/// item's status after).
async fn replay_with(fault: Fault) -> (bool, String, String, usize, Status) {
    let harness = Harness::new();
    let archived = redelivered(&harness.app, sqs_event(vec![message(1, &json!({"n": 1}))])).await;
    assert!(archived.is_empty());
    let lambda = inject!(
        aws_sdk_lambda,
        aws_sdk_lambda::Client::invoke,
        fault,
        throttled_invoke,
        || InvokeOutput::builder().status_code(202).build()
    );
    let args = ReplayArgs {
        id: Some("req-1".into()),
        ..ReplayArgs::default()
    };
    let report = cli::replay(
        &harness.app.archive,
        &harness.app.spill,
        &LambdaInvoker::new(lambda.client.clone()),
        &RecordingPause::default(),
        harness.clock.as_ref(),
        &args,
        &mut |_| unreachable!("a single replay asks nothing"),
    )
    .await;
    let replayed = report.is_ok();
    let text = report.unwrap_or_else(|e| e.to_string());
    // "Sent req-1 to <arn>; marked …" or "Not sent req-1 to <arn>: <error>".
    let first = text.split(['\n', ';']).next().unwrap_or_default();
    let first = first.split(": ").next().unwrap_or_default().to_owned();
    let last = text.lines().last().unwrap_or_default().to_owned();
    let status = harness.app.archive.items()[0].status;
    (replayed, first, last, lambda.attempts(), status)
}

fn not_sent() -> (bool, String, String, usize, Status) {
    (
        false,
        format!("Not sent req-1 to {TAGGING}"),
        "0 sent, 1 failed.".to_owned(),
        ATTEMPTS,
        Status::New,
    )
}

#[tokio::test]
async fn replay_throttled_then_answered_is_retried_sent_and_marked() {
    assert_eq!(
        replay_with(Fault::ThrottledThenOk).await,
        (
            true,
            format!("Sent req-1 to {TAGGING}"),
            "1 sent, 0 failed.".to_owned(),
            ATTEMPTS,
            Status::Replayed
        )
    );
}

#[tokio::test]
async fn replay_throttled_throughout_is_reported_failed_and_the_item_stays_new() {
    assert_eq!(replay_with(Fault::Throttled).await, not_sent());
}

#[tokio::test]
async fn replay_5xx_is_reported_failed_and_the_item_stays_new() {
    assert_eq!(replay_with(Fault::ServerError).await, not_sent());
}

#[tokio::test]
async fn replay_timeout_is_reported_failed_and_the_item_stays_new() {
    assert_eq!(replay_with(Fault::Timeout).await, not_sent());
}
