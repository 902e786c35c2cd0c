//! Faults (issue 18): the approval functions with SES SendEmail, Step Functions SendTaskSuccess,
//! SendTaskFailure and GetActivityTask, and the approvals table's TransactWriteItems and
//! UpdateItem throttled (then answered, or throughout), answering 503 on every attempt, or not
//! answering at all. The SDK's retry absorbs passing throttling. Otherwise an invocation fails
//! with its class and Step Functions' Retry finishes it (one email, the token stored once), and a
//! decision that did not reach the workflow stays recorded (a 503 page) until a retried POST or
//! the sweep delivers it: only the recorded decision, once.

mod support;

use approval_worker::aws::{DynamoStore, SesMailer, SfnActivity, SfnTasks};
use approval_worker::memory::{FakeStepFunctions, FakeStepUp, MemoryStore, RecordingMailer};
use approval_worker::{
    Approvals, CallbackApp, IntakeOutcome, PollerApp, Responder, Status, SweepApp, TaskCallbacks,
};
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsError, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_sesv2::operation::send_email::{SendEmailError, SendEmailOutput};
use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::operation::get_activity_task::{GetActivityTaskError, GetActivityTaskOutput};
use aws_sdk_sfn::operation::send_task_failure::{SendTaskFailureError, SendTaskFailureOutput};
use aws_sdk_sfn::operation::send_task_success::{SendTaskSuccessError, SendTaskSuccessOutput};
use aws_sdk_sfn::types::error::TaskTimedOut;
use aws_sdk_sfn::types::ExecutionStatus;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use fleet_core::{EventHandler, HandlerError, HttpHandler};
use fleet_testkit::faults::{Fault, Injected, Silent, ATTEMPTS};
use fleet_testkit::{inject, load_event};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

const APPROVE: &str = "06-post-approve.json";
const REJECT: &str = "07-post-reject.json";

fn lambda_event(name: &str) -> LambdaEvent<Value> {
    LambdaEvent::new(
        load_event(&format!("approval-worker/{name}")),
        Context::default(),
    )
}

fn request(name: &str) -> lambda_http::Request {
    let text = load_event(&format!("approval-worker/{name}")).to_string();
    lambda_http::request::from_str(&text).unwrap()
}

/// The callback sample's execution and task token.
fn promotion() -> (String, String) {
    let event = load_event("approval-worker/02-callback-promotion.json");
    let text = |name: &str| event[name].as_str().unwrap().to_owned();
    (text("executionArn"), text("taskToken"))
}

/// The service of `support` (fixed key, clock and ids) over these adapters.
fn service<S, T, M>(store: S, tasks: T, mailer: M) -> Approvals<S, T, M, FakeStepUp> {
    let (memory, _clock) = support::approvals();
    Approvals {
        store,
        tasks,
        mailer,
        step_up: memory.step_up,
        key: memory.key,
        policy: memory.policy,
        settings: memory.settings,
        env: memory.env,
    }
}

fn error_type<T>(result: Result<T, HandlerError>) -> Result<T, &'static str> {
    result.map_err(|e| e.error_type())
}

/// A page's status and `<title>`.
fn page(response: &lambda_http::Response<lambda_http::Body>) -> (u16, String) {
    let html = String::from_utf8_lossy(response.body().as_ref());
    let title = html
        .split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map_or_else(String::new, |(title, _)| title.to_owned());
    (response.status().as_u16(), title)
}

// ---------------------------------------------------------------- SES SendEmail (callback)

fn throttled_email() -> SendEmailError {
    SendEmailError::generic(
        aws_sdk_sesv2::error::ErrorMetadata::builder()
            .code("TooManyRequestsException")
            .message("Maximum sending rate exceeded.")
            .build(),
    )
}

fn email_sent() -> SendEmailOutput {
    SendEmailOutput::builder().message_id("m-1").build()
}

type Callback<M> = CallbackApp<MemoryStore, FakeStepFunctions, M, FakeStepUp>;

