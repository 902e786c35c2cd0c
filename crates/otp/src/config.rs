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
    /// This function's namespace in the codes table (`api`, `alexa`, `approval`): its items are
    /// `<prefix>#…`, and its IAM policy admits no others.
    pub key_prefix: String,
    pub key_source: KeySource,
    pub sms_sender_id: Option<String>,
    /// A secret holding `{"AccessKeyId", "SecretAccessKey"}` of the IAM user that owns the MFA
    /// devices: STS checks MFA tokens only for IAM-user credentials.
    pub mfa_credentials_secret_id: Option<String>,
    pub limits: Limits,
}

impl OtpConfig {
    /// `PROFILES_TABLE`, `CODES_TABLE`, `CODES_KEY_PREFIX` (lowercase letters), exactly one of
    /// `OTP_KEY_SECRET_ID` (Secrets Manager) and `OTP_KEY_PARAMETER` (SSM SecureString),
    /// `CODE_LENGTH` (4–10, default 6), `CALLER_SENDS_PER_HOUR` (1–1000, default 30),
    /// `CALLER_MISSES_PER_DAY` (1–10000, default 50), `SMS_SENDER_ID`,
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
                return Err(ConfigError::invalid(
                    "OTP_KEY_PARAMETER",
                    &id,
                    "set OTP_KEY_SECRET_ID or OTP_KEY_PARAMETER, not both",
                ))
            }
        };
        let code_length: usize = vars.ranged_or("CODE_LENGTH", 6, 4..=10)?;
        let profiles_table = vars.required("PROFILES_TABLE")?;
        let codes_table = vars.required("CODES_TABLE")?;
        let key_prefix = vars.required("CODES_KEY_PREFIX")?;
        if key_prefix.is_empty() || !key_prefix.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(ConfigError::invalid(
                "CODES_KEY_PREFIX",
                &key_prefix,
                "must be lowercase letters, e.g. api",
            ));
        }
        let caller_sends_per_hour = vars.ranged_or("CALLER_SENDS_PER_HOUR", 30, 1..=1000)?;
        let caller_misses_per_window = vars.ranged_or("CALLER_MISSES_PER_DAY", 50, 1..=10_000)?;
        Ok(Self {
            profiles_table,
            codes_table,
            key_prefix,
            key_source,
            sms_sender_id: vars.optional("SMS_SENDER_ID"),
            mfa_credentials_secret_id: vars.optional("MFA_CREDENTIALS_SECRET_ID"),
            limits: Limits {
                code_length,
                caller_sends_per_hour,
                caller_misses_per_window,
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
            ("CODES_KEY_PREFIX", "api"),
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
            ("CODES_KEY_PREFIX", "api"),
            ("CODE_LENGTH", "3"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("CODE_LENGTH"), "{err}");
        let base = [
            ("OTP_KEY_SECRET_ID", "k"),
            ("PROFILES_TABLE", "p"),
            ("CODES_TABLE", "c"),
        ];
        let err = OtpConfig::from_vars(&base).unwrap_err();
        assert!(err.to_string().contains("CODES_KEY_PREFIX"), "{err}");
        let map = |vars: Vec<(&str, &str)>| -> std::collections::HashMap<String, String> {
            vars.into_iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect()
        };
        for (name, value) in [
            ("CODES_KEY_PREFIX", "api#"),
            ("CALLER_SENDS_PER_HOUR", "0"),
            ("CALLER_MISSES_PER_DAY", "many"),
        ] {
            let mut vars = base.to_vec();
            vars.push(("CODES_KEY_PREFIX", "alexa"));
            vars.retain(|(n, _)| *n != name);
            vars.push((name, value));
            let err = OtpConfig::from_vars(&map(vars)).unwrap_err();
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
        let mut vars = base.to_vec();
        vars.extend([
            ("CODES_KEY_PREFIX", "alexa"),
            ("CALLER_SENDS_PER_HOUR", "5"),
        ]);
        let config = OtpConfig::from_vars(&map(vars)).unwrap();
        assert_eq!(config.key_prefix, "alexa");
        assert_eq!(config.limits.caller_sends_per_hour, 5);
        assert_eq!(config.limits.caller_misses_per_window, 50);
    }
}
