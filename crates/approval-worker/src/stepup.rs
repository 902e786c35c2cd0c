//! The step-up over the fleet's OTP library: a one-time code by SMS to the approver (the OTP
//! profiles table is keyed by the approver's address), bound to one request by `purpose`. The
//! library's cooldown, attempt limits and lockout apply as they do to the OTP API; the approver
//! is also the caller its misses and requests are charged to.

use fleet_core::{Classified, ServiceError};
use fleet_otp::{OtpError, OtpService, SendOutcome, VerifyOutcome};

use crate::ports::{CodeCheck, CodeSent, StepUp};

pub struct OtpStepUp<O>(pub O);

fn otp_error(error: OtpError) -> ServiceError {
    ServiceError::new("otp", error.class(), error.to_string())
}

impl<O: OtpService> StepUp for OtpStepUp<O> {
    async fn send_code(&self, approver: &str, purpose: &str) -> Result<CodeSent, ServiceError> {
        // An approver without a profile is answered as if sent (the library does not tell who
        // has a phone); the code then never verifies.
        match self
            .0
            .send_code(approver, approver, purpose)
            .await
            .map_err(otp_error)?
        {
            SendOutcome::Sent => Ok(CodeSent::Sent),
            SendOutcome::Limited { .. } => Ok(CodeSent::TooSoon),
        }
    }

    async fn verify(
        &self,
        approver: &str,
        purpose: &str,
        code: &str,
    ) -> Result<CodeCheck, ServiceError> {
        let outcome = self
            .0
            .verify_code(approver, approver, purpose, code)
            .await
            .map_err(otp_error)?;
        Ok(match outcome {
            VerifyOutcome::Valid => CodeCheck::Valid,
            VerifyOutcome::Invalid => CodeCheck::Invalid,
            VerifyOutcome::Locked { .. } => CodeCheck::Locked,
        })
    }
}
