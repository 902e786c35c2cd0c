//! Every file of `events/approval-worker/` through its entry, in one story: the poller's
//! schedule, the callback payloads, the page requests (GET, HEAD, POST approve, POST reject after
//! it, a tampered link) and the sweep's schedule. The link in the sample requests is the one the
//! callback sample's email carries (fixed key, clock and ids).

mod support;

use approval_worker::memory::{FakeActivity, TaskCall};
use approval_worker::{CallbackApp, PollerApp, Responder, SweepApp};
use fleet_core::{EventHandler, HttpHandler};
use fleet_testkit::{event_files, load_event};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use support::approvals;

// The directory loader below names it literally: the workspace events test looks for that call.
const DIR: &str = "approval-worker";

fn lambda_event(name: &str) -> LambdaEvent<Value> {
    LambdaEvent::new(load_event(&format!("{DIR}/{name}")), Context::default())
}

fn request(name: &str) -> lambda_http::Request {
    let text = load_event(&format!("{DIR}/{name}")).to_string();
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn text(response: &lambda_http::Response<lambda_http::Body>) -> String {
    String::from_utf8_lossy(response.body().as_ref()).into_owned()
}

#[test]
fn the_directory_holds_exactly_the_samples_the_story_uses() {
    let names: Vec<String> = event_files("approval-worker")
        .iter()
        .map(|f| f.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "01-poller-schedule.json",
            "02-callback-promotion.json",
            "03-callback-approver-not-allowed.json",
            "04-get-request.json",
            "05-head-request.json",
            "06-post-approve.json",
            "07-post-reject.json",
            "08-get-tampered-signature.json",
            "09-sweep-schedule.json",
        ],
        "a new sample needs its step in the story below"
    );
}

#[tokio::test]
async fn the_poller_schedule_polls_and_emails_the_seed_task() {
    let (approvals, _) = approvals();
    let activity = FakeActivity::default();
    activity.push(
        "activity-token-1",
        r#"{"managerEmailAddress": "manager@example.com", "employeeName": "Jim"}"#,
    );
    let poller = PollerApp {
        activity,
        approvals,
        max_polls: 10,
    };
    let report = poller
        .handle(lambda_event("01-poller-schedule.json"))
        .await
        .unwrap();
    assert_eq!(
        (report.polls, report.tasks, report.emailed, report.failed),
        (2, 1, 1, 0),
        "{report:?}"
    );
    let sent = poller.approvals.mailer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].subject, "Your Approval Needed for Promotion!");
    assert_eq!(sent[0].to, "manager@example.com");
    assert_eq!(
        sent[0].from, "approvals@example.com",
        "the configured sender, not the manager"
    );
}

