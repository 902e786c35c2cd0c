//! The OTP API's request bodies, from anyone API Gateway lets through: whatever the body, the
//! answer is one of the designed ones and never a server error; a send is queued exactly when it
//! is accepted, for the user and purpose it named; a code is accepted only when it is the one
//! sent for that user and purpose, an MFA token only when it is the user's; the body is JSON.
//! The first byte picks the endpoint (send, verify after a delivered code, MFA verify).
#![no_main]

#[path = "../support.rs"]
mod support;

use chrono::DateTime;
use fleet_core::{FixedClock, HttpHandler};
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms, ScriptedDigits};
use fleet_otp::{CodeRequest, HmacKey, Limits, Otp, OtpService, Profile};
use libfuzzer_sys::fuzz_target;
use otp_validator::memory::MemoryQueue;
use otp_validator::App;
use serde_json::Value;

const SAMPLES: [&str; 3] = [
    include_str!("../../events/otp-validator/01-send.json"),
    include_str!("../../events/otp-validator/02-verify.json"),
    include_str!("../../events/otp-validator/03-mfa-verify.json"),
];
const CODE: &str = "514399";
const TOKEN: &str = "246810";
const MFA: &str = "arn:aws:iam::123456789012:mfa/alice";

type Api = App<
    Otp<MemoryProfiles, MemoryStore, RecordingSms, FakeMfa, ScriptedDigits, FixedClock>,
    MemoryQueue,
>;

fn api() -> Option<Api> {
    Some(App {
        queue: MemoryQueue::default(),
        otp: Otp {
            profiles: MemoryProfiles::with([Profile {
                user_id: "alice".into(),
                display_name: "Alice".into(),
                phone: "+31612345678".into(),
                mfa_serial: Some(MFA.into()),
            }]),
            store: MemoryStore::default(),
            sms: RecordingSms::default(),
            mfa: FakeMfa {
                tokens: [(MFA.to_owned(), TOKEN.to_owned())].into(),
                ..FakeMfa::default()
            },
            digits: ScriptedDigits::new([CODE]),
            clock: FixedClock::at(DateTime::from_timestamp(1_795_424_400, 0)?),
            key: HmacKey::new(*b"0123456789abcdef0123456789abcdef").ok()?,
            limits: Limits::default(),
        },
    })
}

/// `field` of the body when it is a JSON object with that string field.
fn field(body: &[u8], name: &str) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.get(name)?.as_str().map(str::to_owned)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let endpoint = usize::from(selector) % SAMPLES.len();
    let Ok(mut event) = serde_json::from_str::<Value>(SAMPLES[endpoint]) else {
        return;
    };
    event["body"] = Value::String(String::from_utf8_lossy(body).into_owned());
    let Ok(request) = lambda_http::request::from_str(&event.to_string()) else {
        return;
    };
    let Some(api) = api() else {
        return;
    };
    support::block_on(async {
        if endpoint == 1 {
            // A code for alice's start-instance, sent before the fuzzed verify.
            let sent = CodeRequest {
                user: "alice",
                purpose: "start-instance",
                id: Some("m-1"),
            };
            assert!(api.otp.deliver_code(sent).await.is_ok());
        }
        let response = api.handle(request).await;
        let status = response.status().as_u16();
        assert!(
            [200, 202, 400, 401, 413, 429].contains(&status),
            "status {status} for {body:?}"
        );
        let answer: Value = serde_json::from_slice(response.body().as_ref()).expect("a JSON body");
        assert!(answer.is_object());
        // The body as the function read it (lossy UTF-8, as API Gateway would have sent it).
        let text = String::from_utf8_lossy(body);
        let read = |name| field(text.as_bytes(), name);
        let queued = api.queue.take();
        match endpoint {
            0 if status == 202 => {
                assert_eq!(queued.len(), 1, "an accepted send is queued once");
                assert_eq!(Some(&queued[0].user), read("user").as_ref());
                assert_eq!(Some(&queued[0].purpose), read("purpose").as_ref());
            }
            1 if status == 200 => {
                assert_eq!(read("user").as_deref(), Some("alice"));
                assert_eq!(read("purpose").as_deref(), Some("start-instance"));
                assert_eq!(
                    read("code").as_deref(),
                    Some(CODE),
                    "only the code sent is accepted"
                );
            }
            2 if status == 200 => {
                assert_eq!(read("user").as_deref(), Some("alice"));
                assert_eq!(read("token").as_deref(), Some(TOKEN));
            }
            _ => assert!(queued.is_empty(), "nothing queued by status {status}"),
        }
        if endpoint != 0 {
            assert_ne!(status, 202, "only a send is accepted for later");
        }
    });
});
