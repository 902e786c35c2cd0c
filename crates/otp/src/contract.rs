//! Contract suites for the OTP ports, run over the AWS adapters and the in-memory ones: profiles
//! and the version-checked state store (DynamoDB in the local stand-in), SMS (SNS in the stand-in,
//! read back from its data API), and the MFA check (STS, whose MFA answers the stand-in fakes:
//! its harness answers with aws-smithy-mocks).

use std::future::Future;

use crate::ports::{MfaCheck, MfaVerdict, Profiles, Sms, StateStore};
use crate::state::{CodeRecord, UserState};
use crate::Profile;

fn profile(user: &str, phone: &str, mfa: Option<&str>) -> Profile {
    Profile {
        user_id: user.to_owned(),
        display_name: user.to_uppercase(),
        phone: phone.to_owned(),
        mfa_serial: mfa.map(str::to_owned),
    }
}

pub trait ProfilesHarness {
    type Profiles: Profiles;
    /// A profiles store holding exactly `profiles` (as an administrator would enter them).
    fn with(&self, profiles: &[Profile]) -> impl Future<Output = Self::Profiles>;
}

/// A known user reads back as entered; an unknown one is `None`; a profile whose phone is not
/// E.164 cannot receive codes and reads as unknown.
pub async fn profiles<H: ProfilesHarness>(h: &H) {
    let alice = profile(
        "alice",
        "+31612345678",
        Some("arn:aws:iam::123456789012:mfa/alice"),
    );
    let bob = profile("bob", "+442071234567", None);
    let broken = profile("carol", "0612345678", None);
    let store = h.with(&[alice.clone(), bob.clone(), broken]).await;
    let get = |user: &'static str| {
        let store = &store;
        async move {
            store
                .get(user)
                .await
                .unwrap_or_else(|e| panic!("get {user}: {e}"))
        }
    };
    assert_eq!(get("alice").await, Some(alice));
    assert_eq!(get("bob").await, Some(bob));
    assert_eq!(get("carol").await, None, "no usable phone: unknown");
    assert_eq!(get("mallory").await, None);
}

/// Version-checked documents per key: the first save needs "no state yet", every later one the
/// version it read; a save against a version that moved on writes nothing and says so.
pub async fn state_store<S: StateStore>(store: &S) {
    let load = |user: &'static str| async move {
        store
            .load(user)
            .await
            .unwrap_or_else(|e| panic!("load {user}: {e}"))
    };
    let save = |user: &'static str, state: UserState, expected: Option<u64>| async move {
        store
            .save(user, &state, expected)
            .await
            .unwrap_or_else(|e| panic!("save {user}: {e}"))
    };
    assert_eq!(load("alice").await, (UserState::default(), None));
    let t0 = "2026-11-23T09:00:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut first = UserState::default();
    first.sends.push(t0);
    first.codes.insert(
        "purpose".into(),
        vec![CodeRecord {
            sealed: "ab12".into(),
            expires_at: t0,
            wrong: 1,
            used: false,
            request: Some("message-1".into()),
            sent: true,
        }],
    );
    assert!(save("alice", first.clone(), None).await, "first save");
    assert!(
        !save("alice", UserState::default(), None).await,
        "a second 'first' save loses"
    );
    let (read, version) = load("alice").await;
    assert_eq!(read, first, "the state round-trips exactly");
    let version = version.unwrap_or_else(|| panic!("a saved state has a version"));
    let mut second = first.clone();
    second.failures.push(t0);
    assert!(save("alice", second.clone(), Some(version)).await);
    assert!(
        !save("alice", first.clone(), Some(version)).await,
        "a save against a stale version writes nothing"
    );
    assert_eq!(load("alice").await.0, second);
    assert_eq!(load("bob").await, (UserState::default(), None), "per user");
}

pub trait SmsHarness {
    type Sms: Sms;
    fn sms(&self) -> &Self::Sms;
    /// (phone, text) of every SMS sent so far.
    fn sent(&self) -> Vec<(String, String)>;
}

/// The text reaches the phone unchanged.
pub async fn sms<H: SmsHarness>(h: &H) {
    h.sms()
        .send("+31612345678", "Your easytocloud code is 012345")
        .await
        .unwrap_or_else(|e| panic!("send: {e}"));
    assert_eq!(
        h.sent(),
        [(
            "+31612345678".to_owned(),
            "Your easytocloud code is 012345".to_owned()
        )]
    );
}

pub trait MfaHarness {
    type Check: MfaCheck;
    /// A device `serial` whose current token is `token`.
    fn device(&self, serial: &str, token: &str) -> Self::Check;
    /// The service cannot answer (throttling, 5xx).
    fn unavailable(&self) -> Self::Check;
}

/// The right token is valid, a wrong one invalid; an unavailable service is never "valid".
pub async fn mfa<H: MfaHarness>(h: &H) {
    let serial = "arn:aws:iam::123456789012:mfa/alice";
    let check = h.device(serial, "246810");
    assert_eq!(check.check(serial, "246810").await, MfaVerdict::Valid);
    assert_eq!(check.check(serial, "135791").await, MfaVerdict::Invalid);
    assert_eq!(
        h.unavailable().check(serial, "246810").await,
        MfaVerdict::Unavailable
    );
}
