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
use aws_sdk_dynamodb::types::ScalarAttributeType;
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
