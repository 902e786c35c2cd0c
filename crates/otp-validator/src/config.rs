//! The API's configuration, read once at init: the OTP library's settings.

use fleet_core::{ConfigError, FromVars, Vars};
use fleet_otp::config::OtpConfig;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub otp: OtpConfig,
    /// `SEND_QUEUE_URL`: where the API queues code requests (the delivery step does not need it).
    pub send_queue_url: Option<String>,
}

impl FromVars for Config {
    /// The OTP library's variables (`PROFILES_TABLE`, `CODES_TABLE`, `CODES_KEY_PREFIX`,
    /// `OTP_KEY_SECRET_ID` or `OTP_KEY_PARAMETER`, `CODE_LENGTH`, `CALLER_SENDS_PER_HOUR`,
    /// `CALLER_MISSES_PER_DAY`, `SMS_SENDER_ID`, `MFA_CREDENTIALS_SECRET_ID`) and
    /// `SEND_QUEUE_URL`.
    fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            otp: OtpConfig::from_vars(vars)?,
            send_queue_url: vars.optional("SEND_QUEUE_URL"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_table_is_named() {
        let err =
            Config::from_vars(&[("OTP_KEY_SECRET_ID", "k"), ("CODES_TABLE", "c")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing environment variable PROFILES_TABLE"
        );
    }
}
