//! Proof of presence, shared by the OTP API and the Alexa skill: one-time codes sent by SMS, and
//! IAM MFA tokens checked with STS. Codes are stored only as HMACs; sends and failures are
//! budgeted per user; every decision is a pure function of the user's state and the instant.

#[cfg(feature = "aws")]
pub mod aws;
pub mod code;
pub mod config;
#[cfg(feature = "contract")]
pub mod contract;
pub mod memory;
pub mod ports;
pub mod service;
pub mod state;

pub use code::{mask_phone, HmacKey, KeyError};
pub use ports::{MfaVerdict, OtpError, Profile, Subject};
pub use service::{CodeRequest, Delivery, MfaOutcome, Otp, OtpService, SendOutcome, VerifyOutcome};
pub use state::{Limits, UserState};
