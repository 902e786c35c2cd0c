//! Domain tests with an injected clock and scripted codes: expiry, single use, purpose binding,
//! budgets across re-sends, unknown users, MFA replay and availability; and the brute-force test.

use chrono::{DateTime, Duration, Utc};
use fleet_core::FixedClock;
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms, ScriptedDigits};
use fleet_otp::OtpService;
use fleet_otp::{HmacKey, Limits, MfaOutcome, Otp, Profile, SendOutcome, VerifyOutcome};

type TestOtp = Otp<MemoryProfiles, MemoryStore, RecordingSms, FakeMfa, ScriptedDigits, FixedClock>;

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
        o.send_code("alice", "start-instance").await.unwrap(),
        SendOutcome::Sent
    );
    assert_eq!(
        o.sms.sent(),
        [(
            "+31612345678".to_owned(),
            "Your easytocloud code is 514399".to_owned()
        )]
    );
    let stored = serde_json::to_string(&o.store.state("alice").unwrap()).unwrap();
    assert!(!stored.contains("514399"), "{stored}");
    assert!(!stored.contains("+31612345678"));

    assert_eq!(
        o.verify_code("alice", "start-instance", "514399")
            .await
            .unwrap(),
        VerifyOutcome::Valid
    );
    assert_eq!(
        o.verify_code("alice", "start-instance", "514399")
            .await
            .unwrap(),
        VerifyOutcome::Invalid,
        "single use"
    );
}

#[tokio::test]
async fn codes_expire_after_five_minutes() {
    let o = otp(&["111111", "222222"]);
    o.send_code("alice", "p").await.unwrap();
    o.clock.advance(Duration::minutes(5));
    assert_eq!(
        o.verify_code("alice", "p", "111111").await.unwrap(),
        VerifyOutcome::Invalid
    );
    o.clock.advance(Duration::minutes(20));
    o.send_code("alice", "p").await.unwrap();
    o.clock.advance(Duration::seconds(299));
    assert_eq!(
        o.verify_code("alice", "p", "222222").await.unwrap(),
        VerifyOutcome::Valid
    );
}

#[tokio::test]
async fn a_code_is_bound_to_its_purpose_and_user() {
    let o = otp(&["333333"]);
    o.send_code("alice", "start-instance").await.unwrap();
    assert_eq!(
        o.verify_code("alice", "stop-instance", "333333")
            .await
            .unwrap(),
        VerifyOutcome::Invalid
    );
    assert_eq!(
        o.verify_code("bob", "start-instance", "333333")
            .await
            .unwrap(),
        VerifyOutcome::Invalid
    );
    assert_eq!(
        o.verify_code("alice", "start-instance", "333333")
            .await
            .unwrap(),
        VerifyOutcome::Valid
    );
}

#[tokio::test]
async fn five_wrong_tries_burn_a_code_and_a_resend_does_not_reset_the_user_budget() {
    let o = otp(&["444444", "555555"]);
    o.send_code("alice", "p").await.unwrap();
    for _ in 0..5 {
        assert_eq!(
            o.verify_code("alice", "p", "000000").await.unwrap(),
            VerifyOutcome::Invalid
        );
    }
    assert_eq!(
        o.verify_code("alice", "p", "444444").await.unwrap(),
        VerifyOutcome::Invalid,
        "burnt"
    );
    o.send_code("alice", "p").await.unwrap();
    for _ in 0..3 {
        o.verify_code("alice", "p", "000000").await.unwrap();
    }
    assert_eq!(
        o.store.state("alice").unwrap().failures.len(),
        9,
        "the failures before the re-send still count"
    );
    assert_eq!(
        o.verify_code("alice", "p", "555555").await.unwrap(),
        VerifyOutcome::Valid
    );
    o.send_code("alice", "p").await.unwrap();
    o.verify_code("alice", "p", "000000").await.unwrap();
    assert!(
        matches!(
            o.verify_code("alice", "p", "555555").await.unwrap(),
            VerifyOutcome::Locked { .. }
        ),
        "the tenth failure of the day locks, whatever the re-sends"
    );
}

