//! `send_code`, `verify_code` and `verify_mfa`: load the user's state, decide, save it
//! version-checked (retrying when it moved), then act. Unknown users get the same answers as
//! known ones and the same budgets; only the SMS and the STS call are skipped.

use chrono::{DateTime, Utc};
use std::future::Future;

use crate::code::{mask_phone, HmacKey};
use crate::ports::{Digits, MfaCheck, MfaVerdict, OtpError, Profile, Profiles, Sms, StateStore};
use crate::state::{CodeRecord, Limits, RetryAfter, UserState};
use fleet_core::Clock;

/// Optimistic-concurrency attempts before giving up.
const SAVE_ATTEMPTS: usize = 5;

/// Purpose of IAM MFA tokens in seals and logs.
const MFA_PURPOSE: &str = "iam-mfa";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Sent, or (for an unknown user) answered as if sent.
    Sent,
    Limited {
        retry_after: RetryAfter,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyOutcome {
    Valid,
    Invalid,
    Locked { retry_after: RetryAfter },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MfaOutcome {
    Valid,
    Invalid,
    Locked { retry_after: RetryAfter },
    Unavailable,
}

pub struct Otp<P, S, N, M, D, C> {
    pub profiles: P,
    pub store: S,
    pub sms: N,
    pub mfa: M,
    pub digits: D,
    pub clock: C,
    pub key: HmacKey,
    pub limits: Limits,
}

/// The SMS text.
pub fn sms_text(code: &str) -> String {
    format!("Your easytocloud code is {code}")
}

fn is_code(text: &str, length: usize) -> bool {
    text.len() == length && text.bytes().all(|b| b.is_ascii_digit())
}

/// Loads, applies `decide`, saves version-checked; retries when the state moved on.
async fn update<S: StateStore, T>(
    store: &S,
    limits: &Limits,
    user: &str,
    now: DateTime<Utc>,
    mut decide: impl FnMut(&mut UserState) -> T,
) -> Result<T, OtpError> {
    for _ in 0..SAVE_ATTEMPTS {
        let (mut state, version) = store.load(user).await?;
        state.prune(now, limits);
        let answer = decide(&mut state);
        if store.save(user, &state, version).await? {
            return Ok(answer);
        }
    }
    Err(OtpError::Contended)
}

/// The OTP service as the skill and the API use it, whatever its adapters.
pub trait OtpService: Send + Sync {
    /// The user's profile (`None` for an unknown user).
    fn profile(&self, user: &str)
        -> impl Future<Output = Result<Option<Profile>, OtpError>> + Send;
    /// Digits in a code.
    fn code_length(&self) -> usize;
    fn send_code(
        &self,
        user: &str,
        purpose: &str,
    ) -> impl Future<Output = Result<SendOutcome, OtpError>> + Send;
    fn verify_code(
        &self,
        user: &str,
        purpose: &str,
        code: &str,
    ) -> impl Future<Output = Result<VerifyOutcome, OtpError>> + Send;
    fn verify_mfa(
        &self,
        user: &str,
        token: &str,
    ) -> impl Future<Output = Result<MfaOutcome, OtpError>> + Send;
}

impl<P, S, N, M, D, C> OtpService for Otp<P, S, N, M, D, C>
where
    P: Profiles,
    S: StateStore,
    N: Sms,
    M: MfaCheck,
    D: Digits,
    C: Clock,
{
    async fn profile(&self, user: &str) -> Result<Option<Profile>, OtpError> {
        self.profiles.get(user).await
    }

    fn code_length(&self) -> usize {
        self.limits.code_length
    }

    async fn send_code(&self, user: &str, purpose: &str) -> Result<SendOutcome, OtpError> {
        let now = self.clock.now();
        let code = self.digits.digits(self.limits.code_length)?;
        let sealed = self.key.seal(user, purpose, &code);
        let limits = &self.limits;
        let outcome = update(&self.store, limits, user, now, |state| {
            if let Err(retry_after) = state.may_send(now, limits) {
                return SendOutcome::Limited { retry_after };
            }
            // A new code gets its own tries; the user's failure budget is kept.
            state.codes.insert(
                purpose.to_owned(),
                CodeRecord {
                    sealed: sealed.clone(),
                    expires_at: now + limits.code_ttl,
                    wrong: 0,
                    used: false,
                },
            );
            state.sends.push(now);
            SendOutcome::Sent
        })
        .await?;
        if let SendOutcome::Limited { retry_after } = &outcome {
            tracing::info!(
                user,
                purpose,
                retry_after_s = retry_after.num_seconds(),
                "code send refused: rate limit"
            );
            return Ok(outcome);
        }
        match self.profiles.get(user).await? {
            Some(profile) => {
                self.sms.send(&profile.phone, &sms_text(&code)).await?;
                tracing::info!(user, purpose, phone = %mask_phone(&profile.phone), "code sent");
            }
            None => tracing::info!(
                user,
                purpose,
                "code send for an unknown user: answered as sent"
            ),
        }
        Ok(outcome)
    }

    async fn verify_code(
        &self,
        user: &str,
        purpose: &str,
        code: &str,
    ) -> Result<VerifyOutcome, OtpError> {
        let now = self.clock.now();
        let limits = &self.limits;
        let well_formed = is_code(code, limits.code_length);
        let outcome = update(&self.store, limits, user, now, |state| {
            if let Some(retry_after) = state.locked(now, limits) {
                return VerifyOutcome::Locked { retry_after };
            }
            let record = state
                .codes
                .get_mut(purpose)
                .filter(|c| !c.used && c.expires_at > now && c.wrong < limits.wrong_per_code);
            match record {
                Some(c) if well_formed && self.key.matches(user, purpose, code, &c.sealed) => {
                    c.used = true;
                    VerifyOutcome::Valid
                }
                Some(c) => {
                    c.wrong += 1;
                    state.fail(now);
                    VerifyOutcome::Invalid
                }
                None => {
                    state.fail(now);
                    VerifyOutcome::Invalid
                }
            }
        })
        .await?;
        tracing::info!(user, purpose, outcome = ?outcome, "code verified");
        Ok(outcome)
    }

    async fn verify_mfa(&self, user: &str, token: &str) -> Result<MfaOutcome, OtpError> {
        let now = self.clock.now();
        let limits = &self.limits;
        let sealed = self.key.seal(user, MFA_PURPOSE, token);
        // Refuse without calling STS when locked, malformed, replayed or without a device.
        let (state, _) = self.store.load(user).await?;
        if let Some(retry_after) = state.locked(now, limits) {
            return Ok(MfaOutcome::Locked { retry_after });
        }
        let replayed = |state: &UserState| {
            state
                .mfa_accepted
                .iter()
                .any(|(s, t)| *s == sealed && now - *t < limits.mfa_replay_window)
        };
        if replayed(&state) {
            tracing::info!(user, "MFA token refused: already used");
            return Ok(MfaOutcome::Invalid);
        }
        let serial = match self.profiles.get(user).await? {
            Some(profile) if is_code(token, 6) => profile.mfa_serial,
            _ => None,
        };
        let Some(serial) = serial else {
            // No device or a malformed token: no STS call, a failure like any wrong token.
            let outcome = update(&self.store, limits, user, now, |state| {
                if let Some(retry_after) = state.locked(now, limits) {
                    return MfaOutcome::Locked { retry_after };
                }
                state.fail(now);
                MfaOutcome::Invalid
            })
            .await?;
            tracing::info!(user, outcome = ?outcome, "MFA token verified");
            return Ok(outcome);
        };
        // The attempt is reserved (counted as a failure, in a conditional write) before STS is
        // asked, so parallel requests cannot check more tokens than the budget allows: one that
        // loses the race finds the budget spent and is refused, not checked for free.
        let reserved = update(&self.store, limits, user, now, |state| {
            match state.locked(now, limits) {
                Some(retry_after) => Some(retry_after),
                None => {
                    state.fail(now);
                    None
                }
            }
        })
        .await?;
        if let Some(retry_after) = reserved {
            tracing::info!(user, "MFA token refused: budget spent");
            return Ok(MfaOutcome::Locked { retry_after });
        }
        let verdict = self.mfa.check(&serial, token).await;
        let outcome = update(&self.store, limits, user, now, |state| match verdict {
            MfaVerdict::Unavailable => {
                // Not the user's failure: the reservation is given back.
                state.unfail(now);
                MfaOutcome::Unavailable
            }
            // A concurrent request may have used the same token meanwhile.
            MfaVerdict::Valid if replayed(state) => {
                state.unfail(now);
                MfaOutcome::Invalid
            }
            MfaVerdict::Valid => {
                state.unfail(now);
                state.mfa_accepted.push((sealed.clone(), now));
                MfaOutcome::Valid
            }
            // The reserved failure stands.
            MfaVerdict::Invalid => MfaOutcome::Invalid,
        })
        .await?;
        if outcome == MfaOutcome::Unavailable {
            tracing::warn!(user, "MFA check unavailable");
        }
        tracing::info!(user, outcome = ?outcome, "MFA token verified");
        Ok(outcome)
    }
}
