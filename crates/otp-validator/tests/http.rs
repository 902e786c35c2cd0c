//! The API on every sample request in `events/otp-validator/`, over the in-memory service and
//! queue: statuses, bodies, `Retry-After`, budgets per caller, and the same answers for unknown
//! users whatever happens to the SMS.

use chrono::{DateTime, Duration, Utc};
use fleet_core::FixedClock;
use fleet_core::HttpHandler;
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms, ScriptedDigits};
use fleet_otp::ports::Sms;
use fleet_otp::{CodeRequest, HmacKey, Limits, Otp, OtpError, OtpService, Profile};
use fleet_testkit::{event_files, load_event};
use lambda_http::{Body, Request, Response};
use otp_validator::memory::MemoryQueue;
use otp_validator::App;
use serde_json::{json, Value};

type TestOtp<N = RecordingSms> =
    Otp<MemoryProfiles, MemoryStore, N, FakeMfa, ScriptedDigits, FixedClock>;
type TestApi<N = RecordingSms> = App<TestOtp<N>, MemoryQueue>;

fn api() -> TestApi {
    api_with(RecordingSms::default())
}

fn api_with<N: Sms>(sms: N) -> TestApi<N> {
    let t0: DateTime<Utc> = "2026-11-23T09:00:00Z".parse().unwrap();
    App {
        queue: MemoryQueue::default(),
        otp: Otp {
            profiles: MemoryProfiles::with([Profile {
                user_id: "alice".into(),
                display_name: "Alice".into(),
                phone: "+31612345678".into(),
                mfa_serial: Some("arn:aws:iam::123456789012:mfa/alice".into()),
            }]),
            store: MemoryStore::default(),
            sms,
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

/// The delivery step on everything queued so far; the number of requests it found.
async fn deliver<N: Sms>(api: &TestApi<N>) -> usize {
    let queued = api.queue.take();
    for (i, request) in queued.iter().enumerate() {
        let id = format!("message-{i}");
        let request = CodeRequest {
            user: &request.user,
            purpose: &request.purpose,
            id: Some(&id),
        };
        // A failed SMS is the delivery step's to retry; the API answered already.
        let _ = api.otp.deliver_code(request).await;
    }
    queued.len()
}

/// A sample request from the principal `user_arn` (none: no IAM identity).
fn from_caller(file: &str, user_arn: Option<&str>, body: Option<Value>) -> Request {
    let mut event = load_event(file);
    event["requestContext"]["identity"]["userArn"] = user_arn.map_or(Value::Null, Value::from);
    if let Some(body) = body {
        event["body"] = Value::String(body.to_string());
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

#[tokio::test]
async fn every_sample_request_gets_its_answer() {
    let api = api();
    let expected: Vec<(&str, u16, Value)> = vec![
        ("01-send.json", 202, json!({"status": "accepted"})),
        ("02-verify.json", 200, json!({"valid": true})),
        ("03-mfa-verify.json", 200, json!({"valid": true})),
        (
            "04-send-unknown-user.json",
            202,
            json!({"status": "accepted"}),
        ),
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
    let files: Vec<String> = event_files("otp-validator")
        .into_iter()
        .filter(|f| !f.contains("-sqs-"))
        .collect();
    assert_eq!(files.len(), expected.len());
    for (file, (name, status, body)) in files.iter().zip(expected) {
        assert!(file.ends_with(name), "{file}");
        let response = api.handle(request(file)).await;
        assert_eq!(response.status().as_u16(), status, "{file}");
        assert_eq!(json_body(&response), body, "{file}");
        deliver(&api).await;
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
    let per_hour = api.otp.limits.caller_sends_per_hour;
    for _ in 0..per_hour {
        let sent = api.handle(request("otp-validator/01-send.json")).await;
        assert_eq!(sent.status().as_u16(), 202);
    }
    let limited = api.handle(request("otp-validator/01-send.json")).await;
    assert_eq!(limited.status().as_u16(), 429);
    assert_eq!(limited.headers()["retry-after"], "3600");
    assert_eq!(json_body(&limited)["retry_after_seconds"], 3600);

    let misses = api.otp.limits.caller_misses_per_window;
    for _ in 0..misses {
        let wrong = with_body(
            "otp-validator/02-verify.json",
            json!({"user": "nobody", "purpose": "start-instance", "code": "000000"}),
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

/// Every session of one role is one caller: a new session name does not buy a new budget. A
/// request without an IAM identity is refused before anything is done.
#[tokio::test]
async fn callers_are_keyed_on_their_role_not_their_session() {
    let api = api();
    let role = "arn:aws:sts::123456789012:assumed-role/OtpCaller";
    let per_hour = api.otp.limits.caller_sends_per_hour;
    for i in 0..per_hour {
        let arn = format!("{role}/session-{i}");
        let sent = api
            .handle(from_caller("otp-validator/01-send.json", Some(&arn), None))
            .await;
        assert_eq!(sent.status().as_u16(), 202);
    }
    let fresh_session = format!("{role}/yet-another-session");
    let refused = api
        .handle(from_caller(
            "otp-validator/01-send.json",
            Some(&fresh_session),
            None,
        ))
        .await;
    assert_eq!(refused.status().as_u16(), 429);
    let other = "arn:aws:iam::123456789012:user/ops";
    let sent = api
        .handle(from_caller("otp-validator/01-send.json", Some(other), None))
        .await;
    assert_eq!(
        sent.status().as_u16(),
        202,
        "another principal has its own budget"
    );

    let queued = api.queue.take().len();
    let anonymous = api
        .handle(from_caller("otp-validator/01-send.json", None, None))
        .await;
    assert_eq!(anonymous.status().as_u16(), 403);
    assert!(
        api.queue.take().is_empty(),
        "nothing queued for nobody ({queued} before)"
    );
}

/// An SMS step that always fails.
struct BrokenSms;

impl Sms for BrokenSms {
    async fn send(&self, _phone: &str, _text: &str) -> Result<(), OtpError> {
        Err(OtpError::Sms(fleet_core::ServiceError::new(
            "SNS",
            fleet_core::ErrorClass::Throttled,
            "Throttling",
        )))
    }
}

/// Everything a caller sees for `user` over a script of sends (delivered between requests) and
/// guesses: status, body and `Retry-After` of every answer.
async fn seen<N: Sms>(api: &TestApi<N>, user: &str) -> Vec<(u16, Value, Option<String>)> {
    let mut seen = Vec::new();
    let mut answer = |response: Response<Body>| {
        let retry = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        seen.push((response.status().as_u16(), json_body(&response), retry));
    };
    for round in 0..4 {
        for _ in 0..12 {
            let send = json!({"user": user, "purpose": "start-instance"});
            answer(
                api.handle(with_body("otp-validator/01-send.json", send))
                    .await,
            );
            deliver(api).await;
        }
        for guess in 0..20 {
            let code = format!("{round}{guess:02}000");
            let verify = json!({"user": user, "purpose": "start-instance", "code": code});
            answer(
                api.handle(with_body("otp-validator/02-verify.json", verify))
                    .await,
            );
        }
        api.otp.clock.advance(Duration::minutes(20));
    }
    seen
}

/// No user enumeration: a known user (whose SMS are delivered, or whose SMS delivery fails) and
/// an unknown user get the same status, body and `Retry-After` for every send and verify,
/// refusals included.
#[tokio::test]
async fn known_and_unknown_users_get_the_same_answers_whatever_the_sms_does() {
    let delivered = api();
    let known = seen(&delivered, "alice").await;
    assert!(!delivered.otp.sms.sent().is_empty());
    let unknown = seen(&api(), "zed").await;
    let failing = seen(&api_with(BrokenSms), "alice").await;
    assert_eq!(known, unknown);
    assert_eq!(known, failing);
    let statuses: std::collections::BTreeSet<u16> = known.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(
        statuses,
        [202, 401, 429].into(),
        "the script reaches every refusal"
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
