//! Domain tests with an injected clock and scripted codes: expiry, single use, purpose binding,
//! budgets across re-sends, unknown users, MFA replay and availability; and the brute-force test.

use chrono::{DateTime, Duration, Utc};
use fleet_core::FixedClock;
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms, ScriptedDigits};
use fleet_otp::OtpService;
use fleet_otp::{
    CodeRequest, Delivery, HmacKey, Limits, MfaOutcome, Otp, OtpError, Profile, SendOutcome,
    Subject, VerifyOutcome,
};

type TestOtp = Otp<MemoryProfiles, MemoryStore, RecordingSms, FakeMfa, ScriptedDigits, FixedClock>;

/// The application that calls the API for its users.
const APP: &str = "arn:aws:sts::123456789012:assumed-role/app";
/// Another principal of the account, trying its luck.
const STRANGER: &str = "arn:aws:iam::123456789012:user/mallory";

fn t0() -> DateTime<Utc> {
    "2026-11-23T09:00:00Z".parse().unwrap()
}

fn otp(codes: &[&str]) -> TestOtp {
    Otp {
        profiles: MemoryProfiles::with([
            Profile {
                user_id: "alice".into(),
                display_name: "Alice".into(),
                phone: "+31612345678".into(),
                mfa_serial: Some("arn:aws:iam::123456789012:mfa/alice".into()),
            },
            Profile {
                user_id: "bob".into(),
                display_name: "Bob".into(),
                phone: "+447700900123".into(),
                mfa_serial: None,
            },
        ]),
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
        digits: ScriptedDigits::new(codes.iter().copied()),
        clock: FixedClock::at(t0()),
        key: HmacKey::new(*b"0123456789abcdef0123456789abcdef").unwrap(),
        limits: Limits::default(),
    }
}

#[tokio::test]
async fn a_code_is_sent_by_sms_stored_only_as_an_hmac_and_valid_once() {
    let o = otp(&["514399"]);
    assert_eq!(
        o.send_code(APP, "alice", "start-instance").await.unwrap(),
        SendOutcome::Sent
    );
    assert_eq!(
        o.sms.sent(),
        [(
            "+31612345678".to_owned(),
            "Your easytocloud code is 514399".to_owned()
        )]
    );
    let stored = serde_json::to_string(&o.store.user("alice").unwrap()).unwrap();
    assert!(!stored.contains("514399"), "{stored}");
    assert!(!stored.contains("+31612345678"));

    assert_eq!(
        o.verify_code(APP, "alice", "start-instance", "514399")
            .await
            .unwrap(),
        VerifyOutcome::Valid
    );
    assert_eq!(
        o.verify_code(APP, "alice", "start-instance", "514399")
            .await
            .unwrap(),
        VerifyOutcome::Invalid,
        "single use"
    );
}

#[tokio::test]
async fn codes_expire_after_five_minutes() {
    let o = otp(&["111111", "222222"]);
    o.send_code(APP, "alice", "p").await.unwrap();
    o.clock.advance(Duration::minutes(5));
    assert_eq!(
        o.verify_code(APP, "alice", "p", "111111").await.unwrap(),
        VerifyOutcome::Invalid
    );
    o.clock.advance(Duration::minutes(20));
    o.send_code(APP, "alice", "p").await.unwrap();
    o.clock.advance(Duration::seconds(299));
    assert_eq!(
        o.verify_code(APP, "alice", "p", "222222").await.unwrap(),
        VerifyOutcome::Valid
    );
}

#[tokio::test]
async fn a_code_is_bound_to_its_purpose_and_user() {
    let o = otp(&["333333"]);
    o.send_code(APP, "alice", "start-instance").await.unwrap();
    assert_eq!(
        o.verify_code(APP, "alice", "stop-instance", "333333")
            .await
            .unwrap(),
        VerifyOutcome::Invalid
    );
    assert_eq!(
        o.verify_code(APP, "bob", "start-instance", "333333")
            .await
            .unwrap(),
        VerifyOutcome::Invalid
    );
    assert_eq!(
        o.verify_code(APP, "alice", "start-instance", "333333")
            .await
            .unwrap(),
        VerifyOutcome::Valid
    );
}

