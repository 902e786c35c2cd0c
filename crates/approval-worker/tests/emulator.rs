//! Against the local stand-in (moto): the callback machine's test copy runs real
//! `.waitForTaskToken` executions; the real callback handler takes each queued payload, the email
//! is read back, its link followed with GET and HEAD, then POSTed: Approve ends the execution
//! SUCCEEDED with the audit output, Reject ends it FAILED with `Rejected`.
//!
//! moto cannot run a Lambda function (no Docker), so the copy's task is
//! `sqs:sendMessage.waitForTaskToken` with exactly the Lambda task's payload; and moto has no
//! activities, so the seed's activity path is tested through the port (domain tests) and the
//! adapter with aws-smithy-mocks (aws_adapter.rs).

use fleet_core::{Env, EventHandler, FromVars, HttpHandler};

use approval_worker::aws::DynamoStore;
use approval_worker::config::Config;
use approval_worker::ports::ApprovalStore;
use approval_worker::{wire_callback, wire_responder, Status};
use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use fleet_testkit::approval::{link_in, request_for, CallbackMachine};
use fleet_testkit::ses::ses_messages;
use fleet_testkit::{Moto, REGION};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};

const TABLE: &str = "approvals";
const SECRET: &str = "approval-signing-key";
const SENDER: &str = "approvals@example.com";

struct Stack {
    moto: Moto,
    machine: CallbackMachine,
}

fn vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("APPROVALS_TABLE", TABLE),
        ("SIGNING_SECRET_ID", SECRET),
        ("SENDER", SENDER),
        ("APPROVERS", r#"{"promotion": ["manager@example.com"]}"#),
        (
            "PUBLIC_BASE_URL",
            "https://abc123.execute-api.eu-west-1.amazonaws.com",
        ),
    ]
}

fn config() -> Config {
    let vars: std::collections::HashMap<String, String> = vars()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Config::from_vars(&vars).unwrap()
}

pub async fn create_table(sdk: &aws_config::SdkConfig) {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    fleet_testkit::seed::create_table(&ddb, TABLE, "RequestId", ScalarAttributeType::S).await;
}