/// The callback over SES with `fault` on SendEmail, invoked with the sample: its answer, the
/// attempts, and the function for the retry.
async fn callback_with(
    fault: Fault,
) -> (
    Result<IntakeOutcome, &'static str>,
    usize,
    Callback<SesMailer>,
) {
    let ses = inject!(
        aws_sdk_sesv2,
        aws_sdk_sesv2::Client::send_email,
        fault,
        throttled_email,
        email_sent
    );
    let mailer = SesMailer::with_client(ses.client.clone());
    let app = CallbackApp {
        approvals: service(MemoryStore::default(), FakeStepFunctions::default(), mailer),
    };
    let answer = error_type(app.handle(lambda_event("02-callback-promotion.json")).await);
    (answer, ses.attempts(), app)
}

/// (errorType, attempts) of an invocation whose email failed, and what Step Functions' Retry
/// of it does with SES answering: (emailed, found stored, emails sent).
async fn email_failing_with(fault: Fault) -> (&'static str, usize, (bool, bool, usize)) {
    let (answer, attempts, mut app) = callback_with(fault).await;
    let error = answer.unwrap_err();
    let answering = mock!(aws_sdk_sesv2::Client::send_email).then_output(email_sent);
    app.approvals.mailer = SesMailer::with_client(mock_client!(aws_sdk_sesv2, [&answering]));
    let retried = app
        .handle(lambda_event("02-callback-promotion.json"))
        .await
        .unwrap();
    let retry = (retried.emailed, retried.duplicate, answering.num_calls());
    (error, attempts, retry)
}

#[tokio::test]
async fn callback_email_throttled_then_answered_is_retried_and_sent_once() {
    let (answer, attempts, app) = callback_with(Fault::ThrottledThenOk).await;
    assert_eq!((answer.unwrap().emailed, attempts), (true, ATTEMPTS));
    assert!(app.approvals.store.all()[0].email_sent_at.is_some());
}

#[tokio::test]
async fn callback_email_throttled_throughout_fails_throttled_and_the_retry_sends_one_email() {
    assert_eq!(
        email_failing_with(Fault::Throttled).await,
        ("Throttled", ATTEMPTS, (true, true, 1))
    );
}

#[tokio::test]
async fn callback_email_5xx_fails_unavailable_and_the_retry_sends_one_email() {
    assert_eq!(
        email_failing_with(Fault::ServerError).await,
        ("Unavailable", ATTEMPTS, (true, true, 1))
    );
}

#[tokio::test]
async fn callback_email_timeout_fails_unavailable_and_the_retry_sends_one_email() {
    assert_eq!(
        email_failing_with(Fault::Timeout).await,
        ("Unavailable", ATTEMPTS, (true, true, 1))
    );
}

// ---------------------------------------------------------------- SendTaskSuccess/Failure (responder)

fn throttling() -> aws_sdk_sfn::error::ErrorMetadata {
    aws_sdk_sfn::error::ErrorMetadata::builder()
        .code("ThrottlingException")
        .message("Rate exceeded")
        .build()
}

fn throttled_success() -> SendTaskSuccessError {
    SendTaskSuccessError::generic(throttling())
}

fn throttled_failure() -> SendTaskFailureError {
    SendTaskFailureError::generic(throttling())
}

/// Step Functions with `fault` on SendTaskSuccess (what an approval sends).
fn approval_fault(fault: Fault) -> Injected<aws_sdk_sfn::Client> {
    inject!(
        aws_sdk_sfn,
        aws_sdk_sfn::Client::send_task_success,
        fault,
        throttled_success,
        || SendTaskSuccessOutput::builder().build()
    )
}

/// Step Functions with `fault` on SendTaskFailure (what a rejection sends).
fn rejection_fault(fault: Fault) -> Injected<aws_sdk_sfn::Client> {
    inject!(
        aws_sdk_sfn,
        aws_sdk_sfn::Client::send_task_failure,
        fault,
        throttled_failure,
        || SendTaskFailureOutput::builder().build()
    )
}

type SfnResponder = Responder<MemoryStore, SfnTasks, RecordingMailer, FakeStepUp>;

