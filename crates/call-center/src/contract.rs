//! The calls table's contract: the same assertions over the DynamoDB adapter (against the local
//! stand-in) and the in-memory one. These are the rules the pipeline's idempotence rests on.

use crate::call::{Begin, NewCall, Outcome, Status};
use crate::ports::Calls;

fn call(id: &str, at: &str) -> NewCall {
    NewCall {
        call_id: id.into(),
        job_name: id.into(),
        attempt: 1,
        bucket: "calls-bucket".into(),
        key: format!("recordings/{id}.mp3"),
        etag: "0123abcd".into(),
        version_id: None,
        language: Some("en-US".into()),
        redacted: true,
        at: at.into(),
    }
}

fn failed(reason: &str) -> Outcome {
    Outcome::Failed {
        reason: reason.into(),
    }
}

/// begin / restart / wait / reject / finish / mark_event_sent / mark_announced / by_status.
pub async fn calls<C: Calls>(calls: &C) {
    let day = "2026-11-23";
    let a = call("call-a-1", "2026-11-23T08:00:00Z");
    assert_eq!(calls.begin(&a, day, 2).await.unwrap(), Begin::Started);
    // A duplicate finds the call and changes nothing, the count included.
    match calls.begin(&a, day, 2).await.unwrap() {
        Begin::Exists(r) => {
            assert_eq!(r.status, Some(Status::Transcribing));
            assert_eq!(r.job_name, "call-a-1");
            assert_eq!(r.key, "recordings/call-a-1.mp3");
        }
        other => panic!("{other:?}"),
    }
    let b = call("call-b-1", "2026-11-23T08:01:00Z");
    assert_eq!(calls.begin(&b, day, 2).await.unwrap(), Begin::Started);
    // The cap (2) is reached: a third call is not written.
    let c = call("call-c-1", "2026-11-23T08:02:00Z");
    assert_eq!(calls.begin(&c, day, 2).await.unwrap(), Begin::OverCap);
    assert_eq!(calls.get("call-c-1").await.unwrap(), None);
    assert!(calls.wait(&c, "cap").await.unwrap());
    let waiting = calls.by_status(Status::Waiting, 10).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].reason.as_deref(), Some("cap"));
    // The next day a waiting call starts.
    assert_eq!(
        calls.begin(&c, "2026-11-24", 2).await.unwrap(),
        Begin::Started
    );
    assert!(calls
        .by_status(Status::Waiting, 10)
        .await
        .unwrap()
        .is_empty());

    // finish only while TRANSCRIBING that job.
    assert!(!calls
        .finish("call-a-1", "call-a-1-a2", &failed("x"), "t")
        .await
        .unwrap());
    assert!(calls
        .finish(
            "call-a-1",
            "call-a-1",
            &failed("bad audio"),
            "2026-11-23T09:00:00Z"
        )
        .await
        .unwrap());
    assert!(!calls
        .finish("call-a-1", "call-a-1", &failed("again"), "t")
        .await
        .unwrap());
    let a_now = calls.get("call-a-1").await.unwrap().unwrap();
    assert_eq!(
        (a_now.status, a_now.reason.as_deref()),
        (Some(Status::Failed), Some("bad audio"))
    );
    // A late duplicate never resets a finished call.
    assert!(
        matches!(calls.begin(&a, day, 10).await.unwrap(), Begin::Exists(r) if r.status == Some(Status::Failed))
    );
    // Restart under a new job name, only from the expected job.
    let mut a2 = a.clone();
    a2.attempt = 2;
    a2.job_name = "call-a-1-a2".into();
    assert!(matches!(
        calls.restart(&a2, "call-a-1-zz", day, 10).await.unwrap(),
        Begin::Exists(_)
    ));
    assert_eq!(
        calls.restart(&a2, "call-a-1", day, 10).await.unwrap(),
        Begin::Started
    );
    let a_now = calls.get("call-a-1").await.unwrap().unwrap();
    assert_eq!(
        (a_now.status, a_now.attempt, a_now.job_name.as_str()),
        (Some(Status::Transcribing), 2, "call-a-1-a2")
    );
    assert_eq!(a_now.reason, None);

    // REJECTED only for a new call.
    let r = call("call-r-1", "2026-11-23T08:03:00Z");
    assert!(calls.reject(&r, "not audio").await.unwrap());
    assert!(!calls.reject(&r, "again").await.unwrap());
    assert!(!calls.reject(&a, "late").await.unwrap());
    let rejected = calls.get("call-r-1").await.unwrap().unwrap();
    assert_eq!(
        (rejected.status, rejected.reason.as_deref()),
        (Some(Status::Rejected), Some("not audio"))
    );
    assert!(matches!(
        calls.begin(&r, day, 10).await.unwrap(),
        Begin::Exists(_)
    ));

    // EventSentAt and AnnouncedAt, each once.
    assert!(calls
        .mark_event_sent("call-b-1", "2026-11-23T09:59:00Z")
        .await
        .unwrap());
    assert!(!calls
        .mark_event_sent("call-b-1", "2026-11-23T10:01:00Z")
        .await
        .unwrap());
    assert!(!calls.mark_event_sent("call-nobody", "t").await.unwrap());
    assert!(calls
        .mark_announced("call-b-1", "2026-11-23T10:00:00Z")
        .await
        .unwrap());
    assert!(!calls
        .mark_announced("call-b-1", "2026-11-23T10:01:00Z")
        .await
        .unwrap());
    assert_eq!(
        calls
            .get("call-b-1")
            .await
            .unwrap()
            .unwrap()
            .announced_at
            .as_deref(),
        Some("2026-11-23T10:00:00Z")
    );
    assert_eq!(
        calls
            .get("call-b-1")
            .await
            .unwrap()
            .unwrap()
            .event_sent_at
            .as_deref(),
        Some("2026-11-23T09:59:00Z")
    );
    assert!(!calls.mark_announced("call-nobody", "t").await.unwrap());

    // by_status pages and limits, oldest first.
    let ids: Vec<String> = calls
        .by_status(Status::Transcribing, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.call_id)
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(
        calls
            .by_status(Status::Transcribing, 1)
            .await
            .unwrap()
            .len(),
        1
    );
}