async fn stack() -> Stack {
    let moto = Moto::start();
    moto.configure(json!({"stepfunctions": {"execute_state_machine": true}}));
    let sdk = moto.sdk_config();
    create_table(&sdk).await;
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(SECRET)
        .secret_string("0123456789abcdef0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap();
    aws_sdk_sesv2::Client::new(&sdk)
        .create_email_identity()
        .email_identity(SENDER)
        .send()
        .await
        .unwrap();
    let machine = CallbackMachine::create(&sdk).await;
    Stack { moto, machine }
}

impl Stack {
    async fn start(&self, name: &str) -> String {
        let input = json!({"managerEmailAddress": "manager@example.com", "employeeName": "Jim", "requestedBy": "hr@example.com"});
        self.machine.start(name, &input).await
    }
}

/// Every item of the approvals table, by `RequestId`: requests (`Kind = request`) and the token
/// index (`Kind = token`).
async fn table_items(
    sdk: &aws_config::SdkConfig,
) -> std::collections::BTreeMap<String, std::collections::HashMap<String, AttributeValue>> {
    fleet_testkit::seed::table_items(&aws_sdk_dynamodb::Client::new(sdk), TABLE, "RequestId").await
}

/// How many items of each kind the table holds: (requests, token index items).
fn kinds(
    items: &std::collections::BTreeMap<String, std::collections::HashMap<String, AttributeValue>>,
) -> (usize, usize) {
    let count = |kind: &str| {
        items
            .values()
            .filter(|i| {
                i.get("Kind")
                    .and_then(|k| k.as_s().ok())
                    .map(String::as_str)
                    == Some(kind)
            })
            .count()
    };
    (count("request"), count("token"))
}

fn html(response: &lambda_http::Response<lambda_http::Body>) -> String {
    String::from_utf8_lossy(response.body().as_ref()).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn callback_machine_approve_and_reject_against_the_stand_in() {
    let stack = stack().await;
    let sdk = stack.moto.sdk_config();
    let callback = wire_callback(&sdk, config(), Env::system()).await.unwrap();
    let responder = wire_responder(&sdk, config(), Env::system()).await.unwrap();

    // Approve.
    let approve_arn = stack.start("promote-jim-approve").await;
    let payload = stack.machine.next_payload().await;
    assert_eq!(
        payload["executionArn"],
        approve_arn.as_str(),
        "$$.Execution.Id reaches the handler"
    );
    assert!(payload["taskToken"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(payload["input"]["employeeName"], "Jim");
    let stored = callback
        .handle(LambdaEvent::new(payload.clone(), Context::default()))
        .await
        .unwrap();
    assert_eq!(stored.request_id.len(), 32, "128 random bits in hex");
    assert!(stored.emailed);
    let retried = callback
        .handle(LambdaEvent::new(payload, Context::default()))
        .await
        .unwrap();
    assert_eq!(
        (retried.request_id.as_str(), retried.emailed),
        (stored.request_id.as_str(), false)
    );

    let items = table_items(&sdk).await;
    assert_eq!(
        kinds(&items),
        (1, 1),
        "one request and its token index item for a retried invocation: {items:#?}"
    );
    assert!(items.contains_key(&stored.request_id));
    let mail = ses_messages(&stack.moto);
    assert_eq!(
        mail.len(),
        1,
        "one email for a retried invocation: {mail:?}"
    );
    assert_eq!(mail[0].source, SENDER);
    assert_eq!(mail[0].to, ["manager@example.com"]);
    assert_eq!(mail[0].subject, "Your Approval Needed for Promotion!");
    let link = link_in(&mail[0].body);
    assert!(
        link.starts_with(&format!(
            "https://abc123.execute-api.eu-west-1.amazonaws.com/approvals/{}?sig=",
            stored.request_id
        )),
        "{link}"
    );
    assert!(link.len() < 200);

    for sample in ["04-get-request.json", "05-head-request.json"] {
        let page = responder.handle(request_for(sample, &link)).await;
        assert_eq!(page.status(), 200, "{sample}");
    }
    assert!(html(
        &responder
            .handle(request_for("04-get-request.json", &link))
            .await
    )
    .contains("<td>Jim</td>"));
    assert_eq!(
        stack.machine.execution(&approve_arn).await.status,
        aws_sdk_sfn::types::ExecutionStatus::Running,
        "looking at the link decides nothing"
    );

    let page = responder
        .handle(request_for("06-post-approve.json", &link))
        .await;
    assert_eq!(page.status(), 200, "{}", html(&page));
    assert!(html(&page).contains("Approved — thank you"));
    let done = stack.machine.finished(&approve_arn).await;
    assert_eq!(done.status, aws_sdk_sfn::types::ExecutionStatus::Succeeded);
    let output: Value = serde_json::from_str(done.output().unwrap()).unwrap();
    assert_eq!(output["decision"], "approved");
    assert_eq!(output["approver"], "manager@example.com");
    assert_eq!(output["comment"], "Well deserved! <b>congrats</b>");
    assert_eq!(output["requestId"], stored.request_id.as_str());
    assert!(output["decidedAt"].as_str().unwrap().ends_with('Z'));

    let store = DynamoStore::new(&sdk, TABLE, chrono::Duration::days(90));
    let item = store.get(&stored.request_id).await.unwrap().unwrap();
    assert_eq!(item.status, Status::Delivered);
    let decision = item.decision.unwrap();
    assert_eq!(decision.source_ip.as_deref(), Some("203.0.113.7"));
    assert!(item.delivered_at.is_some());

    // A second click: already approved, the execution untouched.
    let again = responder
        .handle(request_for("07-post-reject.json", &link))
        .await;
    assert!(
        html(&again).contains("Already approved by manager@example.com"),
        "{}",
        html(&again)
    );

    // Reject.
    let reject_arn = stack.start("promote-jim-reject").await;
    let payload = stack.machine.next_payload().await;
    let stored = callback
        .handle(LambdaEvent::new(payload, Context::default()))
        .await
        .unwrap();
    let mail = ses_messages(&stack.moto);
    assert_eq!(mail.len(), 2);
    let link = link_in(&mail[1].body);
    assert!(link.contains(&stored.request_id));
    let page = responder
        .handle(request_for("07-post-reject.json", &link))
        .await;
    assert!(
        html(&page).contains("Rejected — thank you"),
        "{}",
        html(&page)
    );
    let done = stack.machine.finished(&reject_arn).await;
    assert_eq!(done.status, aws_sdk_sfn::types::ExecutionStatus::Failed);
    assert_eq!(done.error(), Some("Rejected"));

    // A tampered link on the stand-in: refused, nothing changed.
    let tampered = link
        .replace("sig=", "sig=0")
        .chars()
        .take(link.len())
        .collect::<String>();
    let page = responder
        .handle(request_for("04-get-request.json", &tampered))
        .await;
    assert_eq!(page.status(), 403);

    let pending = approval_worker::cli::list(&store, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(pending, "No pending approvals.\n");
    let _ = REGION;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_used_token_on_the_stand_in_is_gone_and_the_execution_shows_the_decision() {
    use approval_worker::ports::{Gone, SendError, TaskCallbacks};
    let stack = stack().await;
    let sdk = stack.moto.sdk_config();
    let arn = stack.start("promote-jim-twice").await;
    let payload = stack.machine.next_payload().await;
    let token = payload["taskToken"].as_str().unwrap();
    let tasks = approval_worker::aws::SfnTasks::new(&sdk);
    tasks
        .send_success(token, r#"{"requestId":"r-1"}"#)
        .await
        .unwrap();
    // moto keeps accepting a token until its execution has consumed the outcome (AWS does not),
    // so the second answer is sent once the execution has finished.
    stack.machine.finished(&arn).await;
    let second = tasks
        .send_success(token, r#"{"requestId":"r-1"}"#)
        .await
        .unwrap_err();
    // AWS answers TaskTimedOut for a used token; moto answers InvalidToken. Both are "gone".
    assert!(
        matches!(
            second,
            SendError::Gone(Gone::InvalidToken | Gone::TaskTimedOut)
        ),
        "{second:?}"
    );
    let execution = tasks.describe_execution(&arn).await.unwrap();
    assert_eq!(
        execution.status,
        approval_worker::ports::ExecutionStatus::Succeeded
    );
    let output: Value = serde_json::from_str(execution.output.as_deref().unwrap()).unwrap();
    assert_eq!(output, json!({"requestId": "r-1"}));
    let unknown = tasks
        .send_failure("not-a-token", "Rejected", "x")
        .await
        .unwrap_err();
    assert!(matches!(unknown, SendError::Gone(_)), "{unknown:?}");
}

/// The poller (the seed's activity worker) handed the same activity task twice (a second
/// `GetActivityTask` answer for the same token, or the schedule's retry): one stored request,
/// one email. moto has no activities, so the tasks come from the fake behind the port; the
/// store and the mail are the stand-in's.
#[tokio::test(flavor = "multi_thread")]
async fn the_same_activity_task_twice_is_stored_once_and_emailed_once() {
    use approval_worker::memory::FakeActivity;
    use approval_worker::ports::NoStepUp;
    use approval_worker::{wire_approvals, AwsStepUp, PollerApp};
    let stack = stack().await;
    let sdk = stack.moto.sdk_config();
    let poller = PollerApp {
        activity: FakeActivity::default(),
        approvals: wire_approvals(&sdk, &config(), Env::system(), AwsStepUp::Off(NoStepUp))
            .await
            .unwrap(),
        max_polls: 10,
    };
    let token = "AAAAKgAAAAIAAAAAAAAAAdb0Jm8Y1xq4activity-token-for-jim";
    let input = json!({"managerEmailAddress": "manager@example.com", "employeeName": "Jim"});
    let schedule = || {
        LambdaEvent::new(
            fleet_testkit::load_event("approval-worker/01-poller-schedule.json"),
            Context::default(),
        )
    };

    poller.activity.push(token, &input.to_string());
    let first = poller.handle(schedule()).await.unwrap();
    assert_eq!(
        (first.tasks, first.emailed, first.failed),
        (1, 1, 0),
        "{first:?}"
    );
    let after_first = table_items(&sdk).await;
    assert_eq!(kinds(&after_first), (1, 1), "{after_first:#?}");
    assert_eq!(ses_messages(&stack.moto).len(), 1);

    poller.activity.push(token, &input.to_string());
    let second = poller.handle(schedule()).await.unwrap();
    assert_eq!(
        (second.tasks, second.emailed, second.refused, second.failed),
        (1, 0, 0, 0),
        "{second:?}"
    );
    assert_eq!(
        table_items(&sdk).await,
        after_first,
        "the table as after the first run: one request, unchanged"
    );
    let mail = ses_messages(&stack.moto);
    assert_eq!(mail.len(), 1, "one email for the task: {mail:?}");
    assert_eq!(mail[0].to, ["manager@example.com"]);
    let request_id = after_first
        .values()
        .find(|i| i["Kind"].as_s().is_ok_and(|k| k == "request"))
        .map(|i| i["RequestId"].as_s().unwrap().clone())
        .unwrap();
    assert!(link_in(&mail[0].body).contains(&request_id));
}

/// The same approval POSTed twice (a double click, a browser resubmitting): one decision, the
/// execution answered once and ended SUCCEEDED with the first decision's output, the second page
/// says it was already approved.
#[tokio::test(flavor = "multi_thread")]
async fn the_same_approval_posted_twice_decides_once() {
    let stack = stack().await;
    let sdk = stack.moto.sdk_config();
    let callback = wire_callback(&sdk, config(), Env::system()).await.unwrap();
    let responder = wire_responder(&sdk, config(), Env::system()).await.unwrap();
    let arn = stack.start("promote-jim-double-click").await;
    let payload = stack.machine.next_payload().await;
    let stored = callback
        .handle(LambdaEvent::new(payload, Context::default()))
        .await
        .unwrap();
    let link = link_in(&ses_messages(&stack.moto)[0].body);

    let page = responder
        .handle(request_for("06-post-approve.json", &link))
        .await;
    assert_eq!(page.status(), 200, "{}", html(&page));
    assert!(
        html(&page).contains("Approved — thank you"),
        "{}",
        html(&page)
    );
    let done = stack.machine.finished(&arn).await;
    assert_eq!(done.status, aws_sdk_sfn::types::ExecutionStatus::Succeeded);
    let output = done.output().unwrap().to_owned();
    let after_first = table_items(&sdk).await;
    assert_eq!(
        after_first[&stored.request_id]["Status"].as_s().unwrap(),
        Status::Delivered.as_str()
    );

    stack.moto.start_recording();
    let again = responder
        .handle(request_for("06-post-approve.json", &link))
        .await;
    let operations = stack.moto.recorded_operations();
    assert_eq!(again.status(), 200, "{}", html(&again));
    assert!(
        html(&again).contains("Already approved by manager@example.com"),
        "{}",
        html(&again)
    );
    assert!(
        operations.iter().any(|o| o == "GetItem"),
        "the recorder saw the second POST: {operations:?}"
    );
    for write in [
        "SendTaskSuccess",
        "SendTaskFailure",
        "UpdateItem",
        "PutItem",
        "TransactWriteItems",
    ] {
        assert!(
            !operations.iter().any(|o| o == write),
            "the second POST called {write}: {operations:?}"
        );
    }
    assert_eq!(
        table_items(&sdk).await,
        after_first,
        "one decision: the table as after the first POST"
    );
    let still = stack.machine.execution(&arn).await;
    assert_eq!(still.status, aws_sdk_sfn::types::ExecutionStatus::Succeeded);
    assert_eq!(still.output(), Some(output.as_str()), "the same output");
    let history = stack
        .machine
        .sfn
        .get_execution_history()
        .execution_arn(&arn)
        .send()
        .await
        .unwrap();
    let succeeded = history
        .events()
        .iter()
        .filter(|e| e.r#type() == &aws_sdk_sfn::types::HistoryEventType::TaskSucceeded)
        .count();
    assert_eq!(succeeded, 1, "{:#?}", history.events());
    assert_eq!(ses_messages(&stack.moto).len(), 1, "no second email");
}