/// Request id-1 stored (in memory) and emailed by the callback, the service on `tasks`.
async fn stored_request<T: TaskCallbacks>(
    tasks: T,
) -> Approvals<MemoryStore, T, RecordingMailer, FakeStepUp> {
    let app = CallbackApp {
        approvals: service(MemoryStore::default(), tasks, RecordingMailer::default()),
    };
    app.handle(lambda_event("02-callback-promotion.json"))
        .await
        .unwrap();
    app.approvals
}

fn status_of(responder: &SfnResponder) -> Status {
    responder.approvals.store.all()[0].status
}

/// POSTs the `form` sample to the responder over `sfn`: (status, title, attempts, stored status)
/// and the responder.
async fn decide_over(
    sfn: Injected<aws_sdk_sfn::Client>,
    form: &str,
) -> ((u16, String, usize, Status), SfnResponder) {
    let responder = Responder {
        approvals: stored_request(SfnTasks::with_client(sfn.client.clone())).await,
    };
    let (status, title) = page(&responder.handle(request(form)).await);
    let stored = status_of(&responder);
    ((status, title, sfn.attempts(), stored), responder)
}

/// Step Functions taking every answer; the rules count SendTaskSuccess and SendTaskFailure.
fn answering() -> (SfnTasks, Rule, Rule) {
    let success = mock!(aws_sdk_sfn::Client::send_task_success)
        .then_output(|| SendTaskSuccessOutput::builder().build());
    let failure = mock!(aws_sdk_sfn::Client::send_task_failure)
        .then_output(|| SendTaskFailureOutput::builder().build());
    let client = mock_client!(aws_sdk_sfn, RuleMode::MatchAny, [&success, &failure]);
    (SfnTasks::with_client(client), success, failure)
}

/// The page's "Try again" POST (`form`, whatever it asks for) with Step Functions answering:
/// (status, title, SendTaskSuccess calls, SendTaskFailure calls, stored status).
async fn retry_post(
    mut responder: SfnResponder,
    form: &str,
) -> (u16, String, usize, usize, Status) {
    let (tasks, success, failure) = answering();
    responder.approvals.tasks = tasks;
    let (status, title) = page(&responder.handle(request(form)).await);
    let stored = status_of(&responder);
    (
        status,
        title,
        success.num_calls(),
        failure.num_calls(),
        stored,
    )
}

/// The sweep over `tasks`: (delivered, expired, failed, stored status).
async fn sweep_over(responder: SfnResponder, tasks: SfnTasks) -> (usize, usize, usize, Status) {
    let mut approvals = responder.approvals;
    approvals.tasks = tasks;
    let sweep = SweepApp { approvals };
    let report = sweep
        .handle(lambda_event("09-sweep-schedule.json"))
        .await
        .unwrap();
    let stored = sweep.approvals.store.all()[0].status;
    (report.delivered, report.expired, report.failed, stored)
}

/// Step Functions that took the decision before the timeout: the token is gone (TaskTimedOut)
/// and the execution ended as the decision says.
fn decision_taken(
    status: ExecutionStatus,
    output: Option<&'static str>,
    error: Option<&'static str>,
) -> SfnTasks {
    let gone = || TaskTimedOut::builder().message("Task Timed Out").build();
    let success = mock!(aws_sdk_sfn::Client::send_task_success)
        .then_error(move || SendTaskSuccessError::TaskTimedOut(gone()));
    let failure = mock!(aws_sdk_sfn::Client::send_task_failure)
        .then_error(move || SendTaskFailureError::TaskTimedOut(gone()));
    let (arn, _) = promotion();
    let execution = mock!(aws_sdk_sfn::Client::describe_execution).then_output(move || {
        DescribeExecutionOutput::builder()
            .execution_arn(&arn)
            .state_machine_arn("arn:aws:states:eu-west-1:123456789012:stateMachine:Promotion")
            .status(status.clone())
            .start_date(aws_smithy_types::DateTime::from_secs(0))
            .set_output(output.map(str::to_owned))
            .set_error(error.map(str::to_owned))
            .build()
            .unwrap()
    });
    let client = mock_client!(
        aws_sdk_sfn,
        RuleMode::MatchAny,
        [&success, &failure, &execution]
    );
    SfnTasks::with_client(client)
}

