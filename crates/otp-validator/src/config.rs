//! The API's configuration, read once at init: the OTP library's settings.

use fleet_core::{ConfigError, FromVars, Vars};
use fleet_otp::config::OtpConfig;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub otp: OtpConfig,
}

impl FromVars for Config {
    /// The OTP library's variables: `PROFILES_TABLE`, `CODES_TABLE`, `OTP_KEY_SECRET_ID` (or
    /// `OTP_KEY_PARAMETER`), `CODE_LENGTH`, `SMS_SENDER_ID`, `MFA_CREDENTIALS_SECRET_ID`.
    fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            otp: OtpConfig::from_vars(vars)?,
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
