//! The adapters against aws-smithy-mocks: GetActivityTask with and without a task, every
//! SendTask* answer, DescribeExecution, SES v2 (the request and its errors), DynamoDB's lost
//! conditions, a retried transaction and paged scans, and throttling everywhere. moto has no
//! activities, so GetActivityTask is only tested here.

use approval_worker::aws::{DynamoStore, SesMailer, SfnActivity, SfnTasks};
use approval_worker::email::Email;
use approval_worker::model::{Change, Status};
use approval_worker::ports::{
    ActivityTasks, ApprovalStore, Created, ExecutionStatus, Gone, Mailer, SendError, TaskCallbacks,
};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use fleet_core::ErrorClass;

fn meta(code: &str, message: &str) -> aws_sdk_sfn::error::ErrorMetadata {
    aws_sdk_sfn::error::ErrorMetadata::builder()
        .code(code)
        .message(message)
        .build()
}

fn no_retry_sfn(rules: &[&Rule]) -> aws_sdk_sfn::Client {
    mock_client!(aws_sdk_sfn, RuleMode::Sequential, rules, |c| c
        .retry_config(aws_sdk_sfn::config::retry::RetryConfig::disabled()))
}

fn http_status(code: u16) -> aws_smithy_runtime_api::http::Response {
    aws_smithy_runtime_api::http::Response::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(code).unwrap(),
        aws_smithy_types::body::SdkBody::from("<html>busy</html>"),
    )
}

// ---------------------------------------------------------------- GetActivityTask

#[tokio::test]
async fn get_activity_task_without_a_task_after_the_long_poll_and_with_one() {
    use aws_sdk_sfn::operation::get_activity_task::GetActivityTaskOutput;
    let empty = mock!(aws_sdk_sfn::Client::get_activity_task)
        .match_requests(|r| {
            r.activity_arn() == Some("arn:aws:states:eu-west-1:123456789012:activity:ManualStep")
                && r.worker_name() == Some("approval-poller")
        })
        .then_output(|| GetActivityTaskOutput::builder().build());
    let empty_token = mock!(aws_sdk_sfn::Client::get_activity_task)
        .then_output(|| GetActivityTaskOutput::builder().task_token("").build());
    let task = mock!(aws_sdk_sfn::Client::get_activity_task).then_output(|| {
        GetActivityTaskOutput::builder()
            .task_token("AAAA+/==token")
            .input(r#"{"managerEmailAddress":"m@example.com","employeeName":"Jim"}"#)
            .build()
    });
    let activity = SfnActivity::with_client(
        no_retry_sfn(&[&empty, &empty_token, &task]),
        "arn:aws:states:eu-west-1:123456789012:activity:ManualStep".into(),
        "approval-poller".into(),
    );
    assert_eq!(
        activity.next_task().await.unwrap(),
        None,
        "no task during the poll"
    );
    assert_eq!(
        activity.next_task().await.unwrap(),
        None,
        "an empty token is no task"
    );
    let got = activity.next_task().await.unwrap().unwrap();
    assert_eq!(got.token, "AAAA+/==token");
    assert!(got.input.contains("Jim"));
}

#[tokio::test]
async fn get_activity_task_errors_keep_their_class() {
    use aws_sdk_sfn::operation::get_activity_task::GetActivityTaskError;
    let cases: [(Rule, ErrorClass); 3] = [
        (
            mock!(aws_sdk_sfn::Client::get_activity_task).then_error(|| {
                GetActivityTaskError::generic(meta("ThrottlingException", "Rate exceeded"))
            }),
            ErrorClass::Throttled,
        ),
        (
            mock!(aws_sdk_sfn::Client::get_activity_task).then_http_response(|| http_status(503)),
            ErrorClass::Unavailable,
        ),
        (
            mock!(aws_sdk_sfn::Client::get_activity_task).then_error(|| {
                GetActivityTaskError::ActivityDoesNotExist(
                    aws_sdk_sfn::types::error::ActivityDoesNotExist::builder()
                        .message("no such activity")
                        .meta(meta("ActivityDoesNotExist", "no such activity"))
                        .build(),
                )
            }),
            ErrorClass::NotFound,
        ),
    ];
    for (rule, class) in cases {
        let activity = SfnActivity::with_client(no_retry_sfn(&[&rule]), "arn".into(), "w".into());
        assert_eq!(activity.next_task().await.unwrap_err().class, class);
    }
}

#[tokio::test]
async fn a_throttled_poll_is_retried_by_the_sdk_and_then_succeeds() {
    use aws_sdk_sfn::operation::get_activity_task::GetActivityTaskOutput;
    let rule = mock!(aws_sdk_sfn::Client::get_activity_task)
        .sequence()
        .error(|| {
            aws_sdk_sfn::operation::get_activity_task::GetActivityTaskError::generic(meta(
                "ThrottlingException",
                "Rate exceeded",
            ))
        })
        .output(|| {
            GetActivityTaskOutput::builder()
                .task_token("t")
                .input("{}")
                .build()
        })
        .build();
    let client = mock_client!(aws_sdk_sfn, RuleMode::Sequential, [&rule], |c| c
        .retry_config(
            aws_sdk_sfn::config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(1))
        ));
    let activity = SfnActivity::with_client(client, "arn".into(), "w".into());
    assert_eq!(activity.next_task().await.unwrap().unwrap().token, "t");
    assert_eq!(rule.num_calls(), 2);
}

