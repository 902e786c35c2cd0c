//! Every sample in `events/otp-validator/` passes its boundary: the API's (the payload parsed as
//! a REST request, the answer shaped for API Gateway; a payload that is no API Gateway request is
//! `InvalidEvent`) or, for `*-sqs-*`, the delivery step's (an SQS batch answered with the
//! messages to deliver again).

use chrono::{DateTime, Utc};
use fleet_core::{ErrorClass, FixedClock};
use fleet_core::{EventHandler, HttpHandler};
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms, ScriptedDigits};
use fleet_otp::{HmacKey, Limits, Otp};
use fleet_testkit::{event_files, load_event};
use lambda_runtime::{Context, LambdaEvent};
use otp_validator::memory::MemoryQueue;
use otp_validator::{App, Sender};
use serde_json::json;

type TestOtp = Otp<MemoryProfiles, MemoryStore, RecordingSms, FakeMfa, ScriptedDigits, FixedClock>;

fn otp() -> TestOtp {
    let t0: DateTime<Utc> = "2026-11-23T09:00:00Z".parse().unwrap();
    Otp {
        profiles: MemoryProfiles::default(),
        store: MemoryStore::default(),
        sms: RecordingSms::default(),
        mfa: FakeMfa::default(),
        digits: ScriptedDigits::new(["514399"]),
        clock: FixedClock::at(t0),
        key: HmacKey::new(*b"0123456789abcdef0123456789abcdef").unwrap(),
        limits: Limits::default(),
    }
}

fn app() -> App<TestOtp, MemoryQueue> {
    App {
        otp: otp(),
        queue: MemoryQueue::default(),
    }
}

#[tokio::test]
async fn every_sample_passes_the_api_gateway_boundary() {
    let app = app();
    let handle = |request| app.handle(request);
    let files = event_files("otp-validator");
    assert_eq!(files.len(), 10, "{files:?}");
    for file in files.into_iter().filter(|f| !f.contains("-sqs-")) {
        let event = LambdaEvent::new(load_event(&file), Context::default());
        let answer = fleet_core::http::answer(event, &handle)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let status = answer["statusCode"].as_u64().unwrap_or_default();
        assert!((200..600).contains(&status), "{file}: {answer}");
        assert_eq!(
            answer["multiValueHeaders"]["content-type"][0], "application/json",
            "{file}: a REST answer carries its headers as multi-value headers"
        );
    }
    let not_http = LambdaEvent::new(
        json!({"detail-type": "Scheduled Event"}),
        Context::default(),
    );
    let err = fleet_core::http::answer(not_http, &handle)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidEvent);
}

/// The delivery step's sample: the readable request is delivered (an SMS for alice), the
/// unreadable one is returned to be delivered again (and, in the end, dead-lettered).
#[tokio::test]
async fn the_queue_sample_is_delivered_and_the_unreadable_message_returned() {
    let mut otp = otp();
    otp.profiles = MemoryProfiles::with([fleet_otp::Profile {
        user_id: "alice".into(),
        display_name: "Alice".into(),
        phone: "+31612345678".into(),
        mfa_serial: None,
    }]);
    let sender = Sender { otp };
    let event = load_event("otp-validator/10-sqs-code-requests.json");
    let answer = sender
        .handle(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&answer).unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "9b3e7d21-4a6f-4f0b-8c2d-1e5a7c9b3d02"}]})
    );
    assert_eq!(sender.otp.sms.sent().len(), 1);
    let not_sqs = LambdaEvent::new(json!({"Records": "none"}), Context::default());
    let err = sender.handle(not_sqs).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidEvent);
}
