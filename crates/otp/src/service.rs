//! The OTP service. A code request is charged to its calling principal; the code is made and
//! delivered by `deliver_code` (the API queues requests and a separate step delivers them, so a
//! known and an unknown user get the same answer after the same work). A guess is charged to the
//! user only when it is checked against a code or token that user has outstanding; every other
//! miss is charged to the caller, so strangers cannot lock anyone out. Unknown users get codes
//! nobody receives: guesses against them behave exactly as for a known user.

use chrono::{DateTime, Utc};
use std::future::Future;

use crate::code::{mask_phone, HmacKey};
use crate::ports::{
    Digits, KeyProvider, MfaCheck, MfaVerdict, OtpError, Profile, Profiles, Sms, StateStore,
    Subject,
};
use crate::state::{CodeRecord, Limits, RetryAfter, UserState};
use fleet_core::Clock;

/// Optimistic-concurrency attempts before giving up.
const SAVE_ATTEMPTS: usize = 5;

/// Purpose of IAM MFA tokens in seals and logs.
const MFA_PURPOSE: &str = "iam-mfa";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted: sent (inline), or queued for delivery; for an unknown user, answered the same.
    Sent,
    Limited {
        retry_after: RetryAfter,
    },
}

/// A code to make and deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeRequest<'a> {
    pub user: &'a str,
    pub purpose: &'a str,
    /// Set when the request may be delivered again (a queue message id): a redelivery makes no
    /// second charge, and once the SMS was accepted no second SMS.
    pub id: Option<&'a str>,
}

/// What the delivery step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// A redelivered request whose SMS was already accepted.
    AlreadySent,
    /// No profile (or no usable phone): a code was stored that nobody receives.
    UnknownUser,
    /// The destination's SMS cap: nothing sent, codes already sent stay valid.
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

pub struct Otp<P, S, N, M, D, C, K = HmacKey> {
    pub profiles: P,
    pub store: S,
    pub sms: N,
    pub mfa: M,
    pub digits: D,
    pub clock: C,
    pub key: K,
    pub limits: Limits,
}

/// The SMS text.
pub fn sms_text(code: &str) -> String {
    format!("Your easytocloud code is {code}")
}

fn is_code(text: &str, length: usize) -> bool {
    text.len() == length && text.bytes().all(|b| b.is_ascii_digit())
}

/// Loads, applies `decide`, saves version-checked when `decide` changed something; retries when
/// the state moved on.
async fn update<S: StateStore, T>(
    store: &S,
    limits: &Limits,
    subject: Subject<'_>,
    now: DateTime<Utc>,
    mut decide: impl FnMut(&mut UserState) -> T,
) -> Result<T, OtpError> {
    let key = subject.key();
    for _ in 0..SAVE_ATTEMPTS {
        let (mut state, version) = store.load(&key).await?;
        state.prune(now, limits);
        let before = state.clone();
        let answer = decide(&mut state);
        if state == before || store.save(&key, &state, version).await? {
            return Ok(answer);
        }
    }
    Err(OtpError::Contended)
}

/// A document read, pruned to `now`.
async fn read<S: StateStore>(
    store: &S,
    limits: &Limits,
    subject: Subject<'_>,
    now: DateTime<Utc>,
) -> Result<UserState, OtpError> {
    let (mut state, _) = store.load(&subject.key()).await?;
    state.prune(now, limits);
    Ok(state)
}

/// The OTP service as the skill and the API use it, whatever its adapters.
pub trait OtpService: Send + Sync {
    /// The user's profile (`None` for an unknown user).
    fn profile(&self, user: &str)
        -> impl Future<Output = Result<Option<Profile>, OtpError>> + Send;
    /// Digits in a code.
    fn code_length(&self) -> usize;
    /// Whether the user has a code for `purpose` that can still be checked.
    fn has_outstanding_code(
        &self,
        user: &str,
        purpose: &str,
    ) -> impl Future<Output = Result<bool, OtpError>> + Send;
    /// Charges a code request to `caller`; the code is delivered by `deliver_code`.
    fn request_code(
        &self,
        caller: &str,
        user: &str,
        purpose: &str,
    ) -> impl Future<Output = Result<SendOutcome, OtpError>> + Send;
    /// Makes the code, charges its destination's SMS cap, stores it and sends the SMS.
    fn deliver_code(
        &self,
        request: CodeRequest<'_>,
    ) -> impl Future<Output = Result<Delivery, OtpError>> + Send;
    /// `request_code` and `deliver_code` at once (the skill and the approval step-up).
    fn send_code(
        &self,
        caller: &str,
        user: &str,
        purpose: &str,
    ) -> impl Future<Output = Result<SendOutcome, OtpError>> + Send;
    fn verify_code(
        &self,
        caller: &str,
        user: &str,
        purpose: &str,
        code: &str,
    ) -> impl Future<Output = Result<VerifyOutcome, OtpError>> + Send;
    fn verify_mfa(
        &self,
        caller: &str,
        user: &str,
        token: &str,
    ) -> impl Future<Output = Result<MfaOutcome, OtpError>> + Send;
}

