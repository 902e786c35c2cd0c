//! The archive's contract suite: the same assertions over the DynamoDB adapter (against the
//! local stand-in) and the in-memory one. What the handler relies on: one item per failure with a
//! count, a redelivered message not counted twice, a repeated id inside one batch, reading back
//! everything written, filters, status changes on existing items only, the window index, and the
//! digest ledger's claims.

use chrono::{DateTime, Duration, Utc};
use fleet_core::ErrorClass;

use crate::classify::FailureClass;
use crate::model::{
    ArchiveWrite, Failure, Filter, Recorded, Shape, SpillLocation, Status, StoredEvent, Via,
};
use crate::ports::{Archive, DigestLedger, EventSpill};

/// Gives the suite an archive on an empty table.
pub trait ArchiveHarness {
    type Archive: Archive + DigestLedger;
    fn archive(&self) -> &Self::Archive;
}

/// Gives the suite a spill bucket.
pub trait SpillHarness {
    type Spill: EventSpill;
    fn spill(&self) -> &Self::Spill;
    fn bucket(&self) -> &str;
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// A failure of `function` with `class`, archive id `id`, delivered by message `delivery`.
pub fn write(
    id: &str,
    delivery: &str,
    function: &str,
    class: FailureClass,
    seen: &str,
) -> ArchiveWrite {
    let seen_at = t(seen);
    ArchiveWrite {
        failure: Failure {
            id: id.to_owned(),
            delivery_id: delivery.to_owned(),
            function: Some(function.to_owned()),
            function_arn: Some(format!(
                "arn:aws:lambda:eu-west-1:123456789012:function:{function}:$LATEST"
            )),
            class,
            error_type: Some("NotFound".to_owned()),
            error_message: "DynamoDB: ResourceNotFoundException: Requested resource not found"
                .to_owned(),
            error_code: Some("200".to_owned()),
            request_id: Some(id.to_owned()),
            condition: Some("RetriesExhausted".to_owned()),
            attempts: Some(3),
            shape: Shape::Destination,
            via: Via::Sqs,
            source_arn: Some("arn:aws:sqs:eu-west-1:123456789012:fleet-failures".to_owned()),
            failed_at: Some(seen_at - Duration::seconds(2)),
            event: r#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.ec2"}"#.to_owned(),
        },
        event: StoredEvent::Inline(
            r#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.ec2"}"#.to_owned(),
        ),
        seen_at,
        window: crate::model::window_start(seen_at, Duration::minutes(15)),
        expires_at: seen_at + Duration::days(30),
    }
}

fn ok<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// New, duplicate delivery, redelivery of the same message, a repeated id in one batch, and
/// read-back of every field.
pub async fn dedup_and_read_back<H: ArchiveHarness>(harness: &H) {
    let a = harness.archive();
    let first = write(
        "r-1",
        "m-1",
        "ec2-scheduler",
        FailureClass::MissingResource,
        "2026-11-23T09:01:00Z",
    );
    let other = write(
        "r-2",
        "m-2",
        "tagging-policy",
        FailureClass::Timeout,
        "2026-11-23T09:01:00Z",
    );
    let results = a.record(&[first.clone(), other.clone()]).await;
    assert_eq!(
        results,
        vec![Ok(Recorded::Archived), Ok(Recorded::Archived)]
    );

    // The same message again (SQS at-least-once): nothing changes.
    let mut again = first.clone();
    again.seen_at = t("2026-11-23T09:05:00Z");
    let results = a.record(&[again.clone(), other.clone()]).await;
    assert_eq!(
        results,
        vec![Ok(Recorded::AlreadyCounted), Ok(Recorded::AlreadyCounted)]
    );
    let item = ok(a.get("r-1").await, "get").unwrap_or_else(|| panic!("r-1 missing"));
    assert_eq!(item.count, 1);
    assert_eq!(item.last_seen, first.seen_at);

    // The same failure delivered by another message: one item, count 2; twice in one batch.
    let mut second = first.clone();
    second.failure.delivery_id = "m-3".into();
    second.seen_at = t("2026-11-23T09:20:00Z");
    second.window = t("2026-11-23T09:15:00Z");
    let mut third = second.clone();
    third.failure.delivery_id = "m-4".into();
    let results = a.record(&[second.clone(), third]).await;
    assert_eq!(
        results,
        vec![Ok(Recorded::Archived), Ok(Recorded::Archived)]
    );
    let item = ok(a.get("r-1").await, "get").unwrap_or_else(|| panic!("r-1 missing"));
    assert_eq!(item.count, 3);
    assert_eq!(item.first_seen, first.seen_at);
    assert_eq!(item.last_seen, second.seen_at);
    assert_eq!(
        item.window, first.window,
        "counted in the window it was first seen in"
    );
    assert_eq!(item.status, Status::New);
    assert_eq!(item.function.as_deref(), Some("ec2-scheduler"));
    assert_eq!(item.function_arn, first.failure.function_arn);
    assert_eq!(item.class, FailureClass::MissingResource);
    assert_eq!(item.error_type.as_deref(), Some("NotFound"));
    assert_eq!(item.error_message, first.failure.error_message);
    assert_eq!(item.error_code.as_deref(), Some("200"));
    assert_eq!(item.request_id.as_deref(), Some("r-1"));
    assert_eq!(item.condition.as_deref(), Some("RetriesExhausted"));
    assert_eq!(item.attempts, Some(3));
    assert_eq!(item.shape, Shape::Destination);
    assert_eq!(item.source_arn, first.failure.source_arn);
    assert_eq!(item.failed_at, first.failure.failed_at);
    assert_eq!(item.event, first.event);
    assert_eq!(
        item.expires_at, second.expires_at,
        "the TTL moves with the last delivery"
    );
    assert_eq!(ok(a.get("nope").await, "get"), None);
}

/// Filters, the window index, status changes on existing items only, spilled event pointers.
pub async fn filters_windows_and_status<H: ArchiveHarness>(harness: &H) {
    let a = harness.archive();
    let mut spilled = write(
        "r-3",
        "m-3",
        "tagging-policy",
        FailureClass::Throttled,
        "2026-11-23T09:31:00Z",
    );
    spilled.event = StoredEvent::Spilled {
        location: SpillLocation {
            bucket: "spill".into(),
            key: "events/tagging-policy/r-3.json".into(),
        },
        bytes: 70_000,
    };
    let mut unknown = write(
        "raw-m-4",
        "m-4",
        "x",
        FailureClass::Unparseable,
        "2026-11-23T09:32:00Z",
    );
    unknown.failure.function = None;
    unknown.failure.function_arn = None;
    let results = a
        .record(&[
            write(
                "r-1",
                "m-1",
                "ec2-scheduler",
                FailureClass::MissingResource,
                "2026-11-23T09:01:00Z",
            ),
            write(
                "r-2",
                "m-2",
                "ec2-scheduler",
                FailureClass::Timeout,
                "2026-11-23T09:16:00Z",
            ),
            spilled.clone(),
            unknown,
        ])
        .await;
    assert!(
        results.iter().all(|r| r == &Ok(Recorded::Archived)),
        "{results:?}"
    );

    let ids = |items: Vec<crate::model::ArchivedFailure>| -> Vec<String> {
        items.into_iter().map(|i| i.id).collect()
    };
    let all = ok(a.list(&Filter::default()).await, "list");
    assert_eq!(
        ids(all),
        ["r-1", "r-2", "r-3", "raw-m-4"],
        "oldest last seen first"
    );
    let filter = Filter {
        function: Some("ec2-scheduler".into()),
        ..Filter::default()
    };
    assert_eq!(ids(ok(a.list(&filter).await, "list")), ["r-1", "r-2"]);
    let filter = Filter {
        function: Some("Unknown".into()),
        ..Filter::default()
    };
    assert_eq!(ids(ok(a.list(&filter).await, "list")), ["raw-m-4"]);
    let filter = Filter {
        class: Some(FailureClass::Timeout),
        since: Some(t("2026-11-23T09:10:00Z")),
        ..Filter::default()
    };
    assert_eq!(ids(ok(a.list(&filter).await, "list")), ["r-2"]);

    let window = ok(a.in_window(t("2026-11-23T09:30:00Z")).await, "in_window");
    let mut window_ids = ids(window);
    window_ids.sort();
    assert_eq!(window_ids, ["r-3", "raw-m-4"]);
    let item = ok(a.get("r-3").await, "get").unwrap_or_else(|| panic!("r-3"));
    assert_eq!(item.event, spilled.event);
    let item = ok(a.get("raw-m-4").await, "get").unwrap_or_else(|| panic!("raw-m-4"));
    assert_eq!(item.function, None);

    let at = t("2026-11-23T10:00:00Z");
    ok(
        a.mark_replayed("r-2", at, Some("new-request".into())).await,
        "mark",
    );
    ok(
        a.mark_replayed("r-2", at + Duration::minutes(1), None)
            .await,
        "mark again",
    );
    let item = ok(a.get("r-2").await, "get").unwrap_or_else(|| panic!("r-2"));
    assert_eq!(item.status, Status::Replayed);
    assert_eq!(item.replays, 2);
    assert_eq!(item.replayed_at, Some(at + Duration::minutes(1)));
    assert_eq!(item.replay_request_ids, ["new-request"]);
    let filter = Filter {
        status: Some(Status::New),
        ..Filter::default()
    };
    assert_eq!(
        ids(ok(a.list(&filter).await, "list")),
        ["r-1", "r-3", "raw-m-4"]
    );
    ok(a.resolve("r-1", at).await, "resolve");
    let item = ok(a.get("r-1").await, "get").unwrap_or_else(|| panic!("r-1"));
    assert_eq!(
        (item.status, item.resolved_at),
        (Status::Resolved, Some(at))
    );
    let missing = a.mark_replayed("gone", at, None).await.unwrap_err();
    assert_eq!(missing.class, ErrorClass::NotFound);
    assert_eq!(
        a.resolve("gone", at).await.unwrap_err().class,
        ErrorClass::NotFound
    );
    assert_eq!(
        ok(a.get("gone").await, "get"),
        None,
        "a status change creates nothing"
    );
}

/// A window is claimed once, completed once; a released or stale claim can be taken again.
pub async fn digest_ledger<H: ArchiveHarness>(harness: &H) {
    let a = harness.archive();
    let w1 = t("2026-11-23T09:00:00Z");
    let w2 = t("2026-11-23T09:15:00Z");
    let at = t("2026-11-23T09:31:00Z");
    let stale = Duration::minutes(10);
    assert_eq!(ok(a.unsent(&[w1, w2]).await, "unsent"), [w1, w2]);
    assert!(ok(a.claim(w1, at, stale).await, "claim"));
    assert!(
        !ok(a.claim(w1, at + Duration::minutes(1), stale).await, "claim"),
        "claimed by another run"
    );
    ok(a.complete(w1, at, 2).await, "complete");
    assert_eq!(ok(a.unsent(&[w1, w2]).await, "unsent"), [w2]);
    assert!(
        !ok(a.claim(w1, at + Duration::hours(1), stale).await, "claim"),
        "sent windows stay sent"
    );

    assert!(ok(a.claim(w2, at, stale).await, "claim"));
    ok(a.release(w2).await, "release");
    assert!(ok(
        a.claim(w2, at + Duration::minutes(1), stale).await,
        "claim after release"
    ));
    assert!(!ok(
        a.claim(w2, at + Duration::minutes(5), stale).await,
        "claim"
    ));
    assert!(ok(
        a.claim(w2, at + Duration::minutes(12), stale).await,
        "a stale claim is taken over"
    ));
    // Ledger items are not failures.
    assert!(ok(a.list(&Filter::default()).await, "list").is_empty());
}

/// Events round-trip through the spill bucket byte for byte; a missing one is `NotFound`.
pub async fn spill<H: SpillHarness>(harness: &H) {
    let s = harness.spill();
    let event = format!("{{\"big\":\"{}\",\"ünï\":\"cödé\"}}", "x".repeat(100_000));
    let location = ok(s.put("events/f/r-1.json", &event).await, "put");
    assert_eq!(location.bucket, harness.bucket());
    assert_eq!(location.key, "events/f/r-1.json");
    assert_eq!(ok(s.get(&location).await, "get"), event);
    let missing = SpillLocation {
        bucket: harness.bucket().to_owned(),
        key: "events/f/none.json".into(),
    };
    assert_eq!(
        s.get(&missing).await.unwrap_err().class,
        ErrorClass::NotFound
    );
}