// ---------------------------------------------------------------- SendTask*

#[tokio::test]
async fn send_task_success_and_failure_carry_token_output_error_and_cause() {
    use aws_sdk_sfn::operation::send_task_failure::SendTaskFailureOutput;
    use aws_sdk_sfn::operation::send_task_success::SendTaskSuccessOutput;
    let success = mock!(aws_sdk_sfn::Client::send_task_success)
        .match_requests(|r| {
            r.task_token() == Some("tok+/=") && r.output() == Some(r#"{"decision":"approved"}"#)
        })
        .then_output(|| SendTaskSuccessOutput::builder().build());
    let failure = mock!(aws_sdk_sfn::Client::send_task_failure)
        .match_requests(|r| {
            r.task_token() == Some("tok+/=")
                && r.error() == Some("Rejected")
                && r.cause().is_some_and(|c| c.chars().count() == 32_768)
        })
        .then_output(|| SendTaskFailureOutput::builder().build());
    let client = mock_client!(aws_sdk_sfn, RuleMode::MatchAny, [&success, &failure]);
    let tasks = SfnTasks::with_client(client);
    tasks
        .send_success("tok+/=", r#"{"decision":"approved"}"#)
        .await
        .unwrap();
    tasks
        .send_failure("tok+/=", "Rejected", &"c".repeat(40_000))
        .await
        .unwrap();
    assert_eq!(
        (success.num_calls(), failure.num_calls()),
        (1, 1),
        "the cause is clipped to 32,768"
    );
}

#[tokio::test]
async fn send_task_errors_gone_or_service() {
    use aws_sdk_sfn::operation::send_task_success::SendTaskSuccessError as E;
    use aws_sdk_sfn::types::error::{InvalidToken, TaskDoesNotExist, TaskTimedOut};
    let cases: Vec<(Rule, Result<Gone, ErrorClass>)> = vec![
        (
            mock!(aws_sdk_sfn::Client::send_task_success)
                .then_error(|| E::TaskTimedOut(TaskTimedOut::builder().build())),
            Ok(Gone::TaskTimedOut),
        ),
        (
            mock!(aws_sdk_sfn::Client::send_task_success)
                .then_error(|| E::TaskDoesNotExist(TaskDoesNotExist::builder().build())),
            Ok(Gone::TaskDoesNotExist),
        ),
        (
            mock!(aws_sdk_sfn::Client::send_task_success)
                .then_error(|| E::InvalidToken(InvalidToken::builder().build())),
            Ok(Gone::InvalidToken),
        ),
        (
            mock!(aws_sdk_sfn::Client::send_task_success)
                .then_error(|| E::generic(meta("TaskTimedOut", "by code"))),
            Ok(Gone::TaskTimedOut),
        ),
        (
            mock!(aws_sdk_sfn::Client::send_task_success)
                .then_error(|| E::generic(meta("ThrottlingException", "Rate exceeded"))),
            Err(ErrorClass::Throttled),
        ),
        (
            mock!(aws_sdk_sfn::Client::send_task_success).then_http_response(|| http_status(500)),
            Err(ErrorClass::Unavailable),
        ),
        (
            mock!(aws_sdk_sfn::Client::send_task_success)
                .then_error(|| E::generic(meta("AccessDeniedException", "no"))),
            Err(ErrorClass::AccessDenied),
        ),
        (
            mock!(aws_sdk_sfn::Client::send_task_success)
                .then_error(|| E::generic(meta("InvalidOutput", "too big"))),
            Err(ErrorClass::Internal),
        ),
    ];
    for (rule, expected) in cases {
        let tasks = SfnTasks::with_client(no_retry_sfn(&[&rule]));
        let got = match tasks.send_success("t", "{}").await.unwrap_err() {
            SendError::Gone(g) => Ok(g),
            SendError::Service(e) => Err(e.class),
        };
        assert_eq!(got, expected);
    }
    use aws_sdk_sfn::operation::send_task_failure::SendTaskFailureError as F;
    let rule = mock!(aws_sdk_sfn::Client::send_task_failure)
        .then_error(|| F::TaskTimedOut(TaskTimedOut::builder().build()));
    let tasks = SfnTasks::with_client(no_retry_sfn(&[&rule]));
    assert_eq!(
        tasks.send_failure("t", "Rejected", "").await.unwrap_err(),
        SendError::Gone(Gone::TaskTimedOut)
    );
}

#[tokio::test]
async fn describe_execution_statuses() {
    use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
    use aws_sdk_sfn::types::ExecutionStatus as S;
    for (status, expected) in [
        (S::Running, ExecutionStatus::Running),
        (S::Succeeded, ExecutionStatus::Succeeded),
        (S::Failed, ExecutionStatus::Failed),
        (S::TimedOut, ExecutionStatus::TimedOut),
        (S::Aborted, ExecutionStatus::Aborted),
        (S::PendingRedrive, ExecutionStatus::Other),
    ] {
        let rule = mock!(aws_sdk_sfn::Client::describe_execution)
            .match_requests(|r| r.execution_arn() == Some("arn:e"))
            .then_output(move || {
                DescribeExecutionOutput::builder()
                    .execution_arn("arn:e")
                    .state_machine_arn("arn:m")
                    .status(status.clone())
                    .start_date(aws_smithy_types::DateTime::from_secs(0))
                    .output(r#"{"requestId":"r"}"#)
                    .error("Rejected")
                    .build()
                    .unwrap()
            });
        let got = SfnTasks::with_client(no_retry_sfn(&[&rule]))
            .describe_execution("arn:e")
            .await
            .unwrap();
        assert_eq!(got.status, expected);
        assert_eq!(
            (got.output.as_deref(), got.error.as_deref()),
            (Some(r#"{"requestId":"r"}"#), Some("Rejected"))
        );
    }
}

// ---------------------------------------------------------------- SES v2

fn email() -> Email {
    Email {
        from: "approvals@example.com".into(),
        to: "manager@example.com".into(),
        subject: "Your Approval Needed for Promotion!".into(),
        html: "<p>html</p>".into(),
        text: "text".into(),
    }
}

#[tokio::test]
async fn ses_sends_html_and_text_from_the_configured_sender() {
    use aws_sdk_sesv2::operation::send_email::SendEmailOutput;
    let rule = mock!(aws_sdk_sesv2::Client::send_email)
        .match_requests(|r| {
            let simple = r.content().and_then(|c| c.simple());
            r.from_email_address() == Some("approvals@example.com")
                && r.destination().map(|d| d.to_addresses())
                    == Some(&["manager@example.com".to_owned()][..])
                && simple.and_then(|m| m.subject()).map(|s| s.data())
                    == Some("Your Approval Needed for Promotion!")
                && simple
                    .and_then(|m| m.body())
                    .and_then(|b| b.html())
                    .map(|h| (h.data(), h.charset()))
                    == Some(("<p>html</p>", Some("UTF-8")))
                && simple
                    .and_then(|m| m.body())
                    .and_then(|b| b.text())
                    .map(|t| t.data())
                    == Some("text")
        })
        .then_output(|| SendEmailOutput::builder().message_id("m-1").build());
    let client = mock_client!(aws_sdk_sesv2, [&rule]);
    SesMailer::with_client(client).send(&email()).await.unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn ses_errors_keep_their_class() {
    use aws_sdk_sesv2::operation::send_email::SendEmailError as E;
    let m = |code: &str| {
        aws_sdk_sesv2::error::ErrorMetadata::builder()
            .code(code)
            .message("m")
            .build()
    };
    let cases: Vec<(Rule, ErrorClass)> = vec![
        (
            mock!(aws_sdk_sesv2::Client::send_email)
                .then_error(move || E::generic(m("TooManyRequestsException"))),
            ErrorClass::Throttled,
        ),
        (
            mock!(aws_sdk_sesv2::Client::send_email)
                .then_error(move || E::generic(m("LimitExceededException"))),
            ErrorClass::Throttled,
        ),
        (
            mock!(aws_sdk_sesv2::Client::send_email)
                .then_error(move || E::generic(m("MessageRejected"))),
            ErrorClass::Internal,
        ),
        (
            mock!(aws_sdk_sesv2::Client::send_email)
                .then_error(move || E::generic(m("AccessDeniedException"))),
            ErrorClass::AccessDenied,
        ),
        (
            mock!(aws_sdk_sesv2::Client::send_email).then_http_response(|| http_status(503)),
            ErrorClass::Unavailable,
        ),
    ];
    for (rule, class) in cases {
        let client = mock_client!(aws_sdk_sesv2, RuleMode::Sequential, [&rule], |c| c
            .retry_config(aws_sdk_sesv2::config::retry::RetryConfig::disabled()));
        let err = SesMailer::with_client(client)
            .send(&email())
            .await
            .unwrap_err();
        assert_eq!(err.class, class, "{err}");
        assert_eq!(err.service, "SES");
    }
}

// ---------------------------------------------------------------- DynamoDB

fn dynamo(rules: &[&Rule]) -> DynamoStore {
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, rules, |c| c
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()));
    DynamoStore::with_client(client, "approvals", chrono::Duration::days(90))
}

fn request(id: &str) -> approval_worker::ApprovalRequest {
    approval_worker::contract::sample(id, "tok", "2026-11-23T08:00:00Z".parse().unwrap())
}

#[tokio::test]
async fn a_lost_condition_is_false_and_throttling_is_an_error() {
    use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
    use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
    let decided = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|r| {
            let names = r.expression_attribute_names().unwrap();
            r.condition_expression() == Some("#n0 = :v0")
                && names.get("#n0").map(String::as_str) == Some("Status")
                && r.update_expression()
                    .is_some_and(|u| u.starts_with("SET ") && !u.contains("Status"))
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let lost = mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
        UpdateItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder().build(),
        )
    });
    let throttled = mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
        UpdateItemError::generic(
            aws_sdk_dynamodb::error::ErrorMetadata::builder()
                .code("ProvisionedThroughputExceededException")
                .build(),
        )
    });
    let store = dynamo(&[&decided, &lost, &throttled]);
    let change = Change::EmailSent {
        at: "2026-11-23T08:00:00Z".parse().unwrap(),
    };
    assert_eq!(store.update("r", Status::Pending, &change).await, Ok(true));
    assert_eq!(store.update("r", Status::Pending, &change).await, Ok(false));
    assert_eq!(
        store
            .update("r", Status::Pending, &change)
            .await
            .unwrap_err()
            .class,
        ErrorClass::Throttled
    );
}

