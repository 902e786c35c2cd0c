//! Domain tests on the in-memory adapters: signatures, who may approve, state transitions, the
//! double click and concurrent POSTs, every Step Functions answer, step-up, intake failures, the
//! sweep, the email, the configuration and the CLI text.

mod support;

use fleet_core::{EventHandler, FromVars};
use std::sync::atomic::Ordering;

use approval_worker::approvals::{Client, DecisionForm, IncomingTask, Prompt, View};
use approval_worker::config::Config;
use approval_worker::memory::{FakeActivity, MemoryStore, TaskCall};
use approval_worker::model::{Pattern, Status, Verdict};
use approval_worker::policy::{ApproverPolicy, PolicyRefusal};
use approval_worker::ports::{ApprovalStore, Created, Gone, SendError};
use approval_worker::sign::{link, SigningKey, MAX_LINK_CHARS};
use approval_worker::{CallbackApp, IntakeError, PollerApp};
use chrono::{DateTime, Duration, Utc};
use fleet_core::{Classified, ErrorClass, ServiceError};
use proptest::prelude::*;
use serde_json::json;
use support::{approvals, MemoryApprovals};

const ARN: &str = "arn:aws:states:eu-west-1:123456789012:execution:PromotionApprovalCallback:e-1";
const TOKEN: &str = "AAAAKgAAAAIAAAAAAAAAAe4p0sZ3+Lq9d8Uu3qg3vW1fJqQ2/eYx0kQ8m7==";

fn t0() -> DateTime<Utc> {
    support::T0.parse().unwrap()
}

fn task(input: serde_json::Value) -> IncomingTask {
    IncomingTask {
        pattern: Pattern::Callback,
        token: TOKEN.to_owned(),
        input,
        execution_arn: Some(ARN.to_owned()),
        workflow: Some("promotion".to_owned()),
        timeout_seconds: Some(3600),
    }
}

fn seed_input() -> serde_json::Value {
    json!({"managerEmailAddress": "manager@example.com", "employeeName": "Jim", "requestedBy": "hr@example.com"})
}

/// A pending, emailed request `id-1` and its signature.
async fn pending() -> (
    MemoryApprovals,
    std::sync::Arc<fleet_core::FixedClock>,
    String,
) {
    let (a, clock) = approvals();
    a.tasks.start(ARN, TOKEN);
    let out = a.intake(task(seed_input())).await.unwrap();
    assert_eq!(out.request_id, "id-1");
    let sig = support::sig_of(&a.mailer.sent()[0].text);
    (a, clock, sig)
}

fn form(decision: &str, comment: &str) -> DecisionForm {
    DecisionForm {
        decision: Some(decision.to_owned()),
        comment: comment.to_owned(),
        code: None,
    }
}

fn client() -> Client {
    Client {
        ip: Some("198.51.100.4".into()),
        user_agent: Some("Mozilla/5.0\r\nX-Evil: 1".into()),
    }
}

fn status(a: &MemoryApprovals, id: &str) -> Status {
    a.store
        .all()
        .into_iter()
        .find(|r| r.id == id)
        .unwrap()
        .status
}

fn answers(a: &MemoryApprovals) -> Vec<TaskCall> {
    a.tasks
        .calls()
        .into_iter()
        .filter(|c| !matches!(c, TaskCall::Describe { .. }))
        .collect()
}

// ---------------------------------------------------------------- signatures

#[test]
fn signatures_bind_id_approver_and_expiry() {
    let key = SigningKey::new(support::KEY).unwrap();
    let exp = t0();
    let sig = key.sign("id-1", "manager@example.com", exp);
    assert_eq!(sig.len(), 64);
    assert!(key.verify("id-1", "manager@example.com", exp, &sig));
    let mut flipped = sig.clone().into_bytes();
    flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    let upper = sig.to_ascii_uppercase();
    for (id, approver, expiry, s, why) in [
        (
            "id-2",
            "manager@example.com",
            exp,
            sig.as_str(),
            "tampered id",
        ),
        (
            "id-1",
            "mallory@example.com",
            exp,
            sig.as_str(),
            "tampered approver",
        ),
        (
            "id-1",
            "manager@example.com",
            exp + Duration::seconds(1),
            sig.as_str(),
            "tampered expiry",
        ),
        (
            "id-1",
            "manager@example.com",
            exp,
            flipped.as_str(),
            "tampered signature",
        ),
        ("id-1", "manager@example.com", exp, "", "no signature"),
        ("id-1", "manager@example.com", exp, "zz", "not hex"),
        ("id-1", "manager@example.com", exp, &sig[..62], "truncated"),
        // Regression from the approval_link fuzz target: the same bytes in upper-case hex.
        ("id-1", "manager@example.com", exp, &upper, "upper-case hex"),
    ] {
        assert!(!key.verify(id, approver, expiry, s), "{why}");
    }
    let other = SigningKey::new([7u8; 32]).unwrap();
    assert!(
        !other.verify("id-1", "manager@example.com", exp, &sig),
        "another key"
    );
    assert!(SigningKey::new(b"short").is_err());
    assert_eq!(
        format!("{key:?}"),
        "SigningKey(..)",
        "the key is never printed"
    );
}

