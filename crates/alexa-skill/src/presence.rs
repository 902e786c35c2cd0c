//! How the skill asks for proof of presence: the shared OTP library, in-process. The caller the
//! library charges misses and requests to is the Alexa user itself.

use std::future::Future;

use fleet_otp::{MfaOutcome, OtpError, OtpService, Profile, SendOutcome, VerifyOutcome};

/// The purpose codes for the skill are bound to.
pub const PURPOSE: &str = "alexa-skill";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    Valid,
    Invalid,
    Locked { retry_after: chrono::Duration },
    Unavailable,
}

pub trait Presence: Send + Sync {
    fn profile(&self, user: &str)
        -> impl Future<Output = Result<Option<Profile>, OtpError>> + Send;
    fn send_code(&self, user: &str) -> impl Future<Output = Result<SendOutcome, OtpError>> + Send;
    /// A spoken number: the SMS code, or a 6-digit IAM MFA token when the profile has a device.
    fn verify(
        &self,
        user: &str,
        spoken: &str,
    ) -> impl Future<Output = Result<Proof, OtpError>> + Send;
}

impl<O: OtpService> Presence for O {
    async fn profile(&self, user: &str) -> Result<Option<Profile>, OtpError> {
        OtpService::profile(self, user).await
    }

    async fn send_code(&self, user: &str) -> Result<SendOutcome, OtpError> {
        OtpService::send_code(self, user, user, PURPOSE).await
    }

    async fn verify(&self, user: &str, spoken: &str) -> Result<Proof, OtpError> {
        let has_device = OtpService::profile(self, user)
            .await?
            .is_some_and(|p| p.mfa_serial.is_some());
        // AMAZON.NUMBER drops leading zeros ("zero one two three four five" arrives as 12345):
        // pad to the length of what is outstanding. A number longer than a code, or any number
        // when no code is outstanding, is the 6-digit MFA token of a profile with a device.
        let length = self.code_length();
        let as_token = has_device
            && (spoken.len() > length || !self.has_outstanding_code(user, PURPOSE).await?);
        if as_token {
            let token = format!("{spoken:0>6}");
            return Ok(match self.verify_mfa(user, user, &token).await? {
                MfaOutcome::Valid => Proof::Valid,
                MfaOutcome::Invalid => Proof::Invalid,
                MfaOutcome::Locked { retry_after } => Proof::Locked { retry_after },
                MfaOutcome::Unavailable => Proof::Unavailable,
            });
        }
        let code = format!("{spoken:0>length$}");
        Ok(match self.verify_code(user, user, PURPOSE, &code).await? {
            VerifyOutcome::Valid => Proof::Valid,
            VerifyOutcome::Invalid => Proof::Invalid,
            VerifyOutcome::Locked { retry_after } => Proof::Locked { retry_after },
        })
    }
}