impl<P, S, N, M, D, C, K> OtpService for Otp<P, S, N, M, D, C, K>
where
    P: Profiles,
    S: StateStore,
    N: Sms,
    M: MfaCheck,
    D: Digits,
    C: Clock,
    K: KeyProvider,
{
    async fn profile(&self, user: &str) -> Result<Option<Profile>, OtpError> {
        self.profiles.get(user).await
    }

    fn code_length(&self) -> usize {
        self.limits.code_length
    }

    async fn has_outstanding_code(&self, user: &str, purpose: &str) -> Result<bool, OtpError> {
        let now = self.clock.now();
        let state = read(&self.store, &self.limits, Subject::User(user), now).await?;
        Ok(state
            .codes
            .get(purpose)
            .is_some_and(|codes| codes.iter().any(|c| c.outstanding(now, &self.limits))))
    }

    async fn request_code(
        &self,
        caller: &str,
        user: &str,
        purpose: &str,
    ) -> Result<SendOutcome, OtpError> {
        let now = self.clock.now();
        let limits = &self.limits;
        let outcome = update(&self.store, limits, Subject::Caller(caller), now, |state| {
            if let Err(retry_after) = state.caller_may_send(now, limits) {
                return SendOutcome::Limited { retry_after };
            }
            state.sends.push(now);
            SendOutcome::Sent
        })
        .await?;
        match &outcome {
            SendOutcome::Sent => tracing::info!(caller, user, purpose, "code requested"),
            SendOutcome::Limited { retry_after } => tracing::info!(
                caller,
                user,
                purpose,
                retry_after_s = retry_after.num_seconds(),
                "code request refused: the caller's rate limit"
            ),
        }
        Ok(outcome)
    }

    async fn deliver_code(&self, request: CodeRequest<'_>) -> Result<Delivery, OtpError> {
        let CodeRequest { user, purpose, id } = request;
        let now = self.clock.now();
        let limits = &self.limits;
        let profile = self.profiles.get(user).await?;
        let destination = match &profile {
            Some(p) => p.phone.clone(),
            None => format!("unknown:{user}"),
        };
        // A redelivered request: its SMS went out already, or it is made again without a
        // second charge against the destination.
        let made = match id {
            Some(id) => read(&self.store, limits, Subject::User(user), now)
                .await?
                .code_for_request(purpose, id)
                .map(|c| c.sent),
            None => None,
        };
        match made {
            Some(true) => {
                tracing::info!(user, purpose, request = id, "code already sent");
                return Ok(Delivery::AlreadySent);
            }
            Some(false) => {}
            None => {
                let subject = Subject::Destination(&destination);
                let refused = update(&self.store, limits, subject, now, |state| {
                    let refused = state.may_send(now, limits).err();
                    if refused.is_none() {
                        state.sends.push(now);
                    }
                    refused
                })
                .await?;
                if let Some(retry_after) = refused {
                    tracing::warn!(
                        user,
                        purpose,
                        request = id,
                        retry_after_s = retry_after.num_seconds(),
                        "code not sent: the destination's SMS cap"
                    );
                    return Ok(Delivery::Limited { retry_after });
                }
            }
        }
        let code = self.digits.digits(limits.code_length)?;
        let record = CodeRecord {
            sealed: self.key.key().await?.seal(user, purpose, &code),
            expires_at: now + limits.code_ttl,
            wrong: 0,
            used: false,
            request: id.map(str::to_owned),
            // Nobody receives an unknown user's code: there is nothing to send again.
            sent: profile.is_none(),
        };
        update(&self.store, limits, Subject::User(user), now, |state| {
            // A new code gets its own tries; the user's failure budget is kept.
            let remade = id.and_then(|id| state.code_for_request(purpose, id));
            match remade {
                Some(existing) => *existing = record.clone(),
                None => state.add_code(purpose, record.clone(), limits),
            }
        })
        .await?;
        let Some(profile) = profile else {
            tracing::info!(
                user,
                purpose,
                request = id,
                "code for an unknown user: stored, not sent"
            );
            return Ok(Delivery::UnknownUser);
        };
        self.sms.send(&profile.phone, &sms_text(&code)).await?;
        if let Some(id) = id {
            update(&self.store, limits, Subject::User(user), now, |state| {
                if let Some(made) = state.code_for_request(purpose, id) {
                    made.sent = true;
                }
            })
            .await?;
        }
        tracing::info!(user, purpose, request = id, phone = %mask_phone(&profile.phone), "code sent");
        Ok(Delivery::Sent)
    }

    async fn send_code(
        &self,
        caller: &str,
        user: &str,
        purpose: &str,
    ) -> Result<SendOutcome, OtpError> {
        let requested = self.request_code(caller, user, purpose).await?;
        if requested != SendOutcome::Sent {
            return Ok(requested);
        }
        let request = CodeRequest {
            user,
            purpose,
            id: None,
        };
        Ok(match self.deliver_code(request).await? {
            Delivery::Limited { retry_after } => SendOutcome::Limited { retry_after },
            Delivery::Sent | Delivery::AlreadySent | Delivery::UnknownUser => SendOutcome::Sent,
        })
    }

    async fn verify_code(
        &self,
        caller: &str,
        user: &str,
        purpose: &str,
        code: &str,
    ) -> Result<VerifyOutcome, OtpError> {
        let now = self.clock.now();
        let limits = &self.limits;
        let well_formed = is_code(code, limits.code_length);
        let calls = read(&self.store, limits, Subject::Caller(caller), now).await?;
        if let Some(retry_after) = calls.caller_locked(now, limits) {
            tracing::info!(
                caller,
                user,
                purpose,
                "code check refused: the caller's misses"
            );
            return Ok(VerifyOutcome::Locked { retry_after });
        }
        let key = self.key.key().await?;
        // `None`: the user has no code outstanding for this purpose; the miss is the caller's.
        let checked = update(&self.store, limits, Subject::User(user), now, |state| {
            if let Some(retry_after) = state.locked(now, limits) {
                return Some(VerifyOutcome::Locked { retry_after });
            }
            let codes = state.codes.get_mut(purpose)?;
            let mut outstanding: Vec<&mut CodeRecord> = codes
                .iter_mut()
                .filter(|c| c.outstanding(now, limits))
                .collect();
            if outstanding.is_empty() {
                return None;
            }
            let valid = well_formed
                && outstanding
                    .iter()
                    .any(|c| key.matches(user, purpose, code, &c.sealed));
            if valid {
                // Every code of the purpose is spent: one proof, one use.
                codes.iter_mut().for_each(|c| c.used = true);
                return Some(VerifyOutcome::Valid);
            }
            outstanding.iter_mut().for_each(|c| c.wrong += 1);
            state.fail(now);
            Some(VerifyOutcome::Invalid)
        })
        .await?;
        let charged = if checked.is_some() { "user" } else { "caller" };
        let outcome = match checked {
            Some(outcome) => outcome,
            None => self.caller_miss(caller, now).await?,
        };
        tracing::info!(caller, user, purpose, outcome = ?outcome, charged, "code verified");
        Ok(outcome)
    }

    async fn verify_mfa(
        &self,
        caller: &str,
        user: &str,
        token: &str,
    ) -> Result<MfaOutcome, OtpError> {
        let now = self.clock.now();
        let limits = &self.limits;
        let sealed = self.key.key().await?.seal(user, MFA_PURPOSE, token);
        let calls = read(&self.store, limits, Subject::Caller(caller), now).await?;
        if let Some(retry_after) = calls.caller_locked(now, limits) {
            tracing::info!(caller, user, "MFA check refused: the caller's misses");
            return Ok(MfaOutcome::Locked { retry_after });
        }
        // Refuse without calling STS when locked, replayed, malformed or without a device.
        let state = read(&self.store, limits, Subject::User(user), now).await?;
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
            tracing::info!(caller, user, "MFA token refused: already used");
            return Ok(MfaOutcome::Invalid);
        }
        let serial = match self.profiles.get(user).await? {
            Some(profile) if is_code(token, 6) => profile.mfa_serial,
            _ => None,
        };
        let Some(serial) = serial else {
            // No device to check against (or a malformed token): the caller's miss, no STS call.
            let outcome = match self.caller_miss(caller, now).await? {
                VerifyOutcome::Locked { retry_after } => MfaOutcome::Locked { retry_after },
                _ => MfaOutcome::Invalid,
            };
            tracing::info!(caller, user, outcome = ?outcome, charged = "caller", "MFA token verified");
            return Ok(outcome);
        };
        // The attempt is reserved (counted as a failure, in a conditional write) before STS is
        // asked, so parallel requests cannot check more tokens than the budget allows: one that
        // loses the race finds the budget spent and is refused, not checked for free.
        let reserved = update(
            &self.store,
            limits,
            Subject::User(user),
            now,
            |state| match state.locked(now, limits) {
                Some(retry_after) => Some(retry_after),
                None => {
                    state.fail(now);
                    None
                }
            },
        )
        .await?;
        if let Some(retry_after) = reserved {
            tracing::info!(caller, user, "MFA token refused: budget spent");
            return Ok(MfaOutcome::Locked { retry_after });
        }
        let verdict = self.mfa.check(&serial, token).await;
        let outcome = update(&self.store, limits, Subject::User(user), now, |state| {
            match verdict {
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
            }
        })
        .await?;
        if outcome == MfaOutcome::Unavailable {
            tracing::warn!(caller, user, "MFA check unavailable");
        }
        tracing::info!(caller, user, outcome = ?outcome, charged = "user", "MFA token verified");
        Ok(outcome)
    }
}

impl<P, S, N, M, D, C, K> Otp<P, S, N, M, D, C, K>
where
    S: StateStore,
    C: Clock,
{
    /// A miss charged to the calling principal: `Locked` once its misses are spent.
    async fn caller_miss(
        &self,
        caller: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifyOutcome, OtpError> {
        let limits = &self.limits;
        update(&self.store, limits, Subject::Caller(caller), now, |state| {
            if let Some(retry_after) = state.caller_locked(now, limits) {
                return VerifyOutcome::Locked { retry_after };
            }
            state.fail(now);
            VerifyOutcome::Invalid
        })
        .await
    }
}
