//! The state store's contract, over the DynamoDB adapter (against the local stand-in) and the
//! in-memory store: the last successful run is read back exactly and never moves backwards, even
//! when an older run records late; notes round-trip and are forgotten. (The event ledger has its
//! own suite in fleet-core.)

use chrono::{DateTime, Duration, Utc};

use crate::decide::{Action, Window};
use crate::ports::{InstanceNote, PendingAction, StateStore};

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