#[tokio::test]
async fn five_wrong_tries_burn_a_code_and_a_resend_does_not_reset_the_user_budget() {
    let o = otp(&["444444", "555555", "565656"]);
    o.send_code(APP, "alice", "p").await.unwrap();
    for _ in 0..5 {
        assert_eq!(
            o.verify_code(APP, "alice", "p", "000000").await.unwrap(),
            VerifyOutcome::Invalid
        );
    }
    assert_eq!(
        o.verify_code(APP, "alice", "p", "444444").await.unwrap(),
        VerifyOutcome::Invalid,
        "burnt"
    );
    assert_eq!(
        o.store.user("alice").unwrap().failures.len(),
        5,
        "a guess with no code outstanding is not the user's failure"
    );
    o.send_code(APP, "alice", "p").await.unwrap();
    for _ in 0..5 {
        o.verify_code(APP, "alice", "p", "000000").await.unwrap();
    }
    assert_eq!(
        o.store.user("alice").unwrap().failures.len(),
        10,
        "the failures before the re-send still count"
    );
    o.send_code(APP, "alice", "q").await.unwrap();
    assert!(
        matches!(
            o.verify_code(APP, "alice", "q", "565656").await.unwrap(),
            VerifyOutcome::Locked { .. }
        ),
        "the tenth failure of the day locks, whatever the re-sends and purposes"
    );
}

#[tokio::test]
async fn ten_failures_a_day_lock_verification_and_the_answer_says_when() {
    let o = otp(&["666666"]);
    for purpose in ["a", "b"] {
        o.send_code(APP, "alice", purpose).await.unwrap();
        for _ in 0..5 {
            o.verify_code(APP, "alice", purpose, "000000")
                .await
                .unwrap();
        }
    }
    o.send_code(APP, "alice", "c").await.unwrap();
    o.clock.advance(Duration::hours(1));
    assert_eq!(
        o.verify_code(APP, "alice", "c", "666666").await.unwrap(),
        VerifyOutcome::Locked {
            retry_after: Duration::hours(23)
        },
        "even the right code is refused while locked"
    );
    assert_eq!(
        o.verify_mfa(APP, "alice", "246810").await.unwrap(),
        MfaOutcome::Locked {
            retry_after: Duration::hours(23)
        }
    );
    assert!(
        o.mfa.checks.lock().unwrap().is_empty(),
        "no STS call while locked"
    );
}

#[tokio::test]
async fn sms_per_phone_are_capped() {
    let o = otp(&["123123"]);
    for _ in 0..3 {
        assert_eq!(
            o.send_code(APP, "bob", "p").await.unwrap(),
            SendOutcome::Sent
        );
    }
    assert_eq!(
        o.send_code(APP, "bob", "p").await.unwrap(),
        SendOutcome::Limited {
            retry_after: Duration::minutes(15)
        }
    );
    assert_eq!(o.sms.sent().len(), 3);
}

/// What a caller sees of a user: every answer of a script of sends and guesses.
async fn answers(o: &TestOtp, user: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for round in 0..3 {
        for _ in 0..4 {
            seen.push(format!(
                "{:?}",
                o.send_code(STRANGER, user, "p").await.unwrap()
            ));
        }
        for guess in 0..7 {
            let code = format!("{round}{guess}0000");
            let outcome = o.verify_code(STRANGER, user, "p", &code).await.unwrap();
            seen.push(format!("{outcome:?}"));
        }
        o.clock.advance(Duration::minutes(20));
    }
    seen
}

