//! The OTP/MFA API over the shared `fleet-otp` library.

pub mod http;

pub use http::Api;
