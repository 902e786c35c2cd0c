//! The state store's contract, over the DynamoDB adapter (against the local stand-in) and the
//! in-memory store: the last successful run is read back exactly and never moves backwards, even
//! when an older run records late.

use chrono::{DateTime, Duration, Utc};

use crate::ports::StateStore;

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
}
