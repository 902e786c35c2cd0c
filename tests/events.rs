//! Every file in `events/` is loaded here and checked to be the event its function expects, so a
//! sample can neither rot nor sit unused.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use fleet_testkit::{event_files, load_event, workspace_root};
use tagging_policy::Trigger;

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
                "tagging-policy" => {
                    let trigger = tagging_policy::handler::trigger(&event)
                        .unwrap_or_else(|e| panic!("{file}: {e}"));
                    let expected = match file.rsplit('/').next().unwrap_or_default() {
                        "01-scheduled-sweep.json" => Trigger::Sweep,
                        "02-runinstances-iam-user.json" => Trigger::Launched {
                            instance_ids: vec!["i-0a1b2c3d4e5f60001".into()],
                            creator: Some("alice".into()),
                        },
                        "03-runinstances-assumed-role.json" => Trigger::Launched {
                            instance_ids: vec![
                                "i-0a1b2c3d4e5f60002".into(),
                                "i-0a1b2c3d4e5f60003".into(),
                            ],
                            creator: Some("Deployer/ci-deploy-4711".into()),
                        },
                        "04-runinstances-failed-call.json" => Trigger::Launched {
                            instance_ids: vec![],
                            creator: Some("alice".into()),
                        },
                        other => panic!("{other}: add its expected trigger here"),
                    };
                    assert_eq!(trigger, expected, "{file}");
                }
                "robot-publisher" => {
                    let request = lambda_http::request::from_str(&event.to_string())
                        .unwrap_or_else(|e| panic!("{file}: not an API Gateway request: {e}"));
                    assert!(
                        matches!(request.uri().path(), "/Prod/" | "/Prod/publish"),
                        "{file}: {}",
                        request.uri()
                    );
                }
                "otp-validator" => {
                    let request = lambda_http::request::from_str(&event.to_string())
                        .unwrap_or_else(|e| panic!("{file}: not an API Gateway request: {e}"));
                    assert!(
                        matches!(
                            request.uri().path(),
                            "/Prod/otp/send" | "/Prod/otp/verify" | "/Prod/mfa/verify"
                        ),
                        "{file}: {}",
                        request.uri()
                    );
                }
                "alexa-skill" => {
                    let request: alexa_skill::RequestEnvelope =
                        serde_json::from_value(event.clone())
                            .unwrap_or_else(|e| panic!("{file}: not an Alexa request: {e}"));
                    assert_eq!(request.version, "1.0", "{file}");
                    assert!(request.user_id().is_some(), "{file}");
                    assert_eq!(request.application_ids().len(), 2, "{file}");
                }
                // Parsed, normalised and run through the handler, file by file with what each
                // must become, by crates/dlq-handler/tests/events.rs.
                "dlq-handler" => {
                    assert!(event.is_object(), "{file}");
                }
                other => panic!("events/{other}/ has no check: add one here"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 44, "only {checked} event files found");
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

#[test]
fn tagging_policy_refuses_events_it_cannot_act_on() {
    use serde_json::json;
    for (event, why) in [
        (json!({"hello": 1}), "no detail-type"),
        (
            json!({"detail-type": "EC2 Instance State-change Notification", "detail": {}}),
            "unexpected detail-type",
        ),
        (
            json!({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "StopInstances"}}),
            "expected a RunInstances call, got StopInstances",
        ),
    ] {
        let err = tagging_policy::handler::trigger(&event).unwrap_err();
        assert_eq!(err.error_type, "InvalidEvent");
        assert!(err.message.contains(why), "{}", err.message);
    }
}