/// A known and an unknown user answer a stranger's sends and guesses the same, budgets and
/// refusals included; only the known one receives SMS.
#[tokio::test]
async fn unknown_users_get_the_same_answers_and_budgets_but_no_sms() {
    let known = answers(&otp(&["777777"]), "bob").await;
    let o = otp(&["777777"]);
    let unknown = answers(&o, "mallory").await;
    assert_eq!(known, unknown);
    assert!(known.iter().any(|a| a.starts_with("Limited")), "{known:?}");
    assert!(o.sms.sent().is_empty());
    assert_eq!(
        o.verify_mfa(APP, "nobody", "123456").await.unwrap(),
        MfaOutcome::Invalid
    );
}

#[tokio::test]
async fn mfa_tokens_are_checked_once_and_replays_refused() {
    let o = otp(&[]);
    assert_eq!(
        o.verify_mfa(APP, "alice", "246810").await.unwrap(),
        MfaOutcome::Valid
    );
    assert_eq!(
        o.verify_mfa(APP, "alice", "246810").await.unwrap(),
        MfaOutcome::Invalid,
        "replay"
    );
    assert_eq!(
        o.mfa.checks.lock().unwrap().len(),
        1,
        "a replay never reaches STS"
    );
    o.clock.advance(Duration::seconds(91));
    assert_eq!(
        o.verify_mfa(APP, "alice", "246810").await.unwrap(),
        MfaOutcome::Valid,
        "a later step"
    );
    assert_eq!(
        o.verify_mfa(APP, "alice", "135790").await.unwrap(),
        MfaOutcome::Invalid
    );
    assert_eq!(
        o.verify_mfa(APP, "alice", "12345").await.unwrap(),
        MfaOutcome::Invalid,
        "not 6 digits"
    );
    assert_eq!(
        o.verify_mfa(APP, "bob", "246810").await.unwrap(),
        MfaOutcome::Invalid,
        "no device"
    );
    assert_eq!(
        o.mfa.checks.lock().unwrap().len(),
        3,
        "malformed tokens and missing devices skip STS"
    );
    assert_eq!(
        o.store.user("alice").unwrap().failures.len(),
        1,
        "only the token checked against her device is her failure"
    );
    assert_eq!(
        o.store
            .state(&Subject::Caller(APP).key())
            .unwrap()
            .failures
            .len(),
        2,
        "the malformed token and bob's missing device are the caller's misses"
    );
}

#[tokio::test]
async fn an_unavailable_sts_is_never_valid_and_costs_no_budget() {
    let mut o = otp(&[]);
    o.mfa.unavailable = true;
    assert_eq!(
        o.verify_mfa(APP, "alice", "246810").await.unwrap(),
        MfaOutcome::Unavailable
    );
    assert!(o.store.user("alice").is_none_or(|s| s.failures.is_empty()));
}

/// 10,000 guesses, one every 10 s for 28 hours, re-sending whenever the code is spent: only the
/// user's and the caller's budgets' worth are even answered, and none succeeds.
#[tokio::test]
async fn brute_force_over_resends_is_held_to_the_budget() {
    let o = otp(&["987654"]);
    let mut checked = 0;
    let mut valid = 0;
    let mut locked = 0;
    let mut sends = 0;
    for guess in 0..10_000u32 {
        if guess % 5 == 0 && o.send_code(APP, "alice", "p").await.unwrap() == SendOutcome::Sent {
            sends += 1;
        }
        match o
            .verify_code(APP, "alice", "p", &format!("{guess:06}"))
            .await
            .unwrap()
        {
            VerifyOutcome::Valid => {
                valid += 1;
                checked += 1;
            }
            VerifyOutcome::Invalid => checked += 1,
            VerifyOutcome::Locked { retry_after } => {
                assert!(retry_after > Duration::zero());
                locked += 1;
            }
        }
        o.clock.advance(Duration::seconds(10));
    }
    let elapsed = o.clock_now() - t0();
    let windows = elapsed.num_hours() / 24 + 1;
    assert_eq!(valid, 0);
    let per_window = o.limits.failures_per_window + o.limits.caller_misses_per_window;
    assert!(
        checked <= per_window * windows as usize,
        "{checked} guesses answered in {windows} windows"
    );
    assert_eq!(checked + locked, 10_000);
    assert!(
        sends <= 10 * windows as usize,
        "{sends} SMS in {windows} windows"
    );
    println!(
        "brute force: {checked} of 10,000 guesses checked, {sends} SMS, over {} h",
        elapsed.num_hours()
    );
}