#[tokio::test]
async fn callback_pages_and_sweep_samples_in_order() {
    let (approvals, _clock) = approvals();
    let promotion = load_event(&format!("{DIR}/02-callback-promotion.json"));
    approvals.tasks.start(
        promotion["executionArn"].as_str().unwrap(),
        promotion["taskToken"].as_str().unwrap(),
    );
    let callback = CallbackApp { approvals };

    // 02: stored under id-1 and emailed once, even when the invocation is retried.
    let out = callback
        .handle(lambda_event("02-callback-promotion.json"))
        .await
        .unwrap();
    assert_eq!(
        (out.request_id.as_str(), out.status, out.emailed),
        ("id-1", "pending", true)
    );
    let again = callback
        .handle(lambda_event("02-callback-promotion.json"))
        .await
        .unwrap();
    assert_eq!(
        (again.request_id.as_str(), again.emailed, again.duplicate),
        ("id-1", false, true),
        "a retried invocation sends no second email"
    );
    let mail = callback.approvals.mailer.sent();
    assert_eq!(mail.len(), 1);
    assert_eq!(
        mail[0].to, "manager@example.com",
        "normalised from Manager@Example.com"
    );
    let get = load_event(&format!("{DIR}/04-get-request.json"));
    assert_eq!(
        get["queryStringParameters"]["sig"].as_str(),
        Some(support::sig_of(&mail[0].text).as_str()),
        "the sample requests carry this email's link"
    );

    // 03: the input names an approver outside the configuration: refused, the task failed.
    let out = callback
        .handle(lambda_event("03-callback-approver-not-allowed.json"))
        .await
        .unwrap();
    assert_eq!((out.status, out.emailed), ("refused", false));
    let failures: Vec<(String, String)> = callback
        .approvals
        .tasks
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            TaskCall::Failure { error, cause, .. } => Some((error, cause)),
            _ => None,
        })
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].0, "ApprovalRefused");
    assert!(
        failures[0]
            .1
            .contains("mallory@evil.example may not approve promotion requests"),
        "{}",
        failures[0].1
    );

    let responder = Responder {
        approvals: callback.approvals,
    };

    // 04 GET and 05 HEAD: the page, nothing decided.
    let page = responder.handle(request("04-get-request.json")).await;
    assert_eq!(page.status(), 200);
    let html = text(&page);
    assert!(
        html.contains("<td>Jim</td>") && html.contains("manager@example.com"),
        "{html}"
    );
    assert!(html.contains("id=\"approve\"") && html.contains("method=\"post\""));
    let head = responder.handle(request("05-head-request.json")).await;
    assert_eq!(head.status(), 200);
    assert!(head.body().is_empty());
    assert!(
        responder
            .approvals
            .tasks
            .calls()
            .iter()
            .all(|c| matches!(c, TaskCall::Failure { .. })),
        "GET and HEAD send nothing to Step Functions"
    );

    // 08: a tampered signature is refused and changes nothing.
    let tampered = responder
        .handle(request("08-get-tampered-signature.json"))
        .await;
    assert_eq!(tampered.status(), 403);
    assert!(text(&tampered).contains("This link is not valid"));

    // 06 POST approve: decided, delivered with the audit output; the page escapes the comment.
    let approved = responder.handle(request("06-post-approve.json")).await;
    let html = text(&approved);
    assert_eq!(approved.status(), 200, "{html}");
    assert!(html.contains("Approved — thank you"), "{html}");
    assert!(
        html.contains("Well deserved! &lt;b&gt;congrats&lt;/b&gt;"),
        "{html}"
    );
    let success = responder
        .approvals
        .tasks
        .calls()
        .into_iter()
        .find_map(|c| match c {
            TaskCall::Success { output, .. } => Some(output),
            _ => None,
        })
        .expect("SendTaskSuccess");
    let output: Value = serde_json::from_str(&success).unwrap();
    assert_eq!(
        output,
        serde_json::json!({
            "decision": "approved",
            "approver": "manager@example.com",
            "decidedAt": "2026-11-23T08:00:00Z",
            "comment": "Well deserved! <b>congrats</b>",
            "requestId": "id-1",
        })
    );
    let stored = responder
        .approvals
        .store
        .all()
        .into_iter()
        .find(|r| r.id == "id-1")
        .unwrap();
    let decision = stored.decision.unwrap();
    assert_eq!(decision.source_ip.as_deref(), Some("203.0.113.7"));
    assert!(decision.user_agent.unwrap().contains("Chrome/124.0"));

    // 07 POST reject afterwards: already approved, nothing sent again.
    let calls_before = responder.approvals.tasks.calls().len();
    let second = responder.handle(request("07-post-reject.json")).await;
    let html = text(&second);
    assert_eq!(second.status(), 200);
    assert!(
        html.contains("Already approved by manager@example.com at 2026-11-23 08:00 UTC"),
        "{html}"
    );
    assert_eq!(responder.approvals.tasks.calls().len(), calls_before);

    // The same request through the HTTP API boundary the binary serves (payload format 2.0).
    let answer = fleet_core::http::answer(lambda_event("04-get-request.json"), &|r| {
        responder.handle(r)
    })
    .await
    .unwrap();
    assert_eq!(answer["statusCode"], 200);
    assert_eq!(answer["headers"]["cache-control"], "no-store");
    assert_eq!(answer["headers"]["referrer-policy"], "no-referrer");

    // 09: the sweep looks at the refused request (already delivered) and has nothing to do.
    let sweep = SweepApp {
        approvals: responder.approvals,
    };
    let report = sweep
        .handle(lambda_event("09-sweep-schedule.json"))
        .await
        .unwrap();
    assert_eq!(
        (report.examined, report.failed, report.refusals_delivered),
        (1, 0, 0),
        "{report:?}"
    );
}

#[tokio::test]
async fn a_schedule_event_is_not_a_callback_payload_and_vice_versa() {
    let (approvals, _) = approvals();
    let callback = CallbackApp { approvals };
    let err = callback
        .handle(lambda_event("01-poller-schedule.json"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");
    assert!(err.message.contains("taskToken"), "{}", err.message);
    let sweep = SweepApp {
        approvals: callback.approvals,
    };
    let err = sweep
        .handle(lambda_event("02-callback-promotion.json"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");
}