/// The page of a decision recorded but not delivered after the retries: a 503 to try again.
fn recorded() -> (u16, String, usize, Status) {
    (
        503,
        "Recorded, not yet delivered".to_owned(),
        ATTEMPTS,
        Status::Decided,
    )
}

#[tokio::test]
async fn approval_throttled_then_answered_is_retried_and_delivered() {
    let (page, _) = decide_over(approval_fault(Fault::ThrottledThenOk), APPROVE).await;
    assert_eq!(
        page,
        (
            200,
            "Approved — thank you".to_owned(),
            ATTEMPTS,
            Status::Delivered
        )
    );
}

#[tokio::test]
async fn approval_throttled_throughout_is_recorded_503_and_a_retried_post_delivers_it_once() {
    let (page, responder) = decide_over(approval_fault(Fault::Throttled), APPROVE).await;
    assert_eq!(page, recorded());
    // The retry asks to reject: only the recorded approval is sent.
    assert_eq!(
        retry_post(responder, REJECT).await,
        (200, "Already approved".to_owned(), 1, 0, Status::Delivered)
    );
}

#[tokio::test]
async fn approval_5xx_is_recorded_503_and_the_sweep_delivers_it_once() {
    let (page, responder) = decide_over(approval_fault(Fault::ServerError), APPROVE).await;
    assert_eq!(page, recorded());
    let (tasks, success, failure) = answering();
    assert_eq!(
        sweep_over(responder, tasks).await,
        (1, 0, 0, Status::Delivered)
    );
    assert_eq!((success.num_calls(), failure.num_calls()), (1, 0));
}

