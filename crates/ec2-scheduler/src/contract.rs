//! The state store's contract, over the DynamoDB adapter (against the local stand-in) and the
//! in-memory store: the last successful run is read back exactly and never moves backwards, even
//! when an older run records late; notes round-trip and are forgotten; an event's terminations
//! are reserved only from the count the caller saw, and its report is kept until published.

use chrono::{DateTime, Duration, Utc};

use crate::decide::{Action, Window};
use crate::ports::{EventKey, InstanceNote, PendingAction, StateStore};

pub async fn state_store<S: StateStore>(store: &S) {
    let read = || async {
        store
            .last_successful_run()
            .await
            .unwrap_or_else(|e| panic!("read: {e}"))
    };
    assert_eq!(read().await, None, "a fresh store has no run");
    let t1: DateTime<Utc> = "2026-11-23T08:00:00.250Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let record = |at| async move {
        store
            .record_successful_run(at)
            .await
            .unwrap_or_else(|e| panic!("record {at}: {e}"))
    };
    record(t1).await;
    assert_eq!(read().await, Some(t1), "read back to the millisecond");
    record(t1 - Duration::minutes(10)).await;
    assert_eq!(
        read().await,
        Some(t1),
        "an older run recording late is ignored"
    );
    record(t1).await;
    assert_eq!(read().await, Some(t1), "the same instant again is fine");
    let t2 = t1 + Duration::minutes(10);
    record(t2).await;
    assert_eq!(read().await, Some(t2));

    notes(store, t1).await;
    events(store, t1).await;
}

async fn notes<S: StateStore>(store: &S, t1: DateTime<Utc>) {
    let window = Window {
        last_run: t1 - Duration::minutes(10),
        now: t1,
    };
    // More than one BatchGetItem and BatchWriteItem call's worth of instances.
    let many: Vec<InstanceNote> = (0..130)
        .map(|i| InstanceNote {
            instance_id: format!("i-{i:017x}"),
            schedule: "-18:30T Europe/Amsterdam".into(),
            first_seen: Some(window),
            pending: (i % 2 == 0).then_some(PendingAction {
                action: Action::Terminate,
                due_at: t1 - Duration::minutes(1),
                since: t1,
            }),
        })
        .collect();
    store
        .save_notes(&many)
        .await
        .unwrap_or_else(|e| panic!("save: {e}"));
    let mut ids: Vec<String> = many.iter().map(|n| n.instance_id.clone()).collect();
    ids.push("i-never-noted".into());
    let mut read = store
        .notes(&ids)
        .await
        .unwrap_or_else(|e| panic!("notes: {e}"));
    read.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    assert_eq!(
        read, many,
        "every note read back exactly; absent ones are missing"
    );

    let daily = InstanceNote {
        instance_id: many[0].instance_id.clone(),
        schedule: "08:00-19:15".into(),
        first_seen: None,
        pending: Some(PendingAction {
            action: Action::Start,
            due_at: t1,
            since: t1,
        }),
    };
    store
        .save_notes(std::slice::from_ref(&daily))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store
            .notes(&ids[..1])
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        vec![daily],
        "a save replaces the whole note"
    );
    store
        .forget_notes(&ids)
        .await
        .unwrap_or_else(|e| panic!("forget: {e}"));
    assert!(store
        .notes(&ids)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty());
}

async fn events<S: StateStore>(store: &S, t1: DateTime<Utc>) {
    let key = EventKey {
        id: "5f0b6c9e-evt",
        at: t1,
    };
    let fresh = store.event(key.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((fresh.terminations, fresh.report), (0, None));
    let reserve = |used, count| async move {
        store
            .reserve_terminations(key, used, count)
            .await
            .unwrap_or_else(|e| panic!("reserve: {e}"))
    };
    assert!(reserve(0, 2).await);
    assert!(!reserve(0, 1).await, "another attempt reserved meanwhile");
    assert!(reserve(2, 1).await);
    store
        .store_report(key, "EC2 scheduler report", "line 1\nline 2 — ünïcode")
        .await
        .unwrap_or_else(|e| panic!("store: {e}"));
    let stored = store.event(key.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.terminations, 3);
    let report = stored.report.unwrap_or_else(|| panic!("report kept"));
    assert_eq!(
        (
            report.subject.as_str(),
            report.text.as_str(),
            report.published
        ),
        ("EC2 scheduler report", "line 1\nline 2 — ünïcode", false)
    );
    store
        .mark_report_published(key.id)
        .await
        .unwrap_or_else(|e| panic!("mark: {e}"));
    let published = store.event(key.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(published.terminations, 3, "marking keeps the count");
    assert!(published.report.is_some_and(|r| r.published));
}
