//! The API on every sample request in `events/otp-validator/`, over the in-memory service:
//! statuses, bodies, `Retry-After`, and the same answers for unknown users.

use chrono::{DateTime, Duration, Utc};
use fleet_core::FixedClock;
use fleet_core::HttpHandler;
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms, ScriptedDigits};
use fleet_otp::{HmacKey, Limits, Otp, Profile};
use fleet_testkit::{event_files, load_event};
use lambda_http::{Body, Request, Response};
use otp_validator::App;
use serde_json::{json, Value};

type TestApi =
    App<Otp<MemoryProfiles, MemoryStore, RecordingSms, FakeMfa, ScriptedDigits, FixedClock>>;

fn api() -> TestApi {
    let t0: DateTime<Utc> = "2026-11-23T09:00:00Z".parse().unwrap();
    App {
        otp: Otp {
            profiles: MemoryProfiles::with([Profile {
                user_id: "alice".into(),
                display_name: "Alice".into(),
                phone: "+31612345678".into(),
                mfa_serial: Some("arn:aws:iam::123456789012:mfa/alice".into()),
            }]),
            store: MemoryStore::default(),
            sms: RecordingSms::default(),
            mfa: FakeMfa {
                tokens: [(
                    "arn:aws:iam::123456789012:mfa/alice".to_owned(),
                    "246810".to_owned(),
                )]
                .into(),
                ..FakeMfa::default()
            },
            digits: ScriptedDigits::new(["514399"]),
            clock: FixedClock::at(t0),
            key: HmacKey::new(*b"0123456789abcdef0123456789abcdef").unwrap(),
            limits: Limits::default(),
        },
    }
}

fn request(file: &str) -> Request {
    lambda_http::request::from_str(&load_event(file).to_string())
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn with_body(file: &str, body: Value) -> Request {
    let mut event = load_event(file);
    event["body"] = Value::String(body.to_string());
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

fn json_body(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap()
}

#[tokio::test]
async fn every_sample_request_gets_its_answer() {
    let api = api();
    let expected: Vec<(&str, u16, Value)> = vec![
        ("01-send.json", 202, json!({"status": "sent"})),
        ("02-verify.json", 200, json!({"valid": true})),
        ("03-mfa-verify.json", 200, json!({"valid": true})),
        ("04-send-unknown-user.json", 202, json!({"status": "sent"})),
        (
            "05-bad-missing-user.json",
            400,
            json!({"error": "missing field \"user\""}),
        ),
        (
            "06-bad-code-not-a-string.json",
            400,
            json!({"error": "\"code\" must be a string, not a number"}),
        ),
        (
            "07-bad-json.json",
            400,
            json!({"error": "the body is not valid JSON: EOF while parsing a value at line 1 column 16"}),
        ),
        (
            "08-bad-oversized.json",
            400,
            json!({"error": "the body is 5032 bytes; the limit is 4096"}),
        ),
        (
            "09-bad-method.json",
            405,
            json!({"error": "method not allowed"}),
        ),
    ];
    let files = event_files("otp-validator");
    assert_eq!(files.len(), expected.len());
    for (file, (name, status, body)) in files.iter().zip(expected) {
        assert!(file.ends_with(name), "{file}");
        let response = api.handle(request(file)).await;
        assert_eq!(response.status().as_u16(), status, "{file}");
        assert_eq!(json_body(&response), body, "{file}");
    }
    assert_eq!(
        api.otp.sms.sent(),
        [(
            "+31612345678".to_owned(),
            "Your easytocloud code is 514399".to_owned()
        )],
        "one SMS: the unknown user got the same answer and nothing was sent"
    );
    // Replays: the code and the token are single-use.
    assert_eq!(
        api.handle(request("otp-validator/02-verify.json"))
            .await
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        api.handle(request("otp-validator/03-mfa-verify.json"))
            .await
            .status()
            .as_u16(),
        401
    );
}

#[tokio::test]
async fn refusals_carry_retry_after_and_say_when_not_why() {
    let api = api();
    for _ in 0..3 {
        assert_eq!(
            api.handle(request("otp-validator/01-send.json"))
                .await
                .status()
                .as_u16(),
            202
        );
    }
    let limited = api.handle(request("otp-validator/01-send.json")).await;
    assert_eq!(limited.status().as_u16(), 429);
    assert_eq!(limited.headers()["retry-after"], "900");
    assert_eq!(json_body(&limited)["retry_after_seconds"], 900);

    for _ in 0..10 {
        let wrong = with_body(
            "otp-validator/02-verify.json",
            json!({"user": "alice", "purpose": "start-instance", "code": "000000"}),
        );
        assert_eq!(api.handle(wrong).await.status().as_u16(), 401);
    }
    api.otp.clock.advance(Duration::minutes(30));
    let locked = api.handle(request("otp-validator/02-verify.json")).await;
    assert_eq!(locked.status().as_u16(), 429);
    assert_eq!(
        locked.headers()["retry-after"],
        (24 * 3600 - 30 * 60).to_string()
    );
    assert_eq!(
        json_body(&locked),
        json!({"valid": false, "error": "too many attempts; try again later", "retry_after_seconds": 24 * 3600 - 30 * 60})
    );
}

#[tokio::test]
async fn fields_are_checked_and_named() {
    let api = api();
    for (body, message) in [
        (
            json!({"user": "alice", "purpose": "start instance"}),
            "\"purpose\" has characters that are not allowed",
        ),
        (
            json!({"user": "", "purpose": "p"}),
            "\"user\" must not be empty",
        ),
        (
            json!({"user": "alice", "purpose": "p", "phone": "+1"}),
            "unknown field \"phone\": the allowed fields are user, purpose",
        ),
        (json!(["alice"]), "the body must be a JSON object"),
        (
            json!({"user": "a".repeat(129), "purpose": "p"}),
            "\"user\" is longer than 128 characters",
        ),
    ] {
        let response = api
            .handle(with_body("otp-validator/01-send.json", body))
            .await;
        assert_eq!(response.status().as_u16(), 400);
        assert_eq!(json_body(&response)["error"], message);
    }
    let letters = with_body(
        "otp-validator/02-verify.json",
        json!({"user": "alice", "purpose": "p", "code": "12ab56"}),
    );
    assert_eq!(
        json_body(&api.handle(letters).await)["error"],
        "\"code\" has characters that are not allowed"
    );
}

#[tokio::test]
async fn an_unavailable_mfa_check_is_503() {
    let mut api = api();
    api.otp.mfa.unavailable = true;
    let response = api
        .handle(request("otp-validator/03-mfa-verify.json"))
        .await;
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(json_body(&response)["valid"], false);
}