#[tokio::test]
async fn approval_timeout_is_recorded_503_and_the_sweep_finds_it_taken_not_expired() {
    let (page, responder) = decide_over(approval_fault(Fault::Timeout), APPROVE).await;
    assert_eq!(page, recorded());
    // A timed-out send may have reached Step Functions: the sweep sees the token gone and the
    // execution succeeded with this request's output, so it is delivered, not expired.
    let taken = decision_taken(
        ExecutionStatus::Succeeded,
        Some(r#"{"requestId":"id-1"}"#),
        None,
    );
    assert_eq!(
        sweep_over(responder, taken).await,
        (1, 0, 0, Status::Delivered)
    );
}

#[tokio::test]
async fn rejection_throttled_then_answered_is_retried_and_delivered() {
    let (page, _) = decide_over(rejection_fault(Fault::ThrottledThenOk), REJECT).await;
    assert_eq!(
        page,
        (
            200,
            "Rejected — thank you".to_owned(),
            ATTEMPTS,
            Status::Delivered
        )
    );
}

#[tokio::test]
async fn rejection_throttled_throughout_is_recorded_503_and_a_retried_post_delivers_it_once() {
    let (page, responder) = decide_over(rejection_fault(Fault::Throttled), REJECT).await;
    assert_eq!(page, recorded());
    // The retry asks to approve: only the recorded rejection is sent.
    assert_eq!(
        retry_post(responder, APPROVE).await,
        (200, "Already rejected".to_owned(), 0, 1, Status::Delivered)
    );
}

#[tokio::test]
async fn rejection_5xx_is_recorded_503_and_the_sweep_delivers_it_once() {
    let (page, responder) = decide_over(rejection_fault(Fault::ServerError), REJECT).await;
    assert_eq!(page, recorded());
    let (tasks, success, failure) = answering();
    assert_eq!(
        sweep_over(responder, tasks).await,
        (1, 0, 0, Status::Delivered)
    );
    assert_eq!((success.num_calls(), failure.num_calls()), (0, 1));
}

#[tokio::test]
async fn rejection_timeout_is_recorded_503_and_the_sweep_finds_it_taken_not_expired() {
    let (page, responder) = decide_over(rejection_fault(Fault::Timeout), REJECT).await;
    assert_eq!(page, recorded());
    let taken = decision_taken(ExecutionStatus::Failed, None, Some("Rejected"));
    assert_eq!(
        sweep_over(responder, taken).await,
        (1, 0, 0, Status::Delivered)
    );
}

// ---------------------------------------------------------------- GetActivityTask (poller)

fn throttled_poll() -> GetActivityTaskError {
    GetActivityTaskError::generic(throttling())
}

fn seed_task() -> GetActivityTaskOutput {
    GetActivityTaskOutput::builder()
        .task_token("activity-token-1")
        .input(r#"{"managerEmailAddress": "manager@example.com", "employeeName": "Jim"}"#)
        .build()
}

/// The poller with `fault` on GetActivityTask: the run's (tasks, emailed, failed) or its
/// errorType, the attempts, emails sent and requests stored.
async fn poll_with(
    fault: Fault,
) -> (
    Result<(usize, usize, usize), &'static str>,
    usize,
    usize,
    usize,
) {
    let sfn = inject!(
        aws_sdk_sfn,
        aws_sdk_sfn::Client::get_activity_task,
        fault,
        throttled_poll,
        seed_task
    );
    let poller = PollerApp {
        activity: SfnActivity::with_client(
            sfn.client.clone(),
            "arn:aws:states:eu-west-1:123456789012:activity:ManualStep".into(),
            "approval-poller".into(),
        ),
        approvals: service(
            MemoryStore::default(),
            FakeStepFunctions::default(),
            RecordingMailer::default(),
        ),
        // The rule hands the same task out on every answer: one poll per run.
        max_polls: 1,
    };
    let report = error_type(poller.handle(lambda_event("01-poller-schedule.json")).await);
    let approvals = &poller.approvals;
    (
        report.map(|r| (r.tasks, r.emailed, r.failed)),
        sfn.attempts(),
        approvals.mailer.sent().len(),
        approvals.store.all().len(),
    )
}

#[tokio::test]
async fn poll_throttled_then_answered_is_retried_and_the_task_emailed_once() {
    assert_eq!(
        poll_with(Fault::ThrottledThenOk).await,
        (Ok((1, 1, 0)), ATTEMPTS, 1, 1)
    );
}

#[tokio::test]
async fn poll_throttled_throughout_fails_throttled_with_nothing_taken() {
    assert_eq!(
        poll_with(Fault::Throttled).await,
        (Err("Throttled"), ATTEMPTS, 0, 0)
    );
}

#[tokio::test]
async fn poll_5xx_fails_unavailable_with_nothing_taken() {
    assert_eq!(
        poll_with(Fault::ServerError).await,
        (Err("Unavailable"), ATTEMPTS, 0, 0)
    );
}

#[tokio::test]
async fn poll_timeout_fails_unavailable_with_nothing_taken() {
    assert_eq!(
        poll_with(Fault::Timeout).await,
        (Err("Unavailable"), ATTEMPTS, 0, 0)
    );
}

// ---------------------------------------------------------------- DynamoDB (callback, responder)

fn dynamodb_throttling() -> aws_sdk_dynamodb::error::ErrorMetadata {
    aws_sdk_dynamodb::error::ErrorMetadata::builder()
        .code("ProvisionedThroughputExceededException")
        .message("Rate of requests exceeds the allowed throughput")
        .build()
}

fn throttled_transaction() -> TransactWriteItemsError {
    TransactWriteItemsError::generic(dynamodb_throttling())
}

fn throttled_update() -> UpdateItemError {
    UpdateItemError::generic(dynamodb_throttling())
}

fn store(client: &aws_sdk_dynamodb::Client) -> DynamoStore {
    DynamoStore::with_client(client.clone(), "approvals", chrono::Duration::days(90))
}

/// The callback over the table with `fault` on TransactWriteItems (storing the token; the
/// email's UpdateItem answers): emailed or the errorType, attempts, emails sent.
async fn store_token_with(fault: Fault) -> (Result<bool, &'static str>, usize, usize) {
    let email_recorded = mock!(aws_sdk_dynamodb::Client::update_item)
        .then_output(|| UpdateItemOutput::builder().build());
    let dynamodb = inject!(
        aws_sdk_dynamodb,
        aws_sdk_dynamodb::Client::transact_write_items,
        fault,
        throttled_transaction,
        || TransactWriteItemsOutput::builder().build(),
        email_recorded
    );
    let app = CallbackApp {
        approvals: service(
            store(&dynamodb.client),
            FakeStepFunctions::default(),
            RecordingMailer::default(),
        ),
    };
    let answer = error_type(app.handle(lambda_event("02-callback-promotion.json")).await);
    (
        answer.map(|o| o.emailed),
        dynamodb.attempts(),
        app.approvals.mailer.sent().len(),
    )
}

#[tokio::test]
async fn storing_the_token_throttled_then_answered_is_retried_and_emailed_once() {
    assert_eq!(
        store_token_with(Fault::ThrottledThenOk).await,
        (Ok(true), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn storing_the_token_throttled_throughout_fails_throttled_and_emails_nothing() {
    assert_eq!(
        store_token_with(Fault::Throttled).await,
        (Err("Throttled"), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn storing_the_token_5xx_fails_unavailable_and_emails_nothing() {
    assert_eq!(
        store_token_with(Fault::ServerError).await,
        (Err("Unavailable"), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn storing_the_token_timeout_fails_unavailable_and_emails_nothing() {
    assert_eq!(
        store_token_with(Fault::Timeout).await,
        (Err("Unavailable"), ATTEMPTS, 0)
    );
}

/// POST approve over the table with `fault` on UpdateItem (recording the decision; GetItem
/// answers with the stored request): (status, title, attempts, calls to Step Functions).
async fn record_decision_with(fault: Fault) -> (u16, String, usize, usize) {
    let (arn, token) = promotion();
    let memory = stored_request(FakeStepFunctions::default()).await;
    let item = store(&aws_sdk_dynamodb::Client::new(&Silent::default().sdk))
        .to_item(&memory.store.all()[0]);
    let stored = mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || {
        GetItemOutput::builder()
            .set_item(Some(item.clone()))
            .build()
    });
    let dynamodb = inject!(
        aws_sdk_dynamodb,
        aws_sdk_dynamodb::Client::update_item,
        fault,
        throttled_update,
        || UpdateItemOutput::builder().build(),
        stored
    );
    let tasks = FakeStepFunctions::default();
    tasks.start(&arn, &token);
    let responder = Responder {
        approvals: service(store(&dynamodb.client), tasks, RecordingMailer::default()),
    };
    let (status, title) = page(&responder.handle(request(APPROVE)).await);
    let sent = responder.approvals.tasks.calls().len();
    (status, title, dynamodb.attempts(), sent)
}

#[tokio::test]
async fn recording_the_decision_throttled_then_answered_is_retried_and_delivered_once() {
    // One more UpdateItem after the retried one: recording the delivery.
    assert_eq!(
        record_decision_with(Fault::ThrottledThenOk).await,
        (200, "Approved — thank you".to_owned(), ATTEMPTS + 1, 1)
    );
}

#[tokio::test]
async fn recording_the_decision_throttled_throughout_is_a_503_and_nothing_is_sent() {
    assert_eq!(
        record_decision_with(Fault::Throttled).await,
        (503, "Please try again".to_owned(), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn recording_the_decision_5xx_is_a_503_and_nothing_is_sent() {
    assert_eq!(
        record_decision_with(Fault::ServerError).await,
        (503, "Please try again".to_owned(), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn recording_the_decision_timeout_is_a_503_and_nothing_is_sent() {
    // The silent table answers no operation: the read before the write is what times out.
    assert_eq!(
        record_decision_with(Fault::Timeout).await,
        (503, "Please try again".to_owned(), ATTEMPTS, 0)
    );
}
