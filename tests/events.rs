//! Every file in `events/` is loaded here and checked to be the event its function expects, so a
//! sample can neither rot nor sit unused.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use fleet_testkit::{event_files, load_event, workspace_root};

#[test]
fn every_event_file_is_a_valid_event_for_its_function() {
    let mut checked = 0;
    for dir in std::fs::read_dir(workspace_root().join("events")).unwrap() {
        let dir = dir.unwrap().file_name().to_string_lossy().into_owned();
        for file in event_files(&dir) {
            let event = load_event(&file);
            match dir.as_str() {
                "ec2-scheduler" => {
                    let parsed: EventBridgeEvent = serde_json::from_value(event.clone()).unwrap();
                    assert_eq!(parsed.detail_type, "Scheduled Event", "{file}");
                    assert!(ec2_scheduler::handler::event_time(&event).is_ok(), "{file}");
                }
                other => panic!("events/{other}/ has no check: add one here"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} event files found");
}

#[test]
fn an_event_without_time_is_refused_with_a_meaningful_error_type() {
    let mut event = load_event("ec2-scheduler/01-monday-0800.json");
    event.as_object_mut().unwrap().remove("time");
    let err = ec2_scheduler::handler::event_time(&event).unwrap_err();
    assert_eq!(err.error_type, "InvalidEvent");
    let err = ec2_scheduler::handler::event_time(&serde_json::json!({"hello": 1})).unwrap_err();
    assert_eq!(err.error_type, "InvalidEvent");
}
