//! The OTP configuration, read once at init by every function that uses the library.

use fleet_core::{ConfigError, Vars};

use crate::state::Limits;

/// Where the HMAC key lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    SecretsManager(String),
    SsmParameter(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct OtpConfig {
    pub profiles_table: String,
    pub codes_table: String,
    pub key_source: KeySource,
    pub sms_sender_id: Option<String>,
    /// A secret holding `{"AccessKeyId", "SecretAccessKey"}` of the IAM user that owns the MFA
    /// devices: STS checks MFA tokens only for IAM-user credentials.
    pub mfa_credentials_secret_id: Option<String>,
    pub limits: Limits,
}

impl OtpConfig {
    /// `PROFILES_TABLE`, `CODES_TABLE`, exactly one of `OTP_KEY_SECRET_ID` (Secrets Manager) and
    /// `OTP_KEY_PARAMETER` (SSM SecureString), `CODE_LENGTH` (4–10, default 6), `SMS_SENDER_ID`,
    /// `MFA_CREDENTIALS_SECRET_ID`.
    pub fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError> {
        let key_source = match (
            vars.optional("OTP_KEY_SECRET_ID"),
            vars.optional("OTP_KEY_PARAMETER"),
        ) {
            (Some(id), None) => KeySource::SecretsManager(id),
            (None, Some(name)) => KeySource::SsmParameter(name),
            (None, None) => {
                return Err(ConfigError::Missing {
                    name: "OTP_KEY_SECRET_ID (or OTP_KEY_PARAMETER)".into(),
                })
            }
            (Some(id), Some(_)) => {
                return Err(ConfigError::Invalid {
                    name: "OTP_KEY_PARAMETER".into(),
                    value: id,
                    reason: "set OTP_KEY_SECRET_ID or OTP_KEY_PARAMETER, not both".into(),
                })
            }
        };
        let code_length: usize = vars.parsed_or("CODE_LENGTH", 6)?;
        if !(4..=10).contains(&code_length) {
            return Err(ConfigError::Invalid {
                name: "CODE_LENGTH".into(),
                value: code_length.to_string(),
                reason: "must be from 4 to 10".into(),
            });
        }
        Ok(Self {
            profiles_table: vars.required("PROFILES_TABLE")?,
            codes_table: vars.required("CODES_TABLE")?,
            key_source,
            sms_sender_id: vars.optional("SMS_SENDER_ID"),
            mfa_credentials_secret_id: vars.optional("MFA_CREDENTIALS_SECRET_ID"),
            limits: Limits {
                code_length,
                ..Limits::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_vars_and_errors_naming_the_variable() {
        let config = OtpConfig::from_vars(&[
            ("PROFILES_TABLE", "profiles"),
            ("CODES_TABLE", "codes"),
            ("OTP_KEY_PARAMETER", "/fleet/otp-key"),
        ])
        .unwrap();
        assert_eq!(
            config.key_source,
            KeySource::SsmParameter("/fleet/otp-key".into())
        );
        assert_eq!(config.limits.code_length, 6);
        let err =
            OtpConfig::from_vars(&[("PROFILES_TABLE", "p"), ("CODES_TABLE", "c")]).unwrap_err();
        assert!(err.to_string().contains("OTP_KEY_SECRET_ID"), "{err}");
        let err =
            OtpConfig::from_vars(&[("OTP_KEY_SECRET_ID", "k"), ("CODES_TABLE", "c")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing environment variable PROFILES_TABLE"
        );
        let err = OtpConfig::from_vars(&[
            ("OTP_KEY_SECRET_ID", "k"),
            ("PROFILES_TABLE", "p"),
            ("CODES_TABLE", "c"),
            ("CODE_LENGTH", "3"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("CODE_LENGTH"), "{err}");
    }
}
