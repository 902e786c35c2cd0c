//! A budget document and the rules over it, as pure functions of the state and the instant. The
//! same document serves a user (codes, guesses, accepted tokens), a calling principal (requests
//! and misses) and an SMS destination (sends).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub code_length: usize,
    pub code_ttl: Duration,
    /// At most this many sends per `send_window`; after that each send waits twice as long as
    /// the one before (`send_window`, then 2×, 4×, … up to a day).
    pub sends_per_window: usize,
    pub send_window: Duration,
    pub wrong_per_code: u32,
    /// Failed verifications (codes and MFA tokens) per user per `failure_window`.
    pub failures_per_window: usize,
    pub failure_window: Duration,
    /// A token accepted once is refused again for this long (its 30 s step, with drift).
    pub mfa_replay_window: Duration,
    /// Code requests per calling principal per hour, whoever they are for.
    pub caller_sends_per_hour: usize,
    /// Misses per calling principal per `failure_window`: guesses for users with nothing
    /// outstanding, tokens for users without a device.
    pub caller_misses_per_window: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            code_length: 6,
            code_ttl: Duration::minutes(5),
            sends_per_window: 3,
            send_window: Duration::minutes(15),
            wrong_per_code: 5,
            failures_per_window: 10,
            failure_window: Duration::hours(24),
            mfa_replay_window: Duration::seconds(90),
            caller_sends_per_hour: 30,
            caller_misses_per_window: 50,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    /// HMAC of the code, bound to user and purpose.
    pub sealed: String,
    pub expires_at: DateTime<Utc>,
    /// Wrong tries against this code.
    pub wrong: u32,
    pub used: bool,
    /// The send request that made it (a redelivered request makes no second code).
    #[serde(default)]
    pub request: Option<String>,
    /// The SMS was accepted by SNS.
    #[serde(default)]
    pub sent: bool,
}

impl CodeRecord {
    pub fn outstanding(&self, now: DateTime<Utc>, limits: &Limits) -> bool {
        !self.used && self.expires_at > now && self.wrong < limits.wrong_per_code
    }
}

/// A purpose's codes, newest last. Older states held one record per purpose; they read as a
/// list of one.
mod one_or_many {
    use super::CodeRecord;
    use serde::{Deserialize, Deserializer};
    use std::collections::BTreeMap;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Many(Vec<CodeRecord>),
        One(CodeRecord),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Vec<CodeRecord>>, D::Error> {
        let stored = BTreeMap::<String, Stored>::deserialize(d)?;
        Ok(stored
            .into_iter()
            .map(|(purpose, codes)| match codes {
                Stored::Many(codes) => (purpose, codes),
                Stored::One(code) => (purpose, vec![code]),
            })
            .collect())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    /// The outstanding codes per purpose: a code already sent stays valid when another is sent
    /// (at most `sends_per_window` per purpose, which is all one phone can receive in a TTL).
    #[serde(default, deserialize_with = "one_or_many::deserialize")]
    pub codes: BTreeMap<String, Vec<CodeRecord>>,
    #[serde(default)]
    pub sends: Vec<DateTime<Utc>>,
    #[serde(default)]
    pub failures: Vec<DateTime<Utc>>,
    /// Sealed MFA tokens accepted recently, and when.
    #[serde(default)]
    pub mfa_accepted: Vec<(String, DateTime<Utc>)>,
}

/// How long until something is allowed again.
pub type RetryAfter = Duration;

impl UserState {
    /// Forgets what no rule looks at any more.
    pub fn prune(&mut self, now: DateTime<Utc>, limits: &Limits) {
        let day = Duration::hours(24).max(limits.failure_window);
        self.sends.retain(|t| now - *t < day);
        self.failures.retain(|t| now - *t < limits.failure_window);
        self.mfa_accepted
            .retain(|(_, t)| now - *t < limits.mfa_replay_window);
        for codes in self.codes.values_mut() {
            codes.retain(|c| c.expires_at > now);
        }
        self.codes.retain(|_, codes| !codes.is_empty());
    }

    /// Adds a code for `purpose`, dropping the oldest beyond the per-purpose limit.
    pub fn add_code(&mut self, purpose: &str, record: CodeRecord, limits: &Limits) {
        let codes = self.codes.entry(purpose.to_owned()).or_default();
        codes.push(record);
        let excess = codes.len().saturating_sub(limits.sends_per_window.max(1));
        codes.drain(..excess);
    }

    /// The code a send request made, if any.
    pub fn code_for_request(&mut self, purpose: &str, request: &str) -> Option<&mut CodeRecord> {
        self.codes
            .get_mut(purpose)?
            .iter_mut()
            .find(|c| c.request.as_deref() == Some(request))
    }

