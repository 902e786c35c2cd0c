//! Benchmark (not a test): prints figures.
//!
//! 1. The responder's time per request in memory (GET page, POST approve with delivery) and the
//!    callback handler's intake, on the in-memory adapters.
//! 2. The callback path against the local stand-in (moto): `StartExecution` → the payload queued
//!    by the machine's SQS test copy → the real callback handler → the email present in moto.
//!
//! `cargo run --release -p approval-worker --example approval-bench` (needs `make setup` or
//! MOTO_SERVER for part 2; `--memory-only` skips it).

use fleet_core::{EventHandler, FromVars, HttpHandler};
use std::sync::Arc;
use std::time::{Duration, Instant};

use approval_worker::approvals::{Approvals, IncomingTask, Settings};
use approval_worker::config::Config;
use approval_worker::memory::{FakeStepFunctions, FakeStepUp, MemoryStore, RecordingMailer};
use approval_worker::model::Pattern;
use approval_worker::policy::ApproverPolicy;
use approval_worker::sign::SigningKey;
use approval_worker::{wire_callback, Responder};
use fleet_core::Env;
use fleet_testkit::ses::ses_messages;
use fleet_testkit::{workspace_root, Moto, ACCOUNT_ID};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let n = samples.len();
    let total: Duration = samples.iter().sum();
    let pick = |q: f64| samples[((n as f64 * q) as usize).min(n - 1)];
    println!(
        "{name:<44} n={n:<5} mean={:>9.1?} p50={:>9.1?} p99={:>9.1?} max={:>9.1?}",
        total / n as u32,
        pick(0.50),
        pick(0.99),
        samples[n - 1]
    );
}

