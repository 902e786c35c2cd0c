//! Every sample in `events/ec2-scheduler/` is the scheduled event the function expects; a
//! malformed one is refused as `InvalidEvent`, naming what is wrong.

use ec2_scheduler::trigger::{parse, ScheduledRun};
use fleet_core::ErrorClass;
use fleet_testkit::{event_files, load_event};
use serde_json::json;

#[test]
fn every_sample_is_a_scheduled_run_at_its_time() {
    let expected = [
        ("01-monday-0800.json", "2026-11-23T08:00:00Z"),
        ("02-monday-1920.json", "2026-11-23T19:20:00Z"),
        ("03-tuesday-0750.json", "2026-11-24T07:50:00Z"),
    ];
    let files = event_files("ec2-scheduler");
    assert_eq!(files.len(), expected.len(), "{files:?}");
    for (file, (name, at)) in files.iter().zip(expected) {
        assert!(file.ends_with(name), "{file}");
        let run: ScheduledRun = parse(load_event(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            run.at,
            at.parse::<chrono::DateTime<chrono::Utc>>().unwrap(),
            "{file}"
        );
        assert!(run.event_id.is_some(), "{file}");
    }
}

#[test]
fn an_event_without_time_or_not_from_eventbridge_is_invalid() {
    let mut event = load_event("ec2-scheduler/01-monday-0800.json");
    event.as_object_mut().unwrap().remove("time");
    let err = parse(event).unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidEvent);
    assert_eq!(err.message, "the event has no `time`");
    let err = parse(json!({"hello": 1})).unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidEvent);
    assert!(
        err.message.starts_with("not an EventBridge event: "),
        "{}",
        err.message
    );
    let mut event = load_event("ec2-scheduler/01-monday-0800.json");
    event["time"] = json!("Monday morning");
    let err = parse(event).unwrap_err();
    assert!(err.message.contains("time"), "{}", err.message);
}
