//! The ports the service runs on. Domain types only; the adapters own the SDK details.

use crate::code::HmacKey;
use std::future::Future;

use crate::state::UserState;
use fleet_core::{Classified, ErrorClass, ServiceError};

/// A user's profile: who they are, where their codes go, their IAM MFA device if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub user_id: String,
    pub display_name: String,
    /// E.164.
    pub phone: String,
    pub mfa_serial: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtpError {
    #[error("profiles: {0}")]
    Profiles(ServiceError),
    /// `CorruptState` when a stored state cannot be read.
    #[error("code store: {0}")]
    Store(ServiceError),
    #[error("sending the SMS failed: {0}")]
    Sms(ServiceError),
    #[error("the system's random source failed: {0}")]
    Randomness(String),
    /// The store kept changing under us (many concurrent requests for one user).
    #[error("the user's state changed concurrently; try again")]
    Contended,
    /// The HMAC key could not be read (or is too short): `Misconfigured`, `AccessDenied`, …
    #[error("the code key: {0}")]
    Key(ServiceError),
}

impl Classified for OtpError {
    fn class(&self) -> ErrorClass {
        match self {
            OtpError::Profiles(e) | OtpError::Store(e) | OtpError::Sms(e) | OtpError::Key(e) => {
                e.class
            }
            OtpError::Randomness(_) => ErrorClass::Internal,
            OtpError::Contended => ErrorClass::Conflict,
        }
    }
}

/// The HMAC key codes are sealed with: given (tests, local runs), or read on first use (Lambda),
/// so that answers which need no key (a bad request, the skill's lists) never wait for it.
pub trait KeyProvider: Send + Sync {
    fn key(&self) -> impl Future<Output = Result<&HmacKey, OtpError>> + Send;
}

impl KeyProvider for HmacKey {
    async fn key(&self) -> Result<&HmacKey, OtpError> {
        Ok(self)
    }
}

pub trait Profiles: Send + Sync {
    fn get(&self, user_id: &str) -> impl Future<Output = Result<Option<Profile>, OtpError>> + Send;
}

/// Whose budget a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// A user: their codes, guesses against them, accepted MFA tokens.
    User(&'a str),
    /// A calling principal (an IAM role or user ARN; the Alexa user): its requests and misses.
    Caller(&'a str),
    /// Where codes go (a phone number; `unknown:<user>` for a user without one): SMS sends.
    Destination(&'a str),
}

impl Subject<'_> {
    /// The document's key within a function's namespace; the store adds the namespace.
    pub fn key(&self) -> String {
        match self {
            Subject::User(id) => format!("user#{id}"),
            Subject::Caller(arn) => format!("caller#{arn}"),
            Subject::Destination(to) => format!("to#{to}"),
        }
    }
}

/// A version-checked document per subject key: `save` fails with `Ok(false)` when someone else
/// saved since `load`, which makes every code single-use and every counter exact.
pub trait StateStore: Send + Sync {
    /// The state and its version (`None`: no state yet).
    fn load(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<(UserState, Option<u64>), OtpError>> + Send;

    /// `Ok(true)` when written; `Ok(false)` when the version moved on.
    fn save(
        &self,
        key: &str,
        state: &UserState,
        expected: Option<u64>,
    ) -> impl Future<Output = Result<bool, OtpError>> + Send;
}

pub trait Sms: Send + Sync {
    fn send(&self, phone: &str, text: &str) -> impl Future<Output = Result<(), OtpError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaVerdict {
    Valid,
    Invalid,
    /// Throttling, 5xx, or a misconfiguration: never "valid".
    Unavailable,
}

/// Checks a token against an IAM MFA device.
pub trait MfaCheck: Send + Sync {
    fn check(&self, serial: &str, token: &str) -> impl Future<Output = MfaVerdict> + Send;
}

/// Random decimal digits from a CSPRNG.
pub trait Digits: Send + Sync {
    fn digits(&self, count: usize) -> Result<String, OtpError>;
}

/// The operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsDigits;

impl Digits for OsDigits {
    fn digits(&self, count: usize) -> Result<String, OtpError> {
        let mut out = String::with_capacity(count);
        while out.len() < count {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).map_err(|e| OtpError::Randomness(e.to_string()))?;
            // Rejection sampling: 250 = 25 × 10, so every digit is equally likely.
            out.extend(
                bytes
                    .iter()
                    .filter(|b| **b < 250)
                    .map(|b| char::from(b'0' + b % 10))
                    .take(count - out.len()),
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every OTP error with the class Lambda and the API's logs report for it.
    #[test]
    fn every_error_has_its_class() {
        for class in ErrorClass::ALL {
            let service = ServiceError::new("x", class, "y");
            assert_eq!(OtpError::Profiles(service.clone()).class(), class);
            assert_eq!(OtpError::Store(service.clone()).class(), class);
            assert_eq!(OtpError::Sms(service).class(), class);
        }
        assert_eq!(
            OtpError::Randomness("gone".into()).class(),
            ErrorClass::Internal
        );
        assert_eq!(OtpError::Contended.class(), ErrorClass::Conflict);
        assert_eq!(
            crate::code::HmacKey::new(vec![1u8; 8]).unwrap_err().class(),
            ErrorClass::InvalidConfig
        );
    }
}
