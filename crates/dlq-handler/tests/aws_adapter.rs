//! The AWS adapters with aws-smithy-mocks: the archive's transaction and what it does when
//! DynamoDB cancels it (a throttled item fails alone, redeliveries settle, an outright failure
//! goes item by item), paging, corrupt items, the digest ledger's unprocessed keys, the S3 spill,
//! and Lambda `Invoke` for replays with its errors.

mod common;

use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::scan::ScanOutput;
use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsError, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::error::{
    ConditionalCheckFailedException, ProvisionedThroughputExceededException,
    TransactionCanceledException,
};
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, KeysAndAttributes};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use common::{invocation, t, QUEUE, SCHEDULER};
use dlq_handler::aws::{DynamoArchive, LambdaInvoker, S3Spill};
use dlq_handler::classify::FailureClass;
use dlq_handler::config::Settings;
use dlq_handler::contract::write;
use dlq_handler::lambda_shapes::{destination_record, diagnostic, sqs_event, sqs_record};
use dlq_handler::memory::{MemorySpill, RecordingMetrics};
use dlq_handler::model::{ArchiveWrite, Filter, Recorded, SpillLocation};
use dlq_handler::ports::{Archive, DigestLedger, EventSpill, Invoker};
use dlq_handler::App;
use fleet_core::EventHandler;
use fleet_core::{ErrorClass, FixedClock, HandlerError, RecordingNotifier};
use std::collections::HashMap;
use std::sync::Arc;

fn dynamo(rules: &[&Rule]) -> DynamoArchive {
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, rules, |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    DynamoArchive::new(client, "archive")
}

fn batch(n: usize) -> Vec<ArchiveWrite> {
    (0..n)
        .map(|i| {
            write(
                &format!("req-{i}"),
                &format!("msg-{i}"),
                "ec2-scheduler",
                FailureClass::MissingResource,
                "2026-11-23T09:05:00Z",
            )
        })
        .collect()
}

/// A cancellation with one reason per action (`None` = fine).
fn cancelled(codes: Vec<&'static str>) -> Rule {
    mock!(aws_sdk_dynamodb::Client::transact_write_items).then_error(move || {
        let mut e = TransactionCanceledException::builder()
            .message(
                "Transaction cancelled, please refer cancellation reasons for specific reasons",
            )
            .meta(
                ErrorMetadata::builder()
                    .code("TransactionCanceledException")
                    .build(),
            );
        for code in &codes {
            e = e.cancellation_reasons(CancellationReason::builder().code(*code).build());
        }
        TransactWriteItemsError::TransactionCanceledException(e.build())
    })
}

fn transaction_of(n: usize) -> Rule {
    mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .match_requests(move |r| r.transact_items().len() == n)
        .then_output(|| TransactWriteItemsOutput::builder().build())
}

fn throughput_exceeded() -> UpdateItemError {
    UpdateItemError::ProvisionedThroughputExceededException(
        ProvisionedThroughputExceededException::builder()
            .message("The level of configured provisioned throughput for the table was exceeded")
            .meta(
                ErrorMetadata::builder()
                    .code("ProvisionedThroughputExceededException")
                    .message(
                        "The level of configured provisioned throughput for the table was exceeded",
                    )
                    .build(),
            )
            .build(),
    )
}