fn memory_approvals() -> Approvals<MemoryStore, FakeStepFunctions, RecordingMailer, FakeStepUp> {
    Approvals {
        store: MemoryStore::default(),
        tasks: FakeStepFunctions::default(),
        mailer: RecordingMailer::default(),
        step_up: FakeStepUp::default(),
        key: SigningKey::new(b"benchmark-signing-key-0123456789abcdef").unwrap(),
        policy: ApproverPolicy::parse(Some(r#"{"promotion": ["manager@example.com"]}"#), None)
            .unwrap(),
        settings: Settings {
            base_url: Some("https://abc123.execute-api.eu-west-1.amazonaws.com".into()),
            sender: "approvals@example.com".into(),
            default_workflow: "promotion".into(),
            default_timeout: chrono::Duration::hours(1),
            reminders: true,
            require_step_up: false,
        },
        env: Env::system(),
    }
}

fn request(method: &str, path_and_query: &str, body: &str) -> lambda_http::Request {
    let mut request = lambda_http::Request::new(if body.is_empty() {
        lambda_http::Body::Empty
    } else {
        lambda_http::Body::Text(body.to_owned())
    });
    *request.method_mut() = method.parse().unwrap();
    *request.uri_mut() = path_and_query.parse().unwrap();
    request
}

async fn in_memory(n: usize) {
    let approvals = memory_approvals();
    let mut intake = Vec::with_capacity(n);
    for i in 0..n {
        let token = format!("token-{i}");
        approvals.tasks.start(&format!("arn:e:{i}"), &token);
        let task = IncomingTask {
            pattern: Pattern::Callback,
            token,
            input: json!({"managerEmailAddress": "manager@example.com", "employeeName": format!("Employee {i}")}),
            execution_arn: Some(format!("arn:e:{i}")),
            workflow: Some("promotion".into()),
            timeout_seconds: Some(3600),
        };
        let started = Instant::now();
        approvals.intake(task).await.unwrap();
        intake.push(started.elapsed());
    }
    let links: Vec<String> = approvals
        .mailer
        .sent()
        .iter()
        .map(|m| {
            let start = m.text.find("/approvals/").unwrap();
            m.text[start..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    let responder = Responder { approvals };
    let mut get = Vec::with_capacity(n);
    let mut post = Vec::with_capacity(n);
    for link in &links {
        let started = Instant::now();
        let page = responder.handle(request("GET", link, "")).await;
        get.push(started.elapsed());
        assert_eq!(page.status(), 200);
    }
    for link in &links {
        let started = Instant::now();
        let page = responder
            .handle(request("POST", link, "decision=approve&comment=ok"))
            .await;
        post.push(started.elapsed());
        assert_eq!(page.status(), 200);
    }
    println!("In memory (responder and intake on the in-memory adapters):");
    summary("callback intake (store, sign, email)", intake);
    summary("GET /approvals/{id} (verify, render)", get);
    summary("POST approve (verify, decide, deliver)", post);
}

async fn against_the_stand_in(runs: usize) {
    let moto = Moto::start();
    moto.configure(json!({"stepfunctions": {"execute_state_machine": true}}));
    let sdk = moto.sdk_config();
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    aws_sdk_dynamodb::Client::new(&sdk)
        .create_table()
        .table_name("approvals")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("RequestId")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("RequestId")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("signing")
        .secret_string("0123456789abcdef0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap();
    aws_sdk_sesv2::Client::new(&sdk)
        .create_email_identity()
        .email_identity("approvals@example.com")
        .send()
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = sqs
        .create_queue()
        .queue_name("payloads")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let path = workspace_root()
        .join("crates/approval-worker/statemachines/promotion-approval-callback.asl.json");
    let mut definition: Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let task = &mut definition["States"]["WaitForApproval"];
    let payload = task["Parameters"]["Payload"].take();
    task["Resource"] = json!("arn:aws:states:::sqs:sendMessage.waitForTaskToken");
    task["Parameters"] = json!({"QueueUrl": queue_url, "MessageBody": payload});
    let sfn = aws_sdk_sfn::Client::new(&sdk);
    let machine = sfn
        .create_state_machine()
        .name("bench")
        .definition(definition.to_string())
        .role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/states"))
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    let vars = [
        ("APPROVALS_TABLE", "approvals"),
        ("SIGNING_SECRET_ID", "signing"),
        ("SENDER", "approvals@example.com"),
        ("APPROVERS", r#"{"promotion": ["manager@example.com"]}"#),
        (
            "PUBLIC_BASE_URL",
            "https://abc123.execute-api.eu-west-1.amazonaws.com",
        ),
    ];
    let callback = Arc::new(
        wire_callback(&sdk, Config::from_vars(&vars).unwrap(), Env::system())
            .await
            .unwrap(),
    );

    let (mut queued, mut handled, mut visible, mut total) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let started = Instant::now();
        sfn.start_execution()
            .state_machine_arn(&machine)
            .name(format!("bench-{run}"))
            .input(
                json!({"managerEmailAddress": "manager@example.com", "employeeName": "Jim"})
                    .to_string(),
            )
            .send()
            .await
            .unwrap();
        let message = loop {
            let out = sqs
                .receive_message()
                .queue_url(&queue_url)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            if let Some(m) = out.messages().first() {
                sqs.delete_message()
                    .queue_url(&queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
                break m.body().unwrap().to_owned();
            }
            assert!(started.elapsed() < Duration::from_secs(30), "no payload");
        };
        let at_queue = started.elapsed();
        let payload: Value = serde_json::from_str(&message).unwrap();
        callback
            .handle(LambdaEvent::new(payload, Context::default()))
            .await
            .unwrap();
        let at_sent = started.elapsed();
        while ses_messages(&moto).len() < run + 1 {
            assert!(started.elapsed() < Duration::from_secs(30), "no email");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let at_visible = started.elapsed();
        queued.push(at_queue);
        handled.push(at_sent - at_queue);
        visible.push(at_visible - at_sent);
        total.push(at_visible);
    }
    println!("Callback path against the local stand-in (moto 5.2.5), {runs} executions:");
    summary("StartExecution -> payload received from SQS", queued);
    summary("callback handler (store, email via SES v2)", handled);
    summary("SendEmail -> visible in moto data.json", visible);
    summary("StartExecution -> email present (total)", total);
}

#[tokio::main]
async fn main() {
    let memory_only = std::env::args().any(|a| a == "--memory-only");
    in_memory(2000).await;
    if !memory_only {
        println!();
        against_the_stand_in(20).await;
    }
    println!();
    println!("The seed's activity path is bounded by the poll rate: a task waiting when a poll starts is");
    println!("returned at once, one created during a poll within that poll; between scheduled runs it waits");
    println!("for the next run (ApprovalPollRate, rate(1 minute): <= 60 s). moto has no activities to measure.");
}
