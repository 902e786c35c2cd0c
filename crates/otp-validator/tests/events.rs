//! Every sample in `events/otp-validator/` passes the API Gateway boundary (the payload parsed as
//! a REST request, the answer shaped for API Gateway); a payload that is no API Gateway request is
//! `InvalidEvent`.

use chrono::{DateTime, Utc};
use fleet_core::HttpHandler;
use fleet_core::{ErrorClass, FixedClock};
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms, ScriptedDigits};
use fleet_otp::{HmacKey, Limits, Otp};
use fleet_testkit::{event_files, load_event};
use lambda_runtime::{Context, LambdaEvent};
use otp_validator::App;
use serde_json::json;

fn app() -> App<Otp<MemoryProfiles, MemoryStore, RecordingSms, FakeMfa, ScriptedDigits, FixedClock>>
{
    let t0: DateTime<Utc> = "2026-11-23T09:00:00Z".parse().unwrap();
    App {
        otp: Otp {
            profiles: MemoryProfiles::default(),
            store: MemoryStore::default(),
            sms: RecordingSms::default(),
            mfa: FakeMfa::default(),
            digits: ScriptedDigits::new(["514399"]),
            clock: FixedClock::at(t0),
            key: HmacKey::new(*b"0123456789abcdef0123456789abcdef").unwrap(),
            limits: Limits::default(),
        },
    }
}

#[tokio::test]
async fn every_sample_passes_the_api_gateway_boundary() {
    let app = app();
    let handle = |request| app.handle(request);
    let files = event_files("otp-validator");
    assert_eq!(files.len(), 9, "{files:?}");
    for file in files {
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