#[tokio::test]
async fn a_clean_batch_of_ten_is_one_conditional_transaction() {
    let rule = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .match_requests(|r| {
            let items = r.transact_items();
            items.len() == 10
                && items.iter().enumerate().all(|(i, item)| {
                    let Some(u) = item.update() else { return false };
                    let names = u.expression_attribute_names().cloned().unwrap_or_default();
                    let values = u.expression_attribute_values().cloned().unwrap_or_default();
                    // The condition names the delivering message: a redelivery fails it.
                    let delivery = u
                        .condition_expression()
                        .and_then(|c| {
                            c.strip_prefix(
                                "attribute_not_exists(#Id) OR NOT contains(#Deliveries, ",
                            )
                        })
                        .and_then(|c| c.strip_suffix(')'));
                    u.table_name() == "archive"
                        && u.key().get("Id") == Some(&AttributeValue::S(format!("req-{i}")))
                        && names.get("#Deliveries").map(String::as_str) == Some("Deliveries")
                        && delivery.and_then(|d| values.get(d))
                            == Some(&AttributeValue::S(format!("msg-{i}")))
                        && u.update_expression()
                            .contains("#Status = if_not_exists(#Status, ")
                        && u.update_expression().contains("ADD #Count ")
                })
        })
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let archive = dynamo(&[&rule]);
    let results = archive.record(&batch(10)).await;
    assert_eq!(results, vec![Ok(Recorded::Archived); 10]);
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn throttling_on_one_message_of_a_batch_fails_only_that_message() {
    let first = cancelled(vec![
        "None",
        "None",
        "None",
        "ThrottlingError",
        "None",
        "None",
        "None",
        "None",
        "None",
        "None",
    ]);
    let rest = transaction_of(9);
    let alone = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|r| {
            r.key().and_then(|k| k.get("Id")) == Some(&AttributeValue::S("req-3".into()))
        })
        .then_error(throughput_exceeded);
    let archive = dynamo(&[&first, &rest, &alone]);
    let app = App {
        archive,
        spill: MemorySpill::new("spill"),
        notifier: Some(RecordingNotifier::default()),
        metrics: RecordingMetrics::default(),
        clock: Arc::new(FixedClock::at(t("2026-11-23T09:05:00Z"))),
        settings: Settings::default(),
    };
    let error = HandlerError::new(ErrorClass::NotFound, "DynamoDB: ResourceNotFoundException");
    let records = (0..10)
        .map(|n| {
            let r = destination_record(
                SCHEDULER,
                &format!("req-{n}"),
                &serde_json::json!({"n": n}),
                &diagnostic(&error),
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
        })
        .collect();
    let answer = app.handle(invocation(sqs_event(records))).await.unwrap();
    assert_eq!(answer.failed_items(), ["msg-3"]);
    assert_eq!(
        (first.num_calls(), rest.num_calls(), alone.num_calls()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn redeliveries_settle_in_the_cancellation_and_the_rest_is_one_more_transaction() {
    let first = cancelled(vec![
        "ConditionalCheckFailed",
        "None",
        "None",
        "ConditionalCheckFailed",
        "None",
    ]);
    let rest = transaction_of(3);
    let archive = dynamo(&[&first, &rest]);
    let results = archive.record(&batch(5)).await;
    assert_eq!(
        results,
        vec![
            Ok(Recorded::AlreadyCounted),
            Ok(Recorded::Archived),
            Ok(Recorded::Archived),
            Ok(Recorded::AlreadyCounted),
            Ok(Recorded::Archived),
        ]
    );
    assert_eq!((first.num_calls(), rest.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_transaction_that_fails_outright_is_written_item_by_item() {
    let broken = mock!(aws_sdk_dynamodb::Client::transact_write_items).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(500).unwrap(),
            aws_smithy_types::body::SdkBody::from("{}"),
        )
    });
    let ok = mock!(aws_sdk_dynamodb::Client::update_item)
        .sequence()
        .output(|| UpdateItemOutput::builder().build())
        .times(2)
        .error(|| {
            UpdateItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder()
                    .message("The conditional request failed")
                    .build(),
            )
        })
        .build();
    let archive = dynamo(&[&broken, &ok]);
    let results = archive.record(&batch(3)).await;
    assert_eq!(
        results,
        vec![
            Ok(Recorded::Archived),
            Ok(Recorded::Archived),
            Ok(Recorded::AlreadyCounted)
        ]
    );
    assert_eq!((broken.num_calls(), ok.num_calls()), (1, 3));
}

#[tokio::test]
async fn a_single_write_and_a_repeated_id_use_update_item_and_throttling_is_backed_off() {
    // One write needs no transaction (half the write cost); a repeat of an id in the batch is
    // written after, alone. With the SDK's standard retry a throttled write is retried.
    let throttled_then_ok = mock!(aws_sdk_dynamodb::Client::update_item)
        .sequence()
        .error(throughput_exceeded)
        .output(|| UpdateItemOutput::builder().build())
        .times(2)
        .build();
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::Sequential,
        &[&throttled_then_ok],
        |c| c.retry_config(
            aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(5))
        )
    );
    let archive = DynamoArchive::new(client, "archive");
    let mut writes = batch(1);
    let mut repeat = writes[0].clone();
    repeat.failure.delivery_id = "msg-again".into();
    writes.push(repeat);
    let results = archive.record(&writes).await;
    assert_eq!(
        results,
        vec![Ok(Recorded::Archived), Ok(Recorded::Archived)]
    );
    assert_eq!(throttled_then_ok.num_calls(), 3);
}

#[tokio::test]
async fn persistent_throttling_of_a_lone_write_is_throttled() {
    let rule = mock!(aws_sdk_dynamodb::Client::update_item).then_error(throughput_exceeded);
    let archive = dynamo(&[&rule]);
    let results = archive.record(&batch(1)).await;
    let err = results[0].clone().unwrap_err();
    assert_eq!(err.class, ErrorClass::Throttled);
    assert!(
        err.to_string()
            .starts_with("DynamoDB: ProvisionedThroughputExceededException"),
        "{err}"
    );
}

fn item(id: &str, class: &str) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    HashMap::from([
        ("Id".to_owned(), s(id)),
        ("Function".to_owned(), s("ec2-scheduler")),
        ("Class".to_owned(), s(class)),
        ("ErrorMessage".to_owned(), s("boom")),
        ("FirstSeen".to_owned(), s("2026-11-23T09:05:00.000Z")),
        ("LastSeen".to_owned(), s("2026-11-23T09:06:00.000Z")),
        ("Window".to_owned(), s("2026-11-23T09:00:00.000Z")),
        ("Status".to_owned(), s("new")),
        ("Count".to_owned(), AttributeValue::N("2".into())),
        (
            "ExpiresAt".to_owned(),
            AttributeValue::N("1797500000".into()),
        ),
        (
            "EventLocation".to_owned(),
            s("s3://spill/events/ec2-scheduler/a.json"),
        ),
        ("EventBytes".to_owned(), AttributeValue::N("70000".into())),
    ])
}