trait ClockNow {
    fn clock_now(&self) -> DateTime<Utc>;
}

impl ClockNow for TestOtp {
    fn clock_now(&self) -> DateTime<Utc> {
        use fleet_core::Clock;
        self.clock.now()
    }
}

/// An MFA check that takes a while (it yields to the other requests several times) and counts
/// the tokens it was asked about.
#[derive(Default)]
struct SlowMfa {
    checks: std::sync::atomic::AtomicUsize,
}

impl fleet_otp::ports::MfaCheck for SlowMfa {
    async fn check(&self, _serial: &str, _token: &str) -> fleet_otp::ports::MfaVerdict {
        self.checks
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
        fleet_otp::ports::MfaVerdict::Invalid
    }
}

/// With one guess left in the budget, five parallel MFA requests reach STS once: each attempt is
/// reserved before the check, so the ones that lose the race are refused, not checked for free.
#[tokio::test]
async fn parallel_mfa_requests_cannot_check_more_tokens_than_the_budget_allows() {
    let base = otp(&[]);
    let o = Otp {
        profiles: base.profiles,
        store: base.store,
        sms: base.sms,
        mfa: SlowMfa::default(),
        digits: base.digits,
        clock: base.clock,
        key: base.key,
        limits: base.limits,
    };
    let budget = o.limits.failures_per_window;
    for _ in 0..budget - 1 {
        assert_eq!(
            o.verify_mfa(APP, "alice", "000000").await.unwrap(),
            MfaOutcome::Invalid
        );
        o.clock.advance(Duration::seconds(1));
    }
    let tokens = ["111111", "222222", "333333", "444444", "555555"];
    let outcomes = futures_join_all(tokens.iter().map(|t| o.verify_mfa(APP, "alice", t))).await;
    assert_eq!(
        o.mfa.checks.load(std::sync::atomic::Ordering::SeqCst),
        budget,
        "one check left in the budget: {outcomes:?}"
    );
    let locked = outcomes
        .iter()
        .filter(|r| matches!(r, Ok(MfaOutcome::Locked { .. })))
        .count();
    assert_eq!(locked, 4, "{outcomes:?}");
}

/// Runs the futures concurrently on this task (no extra dependency).
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, out) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// A stranger's guesses and tokens for users with nothing outstanding are its own misses: after
/// any number of them, the users' own codes and tokens still work, and the stranger is refused
/// once its budget is spent.
#[tokio::test]
async fn strangers_cannot_lock_a_user_out() {
    let o = otp(&["818181"]);
    let misses = o.limits.caller_misses_per_window;
    for i in 0..misses {
        let wrong = format!("{i:06}");
        assert_eq!(
            o.verify_code(STRANGER, "alice", "p", &wrong).await.unwrap(),
            VerifyOutcome::Invalid
        );
    }
    for user in ["alice", "bob"] {
        assert!(matches!(
            o.verify_code(STRANGER, user, "p", "000000").await.unwrap(),
            VerifyOutcome::Locked { .. }
        ));
        assert!(matches!(
            o.verify_mfa(STRANGER, user, "246810").await.unwrap(),
            MfaOutcome::Locked { .. }
        ));
    }
    assert!(o.store.user("alice").is_none_or(|s| s.failures.is_empty()));
    assert!(
        o.mfa.checks.lock().unwrap().is_empty(),
        "a locked caller reaches no STS"
    );
    // The user, through the application, is not affected.
    o.send_code(APP, "alice", "p").await.unwrap();
    assert_eq!(
        o.verify_code(APP, "alice", "p", "818181").await.unwrap(),
        VerifyOutcome::Valid
    );
    assert_eq!(
        o.verify_mfa(APP, "alice", "246810").await.unwrap(),
        MfaOutcome::Valid
    );
}

