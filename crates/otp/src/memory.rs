//! In-memory adapters for domain tests and the brute-force test.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use crate::ports::{Digits, MfaCheck, MfaVerdict, OtpError, Profile, Profiles, Sms, StateStore};
use crate::state::UserState;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, Default)]
pub struct MemoryProfiles(pub BTreeMap<String, Profile>);

impl MemoryProfiles {
    pub fn with(profiles: impl IntoIterator<Item = Profile>) -> Self {
        Self(
            profiles
                .into_iter()
                .map(|p| (p.user_id.clone(), p))
                .collect(),
        )
    }
}

impl Profiles for MemoryProfiles {
    /// Like the DynamoDB store, a profile without an E.164 phone cannot receive codes: unknown.
    async fn get(&self, user_id: &str) -> Result<Option<Profile>, OtpError> {
        Ok(self
            .0
            .get(user_id)
            .filter(|p| crate::code::is_e164(&p.phone))
            .cloned())
    }
}

/// Version-checked like the DynamoDB store.
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<BTreeMap<String, (UserState, u64)>>);

impl MemoryStore {
    /// The document under `key` (`Subject::key`).
    pub fn state(&self, key: &str) -> Option<UserState> {
        lock(&self.0).get(key).map(|(s, _)| s.clone())
    }

    /// A user's document.
    pub fn user(&self, user: &str) -> Option<UserState> {
        self.state(&crate::Subject::User(user).key())
    }

    /// Every key with a document, in order.
    pub fn keys(&self) -> Vec<String> {
        lock(&self.0).keys().cloned().collect()
    }
}

impl StateStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<(UserState, Option<u64>), OtpError> {
        Ok(match lock(&self.0).get(key) {
            Some((state, version)) => (state.clone(), Some(*version)),
            None => (UserState::default(), None),
        })
    }

    async fn save(
        &self,
        key: &str,
        state: &UserState,
        expected: Option<u64>,
    ) -> Result<bool, OtpError> {
        let mut all = lock(&self.0);
        let current = all.get(key).map(|(_, v)| *v);
        if current != expected {
            return Ok(false);
        }
        all.insert(
            key.to_owned(),
            (state.clone(), current.map_or(1, |v| v + 1)),
        );
        Ok(true)
    }
}

/// Keeps every text sent: (phone, text).
#[derive(Debug, Default)]
pub struct RecordingSms(pub Mutex<Vec<(String, String)>>);

impl RecordingSms {
    pub fn sent(&self) -> Vec<(String, String)> {
        lock(&self.0).clone()
    }
}

impl Sms for RecordingSms {
    async fn send(&self, phone: &str, text: &str) -> Result<(), OtpError> {
        lock(&self.0).push((phone.to_owned(), text.to_owned()));
        Ok(())
    }
}

/// An MFA device per serial whose current token is known; records every check.
#[derive(Debug, Default)]
pub struct FakeMfa {
    pub tokens: BTreeMap<String, String>,
    pub unavailable: bool,
    pub checks: Mutex<Vec<(String, String)>>,
}

impl MfaCheck for FakeMfa {
    async fn check(&self, serial: &str, token: &str) -> MfaVerdict {
        lock(&self.checks).push((serial.to_owned(), token.to_owned()));
        if self.unavailable {
            return MfaVerdict::Unavailable;
        }
        match self.tokens.get(serial) {
            Some(t) if t == token => MfaVerdict::Valid,
            _ => MfaVerdict::Invalid,
        }
    }
}

/// Hands out the given codes in order (then repeats the last): deterministic "randomness".
#[derive(Debug, Default)]
pub struct ScriptedDigits(pub Mutex<VecDeque<String>>);

impl ScriptedDigits {
    pub fn new<'a>(codes: impl IntoIterator<Item = &'a str>) -> Self {
        Self(Mutex::new(codes.into_iter().map(str::to_owned).collect()))
    }
}

impl Digits for ScriptedDigits {
    fn digits(&self, count: usize) -> Result<String, OtpError> {
        let mut codes = lock(&self.0);
        let code = if codes.len() > 1 {
            codes.pop_front()
        } else {
            codes.front().cloned()
        };
        Ok(code.unwrap_or_else(|| "0".repeat(count)))
    }
}