#[tokio::test]
async fn list_follows_pages_and_a_corrupt_item_is_corrupt_state() {
    let page1 = mock!(aws_sdk_dynamodb::Client::scan)
        .match_requests(|r| {
            r.exclusive_start_key().is_none()
                && r.filter_expression()
                    == Some("attribute_exists(#class) AND #function = :function")
        })
        .then_output(|| {
            ScanOutput::builder()
                .items(item("b", "Timeout"))
                .last_evaluated_key("Id", AttributeValue::S("b".into()))
                .build()
        });
    let page2 = mock!(aws_sdk_dynamodb::Client::scan)
        .match_requests(|r| r.exclusive_start_key().is_some())
        .then_output(|| ScanOutput::builder().items(item("a", "Crash")).build());
    let archive = dynamo(&[&page1, &page2]);
    let filter = Filter {
        function: Some("ec2-scheduler".into()),
        ..Filter::default()
    };
    let items = archive.list(&filter).await.unwrap();
    // Both pages, sorted by last seen then id.
    assert_eq!(
        items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(items[1].count, 2);
    assert_eq!(
        items[1].event,
        dlq_handler::model::StoredEvent::Spilled {
            location: "s3://spill/events/ec2-scheduler/a.json".parse().unwrap(),
            bytes: 70_000
        }
    );

    let corrupt = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| {
        GetItemOutput::builder()
            .set_item(Some(item("c", "Sluggish")))
            .build()
    });
    let archive = dynamo(&[&corrupt]);
    let err = archive.get("c").await.unwrap_err();
    assert_eq!(err.class, ErrorClass::CorruptState);
    assert!(
        err.to_string()
            .contains("\"Sluggish\" is not a failure class"),
        "{err}"
    );
}

