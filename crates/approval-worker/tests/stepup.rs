//! The step-up adapter over the fleet's OTP library (its in-memory adapters): a code goes by SMS
//! to the approver's profile, counts once, only for the request it was sent for, and the
//! library's send limits and lockout come through as the port's answers.

use approval_worker::ports::{CodeCheck, CodeSent, StepUp};
use approval_worker::stepup::OtpStepUp;
use fleet_core::FixedClock;
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms, ScriptedDigits};
use fleet_otp::{HmacKey, Limits, Otp, Profile};

type MemoryOtp =
    Otp<MemoryProfiles, MemoryStore, RecordingSms, FakeMfa, ScriptedDigits, FixedClock>;

const APPROVER: &str = "approver@example.com";

fn step_up(codes: &[&str]) -> OtpStepUp<MemoryOtp> {
    OtpStepUp(Otp {
        profiles: MemoryProfiles::with([Profile {
            user_id: APPROVER.into(),
            display_name: "Approver".into(),
            phone: "+31612345678".into(),
            mfa_serial: None,
        }]),
        store: MemoryStore::default(),
        sms: RecordingSms::default(),
        mfa: FakeMfa::default(),
        digits: ScriptedDigits::new(codes.iter().copied()),
        clock: FixedClock::at("2026-11-23T09:00:00Z".parse().unwrap()),
        key: HmacKey::new(*b"0123456789abcdef0123456789abcdef").unwrap(),
        limits: Limits::default(),
    })
}

#[tokio::test]
async fn a_code_reaches_the_approver_and_counts_once_for_its_request_only() {
    let step_up = step_up(&["514399"]);
    let sent = step_up.send_code(APPROVER, "approval:req-1").await.unwrap();
    assert_eq!(sent, CodeSent::Sent);
    let texts = step_up.0.sms.sent();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].0, "+31612345678");
    assert!(texts[0].1.contains("514399"), "{texts:?}");

    let other_request = step_up.verify(APPROVER, "approval:req-2", "514399").await;
    assert_eq!(other_request.unwrap(), CodeCheck::Invalid);
    let wrong = step_up.verify(APPROVER, "approval:req-1", "000000").await;
    assert_eq!(wrong.unwrap(), CodeCheck::Invalid);
    let right = step_up.verify(APPROVER, "approval:req-1", "514399").await;
    assert_eq!(right.unwrap(), CodeCheck::Valid);
    let replayed = step_up.verify(APPROVER, "approval:req-1", "514399").await;
    assert_eq!(replayed.unwrap(), CodeCheck::Invalid);
}

#[tokio::test]
async fn an_unknown_approver_gets_no_sms_and_the_same_answer() {
    let step_up = step_up(&["514399"]);
    let sent = step_up
        .send_code("stranger@example.com", "approval:req-1")
        .await;
    assert_eq!(sent.unwrap(), CodeSent::Sent);
    assert!(step_up.0.sms.sent().is_empty());
    // (The library keeps a random code for unknown users too, so answers do not tell who has a
    // phone; nobody receives it.)
    let guess = step_up
        .verify("stranger@example.com", "approval:req-1", "000000")
        .await;
    assert_eq!(guess.unwrap(), CodeCheck::Invalid);
}

#[tokio::test]
async fn sends_beyond_the_limit_are_too_soon_and_guessing_locks() {
    let step_up = step_up(&["111111", "222222", "333333", "444444"]);
    for _ in 0..Limits::default().sends_per_window {
        let sent = step_up.send_code(APPROVER, "approval:req-1").await;
        assert_eq!(sent.unwrap(), CodeSent::Sent);
    }
    let again = step_up.send_code(APPROVER, "approval:req-1").await;
    assert_eq!(again.unwrap(), CodeSent::TooSoon);
    assert_eq!(step_up.0.sms.sent().len(), 3, "no SMS beyond the limit");

    // Five wrong guesses burn the outstanding codes; a fresh code for another request (once the
    // phone's cap allows) takes the approver's daily failures to ten: locked, whatever the code.
    let mut answers = Vec::new();
    for guess in 0..Limits::default().wrong_per_code {
        let code = format!("{guess:06}");
        answers.push(
            step_up
                .verify(APPROVER, "approval:req-1", &code)
                .await
                .unwrap(),
        );
    }
    step_up.0.clock.advance(chrono::Duration::minutes(30));
    let sent = step_up.send_code(APPROVER, "approval:req-2").await;
    assert_eq!(sent.unwrap(), CodeSent::Sent);
    for guess in 0..Limits::default().wrong_per_code {
        let code = format!("{guess:06}");
        answers.push(
            step_up
                .verify(APPROVER, "approval:req-2", &code)
                .await
                .unwrap(),
        );
    }
    assert!(
        answers.iter().all(|a| *a == CodeCheck::Invalid),
        "{answers:?}"
    );
    let right_but_locked = step_up.verify(APPROVER, "approval:req-2", "444444").await;
    assert_eq!(right_but_locked.unwrap(), CodeCheck::Locked);
}

fn vars(extra: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    let mut vars = vec![
        ("APPROVALS_TABLE", "approvals"),
        ("SIGNING_SECRET_ID", "signing"),
        ("SENDER", "approvals@example.com"),
        ("APPROVERS", r#"{"promotion": ["manager@example.com"]}"#),
    ];
    vars.extend_from_slice(extra);
    vars.into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn the_otp_settings_are_read_when_present_and_checked_whole() {
    use approval_worker::config::Config;
    use fleet_core::FromVars;
    assert!(Config::from_vars(&vars(&[])).unwrap().otp.is_none());
    let otp = [
        ("PROFILES_TABLE", "otp-profiles"),
        ("CODES_TABLE", "otp-codes"),
        ("CODES_KEY_PREFIX", "approval"),
        ("OTP_KEY_SECRET_ID", "otp-key"),
    ];
    let config = Config::from_vars(&vars(&otp)).unwrap();
    assert_eq!(config.otp.unwrap().codes_table, "otp-codes");
    let half = Config::from_vars(&vars(&[("PROFILES_TABLE", "otp-profiles")])).unwrap_err();
    assert!(half.to_string().contains("OTP_KEY_SECRET_ID"), "{half}");
}

/// The responder refuses to start (InvalidConfig at init) rather than count decisions without
/// the step-up it was asked for; nothing is called on AWS before that check.
#[tokio::test]
async fn a_responder_asked_for_step_up_without_the_otp_settings_does_not_start() {
    use approval_worker::config::Config;
    use fleet_core::{Env, ErrorClass, FromVars};
    let config = Config::from_vars(&vars(&[("REQUIRE_STEP_UP", "true")])).unwrap();
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let (env, _) = Env::fixed("2026-11-23T09:00:00Z".parse().unwrap());
    let Err(refused) = approval_worker::wire_responder(&sdk, config, env).await else {
        panic!("the responder started without its step-up");
    };
    assert_eq!(refused.class, ErrorClass::InvalidConfig);
    assert!(
        refused.message.contains("PROFILES_TABLE"),
        "{}",
        refused.message
    );
}