    /// `Err(wait)` while a calling principal has spent its hourly requests.
    pub fn caller_may_send(&self, now: DateTime<Utc>, limits: &Limits) -> Result<(), RetryAfter> {
        match spent(
            &self.sends,
            limits.caller_sends_per_hour,
            Duration::hours(1),
            now,
        ) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// `Some(wait)` while a calling principal has spent its misses.
    pub fn caller_locked(&self, now: DateTime<Utc>, limits: &Limits) -> Option<RetryAfter> {
        spent(
            &self.failures,
            limits.caller_misses_per_window,
            limits.failure_window,
            now,
        )
    }

    /// `Err(wait)` while sending is rate-limited.
    pub fn may_send(&self, now: DateTime<Utc>, limits: &Limits) -> Result<(), RetryAfter> {
        let mut wait = Duration::zero();
        let in_window: Vec<&DateTime<Utc>> = self
            .sends
            .iter()
            .filter(|t| now - **t < limits.send_window)
            .collect();
        if in_window.len() >= limits.sends_per_window {
            if let Some(oldest) = in_window.iter().min() {
                wait = wait.max(**oldest + limits.send_window - now);
            }
        }
        let beyond = self.sends.len().saturating_sub(limits.sends_per_window);
        if self.sends.len() >= limits.sends_per_window {
            let factor = 1i32 << beyond.min(7);
            let gap = (limits.send_window * factor).min(Duration::hours(24));
            if let Some(last) = self.sends.iter().max() {
                wait = wait.max(*last + gap - now);
            }
        }
        if wait > Duration::zero() {
            Err(wait)
        } else {
            Ok(())
        }
    }

    /// `Some(wait)` while verification is refused: the failure budget is spent.
    pub fn locked(&self, now: DateTime<Utc>, limits: &Limits) -> Option<RetryAfter> {
        spent(
            &self.failures,
            limits.failures_per_window,
            limits.failure_window,
            now,
        )
    }

    pub fn fail(&mut self, now: DateTime<Utc>) {
        self.failures.push(now);
    }

    /// Gives back one failure recorded at `at` (a reserved attempt that turned out not to be one).
    pub fn unfail(&mut self, at: DateTime<Utc>) {
        if let Some(i) = self.failures.iter().rposition(|t| *t == at) {
            self.failures.remove(i);
        }
    }
}

/// `Some(wait)` when `max` of `times` fall within `window` before `now`: the wait until enough
/// have aged out to leave room for one more.
fn spent(
    times: &[DateTime<Utc>],
    max: usize,
    window: Duration,
    now: DateTime<Utc>,
) -> Option<RetryAfter> {
    let mut recent: Vec<&DateTime<Utc>> = times.iter().filter(|t| now - **t < window).collect();
    if recent.len() < max.max(1) {
        return None;
    }
    recent.sort();
    let freeing = recent[recent.len() - max.max(1)];
    Some(*freeing + window - now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        "2026-11-23T09:00:00Z".parse().unwrap()
    }

    #[test]
    fn three_sends_per_window_then_a_growing_cooldown() {
        let limits = Limits::default();
        let mut state = UserState::default();
        let mut now = t0();
        let mut allowed_at = Vec::new();
        // Try every minute for a day; send whenever allowed.
        for _ in 0..24 * 60 {
            state.prune(now, &limits);
            if state.may_send(now, &limits).is_ok() {
                state.sends.push(now);
                allowed_at.push((now - t0()).num_minutes());
            }
            now += Duration::minutes(1);
        }
        assert_eq!(&allowed_at[..7], [0, 1, 2, 17, 47, 107, 227]);
        assert!(allowed_at.len() <= 10, "{allowed_at:?}");
    }

    /// States written before a purpose kept several codes (one record per purpose) still read.
    #[test]
    fn a_state_with_one_code_per_purpose_still_reads() {
        let old = r#"{"codes":{"p":{"sealed":"ab","expires_at":"2026-11-23T09:05:00Z","wrong":1,"used":false}},"sends":[],"failures":[]}"#;
        let state: UserState = serde_json::from_str(old).unwrap();
        assert_eq!(state.codes["p"].len(), 1);
        assert_eq!(state.codes["p"][0].wrong, 1);
        assert!(!state.codes["p"][0].sent);
    }

    #[test]
    fn a_purpose_keeps_its_newest_codes_only() {
        let limits = Limits::default();
        let mut state = UserState::default();
        for i in 0..5 {
            let record = CodeRecord {
                sealed: format!("{i}"),
                expires_at: t0(),
                wrong: 0,
                used: false,
                request: None,
                sent: true,
            };
            state.add_code("p", record, &limits);
        }
        let kept: Vec<&str> = state.codes["p"].iter().map(|c| c.sealed.as_str()).collect();
        assert_eq!(kept, ["2", "3", "4"]);
    }

    #[test]
    fn the_wait_is_reported() {
        let limits = Limits::default();
        let state = UserState {
            sends: vec![t0(), t0(), t0()],
            ..UserState::default()
        };
        assert_eq!(
            state.may_send(t0() + Duration::minutes(5), &limits),
            Err(Duration::minutes(10))
        );
    }

    #[test]
    fn ten_failures_lock_until_the_oldest_ages_out() {
        let limits = Limits::default();
        let mut state = UserState::default();
        for i in 0..10 {
            assert_eq!(state.locked(t0() + Duration::hours(i), &limits), None);
            state.fail(t0() + Duration::hours(i));
        }
        let now = t0() + Duration::hours(10);
        assert_eq!(state.locked(now, &limits), Some(Duration::hours(14)));
        assert_eq!(state.locked(t0() + Duration::hours(24), &limits), None);
    }
}