#[tokio::test]
async fn a_second_create_for_the_same_token_returns_the_first_request() {
    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    use aws_sdk_dynamodb::types::error::TransactionCanceledException;
    let first = request("r-1");
    let store_for_items = dynamo(&[]);
    let item = store_for_items.to_item(&first);
    let canceled = mock!(aws_sdk_dynamodb::Client::transact_write_items).then_error(|| {
        TransactWriteItemsError::TransactionCanceledException(
            TransactionCanceledException::builder()
                .meta(
                    aws_sdk_dynamodb::error::ErrorMetadata::builder()
                        .code("TransactionCanceledException")
                        .build(),
                )
                .build(),
        )
    });
    let index = mock!(aws_sdk_dynamodb::Client::get_item)
        .match_requests(|r| {
            r.key()
                .and_then(|k| k.get("RequestId"))
                .and_then(|v| v.as_s().ok())
                .is_some_and(|k| k.starts_with("token#"))
                && r.consistent_read() == Some(true)
        })
        .then_output(|| {
            GetItemOutput::builder()
                .item("Target", AttributeValue::S("r-1".into()))
                .item("Kind", AttributeValue::S("token".into()))
                .build()
        });
    let target = mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || {
        GetItemOutput::builder()
            .set_item(Some(item.clone()))
            .build()
    });
    let store = dynamo(&[&canceled, &index, &target]);
    assert_eq!(
        store.create(&request("r-2")).await,
        Ok(Created::Existing(Box::new(first)))
    );
}

