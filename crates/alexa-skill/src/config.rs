//! The skill's configuration, read once at init.

use chrono::Duration;
use fleet_core::{ConfigError, FromVars, Vars};
use fleet_otp::config::OtpConfig;

#[derive(Debug, Clone)]
pub struct Config {
    pub skill_id: String,
    pub access_table: String,
    pub access_ttl: Duration,
    /// `ALEXA_CONTROL_VALUE`: the `AlexaControl` tag value that opts an instance in.
    pub control_value: String,
    pub otp: OtpConfig,
}

impl FromVars for Config {
    /// `SKILL_ID`, `ACCESS_TABLE` (required), `ACCESS_MINUTES` (default 10),
    /// `ALEXA_CONTROL_VALUE` (default `true`), and the OTP
    /// library's variables (`PROFILES_TABLE`, `CODES_TABLE`, `CODES_KEY_PREFIX`, `OTP_KEY_SECRET_ID`, `CODE_LENGTH`…).
    fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError> {
        let skill_id = vars.required("SKILL_ID")?;
        if !skill_id.starts_with("amzn1.ask.skill.") {
            return Err(ConfigError::invalid(
                "SKILL_ID",
                &skill_id,
                "expected amzn1.ask.skill.…",
            ));
        }
        let minutes: i64 = vars.parsed_or("ACCESS_MINUTES", 10)?;
        let control_value = vars
            .optional("ALEXA_CONTROL_VALUE")
            .unwrap_or_else(|| "true".to_owned());
        if control_value.is_empty() || control_value.len() > 256 {
            return Err(ConfigError::invalid(
                "ALEXA_CONTROL_VALUE",
                &control_value,
                "a tag value of 1 to 256 characters",
            ));
        }
        Ok(Self {
            skill_id,
            access_table: vars.required("ACCESS_TABLE")?,
            access_ttl: Duration::minutes(minutes.clamp(1, 60)),
            control_value,
            otp: OtpConfig::from_vars(vars)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_vars() {
        let vars = [
            ("SKILL_ID", "amzn1.ask.skill.0000"),
            ("ACCESS_TABLE", "access"),
            ("PROFILES_TABLE", "p"),
            ("CODES_TABLE", "c"),
            ("CODES_KEY_PREFIX", "alexa"),
            ("OTP_KEY_SECRET_ID", "k"),
            ("CODE_LENGTH", "4"),
        ];
        let config = Config::from_vars(&vars).unwrap();
        assert_eq!(config.access_ttl, Duration::minutes(10));
        assert_eq!(config.otp.limits.code_length, 4);
        assert_eq!(config.control_value, "true");
        let err = Config::from_vars(&[("SKILL_ID", "my-skill")]).unwrap_err();
        assert!(err.to_string().contains("SKILL_ID"), "{err}");
    }
}