#[tokio::test]
async fn the_ledger_asks_again_for_unprocessed_keys() {
    let windows = [t("2026-11-23T09:00:00Z"), t("2026-11-23T09:15:00Z")];
    let partial = mock!(aws_sdk_dynamodb::Client::batch_get_item).then_output(|| {
        let unprocessed = KeysAndAttributes::builder()
            .keys(HashMap::from([(
                "Id".to_owned(),
                AttributeValue::S("digest#2026-11-23T09:15:00.000Z".into()),
            )]))
            .build()
            .unwrap();
        BatchGetItemOutput::builder()
            .responses(
                "archive",
                vec![HashMap::from([
                    (
                        "Id".to_owned(),
                        AttributeValue::S("digest#2026-11-23T09:00:00.000Z".into()),
                    ),
                    (
                        "SentAt".to_owned(),
                        AttributeValue::S("2026-11-23T09:16:00.000Z".into()),
                    ),
                ])],
            )
            .unprocessed_keys("archive", unprocessed)
            .build()
    });
    let rest = mock!(aws_sdk_dynamodb::Client::batch_get_item)
        .match_requests(|r| {
            r.request_items()
                .and_then(|i| i.get("archive"))
                .map(|k| k.keys().len())
                == Some(1)
        })
        .then_output(|| BatchGetItemOutput::builder().build());
    let archive = dynamo(&[&partial, &rest]);
    assert_eq!(archive.unsent(&windows).await.unwrap(), [windows[1]]);
    assert_eq!((partial.num_calls(), rest.num_calls()), (1, 1));
}

fn s3(rules: &[&Rule]) -> S3Spill {
    let client = mock_client!(aws_sdk_s3, RuleMode::Sequential, rules, |c| c
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled()));
    S3Spill::new(client, "spill-bucket")
}

