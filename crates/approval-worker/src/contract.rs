//! The approvals store's contract: the same assertions over the DynamoDB adapter (against the
//! local stand-in) and the in-memory one.

use chrono::{DateTime, Duration, Utc};

use crate::model::{ApprovalRequest, Change, Decision, Pattern, Status, Verdict};
use crate::ports::{ApprovalStore, Created};

/// A pending request with every optional field empty.
pub fn sample(id: &str, token: &str, now: DateTime<Utc>) -> ApprovalRequest {
    ApprovalRequest {
        id: id.to_owned(),
        pattern: Pattern::Callback,
        task_token: token.to_owned(),
        workflow: "promotion".to_owned(),
        approver: "boss@example.com".to_owned(),
        requester: None,
        subject: "Your Approval Needed for Promotion!".to_owned(),
        details: vec![("employeeName".to_owned(), "Jim <b>&".to_owned())],
        execution_arn: None,
        created_at: now,
        expires_at: now + Duration::hours(1),
        remind_at: None,
        status: Status::Pending,
        email_sent_at: None,
        reminder_sent_at: None,
        decision: None,
        delivered_at: None,
        note: None,
    }
}

/// Create (once per token), read back every field, conditional updates, listing by status.
pub async fn store<S: ApprovalStore>(store: &S) {
    let now: DateTime<Utc> = "2026-11-23T08:00:00Z".parse().unwrap_or_default();
    let token = format!("AAAA+/=={}", "x".repeat(2000));
    let mut full = sample("req-contract-1", &token, now);
    full.requester = Some("hr@example.com".to_owned());
    full.execution_arn = Some("arn:aws:states:eu-west-1:123456789012:execution:m:e".to_owned());
    full.remind_at = Some(now + Duration::minutes(30));
    full.pattern = Pattern::Activity;

    assert_eq!(store.create(&full).await.ok(), Some(Created::New));
    assert_eq!(
        store.get("req-contract-1").await.ok().flatten(),
        Some(full.clone()),
        "every field round-trips"
    );
    assert_eq!(store.get("nope").await.ok(), Some(None));

    // The same token again (a retried callback): the first request, no second one.
    let again = sample("req-contract-2", &token, now);
    assert_eq!(
        store.create(&again).await.ok(),
        Some(Created::Existing(Box::new(full.clone())))
    );
    assert_eq!(store.get("req-contract-2").await.ok(), Some(None));

    // Conditional changes.
    let sent = Change::EmailSent { at: now };
    assert_eq!(
        store
            .update("req-contract-1", Status::Pending, &sent)
            .await
            .ok(),
        Some(true)
    );
    let claim = Change::ReminderClaimed {
        at: now + Duration::minutes(31),
    };
    assert_eq!(
        store
            .update("req-contract-1", Status::Pending, &claim)
            .await
            .ok(),
        Some(true)
    );
    assert_eq!(
        store
            .update("req-contract-1", Status::Pending, &claim)
            .await
            .ok(),
        Some(false),
        "one reminder"
    );
    assert_eq!(
        store
            .update("req-contract-1", Status::Pending, &Change::ReminderReleased)
            .await
            .ok(),
        Some(true)
    );
    assert_eq!(
        store
            .update("req-contract-1", Status::Pending, &claim)
            .await
            .ok(),
        Some(true),
        "claimable again"
    );

    let decision = Decision {
        verdict: Verdict::Approve,
        by: "boss@example.com".to_owned(),
        at: now + Duration::minutes(40),
        comment: "ok — fine".to_owned(),
        source_ip: Some("203.0.113.9".to_owned()),
        user_agent: Some("Mozilla/5.0".to_owned()),
    };
    let decide = Change::Decide(decision.clone());
    assert_eq!(
        store
            .update("req-contract-1", Status::Decided, &decide)
            .await
            .ok(),
        Some(false),
        "wrong state"
    );
    assert_eq!(
        store
            .update("req-contract-1", Status::Pending, &decide)
            .await
            .ok(),
        Some(true)
    );
    let other = Change::Decide(Decision {
        verdict: Verdict::Reject,
        ..decision.clone()
    });
    assert_eq!(
        store
            .update("req-contract-1", Status::Pending, &other)
            .await
            .ok(),
        Some(false),
        "decided once"
    );
    assert_eq!(
        store.update("missing", Status::Pending, &decide).await.ok(),
        Some(false)
    );

    let delivered = Change::Delivered {
        at: now + Duration::minutes(41),
    };
    assert_eq!(
        store
            .update("req-contract-1", Status::Decided, &delivered)
            .await
            .ok(),
        Some(true)
    );
    assert_eq!(
        store
            .update("req-contract-1", Status::Decided, &delivered)
            .await
            .ok(),
        Some(false)
    );

    let mut expected = full.clone();
    for change in [sent, claim, decide, delivered] {
        change.apply(&mut expected);
    }
    let stored = store.get("req-contract-1").await.ok().flatten();
    assert_eq!(
        stored,
        Some(expected),
        "the store applies changes as Change::apply does"
    );

    // A refused request, delivered; an expired one.
    let refused = ApprovalRequest {
        status: Status::Refused,
        note: Some("not allowed".into()),
        ..sample("req-contract-3", "t3", now)
    };
    assert_eq!(store.create(&refused).await.ok(), Some(Created::New));
    let pending = sample("req-contract-4", "t4", now + Duration::seconds(1));
    assert_eq!(store.create(&pending).await.ok(), Some(Created::New));
    let expire = Change::Expire {
        reason: "timeout".into(),
    };
    let expiring = sample("req-contract-5", "t5", now + Duration::seconds(2));
    assert_eq!(store.create(&expiring).await.ok(), Some(Created::New));
    assert_eq!(
        store
            .update("req-contract-5", Status::Pending, &expire)
            .await
            .ok(),
        Some(true)
    );
    let gone = store.get("req-contract-5").await.ok().flatten();
    assert_eq!(
        gone.map(|r| (r.status, r.note)),
        Some((Status::Expired, Some("timeout".into())))
    );

    let ids = |rs: Vec<ApprovalRequest>| rs.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let open = store
        .list(&[Status::Pending, Status::Decided, Status::Refused])
        .await
        .map(ids)
        .ok();
    assert_eq!(
        open,
        Some(vec![
            "req-contract-3".to_owned(),
            "req-contract-4".to_owned()
        ])
    );
    let done = store
        .list(&[Status::Delivered, Status::Expired])
        .await
        .map(ids)
        .ok();
    let mut done = done.unwrap_or_default();
    done.sort();
    assert_eq!(done, ["req-contract-1", "req-contract-5"]);
}
