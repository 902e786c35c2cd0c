//! Every sample in `events/tagging-policy/` becomes the trigger it stands for; events the policy
//! cannot act on are refused as `InvalidEvent`, naming what is wrong.

use fleet_core::ErrorClass;
use fleet_testkit::{event_files, load_event};
use serde_json::json;
use tagging_policy::trigger::parse;
use tagging_policy::Trigger;

#[test]
fn every_sample_is_the_trigger_it_stands_for() {
    let files = event_files("tagging-policy");
    assert_eq!(files.len(), 4, "{files:?}");
    for file in files {
        let trigger = parse(load_event(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let expected = match file.rsplit('/').next().unwrap_or_default() {
            "01-scheduled-sweep.json" => Trigger::Sweep,
            "02-runinstances-iam-user.json" => Trigger::Launched {
                instance_ids: vec!["i-0a1b2c3d4e5f60001".into()],
                creator: Some("alice".into()),
            },
            "03-runinstances-assumed-role.json" => Trigger::Launched {
                instance_ids: vec!["i-0a1b2c3d4e5f60002".into(), "i-0a1b2c3d4e5f60003".into()],
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
}

#[test]
fn events_it_cannot_act_on_are_invalid() {
    for (event, why) in [
        (json!({"hello": 1}), "not an EventBridge event"),
        (
            json!({"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "detail": {}}),
            "unexpected detail-type",
        ),
        (
            json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "detail": {"eventName": "StopInstances"}}),
            "expected a RunInstances call, got StopInstances",
        ),
        (
            json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "detail": {"eventName": "RunInstances", "responseElements": {"instancesSet": {"items": "nope"}}}}),
            "not a CloudTrail API call: responseElements.instancesSet.items",
        ),
    ] {
        let err = parse(event).unwrap_err();
        assert_eq!(err.class, ErrorClass::InvalidEvent);
        assert!(err.message.contains(why), "{}", err.message);
    }
}
