//! The notifier's contract suite: the same assertions over the SNS adapter (against the local
//! stand-in) and the in-memory one. Other ports' suites follow this pattern: a harness trait
//! that hands out the adapter and reads back what reached the service, and one async function
//! per behaviour the domain relies on.

use crate::notify::{Notifier, MAX_MESSAGE_BYTES, MAX_SUBJECT_CHARS};

/// Gives the suite a notifier and what reached its topic.
pub trait NotifierHarness {
    type Notifier: Notifier;
    fn notifier(&self) -> &Self::Notifier;
    /// (subject, message) of every publish so far, oldest first.
    fn published(&self) -> Vec<(String, String)>;
}

/// Subjects are clipped to SNS's 100 characters, messages cut below 256 KiB at a character
/// boundary with a mark, text arrives unchanged otherwise.
pub async fn notifier<H: NotifierHarness>(harness: &H) {
    let n = harness.notifier();
    n.publish("EC2 scheduler report", "line 1\nline 2 — ünïcode")
        .await
        .unwrap_or_else(|e| panic!("publish: {e}"));
    let long_subject = "s".repeat(150);
    n.publish(&long_subject, "short")
        .await
        .unwrap_or_else(|e| panic!("publish: {e}"));
    let long_message = "é".repeat(MAX_MESSAGE_BYTES);
    n.publish("long", &long_message)
        .await
        .unwrap_or_else(|e| panic!("publish: {e}"));
    let published = harness.published();
    assert_eq!(published.len(), 3, "{published:?}");
    assert_eq!(
        published[0],
        (
            "EC2 scheduler report".to_owned(),
            "line 1\nline 2 — ünïcode".to_owned()
        )
    );
    assert_eq!(published[1].0.chars().count(), MAX_SUBJECT_CHARS);
    let cut = &published[2].1;
    assert!(cut.len() <= MAX_MESSAGE_BYTES, "{} bytes", cut.len());
    assert!(cut.ends_with("(truncated)"));
    assert!(cut.starts_with("éé"));
}

/// The event ledger: reservations only from the count the caller saw, the report kept until
/// published, and one lease holder at a time (its owner may take it again; an expired one is
/// free).
pub async fn event_ledger<L: crate::ledger::EventLedger>(ledger: &L) {
    use crate::ledger::EventKey;
    use chrono::{DateTime, Duration, Utc};
    let t1: DateTime<Utc> = "2026-11-23T08:00:00.250Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let key = EventKey {
        id: "5f0b6c9e-evt",
        at: t1,
    };
    let fresh = ledger.event(key.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((fresh.actions, fresh.report), (0, None));
    let reserve = |used, count| async move {
        ledger
            .reserve(key, used, count)
            .await
            .unwrap_or_else(|e| panic!("reserve: {e}"))
    };
    assert!(reserve(0, 2).await);
    assert!(!reserve(0, 1).await, "another attempt reserved meanwhile");
    assert!(reserve(2, 1).await);
    ledger
        .store_report(key, "EC2 scheduler report", "line 1\nline 2 — ünïcode")
        .await
        .unwrap_or_else(|e| panic!("store: {e}"));
    let stored = ledger.event(key.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.actions, 3);
    let report = stored.report.unwrap_or_else(|| panic!("report kept"));
    assert_eq!(
        (
            report.subject.as_str(),
            report.text.as_str(),
            report.published
        ),
        ("EC2 scheduler report", "line 1\nline 2 — ünïcode", false)
    );
    ledger
        .mark_report_published(key.id)
        .await
        .unwrap_or_else(|e| panic!("mark: {e}"));
    let published = ledger.event(key.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(published.actions, 3, "marking keeps the count");
    assert!(published.report.is_some_and(|r| r.published));

    let lease = |owner: &'static str, now: DateTime<Utc>| async move {
        ledger
            .acquire_lease(owner, now, now + Duration::minutes(15))
            .await
            .unwrap_or_else(|e| panic!("lease: {e}"))
    };
    assert!(lease("evt-a", t1).await);
    assert!(
        !lease("evt-b", t1 + Duration::minutes(1)).await,
        "held by evt-a"
    );
    assert!(
        lease("evt-a", t1 + Duration::minutes(2)).await,
        "a retry of evt-a takes it again"
    );
    assert!(
        lease("evt-b", t1 + Duration::minutes(18)).await,
        "evt-a's lease expired at +17 minutes"
    );
    ledger
        .release_lease("evt-a")
        .await
        .unwrap_or_else(|e| panic!("release: {e}"));
    assert!(
        !lease("evt-c", t1 + Duration::minutes(19)).await,
        "releasing someone else's lease does nothing"
    );
    ledger
        .release_lease("evt-b")
        .await
        .unwrap_or_else(|e| panic!("release: {e}"));
    assert!(
        lease("evt-c", t1 + Duration::minutes(19)).await,
        "released: free"
    );
}