#[tokio::test]
async fn ten_failures_a_day_lock_verification_and_the_answer_says_when() {
    let o = otp(&["666666"]);
    for purpose in ["a", "b"] {
        o.send_code("alice", purpose).await.unwrap();
        for _ in 0..5 {
            o.verify_code("alice", purpose, "000000").await.unwrap();
        }
    }
    o.send_code("alice", "c").await.unwrap();
    o.clock.advance(Duration::hours(1));
    assert_eq!(
        o.verify_code("alice", "c", "666666").await.unwrap(),
        VerifyOutcome::Locked {
            retry_after: Duration::hours(23)
        },
        "even the right code is refused while locked"
    );
    assert_eq!(
        o.verify_mfa("alice", "246810").await.unwrap(),
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
async fn sends_are_limited_per_user() {
    let o = otp(&["123123"]);
    for _ in 0..3 {
        assert_eq!(o.send_code("bob", "p").await.unwrap(), SendOutcome::Sent);
    }
    assert_eq!(
        o.send_code("bob", "p").await.unwrap(),
        SendOutcome::Limited {
            retry_after: Duration::minutes(15)
        }
    );
    assert_eq!(o.sms.sent().len(), 3);
}

#[tokio::test]
async fn unknown_users_get_the_same_answers_and_budgets_but_no_sms() {
    let o = otp(&["777777"]);
    for _ in 0..3 {
        assert_eq!(
            o.send_code("mallory", "p").await.unwrap(),
            SendOutcome::Sent
        );
    }
    assert!(matches!(
        o.send_code("mallory", "p").await.unwrap(),
        SendOutcome::Limited { .. }
    ));
    assert!(o.sms.sent().is_empty());
    for _ in 0..10 {
        assert_eq!(
            o.verify_code("mallory", "p", "000000").await.unwrap(),
            VerifyOutcome::Invalid
        );
    }
    assert!(matches!(
        o.verify_code("mallory", "p", "000000").await.unwrap(),
        VerifyOutcome::Locked { .. }
    ));
    assert_eq!(
        o.verify_mfa("nobody", "123456").await.unwrap(),
        MfaOutcome::Invalid
    );
}

#[tokio::test]
async fn mfa_tokens_are_checked_once_and_replays_refused() {
    let o = otp(&[]);
    assert_eq!(
        o.verify_mfa("alice", "246810").await.unwrap(),
        MfaOutcome::Valid
    );
    assert_eq!(
        o.verify_mfa("alice", "246810").await.unwrap(),
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
        o.verify_mfa("alice", "246810").await.unwrap(),
        MfaOutcome::Valid,
        "a later step"
    );
    assert_eq!(
        o.verify_mfa("alice", "135790").await.unwrap(),
        MfaOutcome::Invalid
    );
    assert_eq!(
        o.verify_mfa("alice", "12345").await.unwrap(),
        MfaOutcome::Invalid,
        "not 6 digits"
    );
    assert_eq!(
        o.verify_mfa("bob", "246810").await.unwrap(),
        MfaOutcome::Invalid,
        "no device"
    );
    assert_eq!(
        o.mfa.checks.lock().unwrap().len(),
        3,
        "malformed tokens and missing devices skip STS"
    );
    assert_eq!(o.store.state("alice").unwrap().failures.len(), 2);
}

#[tokio::test]
async fn an_unavailable_sts_is_never_valid_and_costs_no_budget() {
    let mut o = otp(&[]);
    o.mfa.unavailable = true;
    assert_eq!(
        o.verify_mfa("alice", "246810").await.unwrap(),
        MfaOutcome::Unavailable
    );
    assert!(o.store.state("alice").is_none_or(|s| s.failures.is_empty()));
}

/// 10,000 guesses, one every 10 s for 28 hours, re-sending whenever the code is spent: only the
/// failure budget's worth are even checked, and none can succeed beyond it.
#[tokio::test]
async fn brute_force_over_resends_is_held_to_the_budget() {
    let o = otp(&["987654"]);
    let mut checked = 0;
    let mut valid = 0;
    let mut locked = 0;
    let mut sends = 0;
    for guess in 0..10_000u32 {
        if guess % 5 == 0 && o.send_code("alice", "p").await.unwrap() == SendOutcome::Sent {
            sends += 1;
        }
        match o
            .verify_code("alice", "p", &format!("{guess:06}"))
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
    assert!(
        checked <= 10 * windows as usize,
        "{checked} guesses checked in {windows} windows"
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
            o.verify_code("alice", "start-instance", "000000")
                .await
                .unwrap(),
            VerifyOutcome::Invalid
        );
    }
    let tokens = ["111111", "222222", "333333", "444444", "555555"];
    let outcomes = futures_join_all(tokens.iter().map(|t| o.verify_mfa("alice", t))).await;
    assert_eq!(
        o.mfa.checks.load(std::sync::atomic::Ordering::SeqCst),
        1,
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
