//! Approval form posts, as a browser, a mail scanner or a stranger with the link could send them:
//! Step Functions hears at most one decision, however often the form is posted; only a POST
//! with the link's own signature and a choice of `approve` or `reject` decides, and it decides
//! what the form chose; GET never decides. The first byte picks GET or POST, a tampered
//! signature, and a second POST; the rest is the form body.
#![no_main]

#[path = "../support.rs"]
mod support;

use approval_worker::approvals::{Approvals, DecisionForm, Settings};
use approval_worker::memory::{
    FakeStepFunctions, FakeStepUp, MemoryStore, RecordingMailer, TaskCall,
};
use approval_worker::policy::ApproverPolicy;
use approval_worker::sign::SigningKey;
use approval_worker::{CallbackApp, Responder};
use fleet_core::{Env, EventHandler, HttpHandler};
use lambda_runtime::{Context, LambdaEvent};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const CALLBACK: &str = include_str!("../../events/approval-worker/02-callback-promotion.json");
const GET: &str = include_str!("../../events/approval-worker/04-get-request.json");
const POST: &str = include_str!("../../events/approval-worker/06-post-approve.json");

fn approvals() -> Option<Approvals<MemoryStore, FakeStepFunctions, RecordingMailer, FakeStepUp>> {
    let (env, _clock) = Env::fixed("2026-11-23T08:00:00Z".parse().ok()?);
    Some(Approvals {
        store: MemoryStore::default(),
        tasks: FakeStepFunctions::default(),
        mailer: RecordingMailer::default(),
        step_up: FakeStepUp::default(),
        key: SigningKey::new(b"local-test-signing-key-0123456789abcdef").ok()?,
        policy: ApproverPolicy::parse(
            Some(r#"{"promotion": ["manager@example.com"]}"#),
            Some("example.com"),
        )
        .ok()?,
        settings: Settings {
            base_url: Some("https://abc123.execute-api.eu-west-1.amazonaws.com/".to_owned()),
            sender: "approvals@example.com".to_owned(),
            default_workflow: "promotion".to_owned(),
            default_timeout: chrono::Duration::hours(1),
            reminders: true,
            require_step_up: false,
        },
        env,
    })
}

/// The `sig` of the link in the email's text part.
fn sig_of(text: &str) -> Option<String> {
    let start = text.find("?sig=")? + 5;
    text.get(start..start + 64).map(str::to_owned)
}

fn decisions(tasks: &FakeStepFunctions) -> Vec<TaskCall> {
    tasks
        .calls()
        .into_iter()
        .filter(|c| matches!(c, TaskCall::Success { .. } | TaskCall::Failure { .. }))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let (is_get, tampered, twice) = (flags & 1 == 1, flags & 2 == 2, flags & 4 == 4);
    let Some(approvals) = approvals() else {
        return;
    };
    let Ok(callback_event) = serde_json::from_str::<Value>(CALLBACK) else {
        return;
    };
    let (Some(execution), Some(token)) = (
        callback_event["executionArn"].as_str(),
        callback_event["taskToken"].as_str(),
    ) else {
        return;
    };
    approvals.tasks.start(execution, token);
    let callback = CallbackApp { approvals };
    support::block_on(async {
        let stored = callback
            .handle(LambdaEvent::new(callback_event.clone(), Context::default()))
            .await;
        assert!(
            stored.is_ok_and(|s| s.emailed),
            "the seed request is emailed"
        );
        let mail = callback.approvals.mailer.sent();
        let Some(mut sig) = mail.first().and_then(|m| sig_of(&m.text)) else {
            panic!("a link in the email");
        };
        if tampered {
            let flipped = if sig.starts_with('0') { "1" } else { "0" };
            sig.replace_range(0..1, flipped);
        }
        let Ok(mut request) = serde_json::from_str::<Value>(if is_get { GET } else { POST }) else {
            return;
        };
        request["queryStringParameters"]["sig"] = Value::String(sig.clone());
        request["rawQueryString"] = Value::String(format!("sig={sig}"));
        request["isBase64Encoded"] = Value::Bool(false);
        request["body"] = Value::String(String::from_utf8_lossy(body).into_owned());
        let responder = Responder {
            approvals: callback.approvals,
        };
        for _ in 0..if twice { 2 } else { 1 } {
            let Ok(http) = lambda_http::request::from_str(&request.to_string()) else {
                return;
            };
            let status = responder.handle(http).await.status().as_u16();
            assert!([200, 400, 403, 413].contains(&status), "status {status}");
            if tampered {
                assert_eq!(status, 403, "a tampered link is refused");
            }
        }
        let decided = decisions(&responder.approvals.tasks);
        assert!(decided.len() <= 1, "one decision at most: {decided:?}");
        if let Some(call) = decided.first() {
            assert!(!is_get, "GET decided");
            assert!(!tampered, "a tampered link decided");
            let form: DecisionForm =
                serde_urlencoded::from_bytes(String::from_utf8_lossy(body).as_bytes())
                    .unwrap_or_default();
            match (call, form.decision.as_deref()) {
                (TaskCall::Success { output, .. }, Some("approve")) => {
                    let output: Value = serde_json::from_str(output).expect("JSON output");
                    assert_eq!(output["decision"], "approved");
                }
                (TaskCall::Failure { error, .. }, Some("reject")) => assert_eq!(error, "Rejected"),
                (call, chosen) => panic!("{call:?} sent for the choice {chosen:?}"),
            }
        }
    });
});
