//! A user's state and the rules over it, as pure functions of the state and the instant.

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
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    /// The current code per purpose.
    #[serde(default)]
    pub codes: BTreeMap<String, CodeRecord>,
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
        self.codes.retain(|_, c| c.expires_at > now);
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
        let mut recent: Vec<&DateTime<Utc>> = self
            .failures
            .iter()
            .filter(|t| now - **t < limits.failure_window)
            .collect();
        if recent.len() < limits.failures_per_window {
            return None;
        }
        recent.sort();
        // Unlocked when enough failures have aged out to leave room for one more.
        let freeing = recent[recent.len() - limits.failures_per_window];
        Some(*freeing + limits.failure_window - now)
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
