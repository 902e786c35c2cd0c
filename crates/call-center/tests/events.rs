//! Every file in events/call-center/ goes through the trigger of the function it is for, with
//! what it must become.

use call_center::trigger::{self, AnalyserTrigger, ObjectCreated, StarterTrigger};
use fleet_testkit::{event_files, load_event};

const BUCKET: &str = "cloudops-fleet-calls-123456789012-eu-west-1";

fn object(key: &str, etag: &str, size: u64, version: Option<&str>) -> ObjectCreated {
    ObjectCreated {
        bucket: BUCKET.into(),
        key: key.into(),
        size: Some(size),
        etag: etag.into(),
        version_id: version.map(str::to_owned),
    }
}

#[test]
fn every_call_center_event_is_what_its_function_expects() {
    let files = event_files("call-center");
    assert_eq!(files.len(), 5, "{files:?}");
    for file in files {
        let event = load_event(&file);
        let name = file.rsplit('/').next().unwrap_or_default();
        match name {
            "01-recording-encoded-key.json" => assert_eq!(
                trigger::starter(event).unwrap(),
                StarterTrigger::Objects(vec![object(
                    "recordings/2026/11/23/call with Ann & Bob été.mp3",
                    "0f343b0931126a20f133d67c2b018a3b",
                    11207,
                    None
                )])
            ),
            "02-recording-uppercase-suffix.json" => {
                let StarterTrigger::Objects(objects) = trigger::starter(event).unwrap() else {
                    panic!("{file}")
                };
                assert_eq!(
                    objects,
                    [object(
                        "recordings/agent-7/CALL-0042.MP3",
                        "9b2cf535f27731c974343645a3985328",
                        5616,
                        Some("3HL4kqtJlcpXroDTDmjVBH40Nrjfkd")
                    )]
                );
                assert_eq!(
                    objects[0].version_or_etag(),
                    "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"
                );
                assert_eq!(
                    call_center::audio::AudioFormat::from_key(&objects[0].key),
                    Some(call_center::audio::AudioFormat::Mp3),
                    "S3's suffix filter is case-sensitive; the code's check is not"
                );
            }
            "03-transcript-written.json" => {
                let AnalyserTrigger::Objects(objects) = trigger::analyser(event.clone()).unwrap()
                else {
                    panic!("{file}")
                };
                assert_eq!(
                    objects[0].key,
                    "transcripts/call-CALL-0042-6f1d2c3b4a5968778695a4b3.json"
                );
                // The same event reaching the starter is ignored by its prefix check (the template's
                // filter already keeps it away).
                assert!(matches!(
                    trigger::starter(event).unwrap(),
                    StarterTrigger::Objects(_)
                ));
            }
            "04-transcribe-job-failed.json" => {
                assert_eq!(
                    trigger::analyser(event.clone()).unwrap(),
                    AnalyserTrigger::JobFailed {
                        job_name: "call-CALL-0042-6f1d2c3b4a5968778695a4b3".into()
                    }
                );
                assert_eq!(
                    trigger::starter(event).unwrap_err().error_type(),
                    "InvalidEvent"
                );
            }
            "05-daily-sweep.json" => {
                assert_eq!(
                    trigger::starter(event.clone()).unwrap(),
                    StarterTrigger::Sweep
                );
                assert_eq!(
                    trigger::analyser(event).unwrap_err().error_type(),
                    "InvalidEvent"
                );
            }
            other => panic!("events/call-center/{other}: add its expected trigger here"),
        }
    }
}

#[test]
fn moto_test_events_and_other_s3_events_are_told_apart() {
    let test_event = serde_json::json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-23T08:00:00.000Z", "Bucket": BUCKET});
    assert_eq!(
        trigger::starter(test_event.clone()).unwrap(),
        StarterTrigger::Test
    );
    assert_eq!(
        trigger::analyser(test_event).unwrap(),
        AnalyserTrigger::Test
    );
    let mut removed = load_event("call-center/01-recording-encoded-key.json");
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete".into();
    assert!(trigger::starter(removed)
        .unwrap_err()
        .message
        .contains("not an ObjectCreated event"));
    let mut bad_key = load_event("call-center/01-recording-encoded-key.json");
    bad_key["Records"][0]["s3"]["object"]["key"] = "recordings/%ZZ.mp3".into();
    assert!(trigger::starter(bad_key)
        .unwrap_err()
        .message
        .contains("bad percent escape"));
}