#[test]
fn links_are_short_and_carry_no_token() {
    let key = SigningKey::new(support::KEY).unwrap();
    let id = "0123456789abcdef0123456789abcdef";
    let url = link(
        "https://abcdefghij.execute-api.eu-west-1.amazonaws.com/",
        id,
        &key.sign(
            id,
            "a-rather-long-manager-address@subsidiary.example.com",
            t0(),
        ),
    );
    assert!(
        url.len() < 200 && url.len() < MAX_LINK_CHARS,
        "{} characters",
        url.len()
    );
    assert!(url.starts_with("https://abcdefghij.execute-api.eu-west-1.amazonaws.com/approvals/0123456789abcdef0123456789abcdef?sig="));
}

proptest! {
    #[test]
    fn any_change_to_a_signed_field_breaks_the_signature(
        id in "[a-f0-9]{32}", approver in "[a-z]{1,20}@[a-z]{1,10}\\.com",
        secs in 0i64..4_000_000_000, other in "[a-z0-9]{1,32}", pos in 0usize..64,
    ) {
        let key = SigningKey::new(support::KEY).unwrap();
        let exp = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
        let sig = key.sign(&id, &approver, exp);
        prop_assert!(key.verify(&id, &approver, exp, &sig));
        prop_assert_eq!(key.verify(&other, &approver, exp, &sig), other == id);
        let other_approver = format!("x{approver}");
        prop_assert!(!key.verify(&id, &other_approver, exp, &sig));
        prop_assert!(!key.verify(&id, &approver, exp + Duration::seconds(1), &sig));
        let mut bytes = sig.into_bytes();
        bytes[pos] = if bytes[pos] == b'a' { b'b' } else { b'a' };
        prop_assert!(!key.verify(&id, &approver, exp, &String::from_utf8(bytes).unwrap()));
    }
}

// ---------------------------------------------------------------- who may approve