#[tokio::test]
async fn list_reads_every_page() {
    use aws_sdk_dynamodb::operation::scan::ScanOutput;
    let store_for_items = dynamo(&[]);
    let (a, b) = (
        store_for_items.to_item(&request("r-a")),
        store_for_items.to_item(&request("r-b")),
    );
    let page1 = mock!(aws_sdk_dynamodb::Client::scan)
        .match_requests(|r| r.exclusive_start_key().is_none() && r.consistent_read() == Some(true))
        .then_output(move || {
            ScanOutput::builder()
                .items(a.clone())
                .last_evaluated_key("RequestId", AttributeValue::S("r-a".into()))
                .build()
        });
    let page2 = mock!(aws_sdk_dynamodb::Client::scan)
        .match_requests(|r| r.exclusive_start_key().is_some())
        .then_output(move || ScanOutput::builder().items(b.clone()).build());
    let store = dynamo(&[&page1, &page2]);
    let ids: Vec<String> = store
        .list(&[Status::Pending])
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["r-a", "r-b"]);

    let corrupt = mock!(aws_sdk_dynamodb::Client::scan).then_output(|| {
        ScanOutput::builder()
            .items(
                [
                    ("RequestId".to_owned(), AttributeValue::S("r-x".into())),
                    ("Kind".to_owned(), AttributeValue::S("request".into())),
                ]
                .into(),
            )
            .build()
    });
    let err = dynamo(&[&corrupt])
        .list(&[Status::Pending])
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::CorruptState);
    assert!(err.detail.contains("r-x"), "{err}");
}