#[tokio::test]
async fn the_spill_puts_the_event_as_json_and_reads_it_back() {
    use aws_sdk_s3::operation::get_object::GetObjectOutput;
    use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
    let put = mock!(aws_sdk_s3::Client::put_object)
        .match_requests(|r| {
            r.bucket() == Some("spill-bucket")
                && r.key() == Some("events/f/r-1.json")
                && r.content_type() == Some("application/json")
        })
        .then_output(|| PutObjectOutput::builder().build());
    let get = mock!(aws_sdk_s3::Client::get_object)
        .match_requests(|r| {
            r.bucket() == Some("spill-bucket") && r.key() == Some("events/f/r-1.json")
        })
        .then_output(|| {
            GetObjectOutput::builder()
                .body(aws_sdk_s3::primitives::ByteStream::from_static(
                    br#"{"big":true}"#,
                ))
                .build()
        });
    let denied = mock!(aws_sdk_s3::Client::put_object).then_error(|| {
        PutObjectError::generic(
            ErrorMetadata::builder()
                .code("AccessDenied")
                .message("Access Denied")
                .build(),
        )
    });
    let spill = s3(&[&put, &get, &denied]);
    let location = spill
        .put("events/f/r-1.json", r#"{"big":true}"#)
        .await
        .unwrap();
    assert_eq!(location.to_string(), "s3://spill-bucket/events/f/r-1.json");
    assert_eq!(spill.get(&location).await.unwrap(), r#"{"big":true}"#);
    let err = spill.put("events/f/r-2.json", "{}").await.unwrap_err();
    assert_eq!(err.class, ErrorClass::AccessDenied);
    assert_eq!(err.to_string(), "S3: AccessDenied: Access Denied");
    let _: SpillLocation = location;
}

fn lambda(rules: &[&Rule]) -> LambdaInvoker {
    let client = mock_client!(aws_sdk_lambda, RuleMode::Sequential, rules, |c| c
        .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled()));
    LambdaInvoker::new(client)
}

#[tokio::test]
async fn a_replay_is_an_asynchronous_invoke_and_its_errors_are_classified() {
    use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
    use aws_sdk_lambda::types::error::{ResourceNotFoundException, TooManyRequestsException};
    use aws_sdk_lambda::types::InvocationType;
    let accepted = mock!(aws_sdk_lambda::Client::invoke)
        .match_requests(|r| {
            r.function_name() == Some("arn:aws:lambda:eu-west-1:123456789012:function:f")
                && r.invocation_type() == Some(&InvocationType::Event)
                && r.payload().map(|p| p.as_ref()) == Some(br#"{"n":1}"#.as_slice())
        })
        .then_output(|| InvokeOutput::builder().status_code(202).build());
    let missing = mock!(aws_sdk_lambda::Client::invoke).then_error(|| {
        InvokeError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("Function not found: arn:aws:lambda:eu-west-1:123456789012:function:gone")
                .meta(
                    ErrorMetadata::builder()
                        .code("ResourceNotFoundException")
                        .message("Function not found")
                        .build(),
                )
                .build(),
        )
    });
    let throttled = mock!(aws_sdk_lambda::Client::invoke).then_error(|| {
        InvokeError::TooManyRequestsException(
            TooManyRequestsException::builder()
                .message("Rate Exceeded.")
                .meta(
                    ErrorMetadata::builder()
                        .code("TooManyRequestsException")
                        .message("Rate Exceeded.")
                        .build(),
                )
                .build(),
        )
    });
    let synchronous = mock!(aws_sdk_lambda::Client::invoke)
        .then_output(|| InvokeOutput::builder().status_code(200).build());
    let invoker = lambda(&[&accepted, &missing, &throttled, &synchronous]);
    let f = "arn:aws:lambda:eu-west-1:123456789012:function:f";
    assert_eq!(invoker.invoke_async(f, r#"{"n":1}"#).await, Ok(None));
    let err = invoker.invoke_async("gone", "{}").await.unwrap_err();
    assert_eq!(err.class, ErrorClass::NotFound);
    assert_eq!(
        invoker.invoke_async(f, "{}").await.unwrap_err().class,
        ErrorClass::Throttled
    );
    let err = invoker.invoke_async(f, "{}").await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Internal);
    assert!(
        err.to_string().contains("answered 200 instead of 202"),
        "{err}"
    );
}

#[tokio::test]
async fn a_replay_lambda_refuses_leaves_the_item_new() {
    use aws_sdk_lambda::operation::invoke::InvokeError;
    let denied = mock!(aws_sdk_lambda::Client::invoke).then_error(|| {
        InvokeError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User is not authorized to perform: lambda:InvokeFunction")
                .build(),
        )
    });
    let invoker = lambda(&[&denied]);
    let archive = dlq_handler::memory::MemoryArchive::new();
    archive
        .record(&[write(
            "r-1",
            "m-1",
            "tagging-policy",
            FailureClass::Throttled,
            "2026-11-23T09:05:00Z",
        )])
        .await;
    let clock = FixedClock::at(t("2026-11-23T10:00:00Z"));
    let args = dlq_handler::cli::ReplayArgs {
        id: Some("r-1".into()),
        ..Default::default()
    };
    let err = dlq_handler::cli::replay(
        &archive,
        &MemorySpill::new("spill"),
        &invoker,
        &dlq_handler::memory::RecordingPause::default(),
        &clock,
        &args,
        &mut |_| true,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("Not sent r-1 to arn:aws:lambda:eu-west-1:123456789012:function:tagging-policy: Lambda: AccessDeniedException"), "{err}");
    assert_eq!(archive.items()[0].status, dlq_handler::model::Status::New);
    assert_eq!(denied.num_calls(), 1);
}