#[test]
fn approvers_come_from_the_configuration() {
    let p = support::policy();
    let ok = |w: &str, named: Option<&str>, req: Option<&str>| p.choose(w, named, req);
    assert_eq!(
        ok("promotion", Some(" Manager@Example.COM "), None),
        Ok("manager@example.com".into())
    );
    assert_eq!(
        ok("promotion", None, None),
        Ok("manager@example.com".into()),
        "the first configured"
    );
    assert_eq!(
        ok("promotion", None, Some("manager@example.com")),
        Ok("deputy@example.com".into()),
        "never the requester"
    );
    assert!(
        matches!(
            ok("promotion", Some("someone@example.com"), None),
            Err(PolicyRefusal::NotAllowed { .. })
        ),
        "a workflow with a list takes only the list"
    );
    assert_eq!(
        ok("expenses", Some("someone@example.com"), None),
        Ok("someone@example.com".into()),
        "domains for the rest"
    );
    assert!(matches!(
        ok("expenses", Some("boss@evil.example"), None),
        Err(PolicyRefusal::NotAllowed { .. })
    ));
    assert!(matches!(
        ok("expenses", Some("x@example.com.evil.example"), None),
        Err(PolicyRefusal::NotAllowed { .. })
    ));
    assert!(matches!(
        ok("expenses", None, None),
        Err(PolicyRefusal::NoApprover { .. })
    ));
    assert!(matches!(
        ok(
            "promotion",
            Some("manager@example.com"),
            Some("MANAGER@example.com")
        ),
        Err(PolicyRefusal::SelfApproval { .. })
    ));
    for bad in [
        "",
        "no-at-sign",
        "a@b",
        "a b@example.com",
        "a@example.com, b@example.com",
        "<a@example.com>",
        "a@@example.com",
    ] {
        if !bad.is_empty() {
            assert!(
                matches!(
                    ok("expenses", Some(bad), None),
                    Err(PolicyRefusal::InvalidAddress { .. })
                ),
                "{bad}"
            );
        }
    }
    let star = ApproverPolicy::parse(Some(r#"{"*": ["ops@example.org"]}"#), None).unwrap();
    assert_eq!(
        star.choose("anything", None, None),
        Ok("ops@example.org".into())
    );
    assert!(ApproverPolicy::parse(Some("[1]"), None).is_err());
    assert!(ApproverPolicy::parse(Some(r#"{"w": []}"#), None).is_err());
    assert!(ApproverPolicy::parse(Some(r#"{"w": ["nope"]}"#), None).is_err());
    assert!(ApproverPolicy::parse(None, Some("localhost")).is_err());
    assert!(ApproverPolicy::parse(None, None).unwrap().is_empty());
}

#[tokio::test]
async fn an_input_approver_outside_the_set_fails_the_execution_clearly() {
    let (a, _) = approvals();
    a.tasks.start(ARN, TOKEN);
    let out = a
        .intake(task(
            json!({"managerEmailAddress": "me@evil.example", "employeeName": "Me"}),
        ))
        .await
        .unwrap();
    assert_eq!((out.status, out.emailed), ("refused", false));
    assert!(a.mailer.sent().is_empty());
    assert_eq!(
        a.tasks.execution(ARN).unwrap().error.as_deref(),
        Some("ApprovalRefused")
    );
    let stored = &a.store.all()[0];
    assert!(stored.delivered_at.is_some());
    assert!(stored
        .note
        .as_deref()
        .unwrap()
        .contains("me@evil.example may not approve"));
}

#[tokio::test]
async fn a_requester_never_approves_their_own_request() {
    let (a, _) = approvals();
    a.tasks.start(ARN, TOKEN);
    let out = a
        .intake(task(json!({"managerEmailAddress": "manager@example.com", "requestedBy": "Manager@example.com"})))
        .await
        .unwrap();
    assert_eq!(out.status, "refused");
    // Even a stored request whose requester is its approver (written by hand) cannot be decided.
    let (b, _, sig) = pending().await;
    let mut own = b.store.all()[0].clone();
    own.requester = Some(own.approver.clone());
    b.store.insert(own);
    assert_eq!(
        b.decide("id-1", &sig, form("approve", ""), client()).await,
        View::Invalid
    );
    assert!(answers(&b).is_empty());
}

// ---------------------------------------------------------------- states and clicks

#[tokio::test]
async fn get_shows_post_decides_once_and_a_second_click_says_already() {
    let (a, _, sig) = pending().await;
    for _ in 0..3 {
        assert!(matches!(
            a.view("id-1", &sig).await,
            View::Open {
                prompt: Prompt::Choose,
                ..
            }
        ));
    }
    assert!(answers(&a).is_empty(), "looking decides nothing");
    assert_eq!(status(&a, "id-1"), Status::Pending);

    let first = a
        .decide("id-1", &sig, form("approve", "  yes  "), client())
        .await;
    let View::Done {
        request,
        just_now: true,
    } = first
    else {
        panic!("{first:?}")
    };
    let d = request.decision.unwrap();
    assert_eq!(
        (d.verdict, d.comment.as_str(), d.by.as_str()),
        (Verdict::Approve, "yes", "manager@example.com")
    );
    assert_eq!(
        d.user_agent.as_deref(),
        Some("Mozilla/5.0 X-Evil: 1"),
        "one line"
    );
    assert_eq!(status(&a, "id-1"), Status::Delivered);

    let second = a.decide("id-1", &sig, form("reject", "no"), client()).await;
    assert!(
        matches!(
            second,
            View::Done {
                just_now: false,
                ..
            }
        ),
        "{second:?}"
    );
    assert!(matches!(
        a.view("id-1", &sig).await,
        View::Done {
            just_now: false,
            ..
        }
    ));
    assert_eq!(answers(&a).len(), 1, "one answer to Step Functions");
    assert_eq!(
        a.tasks.execution(ARN).unwrap().status,
        approval_worker::ports::ExecutionStatus::Succeeded
    );
}

#[tokio::test]
async fn tampered_and_expired_links() {
    let (a, clock, sig) = pending().await;
    assert_eq!(a.view("id-2", &sig).await, View::Invalid, "another id");
    assert_eq!(a.view("id-1", &sig[..63]).await, View::Invalid);
    assert_eq!(a.view("../etc", &sig).await, View::Invalid);
    let mut other = sig.clone();
    other.replace_range(0..1, if sig.starts_with('a') { "b" } else { "a" });
    assert_eq!(
        a.decide("id-1", &other, form("approve", ""), client())
            .await,
        View::Invalid
    );
    assert_eq!(status(&a, "id-1"), Status::Pending);

    clock.advance(Duration::hours(1));
    assert!(matches!(a.view("id-1", &sig).await, View::Expired { .. }));
    assert_eq!(status(&a, "id-1"), Status::Pending, "GET changes nothing");
    assert!(matches!(
        a.decide("id-1", &sig, form("approve", ""), client()).await,
        View::Expired { .. }
    ));
    assert_eq!(status(&a, "id-1"), Status::Expired);
    assert!(
        answers(&a).is_empty(),
        "nothing is sent for an expired link"
    );
}

#[tokio::test]
async fn a_post_without_a_choice_asks_again() {
    let (a, _, sig) = pending().await;
    let view = a
        .decide("id-1", &sig, DecisionForm::default(), client())
        .await;
    assert!(matches!(
        view,
        View::Open {
            prompt: Prompt::MissingChoice,
            ..
        }
    ));
    let view = a.decide("id-1", &sig, form("maybe", ""), client()).await;
    assert!(matches!(
        view,
        View::Open {
            prompt: Prompt::MissingChoice,
            ..
        }
    ));
    assert_eq!(status(&a, "id-1"), Status::Pending);
}

#[tokio::test]
async fn reject_fails_the_task_with_rejected_and_the_audit_as_cause() {
    let (a, _, sig) = pending().await;
    let view = a
        .decide("id-1", &sig, form("reject", "not yet"), client())
        .await;
    assert!(matches!(view, View::Done { just_now: true, .. }));
    let calls = answers(&a);
    let TaskCall::Failure {
        error,
        cause,
        token,
    } = &calls[0]
    else {
        panic!("{calls:?}")
    };
    assert_eq!((error.as_str(), token.as_str()), ("Rejected", TOKEN));
    let cause: serde_json::Value = serde_json::from_str(cause).unwrap();
    assert_eq!(cause["decision"], "rejected");
    assert_eq!(cause["comment"], "not yet");
    assert_eq!(cause["requestId"], "id-1");
}

/// A store that yields before every call, so concurrent POSTs interleave as they would in Lambda.
struct Yielding(MemoryStore);

impl ApprovalStore for Yielding {
    async fn create(&self, r: &approval_worker::ApprovalRequest) -> Result<Created, ServiceError> {
        tokio::task::yield_now().await;
        self.0.create(r).await
    }
    async fn get(
        &self,
        id: &str,
    ) -> Result<Option<approval_worker::ApprovalRequest>, ServiceError> {
        tokio::task::yield_now().await;
        self.0.get(id).await
    }
    async fn update(
        &self,
        id: &str,
        e: Status,
        c: &approval_worker::model::Change,
    ) -> Result<bool, ServiceError> {
        tokio::task::yield_now().await;
        self.0.update(id, e, c).await
    }
    async fn list(
        &self,
        s: &[Status],
    ) -> Result<Vec<approval_worker::ApprovalRequest>, ServiceError> {
        tokio::task::yield_now().await;
        self.0.list(s).await
    }
}

#[tokio::test]
async fn concurrent_posts_one_wins_and_both_pages_show_its_decision() {
    let (a, _, sig) = pending().await;
    let a = approval_worker::Approvals {
        store: Yielding(a.store),
        tasks: a.tasks,
        mailer: a.mailer,
        step_up: a.step_up,
        key: a.key,
        policy: a.policy,
        settings: a.settings,
        env: a.env,
    };
    let (x, y) = tokio::join!(
        a.decide("id-1", &sig, form("approve", "first"), client()),
        a.decide("id-1", &sig, form("reject", "second"), client()),
    );
    let verdict = |v: &View| match v {
        View::Done { request, .. } => request.decision.as_ref().map(|d| d.verdict),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        verdict(&x),
        verdict(&y),
        "both show the one recorded decision"
    );
    let fresh = [&x, &y]
        .iter()
        .filter(|v| matches!(v, View::Done { just_now: true, .. }))
        .count();
    assert_eq!(fresh, 1, "exactly one POST decided");
    let stored = a.store.0.all()[0].clone();
    assert_eq!(stored.status, Status::Delivered);
    let accepted = a.tasks.execution(ARN).unwrap();
    assert_eq!(
        accepted.status,
        approval_worker::ports::ExecutionStatus::Succeeded
    );
    assert!(accepted.output.unwrap().contains("\"comment\":\"first\""));
}

// ---------------------------------------------------------------- Step Functions answers

fn service(class: ErrorClass) -> SendError {
    SendError::Service(ServiceError::new(
        "Step Functions",
        class,
        format!("{class}"),
    ))
}

#[tokio::test]
async fn every_step_functions_answer_class() {
    // (what SendTask* answers, page, status after, whether a retry POST then delivers)
    let cases = [
        (
            SendError::Gone(Gone::TaskTimedOut),
            "expired",
            Status::Expired,
        ),
        (
            SendError::Gone(Gone::TaskDoesNotExist),
            "expired",
            Status::Expired,
        ),
        (
            SendError::Gone(Gone::InvalidToken),
            "expired",
            Status::Expired,
        ),
        (service(ErrorClass::Throttled), "recorded", Status::Decided),
        (
            service(ErrorClass::Unavailable),
            "recorded",
            Status::Decided,
        ),
        (
            service(ErrorClass::AccessDenied),
            "recorded",
            Status::Decided,
        ),
        (service(ErrorClass::Internal), "recorded", Status::Decided),
    ];
    for (error, page, after) in cases {
        let (a, _, sig) = pending().await;
        let gone = matches!(error, SendError::Gone(_));
        if gone {
            a.tasks.time_out(TOKEN);
        }
        a.tasks
            .send_failures
            .lock()
            .unwrap()
            .push_back(error.clone());
        let view = a.decide("id-1", &sig, form("approve", ""), client()).await;
        let shown = match &view {
            View::Expired { .. } => "expired",
            View::Recorded { .. } => "recorded",
            other => panic!("{error:?}: {other:?}"),
        };
        assert_eq!((shown, status(&a, "id-1")), (page, after), "{error:?}");
        let described = a
            .tasks
            .calls()
            .iter()
            .any(|c| matches!(c, TaskCall::Describe { .. }));
        assert_eq!(
            described, gone,
            "the execution is asked before saying expired: {error:?}"
        );
        if !gone {
            // The retry sends only the recorded decision (approve), whatever it asks for.
            let retry = a
                .decide("id-1", &sig, form("reject", "changed"), client())
                .await;
            assert!(
                matches!(
                    retry,
                    View::Done {
                        just_now: false,
                        ..
                    }
                ),
                "{error:?}: {retry:?}"
            );
            let calls = answers(&a);
            assert_eq!(calls.len(), 2);
            assert!(
                calls.iter().all(|c| matches!(c, TaskCall::Success { .. })),
                "{calls:?}"
            );
            assert_eq!(status(&a, "id-1"), Status::Delivered);
        }
    }
    assert_eq!(
        SendError::Gone(Gone::TaskTimedOut).class(),
        ErrorClass::NotFound
    );
    assert_eq!(
        service(ErrorClass::Throttled).class(),
        ErrorClass::Throttled
    );
}

#[tokio::test]
async fn an_approval_that_went_through_is_never_shown_expired() {
    let (a, _, sig) = pending().await;
    // Step Functions takes the answer, the reply is lost.
    a.tasks.lose_next_answer.store(true, Ordering::SeqCst);
    let first = a.decide("id-1", &sig, form("approve", ""), client()).await;
    assert!(matches!(first, View::Recorded { .. }), "{first:?}");
    assert_eq!(status(&a, "id-1"), Status::Decided);
    // The retry: the used token answers TaskTimedOut; the execution shows our decision.
    let retry = a.decide("id-1", &sig, form("approve", ""), client()).await;
    assert!(matches!(retry, View::Done { .. }), "{retry:?}");
    assert_eq!(status(&a, "id-1"), Status::Delivered);
    assert!(a.tasks.calls().contains(&TaskCall::Describe {
        execution_arn: ARN.into()
    }));
}

#[tokio::test]
async fn a_lost_rejection_is_recognised_by_the_executions_error() {
    let (a, _, sig) = pending().await;
    a.tasks.lose_next_answer.store(true, Ordering::SeqCst);
    a.decide("id-1", &sig, form("reject", ""), client()).await;
    let report = a.sweep(None).await.unwrap();
    assert_eq!(
        (report.delivered, report.expired, report.failed),
        (1, 0, 0),
        "{report:?}"
    );
    assert_eq!(status(&a, "id-1"), Status::Delivered);
}

// ---------------------------------------------------------------- step-up

#[tokio::test]
async fn step_up_asks_for_a_code_before_a_post_counts() {
    let (mut a, _, sig) = pending().await;
    a.settings.require_step_up = true;
    let asked = a
        .decide("id-1", &sig, form("approve", "ok"), client())
        .await;
    let View::Open {
        prompt: Prompt::CodeSent,
        verdict: Some(Verdict::Approve),
        comment,
        ..
    } = asked
    else {
        panic!("{asked:?}")
    };
    assert_eq!(comment, "ok", "the form is kept");
    let sent = a.step_up.sent.lock().unwrap().clone();
    assert_eq!(sent[0].0, "manager@example.com");
    assert_eq!(
        sent[0].1, "approval:id-1",
        "the code is bound to this request"
    );
    assert_eq!(status(&a, "id-1"), Status::Pending);

    let wrong = DecisionForm {
        code: Some("000000".into()),
        ..form("approve", "ok")
    };
    assert!(matches!(
        a.decide("id-1", &sig, wrong, client()).await,
        View::Open {
            prompt: Prompt::WrongCode,
            ..
        }
    ));
    assert_eq!(status(&a, "id-1"), Status::Pending);
    let right = DecisionForm {
        code: a.step_up.last_code(),
        ..form("approve", "ok")
    };
    assert!(matches!(
        a.decide("id-1", &sig, right, client()).await,
        View::Done { just_now: true, .. }
    ));
    assert_eq!(status(&a, "id-1"), Status::Delivered);
    // GET never sends a code (scanners would trigger one per fetch).
    let (mut b, _, sig) = pending().await;
    b.settings.require_step_up = true;
    b.view("id-1", &sig).await;
    assert!(b.step_up.sent.lock().unwrap().is_empty());
    for _ in 0..3 {
        let wrong = DecisionForm {
            code: Some("1".into()),
            ..form("approve", "")
        };
        b.decide("id-1", &sig, wrong, client()).await;
    }
    let locked = DecisionForm {
        code: Some("123456".into()),
        ..form("approve", "")
    };
    assert!(matches!(
        b.decide("id-1", &sig, locked, client()).await,
        View::Open {
            prompt: Prompt::Locked,
            ..
        }
    ));
}

// ---------------------------------------------------------------- intake failures

#[tokio::test]
async fn intake_failures_keep_the_token_and_send_one_email() {
    // The store is down: nothing stored; the poller fails the task instead of dropping it.
    let (a, _) = approvals();
    a.store.fail_next(ServiceError::new(
        "DynamoDB",
        ErrorClass::Unavailable,
        "HTTP 500",
    ));
    let activity = FakeActivity::default();
    activity.push("act-1", &seed_input().to_string());
    let poller = PollerApp {
        activity,
        approvals: a,
        max_polls: 5,
    };
    let err = poller
        .handle(lambda_runtime::LambdaEvent::new(
            fleet_testkit::load_event("approval-worker/01-poller-schedule.json"),
            Default::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ActionsFailed");
    assert!(matches!(
        &poller.approvals.tasks.calls()[..],
        [TaskCall::Failure { token, error, .. }] if token == "act-1" && error == "ApprovalNotStored"
    ));

    // SES throttles: stored, the invocation fails (retryable), the retry emails once.
    let (a, _) = approvals();
    a.tasks.start(ARN, TOKEN);
    a.mailer.fail_next(ServiceError::new(
        "SES",
        ErrorClass::Throttled,
        "TooManyRequestsException",
    ));
    let callback = CallbackApp { approvals: a };
    let payload = json!({"taskToken": TOKEN, "executionArn": ARN, "input": seed_input()});
    let err = callback
        .handle(lambda_runtime::LambdaEvent::new(
            payload.clone(),
            Default::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Throttled");
    assert_eq!(
        callback.approvals.store.all().len(),
        1,
        "stored before the email"
    );
    let out = callback
        .handle(lambda_runtime::LambdaEvent::new(
            payload.clone(),
            Default::default(),
        ))
        .await
        .unwrap();
    assert_eq!(
        (out.request_id.as_str(), out.emailed, out.duplicate),
        ("id-1", true, true)
    );
    callback
        .handle(lambda_runtime::LambdaEvent::new(
            payload,
            Default::default(),
        ))
        .await
        .unwrap();
    assert_eq!(
        callback.approvals.mailer.sent().len(),
        1,
        "one email for three invocations"
    );

    // SES refuses the recipient (sandbox): the request is refused and the task failed at once.
    let (a, _) = approvals();
    a.tasks.start(ARN, TOKEN);
    a.mailer.fail_next(ServiceError::new(
        "SES",
        ErrorClass::Internal,
        "MessageRejected: Email address is not verified.",
    ));
    let out = a.intake(task(seed_input())).await.unwrap();
    assert_eq!(out.status, "refused");
    let calls = answers(&a);
    let TaskCall::Failure { error, cause, .. } = &calls[0] else {
        panic!("{calls:?}")
    };
    assert_eq!(error, "ApprovalRefused");
    assert!(cause.contains("Email address is not verified"), "{cause}");

    let classes = [
        (
            IntakeError::NotStored(ServiceError::new("DynamoDB", ErrorClass::Throttled, "x")),
            ErrorClass::Throttled,
        ),
        (
            IntakeError::Incomplete {
                id: "i".into(),
                step: "s",
                error: ServiceError::new("SES", ErrorClass::Unavailable, "x"),
            },
            ErrorClass::Unavailable,
        ),
    ];
    for (error, class) in classes {
        assert_eq!(error.class(), class, "{error}");
    }
}

#[tokio::test]
async fn the_poller_polls_while_it_has_time() {
    let (a, _) = approvals();
    let activity = FakeActivity::default();
    activity.push("act-1", &seed_input().to_string());
    activity.push("act-2", &json!({"input": seed_input(), "executionArn": ARN, "workflow": "promotion", "timeoutSeconds": 600}).to_string());
    let poller = PollerApp {
        activity,
        approvals: a,
        max_polls: 4,
    };
    let mut context = lambda_runtime::Context::default();
    // 200 s left at T0: polls until fewer than 70 s remain or max_polls; the fake clock stands,
    // so max_polls ends it.
    context.deadline = (t0() + Duration::seconds(200)).timestamp_millis() as u64;
    let event = lambda_runtime::LambdaEvent::new(
        fleet_testkit::load_event("approval-worker/01-poller-schedule.json"),
        context,
    );
    let report = poller.handle(event).await.unwrap();
    assert_eq!(
        (report.polls, report.tasks, report.emailed),
        (4, 2, 2),
        "{report:?}"
    );
    let stored = poller.approvals.store.all();
    let enveloped = stored.iter().find(|r| r.task_token == "act-2").unwrap();
    assert_eq!(enveloped.execution_arn.as_deref(), Some(ARN));
    assert_eq!(enveloped.expires_at, t0() + Duration::seconds(600));
    assert_eq!(enveloped.pattern, Pattern::Activity);

    let mut late = lambda_runtime::Context::default();
    late.deadline = (t0() + Duration::seconds(60)).timestamp_millis() as u64;
    let event = lambda_runtime::LambdaEvent::new(
        fleet_testkit::load_event("approval-worker/01-poller-schedule.json"),
        late,
    );
    let report = poller.handle(event).await.unwrap();
    assert_eq!(report.polls, 0, "no poll starts without 70 s left");

    let (a, _) = approvals();
    let activity = FakeActivity::default();
    activity.push_error(ServiceError::new(
        "Step Functions",
        ErrorClass::AccessDenied,
        "AccessDeniedException",
    ));
    let poller = PollerApp {
        activity,
        approvals: a,
        max_polls: 4,
    };
    let event = lambda_runtime::LambdaEvent::new(
        fleet_testkit::load_event("approval-worker/01-poller-schedule.json"),
        Default::default(),
    );
    assert_eq!(
        poller.handle(event).await.unwrap_err().error_type(),
        "AccessDenied"
    );
}

// ---------------------------------------------------------------- sweep

#[tokio::test]
async fn the_sweep_reminds_once_at_half_time_and_expires_at_the_end() {
    let (a, clock, _) = pending().await;
    assert_eq!(a.sweep(None).await.unwrap().reminded, 0, "too early");
    clock.advance(Duration::minutes(30));
    assert_eq!(a.sweep(None).await.unwrap().reminded, 1);
    assert_eq!(a.sweep(None).await.unwrap().reminded, 0, "one reminder");
    let mail = a.mailer.sent();
    assert_eq!(mail.len(), 2);
    assert_eq!(
        mail[1].subject,
        "Reminder: Your Approval Needed for Promotion!"
    );
    assert_eq!(
        support::sig_of(&mail[1].text),
        support::sig_of(&mail[0].text),
        "the same link"
    );
    clock.advance(Duration::minutes(30));
    let report = a.sweep(None).await.unwrap();
    assert_eq!((report.expired, report.failed), (1, 0));
    assert_eq!(status(&a, "id-1"), Status::Expired);
    assert!(answers(&a).is_empty(), "the task times out by itself");

    // Reminders off; a failed reminder is given back and tried again.
    let (mut b, clock, _) = pending().await;
    b.settings.reminders = false;
    clock.advance(Duration::minutes(45));
    assert_eq!(b.sweep(None).await.unwrap().reminded, 0);
    b.settings.reminders = true;
    b.mailer
        .fail_next(ServiceError::new("SES", ErrorClass::Throttled, "slow down"));
    assert_eq!(b.sweep(None).await.unwrap().failed, 1);
    assert_eq!(b.sweep(None).await.unwrap().reminded, 1);
}

#[tokio::test]
async fn the_sweep_finishes_what_failed_and_stops_at_its_deadline() {
    let (a, clock) = approvals();
    a.tasks.start(ARN, TOKEN);
    a.mailer.fail_next(ServiceError::new(
        "SES",
        ErrorClass::Unavailable,
        "HTTP 503",
    ));
    assert!(a.intake(task(seed_input())).await.is_err());
    let report = a.sweep(None).await.unwrap();
    assert_eq!(report.emailed, 1, "the email that failed at intake");
    let sig = support::sig_of(&a.mailer.sent()[0].text);
    a.tasks
        .send_failures
        .lock()
        .unwrap()
        .push_back(service(ErrorClass::Unavailable));
    assert!(matches!(
        a.decide("id-1", &sig, form("approve", ""), client()).await,
        View::Recorded { .. }
    ));
    let report = a.sweep(None).await.unwrap();
    assert_eq!(report.delivered, 1, "the recorded decision");
    assert_eq!(status(&a, "id-1"), Status::Delivered);

    let other = IncomingTask {
        token: "tok-2".into(),
        ..task(seed_input())
    };
    a.intake(other).await.unwrap();
    let report = a
        .sweep(Some(fleet_core::Clock::now(clock.as_ref())))
        .await
        .unwrap();
    assert!(report.stopped_at_deadline);
    assert_eq!(report.examined, 0);
}

// ---------------------------------------------------------------- email

#[tokio::test]
async fn the_email_escapes_every_value_and_keeps_the_subject_on_one_line() {
    let (a, _) = approvals();
    a.tasks.start(ARN, TOKEN);
    a.intake(task(json!({
        "managerEmailAddress": "manager@example.com",
        "employeeName": "<script>alert('x')</script> & \"Jim\"",
        "subject": "Promote Jim\r\nBcc: everyone@example.com",
    })))
    .await
    .unwrap();
    let mail = &a.mailer.sent()[0];
    assert_eq!(mail.subject, "Promote Jim Bcc: everyone@example.com");
    assert!(!mail.subject.contains(['\r', '\n']));
    assert!(
        mail.html
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Jim&quot;"),
        "{}",
        mail.html
    );
    assert!(!mail.html.contains("<script>"));
    assert!(
        mail.text.contains("<script>alert('x')</script>"),
        "the text part is text"
    );
    assert_eq!(mail.from, "approvals@example.com");
    for part in [&mail.html, &mail.text] {
        assert!(!part.contains(TOKEN), "the token never travels");
        assert!(
            part.contains("https://abc123.execute-api.eu-west-1.amazonaws.com/approvals/id-1?sig=")
        );
    }
    let link = support::link_of(&mail.text);
    assert!(link.len() < 200, "{link}");
}

// ---------------------------------------------------------------- configuration and CLI

#[test]
fn configuration_is_typed_and_names_what_is_wrong() {
    let good = [
        ("APPROVALS_TABLE", "approvals"),
        (
            "SIGNING_SECRET_ID",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sig",
        ),
        ("SENDER", "Approvals@Example.com"),
        ("APPROVERS", r#"{"promotion": ["manager@example.com"]}"#),
        (
            "PUBLIC_BASE_URL",
            "https://abc.execute-api.eu-west-1.amazonaws.com",
        ),
    ];
    let config = Config::from_vars(&good).unwrap();
    assert_eq!(config.settings.sender, "approvals@example.com");
    assert_eq!(config.settings.default_timeout, Duration::hours(1));
    assert!(config.settings.reminders && !config.settings.require_step_up);
    assert_eq!(config.retention, Duration::days(90));

    let err = Config::from_vars(&[
        ("SENDER", "a@example.com"),
        ("APPROVER_DOMAINS", "example.com"),
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing environment variable APPROVALS_TABLE"
    );
    let err = Config::from_vars(&[
        ("SENDER", "a@example.com"),
        ("APPROVALS_TABLE", "t"),
        ("SIGNING_SECRET_ID", "s"),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("nobody may approve"), "{err}");
    let err = Config::from_vars(&[
        ("SENDER", "nope"),
        ("APPROVER_DOMAINS", "example.com"),
        ("APPROVALS_TABLE", "t"),
        ("SIGNING_SECRET_ID", "s"),
    ])
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("environment variable SENDER=\"nope\""),
        "{err}"
    );
    let err = Config::from_vars(&[
        ("SENDER", "a@example.com"),
        ("APPROVER_DOMAINS", "example.com"),
        ("APPROVALS_TABLE", "t"),
        ("SIGNING_SECRET_ID", "s"),
        ("DEFAULT_TIMEOUT_SECONDS", "5"),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("DEFAULT_TIMEOUT_SECONDS"), "{err}");
}

#[tokio::test]
async fn cli_lists_pending_requests_and_shows_one_without_its_token() {
    let (a, clock, sig) = pending().await;
    clock.advance(Duration::minutes(20));
    let now = fleet_core::Clock::now(clock.as_ref());
    let list = approval_worker::cli::list(&a.store, now).await.unwrap();
    assert!(list.starts_with("ID "), "{list}");
    let row = list.lines().nth(1).unwrap();
    assert!(
        row.starts_with("id-1 ")
            && row.contains("promotion")
            && row.contains("manager@example.com"),
        "{row}"
    );
    assert!(
        row.contains("20 min") && row.contains("40 min"),
        "age and time left: {row}"
    );

    a.decide("id-1", &sig, form("approve", "fine"), client())
        .await;
    assert_eq!(
        approval_worker::cli::list(&a.store, now).await.unwrap(),
        "No pending approvals.\n"
    );
    let show = approval_worker::cli::show(&a.store, "id-1", now)
        .await
        .unwrap();
    for expected in [
        "Status:       delivered",
        "Decision:     approved by manager@example.com",
        "Comment:      fine",
        "From:         198.51.100.4",
        "Requested by: hr@example.com",
        "employeeName: Jim",
        "(never shown)",
    ] {
        assert!(show.contains(expected), "{expected}: {show}");
    }
    assert!(!show.contains(TOKEN));
    assert_eq!(
        approval_worker::cli::show(&a.store, "nope", now)
            .await
            .unwrap(),
        "No approval request nope.\n"
    );
}
