//! The approval page in Debian's headless Chromium (playwright-core, `tests/browser/approve.mjs`),
//! the real responder behind a loopback HTTP server (`fleet_testkit::http_server`) on the
//! in-memory adapters: open the emailed link, click Approve, see the confirmation; reopen it, see
//! "already approved"; a tampered link shows a refusal page and changes nothing.

mod support;

use fleet_core::HttpHandler;
use std::sync::Arc;

use approval_worker::approvals::IncomingTask;
use approval_worker::memory::TaskCall;
use approval_worker::model::{Pattern, Status};
use approval_worker::Responder;
use fleet_testkit::workspace_root;
use serde_json::json;

fn task(token: &str, employee: &str) -> IncomingTask {
    IncomingTask {
        pattern: Pattern::Callback,
        token: token.to_owned(),
        input: json!({"managerEmailAddress": "manager@example.com", "employeeName": employee}),
        execution_arn: Some(format!(
            "arn:aws:states:eu-west-1:123456789012:execution:m:{employee}"
        )),
        workflow: Some("promotion".to_owned()),
        timeout_seconds: Some(3600),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn approve_in_headless_chromium_then_already_approved_and_a_tampered_link_refused() {
    let (approvals, _clock) = support::approvals();
    approvals.tasks.start(
        "arn:aws:states:eu-west-1:123456789012:execution:m:Jim",
        "token-jim",
    );
    approvals.tasks.start(
        "arn:aws:states:eu-west-1:123456789012:execution:m:Ann",
        "token-ann",
    );
    approvals.intake(task("token-jim", "Jim")).await.unwrap();
    approvals.intake(task("token-ann", "Ann")).await.unwrap();
    let mail = approvals.mailer.sent();
    let responder = Arc::new(Responder { approvals });
    let app = responder.clone();
    let server = fleet_testkit::http_server::serve(move |request| {
        let app = app.clone();
        async move { app.handle(request).await }
    })
    .await;

    let local = |link: String| {
        link.replace(
            "https://abc123.execute-api.eu-west-1.amazonaws.com",
            &server.url,
        )
    };
    let link = local(support::link_of(&mail[0].text));
    let ann = local(support::link_of(&mail[1].text));
    let sig_start = ann.find("sig=").unwrap() + 4;
    let mut tampered = ann.clone();
    let flipped = if &ann[sig_start..sig_start + 1] == "a" {
        "b"
    } else {
        "a"
    };
    tampered.replace_range(sig_start..sig_start + 1, flipped);

    let script = workspace_root().join("tests/browser/approve.mjs");
    // APPROVAL_SCREENSHOT=path keeps a picture of the confirmation page.
    let keep = std::env::var_os("APPROVAL_SCREENSHOT");
    let screenshot = keep
        .clone()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("approval-page-{}.png", std::process::id()))
        });
    let output = tokio::process::Command::new("node")
        .arg(&script)
        .arg(&link)
        .arg(&tampered)
        .arg(&screenshot)
        .current_dir(workspace_root().join("tests/browser"))
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "running node {}: {e} (is Node.js installed?)",
                script.display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "opened: 200 Approval needed",
        "answer: Approved — thank you",
        "decision: Approved by manager@example.com at 2026-11-23 08:00 UTC.",
        "reopened: 200 Already approved",
        "reopened decision: Already approved by manager@example.com at 2026-11-23 08:00 UTC.",
        "tampered: 403 This link is not valid",
        "tampered buttons: 0",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from:\n{stdout}"
        );
    }
    if keep.is_none() {
        let _ = std::fs::remove_file(&screenshot);
    }

    let approvals = &responder.approvals;
    let answers: Vec<TaskCall> = approvals.tasks.calls();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert!(
        matches!(&answers[0], TaskCall::Success { token, output } if token == "token-jim" && output.contains("Well deserved <3"))
    );
    let stored = approvals.store.all();
    let jim = stored.iter().find(|r| r.id == "id-1").unwrap();
    let decision = jim.decision.as_ref().unwrap();
    assert_eq!(jim.status, Status::Delivered);
    assert_eq!(decision.source_ip.as_deref(), Some("127.0.0.1"));
    assert!(
        decision
            .user_agent
            .as_deref()
            .is_some_and(|ua| ua.contains("Chrome")),
        "{decision:?}"
    );
    let ann = stored.iter().find(|r| r.id == "id-2").unwrap();
    assert_eq!(
        (ann.status, ann.decision.is_none()),
        (Status::Pending, true),
        "the tampered link changed nothing"
    );
}
