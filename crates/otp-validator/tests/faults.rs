//! Faults (issue 18): `POST /otp/send` with SQS SendMessage, and the SMS delivery step with SNS
//! Publish, throttled (then answered, or throughout), answering 503 on every attempt, or not
//! answering at all. The SDK's retry absorbs passing throttling. A code request that cannot be
//! queued is a 503 the caller retries (never a 202 for a request nobody will deliver); an SMS
//! that cannot be sent puts its message in `batchItemFailures`, so SQS delivers it again, and
//! that redelivery sends it once: no second SMS after one SNS accepted.

use aws_sdk_sns::operation::publish::{PublishError, PublishOutput};
use aws_sdk_sqs::operation::send_message::{SendMessageError, SendMessageOutput};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use chrono::{DateTime, Utc};
use fleet_core::{EventHandler, FixedClock, HttpHandler};
use fleet_otp::aws::SnsSms;
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms, ScriptedDigits};
use fleet_otp::ports::Sms;
use fleet_otp::{HmacKey, Limits, Otp, Profile};
use fleet_testkit::faults::{Fault, ATTEMPTS};
use fleet_testkit::{inject, load_event};
use lambda_runtime::{Context, LambdaEvent};
use otp_validator::aws::SqsQueue;
use otp_validator::{App, Sender};
use serde_json::{json, Value};

const PHONE: &str = "+31612345678";
/// The two messages of the sample batch: alice's code request, and one that is no code request
/// (always returned, whatever happens to SNS).
const ALICE: &str = "5f0c2a9e-1b7d-4c1e-9f3a-6d2b8e4c7a01";
const NOT_A_REQUEST: &str = "9b3e7d21-4a6f-4f0b-8c2d-1e5a7c9b3d02";

fn otp<N: Sms>(sms: N) -> Otp<MemoryProfiles, MemoryStore, N, FakeMfa, ScriptedDigits, FixedClock> {
    let t0: DateTime<Utc> = "2026-11-23T09:00:00Z".parse().unwrap();
    Otp {
        profiles: MemoryProfiles::with([Profile {
            user_id: "alice".into(),
            display_name: "Alice".into(),
            phone: PHONE.into(),
            mfa_serial: None,
        }]),
        store: MemoryStore::default(),
        sms,
        mfa: FakeMfa::default(),
        digits: ScriptedDigits::new(["514399"]),
        clock: FixedClock::at(t0),
        key: HmacKey::new(*b"0123456789abcdef0123456789abcdef").unwrap(),
        limits: Limits::default(),
    }
}

/// (status, body, attempts the mock saw) of the sample `POST /otp/send` with a fault on SQS
/// SendMessage.
async fn queue_with(fault: Fault) -> (u16, Value, usize) {
    let sqs = inject!(
        aws_sdk_sqs,
        aws_sdk_sqs::Client::send_message,
        fault,
        || SendMessageError::generic(
            aws_sdk_sqs::error::ErrorMetadata::builder()
                .code("RequestThrottled")
                .message("Rate exceeded")
                .build()
        ),
        || SendMessageOutput::builder().message_id("queued-1").build()
    );
    let app = App {
        otp: otp(RecordingSms::default()),
        queue: SqsQueue::new(
            sqs.client.clone(),
            "https://sqs.eu-west-1.amazonaws.com/123456789012/fleet-otp-code-requests",
        ),
    };
    let request = load_event("otp-validator/01-send.json").to_string();
    let response = app
        .handle(lambda_http::request::from_str(&request).unwrap())
        .await;
    let body = serde_json::from_slice(response.body().as_ref()).unwrap();
    (response.status().as_u16(), body, sqs.attempts())
}

fn unavailable() -> Value {
    json!({"error": "temporarily unavailable; try again"})
}

#[tokio::test]
async fn queueing_throttled_then_answered_is_retried_and_accepted() {
    assert_eq!(
        queue_with(Fault::ThrottledThenOk).await,
        (202, json!({"status": "accepted"}), ATTEMPTS)
    );
}

#[tokio::test]
async fn queueing_throttled_throughout_is_a_503_to_try_again() {
    assert_eq!(
        queue_with(Fault::Throttled).await,
        (503, unavailable(), ATTEMPTS)
    );
}

#[tokio::test]
async fn queueing_5xx_is_a_503_to_try_again() {
    assert_eq!(
        queue_with(Fault::ServerError).await,
        (503, unavailable(), ATTEMPTS)
    );
}

#[tokio::test]
async fn queueing_timeout_is_a_503_to_try_again() {
    assert_eq!(
        queue_with(Fault::Timeout).await,
        (503, unavailable(), ATTEMPTS)
    );
}

/// The messages of one delivery of the sample batch that SQS must deliver again.
async fn deliver(sender: &Sender<impl fleet_otp::OtpService>) -> Vec<String> {
    let event = load_event("otp-validator/10-sqs-code-requests.json");
    let response = sender
        .handle(LambdaEvent::new(event, Context::default()))
        .await
        .expect("a batch is answered with its failures, not an error");
    response
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect()
}

/// The sample batch delivered with a fault on SNS Publish, then twice more once SNS answers
/// (SQS's redelivery, and a duplicate delivery). Returns the messages the first delivery handed
/// back, the attempts the mock saw, and the SMS sent by the later deliveries.
async fn sms_with(fault: Fault) -> (Vec<String>, usize, usize) {
    let sns = inject!(
        aws_sdk_sns,
        aws_sdk_sns::Client::publish,
        fault,
        || PublishError::generic(
            aws_sdk_sns::error::ErrorMetadata::builder()
                .code("Throttling")
                .message("Rate exceeded")
                .build()
        ),
        || PublishOutput::builder().message_id("sms-1").build()
    );
    let mut sender = Sender {
        otp: otp(SnsSms::new(sns.client.clone(), None)),
    };
    let handed_back = deliver(&sender).await;
    let publish = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| r.phone_number() == Some(PHONE))
        .then_output(|| PublishOutput::builder().message_id("sms-2").build());
    sender.otp.sms = SnsSms::new(
        mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&publish]),
        None,
    );
    for _ in 0..2 {
        assert_eq!(deliver(&sender).await, [NOT_A_REQUEST]);
    }
    (handed_back, sns.attempts(), publish.num_calls())
}

#[tokio::test]
async fn sms_throttled_then_answered_is_retried_sent_and_never_sent_again() {
    assert_eq!(
        sms_with(Fault::ThrottledThenOk).await,
        (vec![NOT_A_REQUEST.to_owned()], ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn sms_throttled_throughout_is_handed_back_to_sqs_and_sent_once_on_redelivery() {
    assert_eq!(
        sms_with(Fault::Throttled).await,
        (
            vec![ALICE.to_owned(), NOT_A_REQUEST.to_owned()],
            ATTEMPTS,
            1
        )
    );
}

#[tokio::test]
async fn sms_5xx_is_handed_back_to_sqs_and_sent_once_on_redelivery() {
    assert_eq!(
        sms_with(Fault::ServerError).await,
        (
            vec![ALICE.to_owned(), NOT_A_REQUEST.to_owned()],
            ATTEMPTS,
            1
        )
    );
}

/// SNS may have taken an SMS whose answer never came: the redelivery sends a new code (the
/// earlier one is replaced), which is the at-least-once delivery a lost answer allows.
#[tokio::test]
async fn sms_timeout_is_handed_back_to_sqs_and_sent_once_on_redelivery() {
    assert_eq!(
        sms_with(Fault::Timeout).await,
        (
            vec![ALICE.to_owned(), NOT_A_REQUEST.to_owned()],
            ATTEMPTS,
            1
        )
    );
}