/// A stranger's code requests count against the stranger; the phone's cap holds whoever asks;
/// a code already sent is never invalidated by the ones sent after it.
#[tokio::test]
async fn sends_count_against_the_caller_and_a_sent_code_stays_valid() {
    let o = otp(&["111111", "222222", "333333", "444444"]);
    assert_eq!(
        o.send_code(APP, "alice", "p").await.unwrap(),
        SendOutcome::Sent
    );
    let per_hour = o.limits.caller_sends_per_hour;
    for i in 0..per_hour {
        let requested = o.request_code(STRANGER, "alice", "p").await.unwrap();
        assert_eq!(requested, SendOutcome::Sent, "request {i}");
    }
    assert!(matches!(
        o.request_code(STRANGER, "alice", "p").await.unwrap(),
        SendOutcome::Limited { .. }
    ));
    assert_eq!(
        o.request_code(APP, "bob", "p").await.unwrap(),
        SendOutcome::Sent,
        "the application's own budget is untouched"
    );
    // The stranger's requests that are delivered reach the phone's cap (3 per 15 minutes).
    for _ in 0..3 {
        let request = CodeRequest {
            user: "alice",
            purpose: "p",
            id: None,
        };
        o.deliver_code(request).await.unwrap();
    }
    assert_eq!(o.sms.sent().len(), 3, "the phone's cap holds");
    assert_eq!(
        o.verify_code(APP, "alice", "p", "111111").await.unwrap(),
        VerifyOutcome::Valid,
        "the first code still checks"
    );
}

/// An SMS step that fails the first `failures` sends.
struct FailingSms {
    failures: std::sync::atomic::AtomicUsize,
    inner: RecordingSms,
}

impl fleet_otp::ports::Sms for FailingSms {
    async fn send(&self, phone: &str, text: &str) -> Result<(), OtpError> {
        use std::sync::atomic::Ordering;
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Err(OtpError::Sms(fleet_core::ServiceError::new(
                "SNS",
                fleet_core::ErrorClass::Throttled,
                "Throttling",
            )));
        }
        self.inner.send(phone, text).await
    }
}

/// A queued request is delivered at least once: a redelivery after a failed SMS sends a fresh
/// code without charging the phone again; a redelivery after the SMS went out sends nothing.
#[tokio::test]
async fn a_redelivered_request_sends_at_most_one_sms_and_charges_once() {
    let base = otp(&["121212", "343434"]);
    let o = Otp {
        profiles: base.profiles,
        store: base.store,
        sms: FailingSms {
            failures: 1.into(),
            inner: RecordingSms::default(),
        },
        mfa: base.mfa,
        digits: base.digits,
        clock: base.clock,
        key: base.key,
        limits: base.limits,
    };
    let request = CodeRequest {
        user: "alice",
        purpose: "p",
        id: Some("message-1"),
    };
    assert!(matches!(
        o.deliver_code(request).await,
        Err(OtpError::Sms(_))
    ));
    assert_eq!(o.deliver_code(request).await.unwrap(), Delivery::Sent);
    assert_eq!(
        o.deliver_code(request).await.unwrap(),
        Delivery::AlreadySent
    );
    assert_eq!(o.sms.inner.sent().len(), 1);
    let phone = o.store.state(&Subject::Destination("+31612345678").key());
    assert_eq!(
        phone.unwrap().sends.len(),
        1,
        "one charge against the phone"
    );
    let codes = o.store.user("alice").unwrap().codes["p"].clone();
    assert_eq!(codes.len(), 1, "the failed code was replaced, not added");
    assert_eq!(
        o.verify_code(APP, "alice", "p", "121212").await.unwrap(),
        VerifyOutcome::Invalid,
        "the code whose SMS failed is gone"
    );
    assert_eq!(
        o.verify_code(APP, "alice", "p", "343434").await.unwrap(),
        VerifyOutcome::Valid
    );
}
