//! The event's time against the function's clock: an event from the future is refused before
//! anything happens, and the recorded last run never moves past the clock.

use chrono::{DateTime, Utc};
use ec2_scheduler::memory::{FakeInstance, InMemoryEc2, MemoryState};
use ec2_scheduler::{App, InstanceState, Scheduler, Settings};
use fleet_core::{ErrorClass, EventHandler, FixedClock, RecordingNotifier};
use fleet_testkit::load_event;
use lambda_runtime::LambdaEvent;
use serde_json::json;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// One stopped instance that starts at 08:00 and a one-off termination at 18:30 (UTC).
fn app(
    clock: &str,
    last_run: Option<&str>,
) -> App<InMemoryEc2, MemoryState, FixedClock, RecordingNotifier> {
    let ec2 = InMemoryEc2::new(
        vec![
            FakeInstance::new(
                "i-office",
                InstanceState::Stopped,
                &[("Schedule", "08:00-19:15")],
            ),
            FakeInstance::new("i-temp", InstanceState::Running, &[("Schedule", "-18:30T")]),
        ],
        1000,
    );
    App {
        scheduler: Scheduler {
            ec2,
            state: MemoryState::with_last_run(last_run.map(at)),
            clock: FixedClock::at(at(clock)),
            settings: Settings::default(),
        },
        notifier: Some(RecordingNotifier::default()),
    }
}

fn event_at(time: &str) -> LambdaEvent<serde_json::Value> {
    let mut event = load_event("ec2-scheduler/01-monday-0800.json");
    event["time"] = json!(time);
    // The test clock stands on its own day, not at the wall clock: no deadline.
    LambdaEvent::new(event, lambda_runtime::Context::default())
}

#[tokio::test]
async fn an_event_two_days_ahead_is_refused_and_changes_nothing() {
    let app = app("2026-11-23T07:55:00Z", Some("2026-11-23T07:50:00Z"));
    let err = app
        .handle(event_at("2026-11-25T18:40:00Z"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidEvent);
    assert!(
        err.message
            .contains("more than 2 minutes ahead of the function's clock"),
        "{}",
        err.message
    );
    let ec2 = &app.scheduler.ec2;
    assert_eq!(
        ec2.instance("i-temp").unwrap().state,
        InstanceState::Running
    );
    assert_eq!(
        ec2.instance("i-office").unwrap().state,
        InstanceState::Stopped
    );
    assert_eq!(ec2.calls().describe, 0, "not even listed");
    assert_eq!(
        app.scheduler.state.get(),
        Some(at("2026-11-23T07:50:00Z")),
        "nothing recorded"
    );
    assert!(app.notifier.as_ref().unwrap().sent().is_empty());
}

#[tokio::test]
async fn an_event_within_two_minutes_runs_and_records_the_clock_not_the_event() {
    // EventBridge's 08:00 event reaches a container whose clock says 07:58:30.
    let app = app("2026-11-23T07:58:30Z", Some("2026-11-23T07:50:00Z"));
    let report = app.handle(event_at("2026-11-23T08:00:00Z")).await.unwrap();
    assert_eq!(report.counts.start, 1);
    assert_eq!(app.scheduler.state.get(), Some(at("2026-11-23T07:58:30Z")));

    // Exactly at the bound still runs; one second past it does not.
    let app = self::app("2026-11-23T07:58:00Z", Some("2026-11-23T07:50:00Z"));
    app.handle(event_at("2026-11-23T08:00:00Z")).await.unwrap();
    let app = self::app("2026-11-23T07:57:59Z", Some("2026-11-23T07:50:00Z"));
    let err = app
        .handle(event_at("2026-11-23T08:00:00Z"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidEvent);
    assert_eq!(
        app.scheduler.ec2.instance("i-office").unwrap().state,
        InstanceState::Stopped
    );
}

#[tokio::test]
async fn a_recorded_last_run_after_the_clock_is_corrupt_state_and_nothing_happens() {
    // Written by an older version that took a hand-sent future event at its word.
    let app = app("2026-11-23T08:00:00Z", Some("2026-11-25T18:40:00Z"));
    let err = app
        .handle(event_at("2026-11-23T08:00:00Z"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::CorruptState);
    assert!(
        err.message.contains("2026-11-25T18:40:00+00:00"),
        "{}",
        err.message
    );
    assert_eq!(
        app.scheduler.ec2.instance("i-office").unwrap().state,
        InstanceState::Stopped
    );
    assert_eq!(app.scheduler.state.get(), Some(at("2026-11-25T18:40:00Z")));

    // A mark a second ahead (another container's clock) is not corrupt.
    let app = self::app("2026-11-23T08:00:00Z", Some("2026-11-23T08:00:01Z"));
    app.handle(event_at("2026-11-23T08:00:00Z")).await.unwrap();
}

#[tokio::test]
async fn the_run_records_at_most_the_clock() {
    let s = app("2026-11-23T08:00:00Z", None).scheduler;
    s.run(at("2026-11-23T08:01:30Z"), None, None).await.unwrap();
    assert_eq!(s.state.get(), Some(at("2026-11-23T08:00:00Z")));
}
